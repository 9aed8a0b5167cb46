// tearline_federation_crash_test: two agencies' brokers, peered
// (docs/federation.md): DIRAN's (tearline-broker) and DEA's (dea-broker),
// each pulling from the other over [[peer]]. A node publishes at each, a
// durable subscriber reads at each, and one broker or the other is killed
// with SIGKILL at random moments and restarted on its data, so crossings are
// cut mid-transfer on both sides: a copy in the sender's DELIVER, in the
// receiver's verifier or group commit, or committed there and not yet
// acknowledged. Afterwards:
//
//   1. each broker's store holds every report a publisher saw ACCEPTED, its
//      own and the partner's (its seqs without a gap; a report id is stored
//      once, by the store's unique index), and nothing else; every stored
//      report has its "publish accepted" audit entry;
//   2. each durable subscriber received every accepted report of both
//      publishers, none twice through the client library, none extra, each
//      under the seq its broker stored it with, each originator's in the
//      order published: nothing lost, nothing delivered twice;
//   3. each broker's audit log has one "crossing taken" entry for each of
//      the partner's reports and no refused crossing, and verifies
//      (`tearline audit verify`); both brokers stop cleanly.
//
// Unknown verdicts are settled as in crash_test.cc: a PUBLISH whose answer
// never came is re-sent with the same bytes; REPLAYED_REPORT on a re-send
// means an earlier attempt was committed.
//
// Usage: tearline_federation_crash_test --broker PATH --tearline PATH
//          [--kills N (8)] [--seed N] [--keep]
// Exit 0 when every check holds; 1 on any violation; 2 on a setup failure.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_db.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "base/ports.h"
#include "base/process.h"
#include "client/session_internal.h"
#include "crash_support.h"
#include "crash_world.h"
#include "federation/peering_files.h"
#include "identity/directory.h"
#include "identity/pki.h"
#include "identity/roster.h"
#include "identity/trust_store.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
namespace v1 = tearline::v1;
using namespace crash_test;
using Clock = std::chrono::steady_clock;

constexpr const char* kDiranBroker = "tearline-broker";  // the roster's broker, DIRAN's
constexpr const char* kDeaBroker = "dea-broker";

struct Options {
  fs::path broker, tearline;
  int kills = 8;
  std::uint64_t seed = 0;
  bool keep = false;
};

Options parse_args(int argc, char** argv) {
  Options o;
  o.seed = static_cast<std::uint64_t>(std::random_device{}());
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--broker") {
      o.broker = value();
    } else if (a == "--tearline") {
      o.tearline = value();
    } else if (a == "--kills") {
      o.kills = std::stoi(value());
    } else if (a == "--seed") {
      o.seed = std::stoull(value());
    } else if (a == "--keep") {
      o.keep = true;
    } else {
      die("unknown argument " + a + " (usage: --broker PATH --tearline PATH [--kills N] [--seed N] [--keep])");
    }
  }
  if (o.broker.empty() || o.tearline.empty()) die("--broker PATH and --tearline PATH are required");
  return o;
}

// One agency's side: its broker's place and its nodes.
struct Side {
  std::string agency, broker_id;
  fs::path directory, key_file, data_dir, log_dir, config;
  std::string endpoint;
  std::string publisher, topic, subscriber;
};

client::SessionOptions options_for(const Side& side, const fs::path& pki_root, const std::string& node) {
  client::SessionOptions o;
  o.endpoint = side.endpoint;
  o.broker_id = side.broker_id == kDiranBroker ? "" : side.broker_id;
  o.directory = side.directory;
  o.key_file = identity::PkiPaths(pki_root).node_key(node);
  o.node_id = node;
  o.connect_timeout_ms = 2000;
  o.request_timeout_ms = 2000;
  o.client_name = "tearline-federation-crash-test";
  return o;
}

std::unique_ptr<client::Session> connect(const client::SessionOptions& options, const std::atomic<bool>& stop,
                                         std::vector<std::string>* violations) {
  while (!stop) {
    auto s = client::Session::connect(options);
    if (s) return std::move(s).value();
    if (s.code() != Code::UNAVAILABLE && s.code() != Code::HANDSHAKE_REFUSED) {
      violations->push_back(options.node_id + ": connect: " + s.status().to_string());
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return nullptr;
}

// ---- the world ----------------------------------------------------------------

// The peering both authorities sign: intel.> each way, up to SECRET,
// releasable to the receiving agency's country.
void sign_peering(const identity::PkiPaths& pki, std::int64_t now) {
  federation::PeeringDraft d;
  d.peering_id = "diran-dea";
  d.first_agency = "DIRAN";
  d.first_broker = kDiranBroker;
  d.second_agency = "DEA";
  d.second_broker = kDeaBroker;
  d.first_to_second.add_topics("intel.>");
  d.first_to_second.set_ceiling(v1::SECRET);
  d.first_to_second.add_releasable_to("USA");
  d.second_to_first.add_topics("intel.>");
  d.second_to_first.set_ceiling(v1::SECRET);
  d.second_to_first.add_releasable_to("COL");
  d.not_before = now - 3600;
  d.not_after = now + 86400;
  auto version = federation::create_peering_file(pki, d, now);
  if (!version) die(version.status().to_string());
  for (const char* agency : {"DIRAN", "DEA"}) {
    Status s = federation::cosign_peering_file(pki, d.peering_id, *version, agency, now);
    if (!s) die(s.to_string());
  }
}

void write_config(const Side& side, const Side& partner, const fs::path& policy) {
  std::ofstream out(side.config);
  out << "[broker]\n"
      << "endpoint = \"" << side.endpoint << "\"\n"
      << "key_file = \"" << side.key_file.string() << "\"\n"
      << "directory = \"" << side.directory.string() << "\"\n"
      << "policy = \"" << policy.string() << "\"\n"
      << "data_dir = \"" << side.data_dir.string() << "\"\n"
      << "log_level = \"info\"\n"
      << "[limits]\npublish_rate = 1000000\npublish_burst = 1000000\n"
      << "[[peer]]\nbroker = \"" << partner.broker_id << "\"\nendpoint = \"" << partner.endpoint << "\"\n";
  if (!out) die("cannot write " + side.config.string());
}

// Each side's directory: the PKI's, with the other side's agencies pinned
// as partners (as `certs import` leaves it).
void make_view(const identity::PkiPaths& pki, const fs::path& view, const std::vector<std::string>& partners) {
  std::error_code ec;
  fs::copy(pki.directory(), view, fs::copy_options::recursive, ec);
  if (ec) die("cannot copy the directory: " + ec.message());
  Status s = identity::set_partner_agencies(view / "trust.toml", partners);
  if (!s) die(s.to_string());
}

// Waits until `log` says the link to `peer` is subscribed.
void wait_link_ready(const BrokerProcess& b, const std::string& peer) {
  const auto t0 = Clock::now();
  while (read_text(b.log()).find("event=peer_link_ready peer=" + peer + " ") == std::string::npos) {
    if (seconds_since(t0) > 30) die("the link to " + peer + " was not ready within 30 s:\n" + read_text(b.log()));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// ---- nodes --------------------------------------------------------------------------

struct Published {
  std::vector<std::string> accepted;  // report ids hex, in publish order
  std::uint64_t attempts = 0, resent = 0, replayed = 0;
  std::vector<std::string> violations;
};

void publish_loop(const client::SessionOptions& options, const std::string& topic, const std::atomic<bool>& stop,
                  Published* out) {
  const std::atomic<bool> never{false};
  auto session = connect(options, never, &out->violations);
  if (!session) return;
  const policy::Label label = kind_label(v1::CONFIDENTIAL, {"COL", "USA"});
  const std::string padding(256, '.');
  for (std::uint64_t n = 0; !stop; ++n) {
    report::ReportDraft d;
    d.topic = topic;
    d.sections.push_back({label, to_bytes(options.node_id + " report " + std::to_string(n) + padding)});
    auto built = client::build(*session, d);
    if (!built) {
      out->violations.push_back(options.node_id + ": build: " + built.status().to_string());
      return;
    }
    const std::string id = to_hex(built->report_id);
    const auto first = Clock::now();
    for (int attempt = 1;; ++attempt) {
      ++out->attempts;
      if (attempt > 1) ++out->resent;
      auto outcome = session->publish_bytes(built->bytes);
      if (!outcome) {  // no verdict: the broker is down or died with the request
        if (seconds_since(first) > 120) {
          out->violations.push_back(options.node_id + ": no verdict for report " + id + " in 120 s");
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      const bool committed_before = attempt > 1 && outcome->status.has(Code::REPLAYED_REPORT);
      if (outcome->accepted || committed_before) {
        out->accepted.push_back(id);
        out->replayed += committed_before ? 1 : 0;
        break;
      }
      if (outcome->status.has(Code::BROKER_BUSY)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      out->violations.push_back(options.node_id + ": report " + id + " rejected: " + outcome->status.to_string());
      break;
    }
  }
}

struct Subscribed {
  std::mutex mu;
  std::vector<std::pair<std::string, std::uint64_t>> received;  // (report id hex, broker seq), arrival order
  std::map<std::string, std::string> originator_of;             // report id hex -> originator
  std::set<std::string> ids;
  std::vector<std::string> violations;
};

void subscribe_loop(const client::SessionOptions& options, const std::atomic<bool>& stop, std::atomic<int>* ready,
                    Subscribed* out) {
  auto session = connect(options, stop, &out->violations);
  if (!session) return;
  for (;;) {
    Status s = session->subscribe({"intel.>"});
    if (s) break;
    if (s.code() != Code::UNAVAILABLE || stop) {
      std::lock_guard lock(out->mu);
      out->violations.push_back(options.node_id + ": subscribe: " + s.to_string());
      return;
    }
  }
  ++*ready;
  while (!stop) {
    auto r = session->receive(100);
    if (!r) continue;
    std::lock_guard lock(out->mu);
    if (!r->verification) {
      out->violations.push_back(options.node_id + ": seq " + std::to_string(r->broker_seq) +
                                " did not verify: " + r->verification.to_string());
      continue;
    }
    if (r->sections.size() != 1 || r->sections[0].status != client::SectionStatus::kOpened) {
      out->violations.push_back(options.node_id + ": report " + r->report_id_hex + " not opened whole");
    }
    if (!out->ids.insert(r->report_id_hex).second) {
      out->violations.push_back(options.node_id + ": report " + r->report_id_hex + " passed the client library twice");
    }
    out->originator_of[r->report_id_hex] = r->originator;
    out->received.emplace_back(r->report_id_hex, r->broker_seq);
  }
}

// ---- checks ---------------------------------------------------------------------------

// Check 1 for one broker's store; returns it.
Stored check_store(const Side& side, const std::map<std::string, char>& accepted,
                   std::vector<std::string>* violations) {
  std::vector<std::string> found;
  const Stored stored = read_store("", side.data_dir);
  (void)check_stored(accepted, stored, &found);
  for (auto& v : found) violations->push_back(side.broker_id + ": " + v);
  std::vector<std::uint64_t> seqs;
  seqs.reserve(stored.seq_of.size());
  for (const auto& [id, seq] : stored.seq_of) seqs.push_back(seq);
  std::sort(seqs.begin(), seqs.end());
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i] != i + 1) {
      violations->push_back(side.broker_id + ": stored seqs are not 1.." + std::to_string(seqs.size()) +
                            " (a gap) at " + std::to_string(seqs[i]));
      break;
    }
  }
  return stored;
}

// Check 2 for one subscriber.
void check_subscriber(const Side& side, Subscribed& sub, const std::map<std::string, Published>& published,
                      const Stored& stored, std::vector<std::string>* violations) {
  violations->insert(violations->end(), sub.violations.begin(), sub.violations.end());
  std::map<std::string, std::vector<std::string>> arrived;  // originator -> ids, arrival order
  for (const auto& [id, seq] : sub.received) {
    arrived[sub.originator_of[id]].push_back(id);
    auto it = stored.seq_of.find(id);
    if (it == stored.seq_of.end() || it->second != seq) {
      violations->push_back(side.subscriber + " received " + id + " as seq " + std::to_string(seq) +
                            (it == stored.seq_of.end() ? ", which its broker did not store"
                                                       : ", stored as seq " + std::to_string(it->second)));
    }
  }
  for (const auto& [publisher, p] : published) {
    if (arrived[publisher] != p.accepted) {
      violations->push_back(side.subscriber + " received " + std::to_string(arrived[publisher].size()) + " of " +
                            publisher + "'s " + std::to_string(p.accepted.size()) +
                            " accepted reports, or not in the order published");
    }
  }
}

// Check 3's crossings: one "crossing taken" per report of the partner, no refusal.
std::string check_crossings(const Side& side, const Published& partner, std::vector<std::string>* violations) {
  auto entries = audit::read_entries(side.data_dir / "tearline.db");
  if (!entries) {
    violations->push_back(side.broker_id + ": cannot read the audit log: " + entries.status().to_string());
    return "";
  }
  std::map<std::string, int> taken;
  std::size_t duplicates = 0;
  for (const auto& e : *entries) {
    if (e.event != "crossing") continue;
    if (e.decision == "taken") ++taken[e.report];
    if (e.decision == "duplicate") ++duplicates;
    if (e.decision == "refused") violations->push_back(side.broker_id + " refused a crossing: " + e.detail);
  }
  for (const auto& id : partner.accepted) {
    const int n = taken.count(id) != 0 ? taken[id] : 0;
    if (n != 1) {
      violations->push_back(side.broker_id + " has " + std::to_string(n) + " 'crossing taken' entries for " + id);
    }
  }
  if (taken.size() != partner.accepted.size()) {
    violations->push_back(side.broker_id + " took " + std::to_string(taken.size()) + " reports across, " +
                          std::to_string(partner.accepted.size()) + " were published at its partner");
  }
  return std::to_string(taken.size()) + " taken, " + std::to_string(duplicates) + " duplicates";
}

void audit_verify(const Options& opt, const Side& side, const fs::path& pki_root, const fs::path& work,
                  std::vector<std::string>* violations) {
  ProcessSpec spec;
  spec.argv = {opt.tearline.string(), "audit", "verify", "--db", (side.data_dir / "tearline.db").string(), "--pki",
               pki_root.string()};
  if (side.broker_id != kDiranBroker) {
    // Its checkpoints are signed with its credential's key; broker-audit.pub is DIRAN's broker's.
    auto directory = identity::Directory::load(identity::PkiPaths(pki_root).directory(),
                                               SystemClock::instance().now_seconds(), nullptr);
    if (!directory || (*directory)->node(side.broker_id) == nullptr) die("no credential of " + side.broker_id);
    spec.argv.insert(spec.argv.end(), {"--key", to_hex((*directory)->node(side.broker_id)->signing_key.view())});
  }
  const fs::path out = work / ("audit-verify-" + side.broker_id + ".txt");
  spec.stdout_file = out;
  spec.stderr_to_stdout = true;
  auto verify = Process::spawn(spec);
  const std::optional<int> rc = verify ? verify->wait_exit(std::chrono::minutes(5)) : std::nullopt;
  if (rc != 0) {
    violations->push_back(side.broker_id +
                          ": tearline audit verify failed: " + (verify ? read_text(out) : verify.status().to_string()));
  }
}

int run(const Options& opt) {
  const auto t0 = Clock::now();
  const fs::path source(TEARLINE_SOURCE_DIR);
  const fs::path work = make_work_dir();
  const fs::path policy = source / "certs" / "policy.toml";
  const fs::path pki_root = work / "pki";
  const identity::PkiPaths pki(pki_root);
  const std::int64_t now = SystemClock::instance().now_seconds();
  {
    auto roster = identity::load_roster(source / "certs" / "roster.toml");
    if (!roster) die(roster.status().to_string());
    if (Status s = identity::generate_from_roster(*roster, pki, now); !s) die(s.to_string());
    identity::BrokerIdentity dea{kDeaBroker, "DEA", now - 3600, now + 86400};
    if (Status s = identity::init_broker(pki, dea, false); !s) die(s.to_string());
    sign_peering(pki, now);
  }
  Side sides[2];
  sides[0] = {"DIRAN",
              kDiranBroker,
              work / "diran-view",
              pki.broker_key(),
              work / "diran-data",
              work / "diran-logs",
              work / "diran.toml",
              "",
              "diran-bogota-hq",
              "intel.seizures",
              "diran-cucuta-analyst"};
  sides[1] = {"DEA",
              kDeaBroker,
              work / "dea-view",
              pki.other_broker_key(kDeaBroker),
              work / "dea-data",
              work / "dea-logs",
              work / "dea.toml",
              "",
              "dea-bogota-analyst",
              "intel.finance",
              "dea-cucuta-agent"};
  make_view(pki, sides[0].directory, {"DEA"});
  make_view(pki, sides[1].directory, {"DIRAN", "FUDRA", "FGR"});
  for (Side& s : sides) {
    auto port = free_loopback_port();
    if (!port) die(port.status().to_string());
    s.endpoint = "tcp://127.0.0.1:" + std::to_string(*port);
    fs::create_directories(s.log_dir);
  }
  write_config(sides[0], sides[1], policy);
  write_config(sides[1], sides[0], policy);
  std::printf("federation_crash_test: work %s, seed %llu, %d kills, %s at %s, %s at %s\n", work.c_str(),
              static_cast<unsigned long long>(opt.seed), opt.kills, kDiranBroker, sides[0].endpoint.c_str(), kDeaBroker,
              sides[1].endpoint.c_str());
  std::fflush(stdout);

  BrokerProcess brokers[2] = {{opt.broker, sides[0].config, sides[0].log_dir},
                              {opt.broker, sides[1].config, sides[1].log_dir}};
  for (auto& b : brokers) (void)b.start();
  wait_link_ready(brokers[0], kDeaBroker);
  wait_link_ready(brokers[1], kDiranBroker);

  // Durable subscribers first, then the publishers.
  std::atomic<bool> stop_subscribers{false}, stop_publishers{false};
  std::atomic<int> ready{0};
  std::map<std::string, Subscribed> subscribed;
  std::map<std::string, Published> published;
  std::vector<client::SessionOptions> sub_options, pub_options;
  for (const Side& s : sides) {
    sub_options.push_back(options_for(s, pki_root, s.subscriber));
    pub_options.push_back(options_for(s, pki_root, s.publisher));
  }
  std::vector<std::thread> subscriber_threads, publisher_threads;
  for (std::size_t i = 0; i < 2; ++i) {
    subscriber_threads.emplace_back(subscribe_loop, std::cref(sub_options[i]), std::cref(stop_subscribers), &ready,
                                    &subscribed[sides[i].subscriber]);
  }
  while (ready < 2) {
    if (seconds_since(t0) > 60) die("subscribers did not subscribe within 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (std::size_t i = 0; i < 2; ++i) {
    publisher_threads.emplace_back(publish_loop, std::cref(pub_options[i]), sides[i].topic, std::cref(stop_publishers),
                                   &published[sides[i].publisher]);
  }

  std::mt19937_64 rng(opt.seed);
  std::uniform_int_distribution<int> gap(300, 1200);
  std::uniform_int_distribution<int> which(0, 1);
  int kills[2] = {0, 0};
  const auto kills_start = Clock::now();
  for (int k = 1; k <= opt.kills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(gap(rng)));
    const int b = which(rng);
    brokers[b].kill_now();
    ++kills[b];
    (void)brokers[b].start();
  }
  const double kill_phase = seconds_since(kills_start);

  stop_publishers = true;
  for (auto& t : publisher_threads) t.join();
  std::vector<std::string> violations;
  std::map<std::string, char> accepted;  // every accepted report, both publishers
  std::uint64_t attempts = 0, resent = 0, replayed = 0;
  for (auto& [node, p] : published) {
    for (const auto& id : p.accepted) accepted[id] = node == sides[0].publisher ? 'D' : 'E';
    attempts += p.attempts;
    resent += p.resent;
    replayed += p.replayed;
    violations.insert(violations.end(), p.violations.begin(), p.violations.end());
  }
  std::map<std::string, std::set<std::string>> expected;
  for (const Side& s : sides) {
    for (const auto& [id, kind] : accepted) expected[s.subscriber].insert(id);
  }
  const double drain = wait_drained(subscribed, expected);
  stop_subscribers = true;
  for (auto& t : subscriber_threads) t.join();
  for (std::size_t i = 0; i < 2; ++i) {
    const int rc = brokers[i].terminate();
    if (rc != 0) violations.push_back(sides[i].broker_id + " exited " + std::to_string(rc) + " on SIGTERM");
  }

  std::string crossings[2];
  for (std::size_t i = 0; i < 2; ++i) {
    const Stored stored = check_store(sides[i], accepted, &violations);
    check_subscriber(sides[i], subscribed[sides[i].subscriber], published, stored, &violations);
    crossings[i] = check_crossings(sides[i], published[sides[1 - i].publisher], &violations);
    audit_verify(opt, sides[i], pki_root, work, &violations);
  }

  print_violations(violations);
  std::printf(
      "federation_crash_test: %s kills=%d (%s %d, %s %d) accepted=%zu (%s %zu, %s %zu; attempts %llu, re-sent %llu, "
      "accepted-before %llu) crossings=[%s: %s; %s: %s] kill_phase_s=%.1f drain_s=%.1f duration_s=%.1f "
      "violations=%zu seed=%llu\n",
      violations.empty() ? "PASS" : "FAIL", opt.kills, kDiranBroker, kills[0], kDeaBroker, kills[1], accepted.size(),
      sides[0].publisher.c_str(), published[sides[0].publisher].accepted.size(), sides[1].publisher.c_str(),
      published[sides[1].publisher].accepted.size(), static_cast<unsigned long long>(attempts),
      static_cast<unsigned long long>(resent), static_cast<unsigned long long>(replayed), kDiranBroker,
      crossings[0].c_str(), kDeaBroker, crossings[1].c_str(), kill_phase, drain, seconds_since(t0), violations.size(),
      static_cast<unsigned long long>(opt.seed));
  return finish_run("federation_crash_test", violations, work, opt.keep);
}

}  // namespace
}  // namespace tearline

int main(int argc, char** argv) {
  return tearline::crash_test::guarded_main("federation_crash_test",
                                            [&] { return tearline::run(tearline::parse_args(argc, argv)); });
}
