// broker::parse_config. The broker's own file is not hostile, but it is
// typed by hand and parsed by a large TOML parser; a config that parses keeps
// every value inside its documented range.
#include <set>

#include "broker/config.h"
#include "fuzz_target.h"

namespace tearline::fuzz {

void broker_config(ByteView input) {
  auto config = broker::parse_config(as_chars(input), "/fuzz/base", "fuzz.toml");
  if (!config) return;
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
  require(levels.count(config->log_level) == 1, "log_level is a known level");
  require(config->endpoint.rfind("tcp://", 0) == 0 || config->endpoint.rfind("ipc://", 0) == 0,
          "endpoint is tcp:// or ipc://");
  require(config->verify_threads >= 1 && config->verify_threads <= 64, "verify_threads in 1..64");
  const broker::Limits& l = config->limits;
  require(l.max_frame_bytes >= 4096 && l.max_frame_bytes <= (64u << 20), "max_frame_bytes in range");
  require(l.max_sections >= 1 && l.max_sections <= 64, "max_sections in range");
  require(l.max_recipients >= 1 && l.max_recipients <= 256, "max_recipients in range");
  require(l.clock_window_seconds >= 1 && l.clock_window_seconds <= 86400, "clock_window_seconds in range");
  require(l.max_failures >= 1 && l.handshake_timeout_ms >= 100 && l.session_timeout_ms >= 1000,
          "timeouts and failure limit in range");
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(broker_config)
