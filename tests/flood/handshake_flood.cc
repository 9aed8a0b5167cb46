// tearline_handshake_flood: does a flood of refused CURVE handshakes harm
// the broker (issue 16 point 7; docs/reliability.md, "Floods and session
// churn")? It starts tearline-broker as a process on a fresh PKI, limits its
// descriptors (prlimit, like `ulimit -n 1024`), and for --seconds opens
// --rate CURVE connections a second with unknown client keys, each kept open
// --hold-ms and then dropped (a libzmq client closes its end as soon as it
// reads the broker's ERROR; connections still in their handshake stay open
// until then). The attacker threads run at --attacker-nice (10). Meanwhile a legitimate node connects (HELLO to
// WELCOME, then BYE) every --probe-ms. It prints, as one JSON object: the legitimate node's connect times (p50, p99,
// max, failures), the broker's open descriptors (peak, and after), its RSS before, at the peak and --settle seconds
// after the flood, and the refused handshakes the broker logged (aggregated lines, and the refusals they count).
//
// With --ignore-error the attackers are raw CURVE peers (support/raw_curve_
// peer.h) that finish the handshake up to INITIATE and then ignore the
// broker's answer, keeping their end open for --hold-ms: only the broker
// can close those connections (refusal_notice.h).
//
// With --enforce, exit status 3 when a connect failed or the p99 exceeds
// --max-p99-ms (2000), when the broker's open descriptors exceeded
// --max-fds (if given), or when the broker died. Exit status 1: the test
// could not run.
#include <sys/resource.h>
#include <unistd.h>
#include <zmq.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "client/connection.h"
#include "crypto/keys.h"
#include "flood/cpu_usage.h"
#include "flood/flood_world.h"
#include "support/raw_curve_peer.h"
#include "tearline/client.h"

namespace tearline::flood {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string broker;
  double seconds = 10;
  int rate = 1000;  // bad handshakes opened per second
  int hold_ms = 100;
  int probe_ms = 100;
  int nofile = 1024;  // the broker's descriptor limit (soft and hard); 0: unchanged
  double settle_seconds = 3;
  int max_p99_ms = 2000;
  int attacker_threads = 2;
  int attacker_nice = 10;
  bool enforce = false;
  bool ignore_error = false;  // raw CURVE peers that keep their end open after the broker's ERROR
  int max_fds = 0;            // with --enforce: the bound on the broker's open descriptors (0: none)
};

std::int64_t ms_between(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

std::size_t open_descriptors(pid_t pid) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// One attacker thread: `rate` connections a second with fresh unknown keys,
// each dropped `hold_ms` after it was opened (linger 0: nothing polite).
void attack(const std::string& endpoint, const std::string& broker_key_z85, int rate, int hold_ms, int nice,
            const std::atomic<bool>& stop, std::atomic<std::uint64_t>& opened) {
  // This thread's nice value (Linux: per thread), inherited by the libzmq I/O
  // thread of the context made below: the attacker's own CRYPTO must not
  // starve the broker on a small machine, as it would not on its own host.
  if (nice != 0) (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice);
  void* context = zmq_ctx_new();
  std::deque<std::pair<void*, SteadyClock::time_point>> live;
  const auto period = std::chrono::microseconds(1'000'000 / std::max(rate, 1));
  auto next = SteadyClock::now();
  while (!stop) {
    const auto now = SteadyClock::now();
    while (!live.empty() && ms_between(live.front().second, now) >= hold_ms) {
      zmq_close(live.front().first);
      live.pop_front();
    }
    if (now < next) {
      std::this_thread::sleep_for(std::min<SteadyClock::duration>(next - now, std::chrono::milliseconds(1)));
      continue;
    }
    next += period;
    char pub[41], sec[41];
    if (zmq_curve_keypair(pub, sec) != 0) continue;
    void* s = zmq_socket(context, ZMQ_DEALER);
    const int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, broker_key_z85.c_str(), 40);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
    zmq_connect(s, endpoint.c_str());
    live.emplace_back(s, now);
    ++opened;
  }
  for (auto& [s, t] : live) zmq_close(s);
  zmq_ctx_term(context);
}

double percentile(std::vector<std::int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto at = static_cast<std::size_t>(std::lround(p * static_cast<double>(v.size() - 1)));
  return static_cast<double>(v[std::min(at, v.size() - 1)]);
}

// The refused-handshake lines of the broker's log: how many, and the
// refusals they count (for comparison, also a broker's that logs one line
// per refusal).
std::pair<std::uint64_t, std::uint64_t> refused_in_log(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line;
  std::uint64_t lines = 0, refusals = 0;
  const std::regex count("event=handshakes_refused .*count=([0-9]+)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, count)) {
      ++lines;
      refusals += std::stoull(m[1].str());
    } else if (line.find("event=connection_refused") != std::string::npos) {
      ++lines;  // a broker before issue 16: one line per refusal
      ++refusals;
    }
  }
  return {lines, refusals};
}

// One attacker thread of --ignore-error: `rate` raw refused handshakes a
// second from 127.0.0.1, each peer closed by this side `hold_ms` after its
// INITIATE (by then the broker has closed it, or still holds it).
void attack_ignoring_error(std::uint16_t port, const std::array<std::uint8_t, 32>& server_key, int rate, int hold_ms,
                           int nice, const std::atomic<bool>& stop, std::atomic<std::uint64_t>& opened) {
  if (nice != 0) (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice);
  std::deque<std::pair<std::unique_ptr<testing::RawCurvePeer>, SteadyClock::time_point>> live;
  const auto period = std::chrono::microseconds(1'000'000 / std::max(rate, 1));
  auto next = SteadyClock::now();
  while (!stop) {
    const auto now = SteadyClock::now();
    while (!live.empty() && ms_between(live.front().second, now) >= hold_ms) live.pop_front();
    if (now < next) {
      std::this_thread::sleep_for(std::min<SteadyClock::duration>(next - now, std::chrono::milliseconds(1)));
      continue;
    }
    next += period;
    auto peer = std::make_unique<testing::RawCurvePeer>();
    if (peer->open(port, server_key, 2000)) {
      live.emplace_back(std::move(peer), SteadyClock::now());
      ++opened;
    }
  }
}

int run(const Options& o) {
  // This process holds every attacker connection it keeps open (up to rate x
  // hold-ms / 1000 with --ignore-error): its own soft limit goes to the hard one.
  rlimit own{};
  if (getrlimit(RLIMIT_NOFILE, &own) == 0 && own.rlim_cur < own.rlim_max) {
    own.rlim_cur = own.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &own);
  }
  const auto held = static_cast<rlim_t>(o.ignore_error ? static_cast<std::int64_t>(o.rate) * o.hold_ms / 1000 : 0);
  if (getrlimit(RLIMIT_NOFILE, &own) == 0 && own.rlim_cur < held + 256) {
    std::fprintf(stderr, "tearline_handshake_flood: the descriptor limit (%llu) is too low to keep %llu connections\n",
                 static_cast<unsigned long long>(own.rlim_cur), static_cast<unsigned long long>(held));
    return 1;
  }
  BrokerSettings settings;
  FloodWorld world(settings);
  world.start_broker(o.broker);
  const pid_t pid = world.broker_pid();
  if (o.nofile > 0) {
    // After the broker raised its soft limit to the hard one at start-up:
    // both are set to the limit, as `ulimit -n` in the shell that started it.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    rlimit limit{static_cast<rlim_t>(o.nofile), static_cast<rlim_t>(o.nofile)};
    if (prlimit(pid, RLIMIT_NOFILE, &limit, nullptr) != 0) {
      std::fprintf(stderr, "tearline_handshake_flood: prlimit failed\n");
      return 1;
    }
  }
  std::ifstream key_file(world.pki().broker_public());
  std::string broker_key;
  std::getline(key_file, broker_key);

  client::SessionOptions probe;
  probe.endpoint = world.endpoint();
  probe.directory = world.pki().directory();
  probe.key_file = world.pki().node_key(kCanarySubscriber);
  probe.node_id = kCanarySubscriber;
  probe.connect_timeout_ms = 5000;
  {
    auto first = client::Session::connect(probe);
    if (!first) {
      std::fprintf(stderr, "tearline_handshake_flood: the legitimate node cannot connect before the flood: %s\n",
                   first.status().to_string().c_str());
      return 1;
    }
  }
  const double rss_before = resident_mib(pid);
  const std::size_t fds_before = open_descriptors(pid);

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> opened{0};
  std::vector<std::thread> attackers;
  attackers.reserve(static_cast<std::size_t>(o.attacker_threads));
  const std::string endpoint = world.endpoint();
  const auto port = static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
  auto server_key = crypto::transport_key_from_z85(broker_key);
  if (!server_key) {
    std::fprintf(stderr, "tearline_handshake_flood: bad broker key: %s\n", server_key.status().to_string().c_str());
    return 1;
  }
  for (int i = 0; i < o.attacker_threads; ++i) {
    if (o.ignore_error) {
      attackers.emplace_back(attack_ignoring_error, port, server_key->bytes, o.rate / o.attacker_threads, o.hold_ms,
                             o.attacker_nice, std::cref(stop), std::ref(opened));
    } else {
      attackers.emplace_back(attack, endpoint, broker_key, o.rate / o.attacker_threads, o.hold_ms, o.attacker_nice,
                             std::cref(stop), std::ref(opened));
    }
  }
  std::atomic<std::size_t> fds_peak{fds_before};
  std::atomic<double> rss_peak{rss_before};
  std::thread sampler([&] {
    while (!stop) {
      fds_peak = std::max(fds_peak.load(), open_descriptors(pid));
      rss_peak = std::max(rss_peak.load(), resident_mib(pid));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::vector<std::int64_t> waits;
  std::vector<std::string> failures;
  const auto started = SteadyClock::now();
  while (ms_between(started, SteadyClock::now()) < static_cast<std::int64_t>(o.seconds * 1000)) {
    {
      const auto asked = SteadyClock::now();
      auto s = client::Session::connect(probe);
      waits.push_back(ms_between(asked, SteadyClock::now()));
      if (!s) failures.push_back(s.status().to_string());
    }  // the session ends here (BYE)
    std::this_thread::sleep_for(std::chrono::milliseconds(o.probe_ms));
  }
  stop = true;
  for (auto& t : attackers) t.join();
  sampler.join();
  const std::size_t fds_end = open_descriptors(pid);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.settle_seconds));
  const std::size_t fds_after = open_descriptors(pid);
  const double rss_after = resident_mib(pid);
  const bool alive = world.broker_alive();
  world.stop_broker();
  const auto [lines, refusals] = refused_in_log(world.log_path());

  const double p50 = percentile(waits, 0.50), p99 = percentile(waits, 0.99);
  const double worst = waits.empty() ? 0 : static_cast<double>(*std::max_element(waits.begin(), waits.end()));
  std::printf(
      "{\"seconds\": %.1f, \"rate\": %d, \"hold_ms\": %d, \"ignore_error\": %s, \"nofile\": %d, "
      "\"connections_opened\": %llu,\n"
      " \"refused_logged\": %llu, \"refused_log_lines\": %llu,\n"
      " \"probe_connects\": %zu, \"probe_failures\": %zu, \"probe_p50_ms\": %.0f, \"probe_p99_ms\": %.0f, "
      "\"probe_max_ms\": %.0f,\n"
      " \"fds_before\": %zu, \"fds_peak\": %zu, \"fds_at_end\": %zu, \"fds_after\": %zu,\n"
      " \"rss_before_mib\": %.1f, \"rss_peak_mib\": %.1f, \"rss_after_mib\": %.1f, \"broker_alive\": %s}\n",
      o.seconds, o.rate, o.hold_ms, o.ignore_error ? "true" : "false", o.nofile,
      static_cast<unsigned long long>(opened.load()), static_cast<unsigned long long>(refusals),
      static_cast<unsigned long long>(lines), waits.size(), failures.size(), p50, p99, worst, fds_before,
      fds_peak.load(), fds_end, fds_after, rss_before, rss_peak.load(), rss_after, alive ? "true" : "false");
  for (std::size_t i = 0; i < failures.size() && i < 5; ++i) std::printf("failure: %s\n", failures[i].c_str());
  if (!alive) return o.enforce ? 3 : 1;
  if (o.enforce && (!failures.empty() || p99 > o.max_p99_ms)) return 3;
  if (o.enforce && o.max_fds > 0 && fds_peak.load() > static_cast<std::size_t>(o.max_fds)) return 3;
  return 0;
}

}  // namespace
}  // namespace tearline::flood

namespace {

int parse_and_run(int argc, char** argv) {
  tearline::flood::Options o;
  CLI::App app{"tearline_handshake_flood: refused CURVE handshakes against a descriptor-limited broker"};
  app.add_option("--broker", o.broker, "the tearline-broker binary")->required();
  app.add_option("--seconds", o.seconds, "flood duration");
  app.add_option("--rate", o.rate, "bad handshakes opened per second");
  app.add_option("--hold-ms", o.hold_ms, "how long each attacker connection stays open");
  app.add_option("--probe-ms", o.probe_ms, "pause between the legitimate node's connects");
  app.add_option("--nofile", o.nofile, "the broker's descriptor limit (0: unchanged)");
  app.add_option("--settle", o.settle_seconds, "seconds after the flood before the last sample");
  app.add_option("--max-p99-ms", o.max_p99_ms, "the bound on the legitimate node's p99 connect time");
  app.add_option("--attacker-threads", o.attacker_threads, "attacker threads");
  app.add_option("--attacker-nice", o.attacker_nice, "nice value of the attacker threads");
  app.add_flag("--enforce", o.enforce, "exit 3 when the bound is missed");
  app.add_option("--max-fds", o.max_fds, "with --enforce: the bound on the broker's open descriptors");
  app.add_flag("--ignore-error", o.ignore_error,
               "attackers are raw CURVE peers that ignore the broker's ERROR and keep their end open");
  CLI11_PARSE(app, argc, argv);
  return tearline::flood::run(o);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return parse_and_run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tearline_handshake_flood: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "tearline_handshake_flood: unknown exception\n");
  }
  return 1;
}
