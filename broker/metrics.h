// Metrics: the broker's numbers in the Prometheus text format
// (docs/observability.md lists each one, its type, labels and meaning).
//
// Counters by code (rejections, withheld sections, refused crossings) are
// labelled by stable code names only: bounded by the code list, never by a
// node id. Histograms have fixed buckets in base units (seconds, reports).
// Gauges are the I/O thread's view, published by it (set_gauges) at each
// housekeeping, so that a scrape never touches the I/O thread's state.
//
// Threads: every member is safe to call from any thread (atomics, or a
// mutex for the by-code maps); render() may run on the HTTP thread while the
// I/O, verifier and writer threads count.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/codes.h"

namespace tearline::broker {

// A Prometheus histogram with fixed upper bounds (ascending; +Inf implied).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // Appends "# HELP/# TYPE" and the _bucket (cumulative), _sum and _count lines.
  void render(std::string_view name, std::string_view help, std::string* out) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<std::uint64_t>> counts_;  // per bucket, not cumulative; last: above every bound
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::int64_t> sum_micros_{0};  // sum in millionths of the unit
};

// Counts by code (the label value is the code's stable name).
class CodeCounter {
 public:
  void add(Code code, std::uint64_t n = 1);
  std::map<Code, std::uint64_t> snapshot() const;
  void render(std::string_view name, std::string_view help, std::string_view label, std::string* out) const;

 private:
  mutable std::mutex mu_;
  std::map<Code, std::uint64_t> counts_;
};

// What the I/O thread publishes at each housekeeping.
struct GaugeSnapshot {
  std::uint64_t sessions_new = 0, sessions_ready = 0;
  std::uint64_t verify_queue = 0, commit_queue = 0;
  std::uint64_t delivery_backlog = 0;     // frames queued behind slow sessions, all sessions
  std::uint64_t session_backlog_max = 0;  // the largest one session's queue now
  std::uint64_t store_bytes = 0;
  std::uint64_t head_seq = 0;
  std::uint64_t directory_generation = 0;
  std::int64_t last_checkpoint_ms = 0;  // 0: none yet
  std::uint64_t peer_links = 0, peer_links_ready = 0;
  std::string broker_id;          // its own credential's node id (a reload may change it)
  std::int64_t published_ms = 0;  // when the I/O thread published this (a stuck loop stops it)
};

// The counters the broker kept before metrics (Broker::Impl::Counters),
// read when rendering.
struct CounterSnapshot {
  std::uint64_t accepted = 0, rejected = 0, delivered = 0, closed_sessions = 0;
  std::uint64_t reloads = 0, failed_reloads = 0, damaged_records = 0;
  std::uint64_t refused_handshakes = 0, refused_hellos = 0, wall_clock_steps = 0;
};

class Metrics {
 public:
  Metrics();

  CodeCounter rejected_by_code;    // PUBLISHes rejected, by their first reason's code
  CodeCounter withheld_by_reason;  // (node, section) withheld at delivery, by each reason's code
  CodeCounter crossings_refused;   // copies from partner brokers refused here, by first code
  std::atomic<std::uint64_t> crossings_taken{0}, crossings_duplicate{0};
  std::atomic<std::uint64_t> audit_entries{0};  // written since start
  Histogram commit_reports;                     // reports per committed batch
  Histogram commit_seconds;                     // the store's commit (write and sync), per batch
  Histogram verify_seconds;                     // one PUBLISH's or arrival's checks on a verifier thread

  void set_gauges(const GaugeSnapshot& g);
  // Writes every metric in the text format (version 0.0.4), `now_ms` for
  // the checkpoint's age.
  std::string render(const CounterSnapshot& counters, std::string_view version, std::int64_t started_at_ms,
                     std::int64_t now_ms) const;

 private:
  mutable std::mutex gauges_mu_;
  GaugeSnapshot gauges_;
};

// A label value with \, " and newline escaped, as the text format asks.
std::string escape_label_value(std::string_view value);

}  // namespace tearline::broker
