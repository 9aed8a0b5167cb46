// tearline_crash_test: kills tearline-broker with SIGKILL at random moments
// while nodes publish and durable subscribers read, restarts it each time on
// the same data directory, then checks the guarantees of docs/reliability.md:
//
//   1. every report a publisher saw ACCEPTED is in the store (lost: 0);
//   2. the store holds no report its publisher did not see ACCEPTED (every
//      verdict is definite, see below);
//   3. every durable subscriber received exactly the accepted reports it is
//      entitled to: none missing, none extra, none twice through the client
//      library, in broker-seq order, each under the seq it is stored with;
//   4. every stored report has its "publish accepted" audit entry, and the
//      audit chain verifies (audit::verify_chain, and `tearline audit
//      verify` when --tearline is given); the broker stops cleanly at the end.
//
// Unknown verdicts. A PUBLISH whose answer never came (the broker died, or
// was not reachable) is re-sent with the SAME bytes until a verdict arrives.
// ACCEPTED: accepted. REJECTED with REPLAYED_REPORT on a re-send: an earlier
// attempt was committed, because the broker rebuilds its replay state only
// from committed reports and answers a copy of a report still in its group
// commit only after that commit; so it counts as accepted. Any other
// rejection is a violation (every report here is valid). Re-sending NEW
// reports instead would leave the lost attempt's verdict unknown forever, and
// check 2 could not be made; re-sending the same bytes also exercises the
// replay protection recovered after each crash.
//
// Entitlement: each publisher uses fixed labels and topics (kKinds) and the
// expected reader set of each is computed with policy::decide_delivery (label
// rules plus topic permission) over the directory, and must match the table below.
//
// Usage: tearline_crash_test --broker PATH [--tearline PATH] [--pki DIR]
//          [--kills N (20)] [--min-ms 100] [--max-ms 700] [--seed N] [--keep]
//          [--store sqlite|postgresql]
// --store postgresql: the broker's store on a private PostgreSQL 15 cluster
// (tests/support/pg_cluster.h), checked there (issue 17).
// Exit 0 when every check holds; 1 on any violation; 2 on a setup failure.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit.h"
#include "audit/audit_reader.h"
#include "audit/pg_audit_reader.h"
#include "base/clock.h"
#include "base/files.h"
#include "base/ports.h"
#include "base/process.h"
#include "client/session_internal.h"
#include "crash_support.h"
#include "crash_world.h"
#include "identity/pki.h"
#include "identity/roster.h"
#include "policy/delivery.h"
#include "policy/topic_policy.h"
#include "support/pg_cluster.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
namespace v1 = tearline::v1;
using namespace crash_test;  // this test's own support (crash_support.h)
using Clock = std::chrono::steady_clock;

// ---- options ---------------------------------------------------------------------

struct Options {
  fs::path broker, tearline, pki;
  int kills = 20;
  int min_ms = 100, max_ms = 700;
  std::uint64_t seed = 0;
  bool keep = false;
  bool postgresql = false;  // --store postgresql
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
    } else if (a == "--pki") {
      o.pki = value();
    } else if (a == "--kills") {
      o.kills = std::stoi(value());
    } else if (a == "--min-ms") {
      o.min_ms = std::stoi(value());
    } else if (a == "--max-ms") {
      o.max_ms = std::stoi(value());
    } else if (a == "--seed") {
      o.seed = std::stoull(value());
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--store") {
      const std::string store = value();
      if (store != "sqlite" && store != "postgresql") die("--store is sqlite or postgresql");
      o.postgresql = store == "postgresql";
    } else {
      die("unknown argument " + a +
          " (usage: --broker PATH [--tearline PATH] [--pki DIR] [--kills N] [--min-ms N] [--max-ms N] [--seed N] "
          "[--keep] [--store sqlite|postgresql])");
    }
  }
  if (o.broker.empty()) die("--broker PATH is required");
  if (o.kills < 0 || o.min_ms < 1 || o.max_ms < o.min_ms) die("bad --kills/--min-ms/--max-ms");
  return o;
}

// ---- the world (crash_world.h) ------------------------------------------------------

struct Setup {
  fs::path pki;
  std::string endpoint;
  std::string conninfo;  // the PostgreSQL store's; empty: SQLite in the data dir
};

client::SessionOptions session_options(const Setup& setup, const std::string& node) {
  identity::PkiPaths pki(setup.pki);
  client::SessionOptions o;
  o.endpoint = setup.endpoint;
  o.directory = pki.directory();
  o.key_file = pki.node_key(node);
  o.node_id = node;
  o.connect_timeout_ms = 2000;
  o.request_timeout_ms = 2000;
  o.client_name = "tearline-crash-test";
  return o;
}

// Connects, retrying while the broker is down; nullptr when `stop` is set first.
std::unique_ptr<client::Session> connect(const Setup& setup, const std::string& node, const std::atomic<bool>& stop,
                                         std::vector<std::string>* violations) {
  while (!stop) {
    auto s = client::Session::connect(session_options(setup, node));
    if (s) return std::move(s).value();
    if (s.code() != Code::UNAVAILABLE) {
      violations->push_back(node + ": connect: " + s.status().to_string());
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return nullptr;
}

// ---- publishers ---------------------------------------------------------------------

struct Published {
  std::map<std::string, char> accepted;  // report id hex -> kind
  std::uint64_t attempts = 0, resent = 0, replayed = 0;
  std::vector<std::string> violations;
};

void publish_loop(const Setup& setup, const std::string& node, const std::atomic<bool>& stop, Published* out) {
  std::vector<const Kind*> kinds;
  for (const auto& k : kKinds) {
    if (k.publisher == node) kinds.push_back(&k);
  }
  const std::atomic<bool> never{false};
  auto session = connect(setup, node, never, &out->violations);
  if (!session) return;
  const std::string padding(256, '.');
  for (std::uint64_t n = 0; !stop; ++n) {
    const Kind& kind = *kinds[n % kinds.size()];
    report::ReportDraft d;
    d.topic = kind.topic;
    d.sections.push_back(
        {kind.label, to_bytes(node + " report " + std::to_string(n) + " kind " + kind.name + padding)});
    auto built = client::build(*session, d);
    if (!built) {
      out->violations.push_back(node + ": build: " + built.status().to_string());
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
          out->violations.push_back(node + ": no verdict for report " + id +
                                    " in 120 s: " + outcome.status().to_string());
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      if (outcome->accepted) {
        out->accepted[id] = kind.name;
        break;
      }
      if (attempt > 1 && outcome->status.has(Code::REPLAYED_REPORT)) {
        out->accepted[id] = kind.name;  // an earlier attempt was committed
        ++out->replayed;
        break;
      }
      if (outcome->status.has(Code::BROKER_BUSY)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      out->violations.push_back(node + ": report " + id + " (attempt " + std::to_string(attempt) +
                                ") rejected: " + outcome->status.to_string());
      break;
    }
  }
}

// ---- subscribers ---------------------------------------------------------------------

struct Subscribed {
  std::mutex mu;
  std::vector<std::pair<std::string, std::uint64_t>> received;  // (report id hex, broker seq), arrival order
  std::set<std::string> ids;
  std::vector<std::string> violations;
};

void subscribe_loop(const Setup& setup, const std::string& node, const std::atomic<bool>& stop, std::atomic<int>* ready,
                    Subscribed* out) {
  auto session = connect(setup, node, stop, &out->violations);
  if (!session) return;
  for (;;) {
    Status s = session->subscribe({"intel.>"});
    if (s) break;
    if (s.code() != Code::UNAVAILABLE || stop) {
      std::lock_guard lock(out->mu);
      out->violations.push_back(node + ": subscribe: " + s.to_string());
      return;
    }
  }
  ++*ready;
  while (!stop) {
    auto r = session->receive(100);
    if (!r) continue;
    std::lock_guard lock(out->mu);
    if (!r->verification) {
      out->violations.push_back(node + ": seq " + std::to_string(r->broker_seq) +
                                " did not verify: " + r->verification.to_string());
      continue;
    }
    for (const auto& sec : r->sections) {
      if (sec.status != client::SectionStatus::kOpened) {
        out->violations.push_back(node + ": report " + r->report_id_hex + " has a section " +
                                  std::string(client::section_status_name(sec.status)));
      }
    }
    if (!out->ids.insert(r->report_id_hex).second) {
      out->violations.push_back(node + ": report " + r->report_id_hex + " passed the client library twice");
    }
    out->received.emplace_back(r->report_id_hex, r->broker_seq);
  }
}

// ---- checks ---------------------------------------------------------------------------

std::string count_lines(const fs::path& log_dir, const std::string& needle) {
  std::size_t n = 0;
  for (const auto& f : fs::directory_iterator(log_dir)) {
    const std::string text = read_text(f.path());
    for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  }
  return std::to_string(n);
}

int run(const Options& opt) {
  const auto t0 = Clock::now();
  const fs::path source(TEARLINE_SOURCE_DIR);
  const fs::path work = make_work_dir();
  const fs::path policy_path = source / "certs" / "policy.toml";
  Setup setup;
  if (opt.pki.empty()) {
    auto roster = identity::load_roster(source / "certs" / "roster.toml");
    if (!roster) die(roster.status().to_string());
    setup.pki = work / "pki";
    Status s =
        identity::generate_from_roster(*roster, identity::PkiPaths(setup.pki), SystemClock::instance().now_seconds());
    if (!s) die(s.to_string());
  } else {
    setup.pki = fs::absolute(opt.pki);
  }
  const identity::PkiPaths pki(setup.pki);
  check_entitlement_table(pki, policy_path);
  if (opt.postgresql) {
    const testing::PgCluster& cluster = testing::PgCluster::shared();
    cluster.create_database("tearline_crash");
    setup.conninfo = cluster.conninfo("tearline_crash");
  }
  auto port = free_loopback_port();
  if (!port) die(port.status().to_string());
  setup.endpoint = "tcp://127.0.0.1:" + std::to_string(*port);
  const fs::path data_dir = work / "data", log_dir = work / "logs", config = work / "broker.toml";
  fs::create_directories(log_dir);
  write_config(config, pki, BrokerPlace{setup.endpoint, pki.broker_key(), data_dir, setup.conninfo}, policy_path);
  std::printf("crash_test: work %s, seed %llu, %d kills %d..%d ms apart, endpoint %s\n", work.c_str(),
              static_cast<unsigned long long>(opt.seed), opt.kills, opt.min_ms, opt.max_ms, setup.endpoint.c_str());
  std::fflush(stdout);

  BrokerProcess broker(opt.broker, config, log_dir);
  double startup_first = broker.start(), startup_last = startup_first, startup_max = startup_first;

  // Durable subscribers first, so that every report is published after
  // their subscriptions; then the publishers.
  std::atomic<bool> stop_subscribers{false}, stop_publishers{false};
  std::atomic<int> ready{0};
  std::map<std::string, Subscribed> subscribed;
  std::vector<std::thread> subscriber_threads, publisher_threads;
  for (const auto& [node, kinds] : kEntitled) {
    Subscribed* out = &subscribed[node];
    subscriber_threads.emplace_back(subscribe_loop, std::cref(setup), node, std::cref(stop_subscribers), &ready, out);
  }
  while (ready < static_cast<int>(kEntitled.size())) {
    if (seconds_since(t0) > 60) die("subscribers did not subscribe within 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::map<std::string, Published> published;
  for (const auto& node : kPublishers) {
    Published* out = &published[node];
    publisher_threads.emplace_back(publish_loop, std::cref(setup), node, std::cref(stop_publishers), out);
  }

  std::mt19937_64 rng(opt.seed);
  std::uniform_int_distribution<int> gap(opt.min_ms, opt.max_ms);
  const auto kills_start = Clock::now();
  for (int k = 1; k <= opt.kills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(gap(rng)));
    broker.kill_now();
    startup_last = broker.start();
    startup_max = std::max(startup_max, startup_last);
    if (k % 10 == 0 || k == opt.kills) {
      std::printf("crash_test: %d/%d kills, %.1f s, last restart %.2f s\n", k, opt.kills, seconds_since(kills_start),
                  startup_last);
      std::fflush(stdout);
    }
  }
  const double kill_phase = seconds_since(kills_start);

  // Publishers finish their report in flight (with a verdict), then the
  // subscribers drain: each must reach every accepted report it may read.
  stop_publishers = true;
  for (auto& t : publisher_threads) t.join();
  std::vector<std::string> violations;
  std::map<std::string, char> accepted;
  std::uint64_t attempts = 0, resent = 0, replayed = 0;
  for (auto& [node, p] : published) {
    accepted.insert(p.accepted.begin(), p.accepted.end());
    attempts += p.attempts;
    resent += p.resent;
    replayed += p.replayed;
    violations.insert(violations.end(), p.violations.begin(), p.violations.end());
  }
  std::map<std::string, std::set<std::string>> expected = entitled_reports(accepted);
  const double drain = wait_drained(subscribed, expected);
  stop_subscribers = true;
  for (auto& t : subscriber_threads) t.join();
  const int exit_code = broker.terminate();
  if (exit_code != 0) violations.push_back("the broker exited " + std::to_string(exit_code) + " on SIGTERM");

  // 1, 2: the store holds exactly the accepted reports.
  const Stored stored = read_store(setup.conninfo, data_dir);
  const auto [lost, phantom] = check_stored(accepted, stored, &violations);
  {
    std::uint64_t expect_seq = 1;
    std::vector<std::uint64_t> seqs;
    seqs.reserve(stored.seq_of.size());
    for (const auto& [id, seq] : stored.seq_of) seqs.push_back(seq);
    std::sort(seqs.begin(), seqs.end());
    for (auto seq : seqs) {
      if (seq != expect_seq++) {
        violations.push_back("stored broker seqs have a gap before " + std::to_string(seq));
        break;
      }
    }
  }

  // 3: each subscriber got exactly its share, in order, once.
  std::uint64_t delivered = 0;
  std::string per_subscriber;
  for (auto& [node, sub] : subscribed) {
    violations.insert(violations.end(), sub.violations.begin(), sub.violations.end());
    delivered += sub.received.size();
    per_subscriber += (per_subscriber.empty() ? "" : " ") + node + "=" + std::to_string(sub.received.size()) + "/" +
                      std::to_string(expected[node].size());
    for (const auto& id : expected[node]) {
      if (sub.ids.count(id) == 0) violations.push_back(node + " never received accepted report " + id);
    }
    std::uint64_t last_seq = 0;
    for (const auto& [id, seq] : sub.received) {
      if (expected[node].count(id) == 0) {
        violations.push_back(node + " received " + id + " (seq " + std::to_string(seq) + "), " +
                             (accepted.count(id) ? "which it is not entitled to" : "which was never accepted"));
      }
      auto it = stored.seq_of.find(id);
      if (it != stored.seq_of.end() && it->second != seq) {
        violations.push_back(node + " received " + id + " as seq " + std::to_string(seq) + ", stored as seq " +
                             std::to_string(it->second));
      }
      if (seq <= last_seq) {
        violations.push_back(node + " received seq " + std::to_string(seq) + " after seq " + std::to_string(last_seq));
      }
      last_seq = seq;
    }
  }

  // 4: the audit log.
  std::unique_ptr<audit::AuditReader> log;
  if (setup.conninfo.empty()) {
    log = audit::sqlite_audit_reader(data_dir / "tearline.db");
  } else {
    auto reader = audit::pg_audit_reader(setup.conninfo, audit::kPgWriterId);
    if (!reader) die(reader.status().to_string());
    log = std::move(reader).value();
  }
  auto entries = log->entries({});
  auto checkpoints = log->checkpoints();
  std::string audit_summary;
  if (!entries || !checkpoints) {
    violations.push_back("cannot read the audit log: " +
                         (entries ? checkpoints.status() : entries.status()).to_string());
  } else {
    const audit::VerifyResult r = audit::verify_chain(*entries, *checkpoints, audit_key(pki));
    if (!r.ok()) violations.push_back("audit chain: " + std::string(audit::tamper_name(r.tamper)) + ": " + r.message);
    if (r.protected_up_to != r.entries) {
      violations.push_back("the clean stop left entries " + std::to_string(r.protected_up_to + 1) + ".." +
                           std::to_string(r.entries) + " without a checkpoint");
    }
    audit_summary = std::to_string(r.entries) + " entries, " + std::to_string(r.checkpoints) + " checkpoints";
  }
  if (!opt.tearline.empty()) {
    ProcessSpec spec;
    spec.argv = {opt.tearline.string(), "audit", "verify"};
    if (setup.conninfo.empty()) {
      spec.argv.insert(spec.argv.end(), {"--db", (data_dir / "tearline.db").string()});
    } else {
      spec.argv.insert(spec.argv.end(), {"--pg", setup.conninfo});
    }
    spec.argv.insert(spec.argv.end(), {"--pki", setup.pki.string()});
    spec.stdout_file = work / "audit-verify.txt";
    spec.stderr_to_stdout = true;
    auto verify = Process::spawn(spec);
    const std::optional<int> rc = verify ? verify->wait_exit(std::chrono::minutes(10)) : std::nullopt;
    if (rc != 0) {
      violations.push_back("tearline audit verify failed: " +
                           (verify ? read_text(work / "audit-verify.txt") : verify.status().to_string()));
    }
  }

  print_violations(violations);
  std::printf(
      "crash_test: %s kills=%d starts=%d accepted=%zu (publish attempts %llu, re-sent %llu, accepted-before %llu) "
      "stored=%zu lost=%zu phantom=%zu delivered=%llu [%s] audit=[%s] checkpoints_logged=%s "
      "restart_s(first/last/max)=%.2f/%.2f/%.2f kill_phase_s=%.1f drain_s=%.1f duration_s=%.1f violations=%zu "
      "seed=%llu\n",
      violations.empty() ? "PASS" : "FAIL", opt.kills, broker.starts(), accepted.size(),
      static_cast<unsigned long long>(attempts), static_cast<unsigned long long>(resent),
      static_cast<unsigned long long>(replayed), stored.seq_of.size(), lost, phantom,
      static_cast<unsigned long long>(delivered), per_subscriber.c_str(), audit_summary.c_str(),
      count_lines(log_dir, "event=audit_checkpoint").c_str(), startup_first, startup_last, startup_max, kill_phase,
      drain, seconds_since(t0), violations.size(), static_cast<unsigned long long>(opt.seed));
  return finish_run("crash_test", violations, work, opt.keep);
}

}  // namespace
}  // namespace tearline

int main(int argc, char** argv) {
  return tearline::crash_test::guarded_main("crash_test",
                                            [&] { return tearline::run(tearline::parse_args(argc, argv)); });
}
