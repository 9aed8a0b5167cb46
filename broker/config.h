// The broker's configuration, from a TOML file (docs/architecture.md,
// "Configuration"). Relative paths are resolved against the config file's
// folder. Every limit has a documented default.
//
//   [broker]
//   endpoint  = "tcp://127.0.0.1:7801"
//   key_file  = "../certs/demo/keys/broker.key"
//   directory = "../certs/demo/directory"
//   policy    = "../certs/policy.toml"
//   data_dir  = "/var/lib/tearline"
//   log_level = "info"              # trace debug info warn error
//   verify_threads = 2
//
//   [limits]
//   max_frame_bytes = 1048576       # larger frames: ERROR FRAME_TOO_LARGE
//   max_connections = 1024          # admitted sessions at once
//   max_sessions_per_node = 8       # READY sessions of one node; a HELLO beyond them replaces the
//                                   # node's oldest session (ERROR SESSION_REPLACED to it)
//   reserved_sessions = 64          # the last free slots (at most max_connections / 4) are kept for
//                                   # nodes that hold no session; a node holding one gets BROKER_BUSY
//   max_subscriptions = 256         # patterns per node (durable)
//   max_sections = 64
//   max_recipients = 256            # per section
//   clock_window_seconds = 300      # created-at within +-window of the broker's clock
//   max_failures = 16               # consecutive failed requests before the session is closed
//   max_pending_deliveries = 10000  # frames queued per subscriber; beyond: SLOW_CONSUMER
//   max_pending_bytes = 67108864    # bytes queued per subscriber; beyond: SLOW_CONSUMER
//   max_topic_length = 128          # bytes (at most the grammar's 128)
//   max_topic_depth = 8             # segments (at most the grammar's 8)
//   publish_rate = 500              # PUBLISH per second per node (token bucket) ...
//   publish_burst = 100             # ... with this burst; beyond: RATE_LIMITED
//   max_inflight_per_node = 32      # PUBLISH being verified per node; beyond: BROKER_BUSY
//   max_rate_limited = 2000         # RATE_LIMITED answers to one node within 1 s before it is
//                                   # cut off (TOO_MANY_FAILURES + cooldown); 0: never
//   failure_cooldown_ms = 10000     # after TOO_MANY_FAILURES, HELLO is refused this long
//   handshake_timeout_ms = 5000
//   session_timeout_ms = 60000      # no frame for this long: session forgotten
//
//   [storage]
//   store = "sqlite"                # DATA_DIR/tearline.db (the default), or "postgresql":
//   conninfo = "host=/run/postgresql dbname=tearline"
//                                   # libpq connection string or URI, required with
//                                   # "postgresql" (docs/scale-out.md). A password belongs
//                                   # in ~/.pgpass or PGPASSFILE, not here.
//   retention_seconds = 2592000     # 30 days: older reports are deleted
//   retention_bytes = 1073741824    # 1 GiB: oldest reports deleted beyond it
//   max_bytes = 4294967296          # 4 GiB hard cap: PUBLISH gets STORAGE_FULL
//   audit_checkpoint_entries = 1000 # a signed checkpoint at least this often
//   audit_checkpoint_seconds = 10   # ... or this often, whichever first
//
//   [[peer]]                        # a partner agency's boundary broker to receive from
//   broker = "dea-broker"           # (docs/federation.md): its node id, as a peering in effect
//   endpoint = "tcp://10.0.0.7:7801" # names it, and where it listens; one table per partner
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"
#include "policy/topic.h"
#include "report/format.h"
#include "wire/limits.h"

namespace tearline::broker {

// Defaults: wire/limits.h (the protocol's defaults) and the format limits
// (report/format.h, policy/topic.h), which a broker may lower, never raise.
struct Limits {
  std::size_t max_frame_bytes = wire::kDefaultMaxFrameBytes;
  std::size_t max_connections = wire::kDefaultMaxConnections;
  std::size_t max_sessions_per_node = 8;
  std::size_t reserved_sessions = 64;
  std::size_t max_subscriptions = wire::kDefaultMaxSubscriptions;
  std::size_t max_sections = report::kMaxSections;
  std::size_t max_recipients = report::kMaxRecipients;
  std::int64_t clock_window_seconds = wire::kDefaultReplayWindowMs / 1000;
  int max_failures = wire::kMaxConsecutiveFailures;
  std::size_t max_pending_deliveries = wire::kDefaultMaxPendingDeliveries;
  std::size_t max_pending_bytes = wire::kDefaultMaxPendingBytes;
  std::size_t max_topic_length = policy::kMaxTopicLength;
  std::size_t max_topic_depth = policy::kMaxTopicDepth;
  double publish_rate = wire::kDefaultPublishRate;
  double publish_burst = wire::kDefaultPublishBurst;
  std::size_t max_inflight_per_node = wire::kDefaultMaxInflightPerNode;
  std::size_t max_rate_limited = wire::kDefaultMaxRateLimited;
  std::int64_t failure_cooldown_ms = wire::kDefaultFailureCooldownMs;
  int handshake_timeout_ms = wire::kDefaultHandshakeTimeoutMs;
  std::int64_t session_timeout_ms = wire::kSessionTimeoutMs;
};

enum class StoreBackend { kSqlite, kPostgresql };

struct StorageLimits {
  StoreBackend backend = StoreBackend::kSqlite;
  std::string conninfo;  // kPostgresql: the libpq connection string
  std::int64_t retention_seconds = std::int64_t{30} * 86400;
  std::uint64_t retention_bytes = 1ull << 30;
  std::uint64_t max_bytes = 4ull << 30;
  std::uint64_t audit_checkpoint_entries = 1000;
  std::int64_t audit_checkpoint_seconds = 10;
};

// A partner broker this broker connects to, to receive what crosses
// towards it (broker/peer_connection.h). Its keys come from the peering.
struct PeerEndpoint {
  std::string broker;  // its node id
  std::string endpoint;
  // Exchange signed audit checkpoints with it (docs/federation.md, "Audit
  // checkpoints"). False only for a partner broker from before the
  // exchange, which refuses the PING that carries one (MALFORMED_FRAME).
  bool checkpoints = true;
  // Name the copies we refused, and why, in our ACKs (Ack.refused). False
  // only for a partner broker from before, which refuses such an ACK.
  bool refusals = true;
};

struct Config {
  std::string endpoint = "tcp://127.0.0.1:7801";
  std::filesystem::path key_file;
  std::filesystem::path directory;
  std::filesystem::path policy;
  std::filesystem::path data_dir;
  std::string log_level = "info";
  int verify_threads = 2;
  // The metrics endpoint (docs/observability.md): "HOST:PORT", port 0 for
  // any free one; empty: none. A host that is not loopback needs
  // metrics_token_file: every request must then carry its token.
  std::string metrics_listen;
  std::filesystem::path metrics_token_file;
  Limits limits;
  StorageLimits storage;
  std::vector<PeerEndpoint> peers;  // [[peer]], one per partner broker
  // How long accepted report ids stay in the ReplayGuard's memory; the store
  // answers for older ones. Not a configuration key: tests shorten it.
  std::int64_t replay_memory_ms = 10'000;
  // tearline-broker --accept-loss: start although the store ends before the
  // audit anchor's checkpoint (broker/anchor.h); the loss is audited. Not a
  // configuration key.
  bool accept_loss = false;
  // Refused handshakes and HELLOs are logged and audited aggregated, one
  // entry per source and reason per interval of this length (RefusalTally).
  // Not a configuration key: tests shorten it.
  std::int64_t refusal_interval_ms = 10'000;
};

// INVALID_FIELD naming every problem (unknown key, wrong type, out of range)
// with its line; IO_ERROR when the file cannot be read.
Result<Config> load_config(const std::filesystem::path& path);
Result<Config> parse_config(std::string_view toml_text, const std::filesystem::path& base_dir,
                            std::string_view source_name);

}  // namespace tearline::broker
