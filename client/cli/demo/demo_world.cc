#include "cli/demo/demo_world.h"

#include <toml++/toml.h>
#include <unistd.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
#include <thread>

#include "audit/pg_audit_reader.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "base/files.h"
#include "base/ports.h"
#include "cli/demo/demo_federation.h"
#include "crypto/keys.h"
#include "identity/directory.h"
#include "identity/trust_store.h"

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
constexpr auto kLinkTimeout = std::chrono::seconds(15);
constexpr auto kReloadTimeout = std::chrono::seconds(5);
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
// The value after `key` on the first log line that has it ("" when none yet).
std::string logged_value(const fs::path& log, const std::string& key) {
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(key);
    if (at == std::string::npos) continue;
    const auto begin = at + key.size();
    return line.substr(begin, line.find(' ', begin) - begin);
  }
  return "";
}

std::string started_endpoint(const fs::path& log) { return logged_value(log, "event=started endpoint="); }

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

const char* topology_name(Topology t) {
  switch (t) {
    case Topology::kPeered: return "peered";
    case Topology::kTriangle: return "triangle";
    case Topology::kSingle: return "single";
    case Topology::kCluster: return "cluster";
  }
  return "?";
}

std::optional<Topology> topology_from_name(std::string_view name) {
  for (Topology t : {Topology::kPeered, Topology::kTriangle, Topology::kSingle, Topology::kCluster}) {
    if (name == topology_name(t)) return t;
  }
  return std::nullopt;
}

Result<std::unique_ptr<World>> World::create(const fs::path& exe, const WorldOptions& options, std::ostream& progress) {
  std::error_code ec;
  WorldOptions o{fs::absolute(options.pki, ec), fs::absolute(options.roster, ec), fs::absolute(options.policy, ec),
                 options.pg_conninfo, options.topology};
  if (o.topology == Topology::kCluster && o.pg_conninfo.empty()) {
    return Status::fail(Code::INVALID_FIELD,
                        "--topology cluster runs two brokers on one store, which needs PostgreSQL: give --pg "
                        "CONNINFO (`make demo-cluster` starts a private server and does)");
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
  world->topology_ = o.topology;
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
  if (Status laid = world->lay_out(SystemClock::instance().now_seconds(), progress); !laid) return laid;
  fs::create_directory(world->root_ / "nodes", ec);
  return world;
}

// The first broker is the PKI's own (its transport key in broker.pub); the
// topology decides the others, the peerings and the directory views.
Status World::lay_out(std::int64_t now, std::ostream& progress) {
  const identity::PkiPaths pki(pki_);
  auto pub = read_file(pki.broker_public());
  if (!pub) return pub.status();
  std::string text(as_chars(*pub));
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.pop_back();
  auto key = crypto::transport_key_from_z85(text);
  if (!key) return key.status();
  auto dir = identity::Directory::load(directory(), now, nullptr);
  if (!dir) return dir.status();
  const identity::Credential* first = (*dir)->node_by_transport_key(*key);
  if (first == nullptr) {
    return Status::fail(Code::UNKNOWN_NODE, "no credential in " + pki.directory().string() +
                                                " holds the broker key of broker.pub: regenerate the PKI with "
                                                "`tearline certs demo --force`");
  }
  BrokerSlot slot;
  slot.id = first->node_id;
  slot.agency = first->agency;
  slot.key = pki.broker_key();
  slot.directory = directory();
  slot.pg = !pg_conninfo_.empty();
  slots_.push_back(slot);
  if (topology_ == Topology::kSingle) return Status::ok();
  if (federated() && (slot.agency == "DEA" || slot.agency == "FGR")) {
    return Status::fail(Code::INVALID_FIELD, "the demo PKI's broker " + slot.id + " is run by " + slot.agency +
                                                 ", which has a broker of its own in a federation: give the roster's "
                                                 "[broker] another agency, or use --topology single");
  }
  if (Status s = add_broker(kDeaBroker, "DEA", now, progress); !s) return s;
  if (topology_ == Topology::kCluster) {
    slots_[1].pg = true;
    return Status::ok();
  }
  if (topology_ == Topology::kTriangle) {
    if (Status s = add_broker(kFgrBroker, "FGR", now, progress); !s) return s;
  }
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    for (std::size_t j = i + 1; j < slots_.size(); ++j) {
      std::string id = slots_[i].agency + "-" + slots_[j].agency;
      std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return std::tolower(c); });
      Status s = write_demo_peering(revocation_pki(), id, {slots_[i].agency, slots_[i].id},
                                    {slots_[j].agency, slots_[j].id}, now);
      if (!s) return s;
      progress << "demo: peering " << id << " v1 between " << slots_[i].id << " and " << slots_[j].id << " signed by "
               << slots_[i].agency << " and " << slots_[j].agency << " (topics";
      for (const auto& t : peering_topics()) progress << " " << t;
      progress << ", up to SECRET, releasable to the receiving agency)\n";
    }
  }
  auto trust = identity::TrustStore::load(revocation_pki().trust_store());
  if (!trust) return trust.status();
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    std::vector<std::string> partners;
    for (const auto& [agency, authority] : trust->authorities()) {
      if (broker_for(agency) != static_cast<int>(i)) partners.push_back(agency);
    }
    BrokerSlot& b = slots_[i];
    b.directory = root_ / ("directory-" + b.id);
    if (Status s = make_directory_view(directory(), b.directory, partners); !s) return s;
    for (std::size_t j = 0; j < slots_.size(); ++j) {
      if (j != i) b.peers.push_back(j);
    }
  }
  return pick_ports();
}

// A federation's brokers must know each other's endpoints before they start.
Status World::pick_ports() {
  for (BrokerSlot& b : slots_) {
    auto port = ::tearline::free_loopback_port();
    if (!port) return port.status();
    b.endpoint = "tcp://127.0.0.1:" + std::to_string(*port);
  }
  return Status::ok();
}

// A further broker, issued by `agency` into the directory copy (its keys in
// the temporary folder), serving that agency's nodes.
Status World::add_broker(const std::string& id, const std::string& agency, std::int64_t now, std::ostream& progress) {
  identity::BrokerIdentity who{id, agency, now - 3600, now + std::int64_t{7} * 86400};
  if (Status made = identity::init_broker(revocation_pki(), who, false); !made) return made;
  BrokerSlot slot;
  slot.id = id;
  slot.agency = agency;
  slot.serves = {agency};
  slot.key = revocation_pki().other_broker_key(id);
  slot.directory = directory();
  slots_.push_back(slot);
  progress << "demo: issued a credential for " << agency << "'s broker, " << id
           << ", into the demo's copy of the directory\n";
  return Status::ok();
}

World::~World() {
  for (auto& b : brokers_) b->stop(std::chrono::milliseconds(3000));
  if (root_.empty()) return;
  std::error_code ec;
  fs::remove_all(root_, ec);  // does not follow the symlinks in keys/
}

int World::broker_for(const std::string& agency) const {
  for (std::size_t i = 1; i < slots_.size(); ++i) {
    const auto& serves = slots_[i].serves;
    if (std::find(serves.begin(), serves.end(), agency) != serves.end()) return static_cast<int>(i);
  }
  return 0;
}

fs::path World::node_key(const std::string& node) const { return identity::PkiPaths(pki_).node_key(node); }

fs::path World::node_log(const std::string& node) const { return root_ / "nodes" / (node + ".log"); }

fs::path World::broker_log(int i) const {
  if (i == 0) return root_ / "broker.log";
  std::string agency = broker(i).agency;
  std::transform(agency.begin(), agency.end(), agency.begin(), [](unsigned char c) { return std::tolower(c); });
  return root_ / ("broker-" + agency + ".log");
}

bool World::broker_running() {
  if (brokers_.size() != slots_.size()) return false;
  for (auto& b : brokers_) {
    if (b->poll_exit()) return false;
  }
  return true;
}

Status World::share_revocations() {
  for (const auto& b : slots_) {
    if (b.directory == directory()) continue;
    if (Status s = copy_revocation_lists(directory(), b.directory); !s) return s;
  }
  return Status::ok();
}

Status World::reload_other_brokers() {
  std::vector<std::size_t> reloads;  // each broker's event=reloaded lines so far
  reloads.reserve(brokers_.size());
  for (std::size_t i = 0; i < brokers_.size(); ++i) {
    reloads.push_back(lines_with(broker_log(static_cast<int>(i)), "event=reloaded").size());
  }
  for (std::size_t i = 1; i < brokers_.size(); ++i) (void)brokers_[i]->signal(SIGHUP);
  const auto deadline = std::chrono::steady_clock::now() + kReloadTimeout;
  for (std::size_t i = 1; i < brokers_.size(); ++i) {
    while (lines_with(broker_log(static_cast<int>(i)), "event=reloaded").size() <= reloads[i]) {
      if (InterruptGuard::interrupted()) return interrupted();
      if (std::chrono::steady_clock::now() >= deadline) {
        return Status::fail(Code::UNAVAILABLE, slots_[i].id + " did not reload within 5 s of SIGHUP:\n" +
                                                   tail_of_file(broker_log(static_cast<int>(i))));
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }
  return Status::ok();
}

Status World::start_brokers(const fs::path& broker_binary) {
  for (int attempt = 1;; ++attempt) {
    Status started = Status::ok();
    for (std::size_t i = 0; i < slots_.size() && started; ++i) started = start_broker(broker_binary, i);
    if (started) return federated() ? wait_for_links() : Status::ok();
    // A port picked before the start may have been taken since by another
    // program: stop what started, pick new ports, start again (3 times).
    const bool port_taken = started.to_string().find("Address already in use") != std::string::npos;
    if (!federated() || !port_taken || attempt == 3) return started;
    for (auto& b : brokers_) b->stop(std::chrono::milliseconds(3000));
    brokers_.clear();
    if (Status picked = pick_ports(); !picked) return picked;
  }
}

Status World::start_broker(const fs::path& broker_binary, std::size_t i) {
  BrokerSlot& slot = slots_[i];
  const int index = static_cast<int>(i);
  const std::string suffix = broker_log(index).stem().string().substr(std::string("broker").size());
  toml::table broker{{"endpoint", slot.endpoint.empty() ? "tcp://127.0.0.1:*" : slot.endpoint},
                     {"key_file", slot.key.string()},
                     {"directory", slot.directory.string()},
                     {"policy", policy_.string()},
                     {"data_dir", (root_ / ("data" + suffix)).string()},
                     {"log_level", "info"},
                     {"verify_threads", 2}};
  // The first broker's routing, live in a browser (docs/observability.md).
  if (i == 0) broker.insert("metrics_listen", "127.0.0.1:0");
  const fs::path config = root_ / ("broker" + suffix + ".toml");
  {
    std::ofstream out(config);
    toml::table doc{{"broker", broker}};
    if (slot.pg) doc.insert("storage", toml::table{{"store", "postgresql"}, {"conninfo", pg_conninfo_}});
    if (!slot.peers.empty()) {
      toml::array peers;
      for (std::size_t p : slot.peers) {
        peers.push_back(toml::table{{"broker", slots_[p].id}, {"endpoint", slots_[p].endpoint}});
      }
      doc.insert("peer", std::move(peers));
    }
    out << "# Written by `tearline demo`.\n" << doc << "\n";
    if (!out) return Status::fail(Code::IO_ERROR, "cannot write " + config.string());
  }
  ChildSpec spec;
  spec.argv = {broker_binary.string(), "--config", config.string()};
  spec.stderr_file = broker_log(index);
  auto child = ChildProcess::start(spec);
  if (!child) return child.status();
  brokers_.push_back(std::move(child).value());
  ChildProcess& started = *brokers_.back();
  const auto deadline = std::chrono::steady_clock::now() + kBrokerStartTimeout;
  for (;;) {
    std::string endpoint = started_endpoint(broker_log(index));
    const std::string http = i == 0 ? logged_value(broker_log(index), "event=metrics_listening address=") : "x";
    if (!endpoint.empty() && !http.empty()) {
      slot.endpoint = std::move(endpoint);
      if (i == 0) slot.live_view = "http://" + http + "/live";
      return Status::ok();
    }
    if (InterruptGuard::interrupted()) return interrupted();
    if (started.poll_exit()) {
      return Status::fail(Code::UNAVAILABLE, slot.id + " exited at start-up:\n" + tail_of_file(broker_log(index)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::fail(Code::UNAVAILABLE, slot.id + " did not log event=started" +
                                                 (index == 0 ? " and event=metrics_listening" : "") +
                                                 " within 10 s:\n" + tail_of_file(broker_log(index)));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

// Each broker's link to each of its peers is subscribed: what the
// scenario publishes from now on crosses (a report accepted before the
// partner's first durable subscription would not wait for it).
Status World::wait_for_links() {
  const auto deadline = std::chrono::steady_clock::now() + kLinkTimeout;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    for (std::size_t p : slots_[i].peers) {
      const std::vector<std::string> line{"event=peer_link_ready", "peer=" + slots_[p].id + " "};
      while (!log_has_line(broker_log(static_cast<int>(i)), line)) {
        if (InterruptGuard::interrupted()) return interrupted();
        if (!broker_running()) return Status::fail(Code::UNAVAILABLE, "a broker ended while linking to its peers");
        if (std::chrono::steady_clock::now() >= deadline) {
          return Status::fail(Code::UNAVAILABLE, slots_[i].id + "'s link to " + slots_[p].id +
                                                     " was not ready within 15 s:\n" +
                                                     tail_of_file(broker_log(static_cast<int>(i))));
        }
        std::this_thread::sleep_for(kPollInterval);
      }
    }
  }
  return Status::ok();
}

}  // namespace tearline::cli::demo
