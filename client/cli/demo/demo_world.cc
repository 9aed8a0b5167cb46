#include "cli/demo/demo_world.h"

#include <toml++/toml.h>
#include <unistd.h>
#include <pqxx/pqxx>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
#include <thread>

#include "audit/pg_audit_reader.h"
#include "base/clock.h"

namespace tearline::cli::demo {
namespace fs = std::filesystem;

namespace {

// `tearline demo --pg`: the scenario's expectations assume a new store (the
// originators' sequences, the durable cursors), so the database must not
// hold one yet.
Status require_empty_database(const std::string& conninfo) {
  if (Status parsed = audit::check_conninfo(conninfo); !parsed) return parsed;
  try {
    pqxx::connection conn(audit::with_default_settings(conninfo));
    pqxx::nontransaction tx(conn);
    if (tx.exec("SELECT to_regclass('reports') IS NOT NULL")[0][0].as<bool>()) {
      return Status::fail(Code::INVALID_FIELD,
                          "the database of --pg already holds a tearline store: give the demo an empty database "
                          "(`make demo-pg` makes a new one each time)");
    }
  } catch (const std::exception& e) {
    return Status::fail(Code::UNAVAILABLE, "cannot connect to the PostgreSQL of --pg: " + audit::pg_message(e));
  }
  return Status::ok();
}

constexpr auto kPkiTimeout = std::chrono::seconds(60);
constexpr auto kBrokerStartTimeout = std::chrono::seconds(10);
constexpr auto kPollInterval = std::chrono::milliseconds(50);

Result<fs::path> make_temp_root() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/tearline-demo.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::fail(Code::IO_ERROR, "cannot make a temporary folder " + pattern);
  }
  return fs::path(pattern);
}

Status interrupted() { return Status::fail(Code::UNAVAILABLE, "interrupted"); }

// Runs `tearline certs demo` and waits for it (bounded).
Status generate_pki(const fs::path& exe, const WorldOptions& o, const fs::path& log) {
  ChildSpec spec;
  spec.argv = {exe.string(), "certs", "demo", "--roster", o.roster.string(), "--out", o.pki.string()};
  spec.program = kSelfExe;
  spec.stdout_file = log;
  spec.stderr_file = log.string() + ".err";
  auto child = ChildProcess::start(spec);
  if (!child) return child.status();
  const auto deadline = std::chrono::steady_clock::now() + kPkiTimeout;
  while (!(*child)->poll_exit()) {
    if (InterruptGuard::interrupted()) return interrupted();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::fail(Code::UNAVAILABLE, "tearline certs demo did not finish within 60 s");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  if (*(*child)->poll_exit() != 0) {
    return Status::fail(Code::IO_ERROR,
                        "tearline certs demo failed:\n" + tail_of_file(log.string() + ".err") + tail_of_file(log));
  }
  return Status::ok();
}

// The endpoint in the broker's `event=started endpoint=...` line, or "".
std::string started_endpoint(const fs::path& log) {
  std::ifstream in(log);
  const std::string key = "event=started endpoint=";
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(key);
    if (at == std::string::npos) continue;
    const auto begin = at + key.size();
    return line.substr(begin, line.find(' ', begin) - begin);
  }
  return "";
}

// keys/ of the temporary folder: a symlink to each entry of the PKI's
// keys/ (the authorities' keys, reached, never copied), except brokers/,
// which is the folder's own: the second broker's keys are made there.
Status link_keys(const fs::path& pki_keys, const fs::path& keys) {
  std::error_code ec;
  fs::create_directory(keys, ec);
  if (ec) return Status::fail(Code::IO_ERROR, "cannot make " + keys.string() + ": " + ec.message());
  for (const auto& entry : fs::directory_iterator(pki_keys, ec)) {
    if (entry.path().filename() == "brokers") continue;
    fs::create_symlink(entry.path(), keys / entry.path().filename(), ec);
    if (ec) return Status::fail(Code::IO_ERROR, "cannot link " + entry.path().string() + ": " + ec.message());
  }
  if (ec) return Status::fail(Code::IO_ERROR, "cannot read " + pki_keys.string() + ": " + ec.message());
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<World>> World::create(const fs::path& exe, const WorldOptions& options, std::ostream& progress) {
  std::error_code ec;
  WorldOptions o{fs::absolute(options.pki, ec), fs::absolute(options.roster, ec), fs::absolute(options.policy, ec),
                 options.pg_conninfo, options.brokers};
  if (o.brokers != 1 && o.brokers != 2) return Status::fail(Code::INVALID_FIELD, "--brokers is 1 or 2");
  if (o.brokers == 2 && o.pg_conninfo.empty()) {
    return Status::fail(Code::INVALID_FIELD,
                        "--brokers 2 runs two brokers on one store, which needs PostgreSQL: give --pg CONNINFO "
                        "(`make demo-cluster` starts a private server and does)");
  }
  if (!fs::is_regular_file(o.policy, ec)) {
    return Status::fail(Code::IO_ERROR, "topic policy " + options.policy.string() +
                                            " not found: run from the repository root or pass --policy");
  }
  auto root = make_temp_root();
  if (!root) return root.status();
  auto world = std::unique_ptr<World>(new World());
  world->root_ = *root;
  world->pki_ = o.pki;
  world->policy_ = o.policy;
  world->pg_conninfo_ = o.pg_conninfo;
  world->brokers_wanted_ = static_cast<std::size_t>(o.brokers);
  if (!o.pg_conninfo.empty()) {
    Status empty = require_empty_database(o.pg_conninfo);
    if (!empty) return empty;
  }

  const identity::PkiPaths pki(o.pki);
  if (!fs::exists(pki.trust_store(), ec)) {
    if (!fs::is_regular_file(o.roster, ec)) {
      return Status::fail(Code::IO_ERROR, "no PKI in " + options.pki.string() + " and no roster " +
                                              options.roster.string() +
                                              " to generate it from: run from the repository root or pass --roster");
    }
    progress << "demo: no PKI in " << options.pki.string() << ": generating it (tearline certs demo --roster "
             << options.roster.string() << " --out " << options.pki.string() << ")\n";
    Status s = generate_pki(exe, o, world->root_ / "certs-demo.log");
    if (!s) return s;
    progress << "demo: generated the demo PKI in " << options.pki.string() << " (secret keys in "
             << (options.pki / "keys").string() << ", never committed)\n";
  }
  fs::copy(pki.directory(), world->directory(), fs::copy_options::recursive, ec);
  if (ec) return Status::fail(Code::IO_ERROR, "cannot copy " + pki.directory().string() + ": " + ec.message());
  if (Status linked = link_keys(pki.keys(), world->root_ / "keys"); !linked) return linked;
  if (o.brokers == 2) {
    const std::int64_t now = SystemClock::instance().now_seconds();
    identity::BrokerIdentity dea{kSecondBroker, kSecondBrokerAgency, now - 3600, now + std::int64_t{7} * 86400};
    if (Status made = identity::init_broker(world->revocation_pki(), dea, false); !made) return made;
    progress << "demo: issued a credential for a second broker, " << kSecondBroker << " (run by " << kSecondBrokerAgency
             << "), into the demo's copy of the directory\n";
  }
  fs::create_directory(world->root_ / "nodes", ec);
  return world;
}

World::~World() {
  for (auto& b : brokers_) b->stop(std::chrono::milliseconds(3000));
  if (root_.empty()) return;
  std::error_code ec;
  fs::remove_all(root_, ec);  // does not follow the symlinks in keys/
}

fs::path World::node_key(const std::string& node) const { return identity::PkiPaths(pki_).node_key(node); }

fs::path World::node_log(const std::string& node) const { return root_ / "nodes" / (node + ".log"); }

bool World::broker_running() {
  if (brokers_.size() != brokers_wanted_) return false;
  for (auto& b : brokers_) {
    if (b->poll_exit()) return false;
  }
  return true;
}

void World::reload_other_brokers() {
  for (std::size_t i = 1; i < brokers_.size(); ++i) (void)brokers_[i]->signal(SIGHUP);
}

Status World::start_brokers(const fs::path& broker_binary) {
  for (std::size_t i = 0; i < brokers_wanted_; ++i) {
    Status started = start_broker(broker_binary, static_cast<int>(i));
    if (!started) return started;
  }
  return Status::ok();
}

Status World::start_broker(const fs::path& broker_binary, int i) {
  const identity::PkiPaths pki(pki_);
  const std::string suffix = i == 0 ? "" : "-2";
  const fs::path key = i == 0 ? pki.broker_key() : revocation_pki().other_broker_key(kSecondBroker);
  toml::table broker{{"endpoint", "tcp://127.0.0.1:*"},
                     {"key_file", key.string()},
                     {"directory", directory().string()},
                     {"policy", policy_.string()},
                     {"data_dir", (root_ / ("data" + suffix)).string()},
                     {"log_level", "info"},
                     {"verify_threads", 2}};
  const fs::path config = root_ / ("broker" + suffix + ".toml");
  {
    std::ofstream out(config);
    toml::table doc{{"broker", broker}};
    if (!pg_conninfo_.empty()) doc.insert("storage", toml::table{{"store", "postgresql"}, {"conninfo", pg_conninfo_}});
    out << "# Written by `tearline demo`.\n" << doc << "\n";
    if (!out) return Status::fail(Code::IO_ERROR, "cannot write " + config.string());
  }
  ChildSpec spec;
  spec.argv = {broker_binary.string(), "--config", config.string()};
  spec.stderr_file = broker_log(i);
  auto child = ChildProcess::start(spec);
  if (!child) return child.status();
  brokers_.push_back(std::move(child).value());
  ChildProcess& started = *brokers_.back();
  const auto deadline = std::chrono::steady_clock::now() + kBrokerStartTimeout;
  for (;;) {
    std::string endpoint = started_endpoint(broker_log(i));
    if (!endpoint.empty()) {
      endpoints_.push_back(std::move(endpoint));
      return Status::ok();
    }
    if (InterruptGuard::interrupted()) return interrupted();
    if (started.poll_exit()) {
      return Status::fail(Code::UNAVAILABLE, "tearline-broker exited at start-up:\n" + tail_of_file(broker_log(i)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::fail(Code::UNAVAILABLE,
                          "tearline-broker did not log event=started within 10 s:\n" + tail_of_file(broker_log(i)));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace tearline::cli::demo
