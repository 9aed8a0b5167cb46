// tearline_cluster_crash_test: two brokers share one PostgreSQL store
// (issue 17, docs/scale-out.md); broker A is killed with SIGKILL at random
// moments and restarted, while nodes publish and durable subscribers read.
// With --fault drop-session, A runs on and the server ends A's write
// session at random moments instead: a batch caught before its COMMIT is
// answered STORAGE_FAILED (nothing written; the publisher sends the same
// bytes again), one caught during COMMIT halts A's store (the outcome is
// unknown) and A is restarted, as a supervisor would.
// Every node speaks to one broker at a time and moves to the other when it
// loses its broker, and now and then besides (a subscriber that moves takes
// its mailbox with it: claims). Afterwards:
//
//   1. every report a publisher saw ACCEPTED is stored, by one broker or the
//      other (lost: 0), and nothing else is (every verdict is definite: a
//      PUBLISH whose answer never came is re-sent, same bytes, to the
//      broker the node speaks to next; REPLAYED_REPORT then means an earlier
//      attempt was committed);
//   2. every durable subscriber received every accepted report it is
//      entitled to and nothing else, each originator's in the order they
//      were published (the first time each arrived; a node that moves may be
//      sent again what it had not acknowledged: at least once);
//   3. the audit: every broker's log verifies in one run (`tearline audit
//      verify --pg`), and the heads entries cover both: each broker signed
//      the other's chain head. Then B's log is cut short below what A
//      signed of it, its own checkpoints with it (B's log alone still
//      verifies): verify must say TAMPERED deleted, at the first entry cut;
//      and with B's log and writer row deleted altogether (the store passes
//      for A's alone), that A's heads entries name a log that is not there.
//      Both brokers stop cleanly at the end.
//
// Usage: tearline_cluster_crash_test --broker PATH --tearline PATH
//          [--fault kill|drop-session] [--kills N (6): faults] [--seed N] [--keep]
// Exit 0 when every check holds; 1 on any violation; 2 on a setup failure.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/ports.h"
#include "base/process.h"
#include "client/session_internal.h"
#include "crash_support.h"
#include "crash_world.h"
#include "identity/pki.h"
#include "identity/roster.h"
#include "support/pg_cluster.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
using namespace crash_test;
using Clock = std::chrono::steady_clock;

constexpr const char* kSecondBroker = "tearline-broker-2";
// The first key of a writer's advisory lock, pg_try_advisory_lock(0x746c7772, WRITER_ID).
constexpr std::int64_t kWriterLockClass = 0x746c7772;

struct Options {
  fs::path broker, tearline;
  int kills = 6;               // faults: kills of A, or drops of its write session
  bool drop_sessions = false;  // --fault drop-session
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
    } else if (a == "--fault") {
      const std::string fault = value();
      if (fault != "kill" && fault != "drop-session") die("--fault takes kill or drop-session");
      o.drop_sessions = fault == "drop-session";
    } else {
      die("unknown argument " + a +
          " (usage: --broker PATH --tearline PATH [--fault kill|drop-session] [--kills N] [--seed N] [--keep])");
    }
  }
  if (o.broker.empty() || o.tearline.empty()) die("--broker PATH and --tearline PATH are required");
  return o;
}

// The two brokers as the nodes see them: 0 is A (killed), 1 is B.
struct Cluster {
  fs::path pki;
  std::string endpoints[2];
};

client::SessionOptions options_for(const Cluster& c, const std::string& node, int broker) {
  identity::PkiPaths pki(c.pki);
  client::SessionOptions o;
  o.endpoint = c.endpoints[broker];
  o.broker_id = broker == 0 ? "" : kSecondBroker;
  o.directory = pki.directory();
  o.key_file = pki.node_key(node);
  o.node_id = node;
  o.connect_timeout_ms = 2000;
  o.request_timeout_ms = 2000;
  o.client_name = "tearline-cluster-crash-test";
  return o;
}

// Handshakes with broker A that failed without a word: A killed, or busy
// starting, while the handshake was under way (the client cannot tell that
// from a key that does not match, and says HANDSHAKE_REFUSED). Counted and
// reported; with B, which is never killed, it is a violation.
std::atomic<std::uint64_t> g_handshakes_lost_to_kills{0};

// A session of `node` with broker `*broker`, trying the other one whenever
// a broker cannot be reached; nullptr on a refusal (a violation) or stop.
std::unique_ptr<client::Session> connect_any(const Cluster& c, const std::string& node, int* broker,
                                             const std::atomic<bool>& stop, std::vector<std::string>* violations) {
  while (!stop) {
    auto s = client::Session::connect(options_for(c, node, *broker));
    if (s) return std::move(s).value();
    const bool lost_to_kill = s.code() == Code::HANDSHAKE_REFUSED && *broker == 0;
    if (lost_to_kill) ++g_handshakes_lost_to_kills;
    if (s.code() != Code::UNAVAILABLE && !lost_to_kill) {
      violations->push_back(node + ": connect: " + s.status().to_string());
      return nullptr;
    }
    *broker = 1 - *broker;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return nullptr;
}

struct Published {
  std::vector<std::string> accepted;  // report ids hex, in publication order
  std::map<std::string, char> kind_of;
  std::uint64_t moves = 0, replayed = 0;
  std::uint64_t storage_failed = 0, storage_halted = 0;  // answers (--fault drop-session)
  std::vector<std::string> violations;
};

// Publishes until `stop`, moving to the other broker when a verdict does not
// come, and every 40 reports.
void publish_loop(const Cluster& c, const std::string& node, const std::atomic<bool>& stop, Published* out) {
  std::vector<const Kind*> kinds;
  for (const auto& k : kKinds) {
    if (k.publisher == node) kinds.push_back(&k);
  }
  const std::atomic<bool> never{false};
  int broker = 0;
  auto session = connect_any(c, node, &broker, never, &out->violations);
  if (!session) return;
  auto move = [&] {
    broker = 1 - broker;
    ++out->moves;
    session = connect_any(c, node, &broker, never, &out->violations);
  };
  for (std::uint64_t n = 0; !stop && session; ++n) {
    if (n > 0 && n % 40 == 0) move();
    if (!session) return;
    const Kind& kind = *kinds[n % kinds.size()];
    report::ReportDraft d;
    d.topic = kind.topic;
    d.sections.push_back({kind.label, to_bytes(node + " report " + std::to_string(n) + " kind " + kind.name)});
    auto built = client::build(*session, d);
    if (!built) {
      out->violations.push_back(node + ": build: " + built.status().to_string());
      return;
    }
    const std::string id = to_hex(built->report_id);
    const auto first = Clock::now();
    for (int attempt = 1; session; ++attempt) {
      auto outcome = session->publish_bytes(built->bytes);
      if (!outcome) {  // no verdict: the broker is down or died with the request
        if (seconds_since(first) > 120) {
          out->violations.push_back(node + ": no verdict for " + id + " in 120 s: " + outcome.status().to_string());
          return;
        }
        move();
        continue;
      }
      const bool replayed = attempt > 1 && outcome->status.has(Code::REPLAYED_REPORT);
      if (outcome->accepted || replayed) {
        out->accepted.push_back(id);
        out->kind_of[id] = kind.name;
        out->replayed += replayed ? 1 : 0;
        break;
      }
      if (outcome->status.has(Code::BROKER_BUSY)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      // Its batch lost its session before COMMIT: nothing written; the
      // same bytes again are a new attempt (ACCEPTED, never REPLAYED_REPORT).
      if (outcome->status.has(Code::STORAGE_FAILED)) {
        ++out->storage_failed;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      // Lost during COMMIT: the outcome is unknown and the broker's store
      // halts until it is restarted. The other broker knows: REPLAYED_REPORT
      // there means it was committed.
      if (outcome->status.has(Code::STORAGE_HALTED)) {
        ++out->storage_halted;
        move();
        continue;
      }
      out->violations.push_back(node + ": report " + id + " (attempt " + std::to_string(attempt) +
                                ") rejected: " + outcome->status.to_string());
      break;
    }
  }
}

struct Subscribed {
  std::mutex mu;
  std::vector<std::string> first_seen;  // report ids hex, the first time each arrived
  std::set<std::string> ids;
  std::uint64_t copies = 0, moves = 0;
  std::vector<std::string> violations;
};

// A durable subscriber that moves to the other broker when it loses its
// broker, and every 1.5 s besides.
void subscribe_loop(const Cluster& c, const std::string& node, const std::atomic<bool>& stop, std::atomic<int>* ready,
                    Subscribed* out) {
  int broker = 0;
  bool counted = false;
  while (!stop) {
    std::unique_ptr<client::Session> session;
    {
      std::vector<std::string> problems;
      session = connect_any(c, node, &broker, stop, &problems);
      std::lock_guard lock(out->mu);
      out->violations.insert(out->violations.end(), problems.begin(), problems.end());
    }
    if (!session) return;
    Status s = session->subscribe({"intel.>"});
    if (!s) {
      broker = 1 - broker;  // unreachable, or it went away meanwhile
      continue;
    }
    if (!counted) ++*ready;
    counted = true;
    const auto since = Clock::now();
    bool lost = false;
    while (!stop && !lost && seconds_since(since) < 1.5) {
      auto r = session->receive(100);
      while (auto e = session->take_connection_event()) {
        lost = lost || e->kind == client::ConnectionEvent::Kind::kBrokerLost;
      }
      if (!r) continue;
      std::lock_guard lock(out->mu);
      ++out->copies;
      if (!r->verification) {
        out->violations.push_back(node + ": a copy did not verify: " + r->verification.to_string());
        continue;
      }
      if (out->ids.insert(r->report_id_hex).second) out->first_seen.push_back(r->report_id_hex);
    }
    broker = 1 - broker;
    std::lock_guard lock(out->mu);
    ++out->moves;
  }
}

struct Verified {
  int rc = -1;  // -1: it did not run
  std::string out;
};

// Runs `tearline audit verify` on every broker's log of the store.
Verified verify_audit(const Options& opt, const Cluster& c, const std::string& conninfo, const fs::path& out) {
  ProcessSpec spec;
  spec.argv = {opt.tearline.string(), "audit", "verify", "--pg", conninfo, "--pki", c.pki.string()};
  spec.stdout_file = out;
  spec.stderr_to_stdout = true;
  auto run = Process::spawn(spec);
  const std::optional<int> rc = run ? run->wait_exit(std::chrono::minutes(10)) : std::nullopt;
  return Verified{rc.value_or(-1), run ? read_text(out) : run.status().to_string()};
}

// The last entry of `broker`'s log the other's signed heads entries name
// ("BROKER 1..N" in verify's last line); 0 when none does.
std::uint64_t covered_up_to(const std::string& verified, const std::string& broker) {
  const std::regex covered("[(, ]" + broker + " 1\\.\\.([0-9]+)[,)]");
  std::smatch m;
  return std::regex_search(verified, m, covered) ? std::stoull(m[1].str()) : 0;
}

// Check 3 (see the top): the violations found.
std::vector<std::string> check_audit(const Options& opt, const Cluster& c, const std::string& conninfo,
                                     const fs::path& work) {
  const Verified clean = verify_audit(opt, c, conninfo, work / "verify.txt");
  if (clean.rc != 0) return {"tearline audit verify exited " + std::to_string(clean.rc) + ": " + clean.out};
  const std::uint64_t a = covered_up_to(clean.out, "tearline-broker"), b = covered_up_to(clean.out, kSecondBroker);
  if (a == 0 || b == 0) return {"the heads entries do not cover both brokers' logs: " + clean.out};
  {
    pqxx::connection conn(conninfo);
    pqxx::work tx(conn);
    const std::string writer = "(SELECT writer_id FROM writers WHERE broker_id = " + tx.quote(kSecondBroker) + ")";
    tx.exec0("DELETE FROM audit WHERE writer_id = " + writer + " AND idx >= " + std::to_string(b));
    tx.exec0("DELETE FROM audit_checkpoints WHERE writer_id = " + writer + " AND idx >= " + std::to_string(b));
    tx.commit();
  }
  const Verified cut = verify_audit(opt, c, conninfo, work / "verify-cut.txt");
  const std::string expected = "TAMPERED deleted at entry " + std::to_string(b) + " of " + kSecondBroker + ": ";
  if (cut.rc != 1 || cut.out.find(expected) == std::string::npos ||
      cut.out.find(std::string(kSecondBroker) + ": OK ") == std::string::npos) {
    return {"B's log cut short at entry " + std::to_string(b) + ": tearline audit verify exited " +
            std::to_string(cut.rc) + ", without \"" + expected + "\" (and B's own log verifying): " + cut.out};
  }
  // B's log gone altogether, its writer row too: the store passes for A's
  // alone, but A's signed heads entries name B.
  {
    pqxx::connection conn(conninfo);
    pqxx::work tx(conn);
    const std::string writer = "(SELECT writer_id FROM writers WHERE broker_id = " + tx.quote(kSecondBroker) + ")";
    tx.exec0("DELETE FROM audit WHERE writer_id = " + writer);
    tx.exec0("DELETE FROM audit_checkpoints WHERE writer_id = " + writer);
    tx.exec0("DELETE FROM writers WHERE broker_id = " + tx.quote(kSecondBroker));
    tx.commit();
  }
  const Verified gone = verify_audit(opt, c, conninfo, work / "verify-gone.txt");
  const std::string no_log = std::string(kSecondBroker) +
                             ": TAMPERED deleted at entry 1: the store holds no audit log of " + kSecondBroker +
                             ", yet tearline-broker's entry ";
  if (gone.rc != 1 || gone.out.find(no_log) == std::string::npos) {
    return {"B's log and writer deleted: tearline audit verify exited " + std::to_string(gone.rc) + ", without \"" +
            no_log + "\": " + gone.out};
  }
  std::printf(
      "cluster_crash_test: audit verified; heads entries cover A up to %llu, B up to %llu; B cut at %llu "
      "found; B's log deleted found\n",
      static_cast<unsigned long long>(a), static_cast<unsigned long long>(b), static_cast<unsigned long long>(b));
  return {};
}

int run(const Options& opt) {
  const auto t0 = Clock::now();
  const fs::path source(TEARLINE_SOURCE_DIR);
  const fs::path work = make_work_dir();
  const fs::path policy_path = source / "certs" / "policy.toml";
  Cluster cluster;
  cluster.pki = work / "pki";
  const identity::PkiPaths pki(cluster.pki);
  auto roster = identity::load_roster(source / "certs" / "roster.toml");
  if (!roster) die(roster.status().to_string());
  const std::int64_t now = SystemClock::instance().now_seconds();
  if (Status s = identity::generate_from_roster(*roster, pki, now); !s) die(s.to_string());
  identity::BrokerIdentity second{kSecondBroker, "DEA", now - 60, now + std::int64_t{365} * 86400};
  if (Status s = identity::init_broker(pki, second, false); !s) die(s.to_string());
  check_entitlement_table(pki, policy_path);
  const testing::PgCluster& pg = testing::PgCluster::shared();
  pg.create_database("tearline_cluster_crash");
  const std::string conninfo = pg.conninfo("tearline_cluster_crash");

  std::unique_ptr<BrokerProcess> brokers[2];
  const fs::path keys[2] = {pki.broker_key(), pki.other_broker_key(kSecondBroker)};
  for (int i = 0; i < 2; ++i) {
    auto port = free_loopback_port();
    if (!port) die(port.status().to_string());
    cluster.endpoints[i] = "tcp://127.0.0.1:" + std::to_string(*port);
    const std::string name = i == 0 ? "a" : "b";
    const fs::path config = work / ("broker-" + name + ".toml"), logs = work / ("logs-" + name);
    fs::create_directories(logs);
    write_config(config, pki, BrokerPlace{cluster.endpoints[i], keys[i], work / ("data-" + name), conninfo},
                 policy_path);
    brokers[i] = std::make_unique<BrokerProcess>(opt.broker, config, logs);
    brokers[i]->start();
  }
  const char* fault = opt.drop_sessions ? "drops of broker A's write session" : "kills of broker A";
  std::printf("cluster_crash_test: work %s, seed %llu, %d %s\n", work.c_str(),
              static_cast<unsigned long long>(opt.seed), opt.kills, fault);
  std::fflush(stdout);

  std::atomic<bool> stop_subscribers{false}, stop_publishers{false};
  std::atomic<int> ready{0};
  std::map<std::string, Subscribed> subscribed;
  std::vector<std::thread> subscriber_threads, publisher_threads;
  for (const auto& [node, kinds] : kEntitled) {
    subscriber_threads.emplace_back(subscribe_loop, std::cref(cluster), node, std::cref(stop_subscribers), &ready,
                                    &subscribed[node]);
  }
  while (ready < static_cast<int>(kEntitled.size())) {
    if (seconds_since(t0) > 60) die("subscribers did not subscribe within 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::map<std::string, Published> published;
  for (const auto& node : kPublishers) {
    publisher_threads.emplace_back(publish_loop, std::cref(cluster), node, std::cref(stop_publishers),
                                   &published[node]);
  }
  std::mt19937_64 rng(opt.seed);
  std::uniform_int_distribution<int> gap(300, 1500);
  std::uint64_t sessions_dropped = 0, halt_restarts = 0;
  if (opt.drop_sessions) {
    // A's write session (the one holding A's writer lock, docs/scale-out.md,
    // "One session per writer") ended by the server at random moments, B's
    // left alone. A store halted by a drop during COMMIT is restarted, as a
    // supervisor would.
    pqxx::connection admin(conninfo);
    std::uniform_int_distribution<int> short_gap(100, 700);
    for (int k = 1; k <= opt.kills; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(short_gap(rng)));
      if (read_text(brokers[0]->log()).find("event=store_halted") != std::string::npos) {
        brokers[0]->kill_now();
        brokers[0]->start();
        ++halt_restarts;
      }
      pqxx::nontransaction tx(admin);
      sessions_dropped +=
          tx.exec("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = " +
                  std::to_string(kWriterLockClass) +
                  " AND objid = (SELECT writer_id FROM writers WHERE broker_id = 'tearline-broker') AND granted")
              .size();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (read_text(brokers[0]->log()).find("event=store_halted") != std::string::npos) {
      brokers[0]->kill_now();
      brokers[0]->start();
      ++halt_restarts;
    }
  }
  for (int k = 1; !opt.drop_sessions && k <= opt.kills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(gap(rng)));
    brokers[0]->kill_now();
    std::this_thread::sleep_for(std::chrono::milliseconds(gap(rng)));  // its nodes move to B meanwhile
    brokers[0]->start();
  }
  stop_publishers = true;
  for (auto& t : publisher_threads) t.join();

  std::vector<std::string> violations;
  std::map<std::string, char> accepted;
  std::uint64_t publisher_moves = 0, replayed = 0, storage_failed = 0, storage_halted = 0;
  for (auto& [node, p] : published) {
    accepted.insert(p.kind_of.begin(), p.kind_of.end());
    publisher_moves += p.moves;
    replayed += p.replayed;
    storage_failed += p.storage_failed;
    storage_halted += p.storage_halted;
    violations.insert(violations.end(), p.violations.begin(), p.violations.end());
  }
  std::map<std::string, std::set<std::string>> expected = entitled_reports(accepted);
  (void)wait_drained(subscribed, expected);
  stop_subscribers = true;
  for (auto& t : subscriber_threads) t.join();
  for (int i = 0; i < 2; ++i) {
    if (const int rc = brokers[i]->terminate(); rc != 0) {
      violations.push_back(std::string("broker ") + (i == 0 ? "A" : "B") + " exited " + std::to_string(rc));
    }
  }

  // 1: the store holds exactly the accepted reports, each with its audit entry.
  const Stored stored = read_store(conninfo, work);
  const auto [lost, phantom] = check_stored(accepted, stored, &violations);
  // 2: each subscriber got its share, each originator's in publication order.
  std::string per_subscriber;
  std::uint64_t moves = 0;
  for (auto& [node, sub] : subscribed) {
    violations.insert(violations.end(), sub.violations.begin(), sub.violations.end());
    moves += sub.moves;
    per_subscriber += (per_subscriber.empty() ? "" : " ") + node + "=" + std::to_string(sub.ids.size()) + "/" +
                      std::to_string(expected[node].size()) + "(" + std::to_string(sub.copies) + " copies)";
    for (const auto& id : expected[node]) {
      if (sub.ids.count(id) == 0) violations.push_back(node + " never received accepted report " + id);
    }
    for (const auto& id : sub.ids) {
      if (expected[node].count(id) == 0) violations.push_back(node + " received " + id + ", not its to receive");
    }
    for (const auto& [publisher, p] : published) {
      std::map<std::string, std::size_t> rank;
      for (std::size_t i = 0; i < p.accepted.size(); ++i) rank[p.accepted[i]] = i;
      std::size_t last = 0;
      bool any = false;
      for (const auto& id : sub.first_seen) {
        auto r = rank.find(id);
        if (r == rank.end()) continue;
        if (any && r->second < last) {
          violations.push_back(node + " received " + publisher + "'s report " + id + " after a later one of its");
        }
        last = r->second;
        any = true;
      }
    }
  }
  // 3: the audit (last: it cuts B's log short).
  for (auto& v : check_audit(opt, cluster, conninfo, work)) violations.push_back(std::move(v));

  if (opt.drop_sessions && sessions_dropped == 0) violations.emplace_back("no write session of A was ever dropped");
  if (opt.drop_sessions && storage_failed + storage_halted == 0) {
    violations.emplace_back("no drop caught a batch of A's (no STORAGE_FAILED, no STORAGE_HALTED answered)");
  }
  print_violations(violations);
  if (opt.drop_sessions) {
    std::printf(
        "cluster_crash_test: A's write session dropped %llu times: answered STORAGE_FAILED %llu, "
        "STORAGE_HALTED %llu, A restarted after a halt %llu\n",
        static_cast<unsigned long long>(sessions_dropped), static_cast<unsigned long long>(storage_failed),
        static_cast<unsigned long long>(storage_halted), static_cast<unsigned long long>(halt_restarts));
  }
  std::printf(
      "cluster_crash_test: %s %s=%d accepted=%zu (accepted-before %llu, publisher moves %llu) stored=%zu lost=%zu "
      "phantom=%zu subscriber moves=%llu [%s] handshakes lost to kills=%llu duration_s=%.1f violations=%zu "
      "seed=%llu\n",
      violations.empty() ? "PASS" : "FAIL", opt.drop_sessions ? "drops" : "kills", opt.kills, accepted.size(),
      static_cast<unsigned long long>(replayed), static_cast<unsigned long long>(publisher_moves), stored.seq_of.size(),
      lost, phantom, static_cast<unsigned long long>(moves), per_subscriber.c_str(),
      static_cast<unsigned long long>(g_handshakes_lost_to_kills.load()), seconds_since(t0), violations.size(),
      static_cast<unsigned long long>(opt.seed));
  return finish_run("cluster_crash_test", violations, work, opt.keep);
}

}  // namespace
}  // namespace tearline

int main(int argc, char** argv) {
  return tearline::crash_test::guarded_main("cluster_crash_test",
                                            [&] { return tearline::run(tearline::parse_args(argc, argv)); });
}
