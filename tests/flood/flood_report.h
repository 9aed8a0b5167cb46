// The flood test's results and their two forms: a table for people and JSON
// for tools (flood.cc runs the test and fills them in).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "flood/attackers.h"
#include "flood/canary.h"
#include "flood/cpu_usage.h"

namespace tearline::flood {

// The goal: under attack the canary keeps at least this share of its
// throughput, and its p99 latency grows at most this much.
inline constexpr double kMinThroughputRatio = 0.90;
inline constexpr double kMaxP99Ratio = 2.0;

// How the test was run, as printed with the results.
struct RunSettings {
  double seconds = 0;
  int window = 0;
  double canary_rate = 0;  // 0: unpaced
  std::size_t report_bytes = 0;
  int verify_threads = 0;
  int broker_nice = 0, attacker_nice = 0;
};

// The canary's service in one phase, and what it cost.
struct PhaseResult {
  double seconds = 0;
  std::size_t delivered = 0;
  double throughput = 0;  // deliveries per second
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  CpuSplit broker_cpu;
  double flood_cpu = 0;       // this program, % of a core
  double machine_cpu = 0;     // every process, % of a core
  double broker_rss_mib = 0;  // at the end of the phase
};

// Throughput and latency of the deliveries that arrived in [from_us, to_us);
// the CPU and memory fields are left for the caller.
PhaseResult canary_phase(const std::vector<Delivery>& all, std::int64_t from_us, std::int64_t to_us);

struct AttackResult {
  std::string key, name;  // "valid", "valid-report flood"
  AttackCounters counters;
};

struct FloodResult {
  RunSettings settings;
  PhaseResult quiet, attack;
  std::vector<AttackResult> attacks;
  CanaryCounters canary;

  double throughput_ratio() const;
  double p99_ratio() const;
  bool goal_met() const;
};

void print_table(const FloodResult& result);
std::string to_json(const FloodResult& result);  // one object, ends with a newline

}  // namespace tearline::flood
