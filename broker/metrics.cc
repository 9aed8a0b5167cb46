#include "broker/metrics.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

#include <fmt/format.h>

namespace tearline::broker {

namespace {

void header(std::string_view name, std::string_view help, std::string_view type, std::string* out) {
  fmt::format_to(std::back_inserter(*out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

template <typename T>
void single(std::string_view name, std::string_view help, std::string_view type, T value, std::string* out) {
  header(name, help, type, out);
  fmt::format_to(std::back_inserter(*out), "{} {}\n", name, value);
}

// Seconds and counts as Prometheus reads them: shortest exact form.
std::string number(double v) { return fmt::format("{}", v); }

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(std::llround(value * 1e6), std::memory_order_relaxed);
}

void Histogram::render(std::string_view name, std::string_view help, std::string* out) const {
  header(name, help, "histogram", out);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    fmt::format_to(std::back_inserter(*out), "{}_bucket{{le=\"{}\"}} {}\n", name, number(bounds_[i]), cumulative);
  }
  cumulative += counts_.back().load(std::memory_order_relaxed);
  // The count is read after the buckets: at least their total, so +Inf is
  // never below the last bound's bucket.
  const std::uint64_t count = std::max(cumulative, count_.load(std::memory_order_relaxed));
  fmt::format_to(std::back_inserter(*out), "{}_bucket{{le=\"+Inf\"}} {}\n", name, count);
  fmt::format_to(std::back_inserter(*out), "{}_sum {}\n", name,
                 number(static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6));
  fmt::format_to(std::back_inserter(*out), "{}_count {}\n", name, count);
}

void CodeCounter::add(Code code, std::uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  counts_[code] += n;
}

std::map<Code, std::uint64_t> CodeCounter::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

void CodeCounter::render(std::string_view name, std::string_view help, std::string_view label, std::string* out) const {
  header(name, help, "counter", out);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [code, n] : counts_) {
    fmt::format_to(std::back_inserter(*out), "{}{{{}=\"{}\"}} {}\n", name, label, code_name(code), n);
  }
}

Metrics::Metrics()
    : commit_reports({1, 2, 4, 8, 16, 32, 64, 128, 256, 512}),
      commit_seconds({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}),
      verify_seconds({0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1}) {}

void Metrics::set_gauges(const GaugeSnapshot& g) {
  std::lock_guard<std::mutex> lock(gauges_mu_);
  gauges_ = g;
}

std::string Metrics::render(const CounterSnapshot& c, std::string_view version, std::int64_t started_at_ms,
                            std::int64_t now_ms) const {
  GaugeSnapshot g;
  {
    std::lock_guard<std::mutex> lock(gauges_mu_);
    g = gauges_;
  }
  std::string out;
  out.reserve(8192);
  header("tearline_build_info", "The broker's version and id; always 1.", "gauge", &out);
  fmt::format_to(std::back_inserter(out), "tearline_build_info{{version=\"{}\",broker_id=\"{}\"}} 1\n",
                 escape_label_value(version), escape_label_value(g.broker_id));
  single("tearline_start_time_seconds", "When the broker started, unix seconds.", "gauge",
         number(static_cast<double>(started_at_ms) / 1000), &out);

  single("tearline_reports_accepted_total", "Reports accepted and stored (published here, or taken over a peering).",
         "counter", c.accepted, &out);
  single("tearline_reports_rejected_total", "PUBLISHes rejected, every code.", "counter", c.rejected, &out);
  rejected_by_code.render("tearline_reports_rejected_by_code_total", "PUBLISHes rejected, by the first reason's code.",
                          "code", &out);
  single("tearline_deliveries_total", "DELIVERs sent to sessions, live and from the store.", "counter", c.delivered,
         &out);
  withheld_by_reason.render("tearline_sections_withheld_total",
                            "Sections withheld from a node at delivery, one per node, section and reason code.",
                            "reason", &out);
  single("tearline_crossings_taken_total", "Copies from partner brokers taken into the store.", "counter",
         crossings_taken.load(), &out);
  single("tearline_crossings_duplicate_total", "Copies from partner brokers already stored here.", "counter",
         crossings_duplicate.load(), &out);
  crossings_refused.render("tearline_crossings_refused_total",
                           "Copies from partner brokers refused here, by the first reason's code.", "code", &out);

  header("tearline_sessions", "Sessions now, by state (new: before WELCOME).", "gauge", &out);
  fmt::format_to(std::back_inserter(out),
                 "tearline_sessions{{state=\"new\"}} {}\ntearline_sessions{{state=\"ready\"}} {}\n", g.sessions_new,
                 g.sessions_ready);
  single("tearline_sessions_closed_total", "Sessions closed since start.", "counter", c.closed_sessions, &out);
  single("tearline_handshakes_refused_total", "CURVE handshakes refused by the ZAP handler.", "counter",
         c.refused_handshakes, &out);
  single("tearline_hellos_refused_total", "HELLOs refused (busy, cooldown, revoked, foreign).", "counter",
         c.refused_hellos, &out);
  single("tearline_peer_links", "Links this broker holds to partner brokers ([[peer]]), open or not.", "gauge",
         g.peer_links, &out);
  single("tearline_peer_links_ready", "Of those, the links subscribed and receiving.", "gauge", g.peer_links_ready,
         &out);

  single("tearline_gauges_published_time_seconds",
         "When the I/O thread last published these gauges, unix seconds (every 250 ms while it runs).", "gauge",
         number(static_cast<double>(g.published_ms) / 1000), &out);
  single("tearline_verify_queue", "PUBLISHes and copies waiting for a verifier thread.", "gauge", g.verify_queue, &out);
  single("tearline_commit_queue", "Verified reports waiting for the group commit.", "gauge", g.commit_queue, &out);
  single("tearline_delivery_backlog", "Frames queued behind slow sessions, all sessions.", "gauge", g.delivery_backlog,
         &out);
  single("tearline_session_backlog_max", "The longest one session's queue of frames now.", "gauge",
         g.session_backlog_max, &out);
  commit_reports.render("tearline_commit_batch_reports", "Reports per committed batch.", &out);
  commit_seconds.render("tearline_commit_duration_seconds", "The store's write and sync of one batch.", &out);
  verify_seconds.render("tearline_verify_duration_seconds", "The checks of one PUBLISH or copy on a verifier thread.",
                        &out);

  single("tearline_store_bytes", "What the store takes up (files, or PostgreSQL tables).", "gauge", g.store_bytes,
         &out);
  single("tearline_head_seq", "The last committed broker seq.", "gauge", g.head_seq, &out);
  single("tearline_damaged_records_total", "Stored records that failed their re-check (GAP sent).", "counter",
         c.damaged_records, &out);
  single("tearline_audit_entries_total", "Audit entries written since start.", "counter", audit_entries.load(), &out);
  const double age = g.last_checkpoint_ms == 0 ? -1 : static_cast<double>(now_ms - g.last_checkpoint_ms) / 1000;
  single("tearline_audit_checkpoint_age_seconds",
         "Seconds since the last signed audit checkpoint; -1 while there is none.", "gauge", number(age), &out);
  single("tearline_directory_generation", "Directories loaded since start (1: the first).", "gauge",
         g.directory_generation, &out);
  single("tearline_reloads_total", "Reloads of directory and policy that took effect.", "counter", c.reloads, &out);
  single("tearline_reloads_failed_total", "Reloads refused (the previous state kept).", "counter", c.failed_reloads,
         &out);
  single("tearline_wall_clock_steps_total", "Steps of the wall clock detected.", "counter", c.wall_clock_steps, &out);
  return out;
}

}  // namespace tearline::broker
