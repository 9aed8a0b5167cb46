#include "broker/config.h"

#include <toml++/toml.h>

#include <set>
#include <sstream>

#include "base/files.h"

namespace tearline::broker {
namespace {

std::string at(const toml::node& n) { return " (line " + std::to_string(n.source().begin.line) + ")"; }

struct Reader {
  Status* problems;
  std::string source;

  void check_keys(const toml::table& t, const std::string& section, const std::set<std::string>& known) {
    for (const auto& [k, v] : t) {
      if (known.count(std::string(k.str())) == 0) {
        problems->add(Code::INVALID_FIELD, source + ": unknown key " + section + "." + std::string(k.str()) + at(v));
      }
    }
  }

  void text(const toml::table& t, const char* key, std::string* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    if (auto v = n->value<std::string>()) {
      *out = *v;
    } else {
      problems->add(Code::INVALID_FIELD, source + ": " + key + " must be a string" + at(*n));
    }
  }

  void path(const toml::table& t, const char* key, const std::filesystem::path& base, std::filesystem::path* out) {
    std::string s;
    text(t, key, &s);
    if (s.empty()) return;
    std::filesystem::path p(s);
    *out = p.is_absolute() ? p : (base / p).lexically_normal();
  }

  template <typename T>
  void number(const toml::table& t, const char* key, std::int64_t lo, std::int64_t hi, T* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    auto v = n->value<std::int64_t>();
    if (!v || *v < lo || *v > hi) {
      problems->add(Code::INVALID_FIELD, source + ": " + key + " must be an integer in " + std::to_string(lo) + ".." +
                                             std::to_string(hi) + at(*n));
      return;
    }
    *out = static_cast<T>(*v);
  }
};

}  // namespace

Result<Config> parse_config(std::string_view toml_text, const std::filesystem::path& base_dir,
                            std::string_view source_name) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source_name << ": " << e.description() << " (line " << e.source().begin.line << ")";
    return Status::fail(Code::INVALID_FIELD, msg.str());
  }
  Config c;
  Status problems;
  Reader r{&problems, std::string(source_name)};
  r.check_keys(doc, "", {"broker", "limits", "storage"});
  const toml::table* b = doc["broker"].as_table();
  if (b == nullptr) return Status::fail(Code::INVALID_FIELD, std::string(source_name) + ": missing [broker] table");
  r.check_keys(*b, "broker", {"endpoint", "key_file", "directory", "policy", "data_dir", "log_level", "verify_threads"});
  r.text(*b, "endpoint", &c.endpoint);
  r.path(*b, "key_file", base_dir, &c.key_file);
  r.path(*b, "directory", base_dir, &c.directory);
  r.path(*b, "policy", base_dir, &c.policy);
  r.path(*b, "data_dir", base_dir, &c.data_dir);
  r.text(*b, "log_level", &c.log_level);
  r.number(*b, "verify_threads", 1, 64, &c.verify_threads);
  for (const char* required : {"key_file", "directory", "policy", "data_dir"}) {
    if (b->get(required) == nullptr) problems.add(Code::INVALID_FIELD, std::string(source_name) + ": broker." + required + " is required");
  }
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
  if (levels.count(c.log_level) == 0) problems.add(Code::INVALID_FIELD, std::string(source_name) + ": log_level must be trace, debug, info, warn or error");
  if (c.endpoint.rfind("tcp://", 0) != 0 && c.endpoint.rfind("ipc://", 0) != 0) {
    problems.add(Code::INVALID_FIELD, std::string(source_name) + ": endpoint must be tcp://HOST:PORT or ipc://PATH");
  }
  if (const toml::table* l = doc["limits"].as_table()) {
    r.check_keys(*l, "limits", {"max_frame_bytes", "max_connections", "max_subscriptions", "max_sections",
                                "max_recipients", "clock_window_seconds", "max_failures", "max_pending_deliveries",
                                "handshake_timeout_ms", "session_timeout_ms", "max_pending_bytes", "max_topic_length",
                                "max_topic_depth", "publish_rate", "publish_burst", "max_inflight_per_node",
                                "max_rate_limited", "failure_cooldown_ms"});
    Limits& m = c.limits;
    r.number(*l, "max_frame_bytes", 4096, 64 << 20, &m.max_frame_bytes);
    r.number(*l, "max_connections", 1, 100000, &m.max_connections);
    r.number(*l, "max_subscriptions", 1, 100000, &m.max_subscriptions);
    r.number(*l, "max_sections", 1, 64, &m.max_sections);
    r.number(*l, "max_recipients", 1, 256, &m.max_recipients);
    r.number(*l, "clock_window_seconds", 1, 86400, &m.clock_window_seconds);
    r.number(*l, "max_failures", 1, 100000, &m.max_failures);
    r.number(*l, "max_pending_deliveries", 1, 10000000, &m.max_pending_deliveries);
    r.number(*l, "handshake_timeout_ms", 100, 600000, &m.handshake_timeout_ms);
    r.number(*l, "session_timeout_ms", 1000, 86400000, &m.session_timeout_ms);
    r.number(*l, "max_pending_bytes", 1 << 16, std::int64_t{1} << 40, &m.max_pending_bytes);
    r.number(*l, "max_topic_length", 1, 128, &m.max_topic_length);
    r.number(*l, "max_topic_depth", 1, 8, &m.max_topic_depth);
    r.number(*l, "publish_rate", 1, 1000000, &m.publish_rate);
    r.number(*l, "publish_burst", 1, 10000000, &m.publish_burst);
    r.number(*l, "max_inflight_per_node", 1, 100000, &m.max_inflight_per_node);
    r.number(*l, "max_rate_limited", 0, 100000000, &m.max_rate_limited);
    r.number(*l, "failure_cooldown_ms", 0, 3600000, &m.failure_cooldown_ms);
  }
  if (const toml::table* st = doc["storage"].as_table()) {
    r.check_keys(*st, "storage", {"retention_seconds", "retention_bytes", "max_bytes", "audit_checkpoint_entries",
                                  "audit_checkpoint_seconds"});
    StorageLimits& m = c.storage;
    r.number(*st, "retention_seconds", 60, std::int64_t{10} * 365 * 86400, &m.retention_seconds);
    r.number(*st, "retention_bytes", 1 << 20, std::int64_t{1} << 50, &m.retention_bytes);
    r.number(*st, "max_bytes", 1 << 20, std::int64_t{1} << 50, &m.max_bytes);
    r.number(*st, "audit_checkpoint_entries", 1, 1000000, &m.audit_checkpoint_entries);
    r.number(*st, "audit_checkpoint_seconds", 1, 86400, &m.audit_checkpoint_seconds);
  }
  if (!problems) return problems;
  return c;
}

Result<Config> load_config(const std::filesystem::path& path) {
  auto text = read_file(path, 1u << 20);
  if (!text) return text.status();
  std::filesystem::path base = std::filesystem::absolute(path).parent_path();
  return parse_config(as_chars(*text), base, path.string());
}

}  // namespace tearline::broker
