#include "broker/config.h"

#include <algorithm>
#include <set>

#include "audit/pg_audit_reader.h"
#include "base/files.h"
#include "base/toml_reader.h"
#include "broker/metrics_server.h"

namespace tearline::broker {
namespace {

// Reads the keys of one table into Config fields; problems go to the reader.
struct Fields {
  TomlReader* r;
  const toml::table& t;

  void text(const char* key, std::string* out) {
    if (auto v = r->string(t, key)) *out = *v;
  }
  void path(const char* key, const std::filesystem::path& base, std::filesystem::path* out) {
    const auto s = r->string(t, key);
    if (!s || s->empty()) return;
    std::filesystem::path p(*s);
    *out = p.is_absolute() ? p : (base / p).lexically_normal();
  }
  template <typename T>
  void number(const char* key, std::int64_t lo, std::int64_t hi, T* out) {
    if (auto v = r->integer(t, key, lo, hi)) *out = static_cast<T>(*v);
  }
};

}  // namespace

Result<Config> parse_config(std::string_view toml_text, const std::filesystem::path& base_dir,
                            std::string_view source_name) {
  TomlReader r(toml_text, std::string(source_name), TomlReader::LineStyle::kSuffix);
  if (!r.parsed()) return r.status();
  const toml::table& doc = r.root();
  Config c;
  r.refuse_unknown_keys(doc, {"broker", "limits", "storage", "peer"});
  const toml::table* b = doc["broker"].as_table();
  if (b == nullptr) return Status::fail(Code::INVALID_FIELD, std::string(source_name) + ": missing [broker] table");
  r.refuse_unknown_keys(*b,
                        {"endpoint", "key_file", "directory", "policy", "data_dir", "log_level", "verify_threads",
                         "metrics_listen", "metrics_token_file"},
                        "unknown key broker.");
  Fields broker{&r, *b};
  broker.text("endpoint", &c.endpoint);
  broker.path("key_file", base_dir, &c.key_file);
  broker.path("directory", base_dir, &c.directory);
  broker.path("policy", base_dir, &c.policy);
  broker.path("data_dir", base_dir, &c.data_dir);
  broker.text("log_level", &c.log_level);
  broker.number("verify_threads", 1, 64, &c.verify_threads);
  broker.text("metrics_listen", &c.metrics_listen);
  broker.path("metrics_token_file", base_dir, &c.metrics_token_file);
  if (std::string host; !c.metrics_listen.empty()) {
    int port = 0;
    bool loopback = false;
    if (!parse_listen(c.metrics_listen, &host, &port, &loopback)) {
      r.add_unplaced(
          "metrics_listen must be HOST:PORT, HOST an IPv4 address, [an IPv6 address] or localhost, e.g. "
          "127.0.0.1:9464");
    } else if (!loopback && c.metrics_token_file.empty()) {
      r.add_unplaced(
          "metrics_listen must be HOST:PORT with a loopback host (127.0.0.1, [::1] or localhost), e.g. "
          "127.0.0.1:9464, unless metrics_token_file is set: off loopback every request must carry a token");
    }
  } else if (!c.metrics_token_file.empty()) {
    r.add_unplaced("metrics_token_file is set but metrics_listen is not: set both, or neither");
  }

  for (const char* required : {"key_file", "directory", "policy", "data_dir"}) {
    if (!TomlReader::has(*b, required)) r.add_unplaced(std::string("broker.") + required + " is required");
  }
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
  if (levels.count(c.log_level) == 0) r.add_unplaced("log_level must be trace, debug, info, warn or error");
  if (c.endpoint.rfind("tcp://", 0) != 0 && c.endpoint.rfind("ipc://", 0) != 0) {
    r.add_unplaced("endpoint must be tcp://HOST:PORT or ipc://PATH");
  }
  if (const toml::table* l = doc["limits"].as_table()) {
    r.refuse_unknown_keys(
        *l, {"max_frame_bytes",      "max_connections",      "max_subscriptions",     "max_sections",
             "max_recipients",       "clock_window_seconds", "max_failures",          "max_pending_deliveries",
             "handshake_timeout_ms", "session_timeout_ms",   "max_pending_bytes",     "max_topic_length",
             "max_topic_depth",      "publish_rate",         "publish_burst",         "max_inflight_per_node",
             "max_rate_limited",     "failure_cooldown_ms",  "max_sessions_per_node", "reserved_sessions"},
        "unknown key limits.");
    Limits& m = c.limits;
    Fields f{&r, *l};
    f.number("max_frame_bytes", 4096, 64 << 20, &m.max_frame_bytes);
    f.number("max_connections", 1, 100000, &m.max_connections);
    f.number("max_sessions_per_node", 1, 100000, &m.max_sessions_per_node);
    f.number("reserved_sessions", 0, 100000, &m.reserved_sessions);
    f.number("max_subscriptions", 1, 100000, &m.max_subscriptions);
    f.number("max_sections", 1, report::kMaxSections, &m.max_sections);
    f.number("max_recipients", 1, report::kMaxRecipients, &m.max_recipients);
    f.number("clock_window_seconds", 1, 86400, &m.clock_window_seconds);
    f.number("max_failures", 1, 100000, &m.max_failures);
    f.number("max_pending_deliveries", 1, 10000000, &m.max_pending_deliveries);
    f.number("handshake_timeout_ms", 100, 600000, &m.handshake_timeout_ms);
    f.number("session_timeout_ms", 1000, 86400000, &m.session_timeout_ms);
    f.number("max_pending_bytes", 1 << 16, std::int64_t{1} << 40, &m.max_pending_bytes);
    f.number("max_topic_length", 1, policy::kMaxTopicLength, &m.max_topic_length);
    f.number("max_topic_depth", 1, policy::kMaxTopicDepth, &m.max_topic_depth);
    f.number("publish_rate", 1, 1000000, &m.publish_rate);
    f.number("publish_burst", 1, 10000000, &m.publish_burst);
    f.number("max_inflight_per_node", 1, 100000, &m.max_inflight_per_node);
    f.number("max_rate_limited", 0, 100000000, &m.max_rate_limited);
    f.number("failure_cooldown_ms", 0, 3600000, &m.failure_cooldown_ms);
  }
  if (const toml::table* st = doc["storage"].as_table()) {
    r.refuse_unknown_keys(*st,
                          {"store", "conninfo", "retention_seconds", "retention_bytes", "max_bytes",
                           "audit_checkpoint_entries", "audit_checkpoint_seconds"},
                          "unknown key storage.");
    StorageLimits& m = c.storage;
    Fields f{&r, *st};
    std::string store = "sqlite";
    f.text("store", &store);
    f.text("conninfo", &m.conninfo);
    if (store == "postgresql") {
      m.backend = StoreBackend::kPostgresql;
      if (Status parsed = audit::check_conninfo(m.conninfo); !m.conninfo.empty() && !parsed) {
        r.add_unplaced("storage.conninfo: " + parsed.reasons().front().message);
      }
      if (m.conninfo.empty()) {
        r.add_unplaced(
            "storage.conninfo is required with store = \"postgresql\" (a libpq connection string, e.g."
            " \"host=/run/postgresql dbname=tearline\" or \"postgresql://tearline@db1/tearline\")");
      }
    } else if (store != "sqlite") {
      r.add_unplaced("storage.store must be \"sqlite\" (DATA_DIR/tearline.db, the default) or \"postgresql\"");
    } else if (!m.conninfo.empty()) {
      r.add_unplaced("storage.conninfo is only for store = \"postgresql\"");
    }
    f.number("retention_seconds", 60, std::int64_t{10} * 365 * 86400, &m.retention_seconds);
    f.number("retention_bytes", 1 << 20, std::int64_t{1} << 50, &m.retention_bytes);
    f.number("max_bytes", 1 << 20, std::int64_t{1} << 50, &m.max_bytes);
    f.number("audit_checkpoint_entries", 1, 1000000, &m.audit_checkpoint_entries);
    f.number("audit_checkpoint_seconds", 1, 86400, &m.audit_checkpoint_seconds);
  }
  if (const toml::array* peers = r.tables(doc, "peer", "[[peer]]")) {
    for (const auto& node : *peers) {
      const toml::table& p = *node.as_table();
      r.refuse_unknown_keys(p, {"broker", "endpoint", "checkpoints", "refusals"}, "unknown key peer.");
      PeerEndpoint e;
      Fields f{&r, p};
      f.text("broker", &e.broker);
      f.text("endpoint", &e.endpoint);
      if (auto v = r.boolean(p, "checkpoints", "peer.checkpoints")) e.checkpoints = *v;
      if (auto v = r.boolean(p, "refusals", "peer.refusals")) e.refusals = *v;
      if (e.broker.empty()) r.add(node, "peer.broker is required: the partner broker's node id");
      if (e.endpoint.rfind("tcp://", 0) != 0 && e.endpoint.rfind("ipc://", 0) != 0) {
        r.add(node, "peer.endpoint must be tcp://HOST:PORT or ipc://PATH (where the partner broker listens)");
      }
      const bool twice =
          std::any_of(c.peers.begin(), c.peers.end(), [&](const PeerEndpoint& o) { return o.broker == e.broker; });
      if (twice && !e.broker.empty()) r.add(node, "peer " + e.broker + " is named twice");
      c.peers.push_back(std::move(e));
    }
  }
  if (!r.ok()) return r.status();
  return c;
}

Result<Config> load_config(const std::filesystem::path& path) {
  auto text = read_file(path, 1u << 20);
  if (!text) return text.status();
  std::filesystem::path base = std::filesystem::absolute(path).parent_path();
  return parse_config(as_chars(*text), base, path.string());
}

}  // namespace tearline::broker
