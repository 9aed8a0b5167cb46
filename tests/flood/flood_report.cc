#include "flood/flood_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <thread>

namespace tearline::flood {
namespace {

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string json_phase(const PhaseResult& p) {
  std::ostringstream o;
  o << "{\"seconds\": " << fixed(p.seconds, 3) << ", \"delivered\": " << p.delivered
    << ", \"throughput\": " << fixed(p.throughput, 1) << ", \"p50_ms\": " << fixed(p.p50_ms, 3)
    << ", \"p99_ms\": " << fixed(p.p99_ms, 3) << ", \"max_ms\": " << fixed(p.max_ms, 3)
    << ", \"broker_cpu_percent\": {\"total\": " << fixed(p.broker_cpu.total, 1)
    << ", \"io_thread\": " << fixed(p.broker_cpu.main_thread, 1) << ", \"zmq_io\": " << fixed(p.broker_cpu.zmq_io, 1)
    << ", \"other\": " << fixed(p.broker_cpu.other, 1) << "}, \"flood_program_cpu_percent\": " << fixed(p.flood_cpu, 1)
    << ", \"machine_cpu_percent\": " << fixed(p.machine_cpu, 1)
    << ", \"broker_rss_mib\": " << fixed(p.broker_rss_mib, 1) << "}";
  return o.str();
}

std::string json_codes(const std::map<std::string, std::uint64_t>& codes) {
  std::ostringstream o;
  o << "{";
  bool first = true;
  for (const auto& [code, n] : codes) {
    o << (first ? "" : ", ") << "\"" << code << "\": " << n;
    first = false;
  }
  o << "}";
  return o.str();
}

}  // namespace

std::string to_json(const FloodResult& r) {
  const RunSettings& opt = r.settings;
  std::ostringstream o;
  o << "{\"seconds\": " << fixed(opt.seconds, 1) << ", \"window\": " << opt.window
    << ", \"canary_rate\": " << fixed(opt.canary_rate, 0) << ", \"cores\": " << std::thread::hardware_concurrency()
    << ", \"report_bytes\": " << opt.report_bytes << ", \"verify_threads\": " << opt.verify_threads
    << ", \"broker_nice\": " << opt.broker_nice << ", \"attacker_nice\": " << opt.attacker_nice
    << ",\n \"no_attack\": " << json_phase(r.quiet) << ",\n \"attack\": " << json_phase(r.attack)
    << ",\n \"ratios\": {\"throughput\": " << fixed(r.throughput_ratio(), 3) << ", \"p99\": " << fixed(r.p99_ratio(), 3)
    << "}"
    << ",\n \"goal\": {\"min_throughput_ratio\": " << kMinThroughputRatio << ", \"max_p99_ratio\": " << kMaxP99Ratio
    << ", \"met\": " << (r.goal_met() ? "true" : "false") << "}"
    << ",\n \"canary\": {\"sent\": " << r.canary.sent << ", \"accepted\": " << r.canary.accepted
    << ", \"rejected\": " << json_codes(r.canary.rejected) << ", \"errors\": " << json_codes(r.canary.errors) << "}"
    << ",\n \"attackers\": {";
  for (std::size_t i = 0; i < r.attacks.size(); ++i) {
    const auto& c = r.attacks[i].counters;
    o << (i == 0 ? "" : ",") << "\n  \"" << r.attacks[i].key << "\": {\"sent\": " << c.sent
      << ", \"accepted\": " << c.accepted << ", \"rate_limited\": " << c.rejected_with("RATE_LIMITED")
      << ", \"rejected\": " << c.rejected_total() << ", \"rejected_by_code\": " << json_codes(c.rejected)
      << ", \"sessions_closed\": " << c.sessions_closed << ", \"hello_refused\": " << c.hello_refused;
    if (r.attacks[i].key == "stall") o << ", \"mean_lifetime_ms\": " << fixed(c.mean_lifetime_ms, 1);
    o << "}";
  }
  o << "}}\n";
  return o.str();
}

void print_table(const FloodResult& r) {
  const RunSettings& opt = r.settings;
  std::printf(
      "tearline flood: %.0f s without attack, then %.0f s with attack (canary window %d, %s, %zu-byte "
      "reports; verify_threads %d; %u cores)\n\n",
      opt.seconds, opt.seconds, opt.window,
      opt.canary_rate > 0 ? ("at most " + fixed(opt.canary_rate, 0) + "/s").c_str() : "unpaced", opt.report_bytes,
      opt.verify_threads, std::thread::hardware_concurrency());
  std::printf("%-34s %12s %12s %8s\n", "canary", "no attack", "attack", "ratio");
  auto row = [](const char* what, double a, double b, int decimals) {
    std::printf("%-34s %12s %12s %8s\n", what, fixed(a, decimals).c_str(), fixed(b, decimals).c_str(),
                fixed(ratio(b, a), 2).c_str());
  };
  row("  delivered reports/s", r.quiet.throughput, r.attack.throughput, 1);
  row("  p50 publish-to-deliver (ms)", r.quiet.p50_ms, r.attack.p50_ms, 2);
  row("  p99 publish-to-deliver (ms)", r.quiet.p99_ms, r.attack.p99_ms, 2);
  row("  max publish-to-deliver (ms)", r.quiet.max_ms, r.attack.max_ms, 2);
  row("broker CPU (% of one core)", r.quiet.broker_cpu.total, r.attack.broker_cpu.total, 0);
  row("  I/O thread (main)", r.quiet.broker_cpu.main_thread, r.attack.broker_cpu.main_thread, 0);
  row("  libzmq I/O thread", r.quiet.broker_cpu.zmq_io, r.attack.broker_cpu.zmq_io, 0);
  row("  verifiers, ZAP, other", r.quiet.broker_cpu.other, r.attack.broker_cpu.other, 0);
  row("this program's CPU (% of one core)", r.quiet.flood_cpu, r.attack.flood_cpu, 0);
  row("whole machine's CPU (% of one core)", r.quiet.machine_cpu, r.attack.machine_cpu, 0);
  row("broker resident memory (MiB, at end)", r.quiet.broker_rss_mib, r.attack.broker_rss_mib, 1);
  std::printf("canary publisher: %llu sent, %llu accepted", static_cast<unsigned long long>(r.canary.sent),
              static_cast<unsigned long long>(r.canary.accepted));
  for (const auto& [code, n] : r.canary.rejected)
    std::printf(", %llu %s", static_cast<unsigned long long>(n), code.c_str());
  for (const auto& [code, n] : r.canary.errors)
    std::printf(", ERROR %s x%llu", code.c_str(), static_cast<unsigned long long>(n));
  std::printf("\n\n%-22s %10s %10s %13s %10s %8s %8s\n", "attacker", "sent", "accepted", "RATE_LIMITED", "rejected",
              "closed", "HELLO-");
  for (const auto& a : r.attacks) {
    const auto& c = a.counters;
    std::printf("%-22s %10llu %10llu %13llu %10llu %8llu %8llu\n", a.name.c_str(),
                static_cast<unsigned long long>(c.sent), static_cast<unsigned long long>(c.accepted),
                static_cast<unsigned long long>(c.rejected_with("RATE_LIMITED")),
                static_cast<unsigned long long>(c.rejected_total()), static_cast<unsigned long long>(c.sessions_closed),
                static_cast<unsigned long long>(c.hello_refused));
    std::string codes;
    for (const auto& [code, n] : c.rejected) codes += (codes.empty() ? "" : ", ") + code + " " + std::to_string(n);
    if (!codes.empty()) std::printf("%-22s   rejected: %s\n", "", codes.c_str());
    if (a.key == "stall") {
      std::printf("%-22s   (sent: TCP connections opened; closed: by the broker, after %.0f ms on average)\n", "",
                  c.mean_lifetime_ms);
    }
  }
  std::printf("\nratios under attack: throughput %.2f (goal >= %.2f), p99 %.2f (goal <= %.1f): goal %s\n",
              r.throughput_ratio(), kMinThroughputRatio, r.p99_ratio(), kMaxP99Ratio, r.goal_met() ? "MET" : "MISSED");
}

double FloodResult::throughput_ratio() const { return ratio(attack.throughput, quiet.throughput); }
double FloodResult::p99_ratio() const { return ratio(attack.p99_ms, quiet.p99_ms); }
bool FloodResult::goal_met() const { return throughput_ratio() >= kMinThroughputRatio && p99_ratio() <= kMaxP99Ratio; }

namespace {

double percentile(std::vector<std::int64_t>& sorted_us, double p) {
  if (sorted_us.empty()) return 0;
  const auto index = static_cast<std::size_t>(std::lround(p * static_cast<double>(sorted_us.size() - 1)));
  return static_cast<double>(sorted_us[std::min(index, sorted_us.size() - 1)]) / 1000.0;
}

}  // namespace

PhaseResult canary_phase(const std::vector<Delivery>& all, std::int64_t from_us, std::int64_t to_us) {
  PhaseResult r;
  r.seconds = static_cast<double>(to_us - from_us) / 1e6;
  std::vector<std::int64_t> latencies;
  for (const auto& d : all) {
    if (d.delivered_us >= from_us && d.delivered_us < to_us) latencies.push_back(d.delivered_us - d.sent_us);
  }
  std::sort(latencies.begin(), latencies.end());
  r.delivered = latencies.size();
  r.throughput = r.seconds > 0 ? static_cast<double>(r.delivered) / r.seconds : 0;
  r.p50_ms = percentile(latencies, 0.50);
  r.p99_ms = percentile(latencies, 0.99);
  r.max_ms = latencies.empty() ? 0 : static_cast<double>(latencies.back()) / 1000.0;
  return r;
}

}  // namespace tearline::flood
