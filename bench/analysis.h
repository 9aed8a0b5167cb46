// From a run's records to its numbers. Pure.
//
// Throughput counts what completed inside the measured interval: reports
// whose verdict (ACCEPTED) came in it, deliveries recorded in it. Latency is
// publish-to-deliver, due time to the subscriber having verified and opened
// it, for reports due inside the interval. Exactness is over the whole run:
// every accepted report must have reached every subscriber entitled to it
// (the planned stalled subscriber excepted), and no subscriber may have
// received a section it is not entitled to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/driver.h"

namespace tearline::bench {

struct Latency {
  std::uint64_t samples = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
};

// One publisher's building over the run (PubSummary).
struct PubBuild {
  std::uint64_t batches = 0, reports = 0;
  double mean_batch = 0;
  double build_cpu_us_per_report = 0;
  std::uint64_t epoch_reused = 0, epoch_started = 0;
};

struct RunMetrics {
  std::string role, label, system;
  Shape shape;
  double offered_rate = 0;  // 0 = closed loop
  int verify_threads = 0;
  double interval_s = 0;
  double reports_per_s = 0;
  double deliveries_per_s = 0;
  Latency latency;
  Latency accept_latency;  // due time to the verdict (ACCEPTED: after the durable sync)
  double server_cpu_us_per_report = 0;
  double server_cpu_cores = 0;         // average cores the server used
  std::string store = "sqlite";        // tearline: where the broker's store lives ("postgresql")
  double store_cpu_us_per_report = 0;  // postgresql: the PostgreSQL server's CPU per report
  double pubs_cpu_us_per_report = 0;
  double subs_cpu_us_per_delivery = 0;
  // Measurement quality: cores busy with anything but this run (other
  // engineers' builds, the driver), and the 1-minute load average.
  double background_cores = 0;
  double loadavg = 0;
  double server_rss_begin_mib = 0, server_rss_end_mib = 0, server_rss_max_mib = 0, server_hwm_mib = 0;
  double server_rss_bytes_per_report = 0;  // resident growth over the interval / reports accepted in it
  // Exactness over the whole run.
  std::uint64_t accepted = 0, rejected = 0, expected_deliveries = 0, lost = 0, unexpected_deliveries = 0;
  std::uint64_t violations = 0, missing_sections = 0, verify_failures = 0, open_failures = 0, duplicates = 0;
  std::uint64_t stalled_reports = 0, sub_errors = 0;
  std::uint64_t built_inline = 0, prebuilt = 0;
  double prebuild_s = 0;
  // Building in the interval, over all publishers (and per publisher):
  // builds, reports built, their publisher-thread CPU, content-key epochs.
  std::vector<PubBuild> pub_builds;
  std::uint64_t batches = 0, batch_reports = 0, epoch_reused = 0, epoch_started = 0;
  double mean_batch = 0;               // reports per build (tearline: per signed batch)
  double build_cpu_us_per_report = 0;  // publisher CPU building, per report built
  double epoch_hit_rate = 0;           // sections sealed under a reused content key
  // Subscribers' caches (tearline), over all subscribers.
  std::uint64_t root_hits = 0, root_verifies = 0, unwrap_hits = 0, unwrap_opens = 0;
  double root_hit_rate = 0, unwrap_hit_rate = 0;
  // The stall test: the stalled subscriber's last ERROR code, and the
  // server's resident memory when it stalled and at most afterwards.
  bool stall = false;
  bool stalled_sub_closed = false;  // the broker closed it (SLOW_CONSUMER)
  std::int32_t stalled_sub_error = 0;
  double rss_at_stall_mib = 0, rss_after_stall_max_mib = 0;
  std::vector<double> round_reports_per_s;              // every round when repeated (this one is the median)
  std::vector<std::pair<double, double>> rss_timeline;  // (s since start, MiB), every 0.5 s
  std::vector<std::string> problems;                    // exactness failures in words

  bool exact() const { return problems.empty(); }
};

RunMetrics analyze(const RunData& data);

}  // namespace tearline::bench
