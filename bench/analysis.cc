#include "bench/analysis.h"

#include <algorithm>

namespace tearline::bench {
namespace {

double rate(std::uint64_t hits, std::uint64_t misses) {
  return hits + misses > 0 ? static_cast<double>(hits) / static_cast<double>(hits + misses) : 0;
}

double percentile(std::vector<std::int64_t>& v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1e6;
}

void problem(RunMetrics& m, std::uint64_t count, const std::string& what) {
  if (count > 0) m.problems.push_back(std::to_string(count) + " " + what);
}

}  // namespace

RunMetrics analyze(const RunData& d) {
  RunMetrics m;
  const Shape& shape = d.spec.shape;
  m.role = d.spec.role;
  m.label = d.spec.label;
  m.system = std::string(system_name(d.spec.system));
  m.shape = shape;
  m.offered_rate = d.spec.rate;
  m.verify_threads = d.spec.system == System::kTearline ? d.spec.verify_threads : 0;
  m.stall = d.spec.stall;
  m.stalled_sub_closed = d.stalled_sub_closed;
  const std::int64_t b = d.measure_begin_ns, e = d.measure_end_ns;
  m.interval_s = static_cast<double>(e - b) / 1e9;
  const int stalled = d.spec.stall ? 0 : -1;

  std::uint64_t accepted_in = 0;
  std::vector<std::int64_t> acc;
  std::int64_t build_cpu_ns = 0;
  for (const auto& p : d.pubs) {
    const PubSummary& ps = p.summary;
    PubBuild pb;
    pb.batches = ps.batches;
    pb.reports = ps.batch_reports;
    pb.mean_batch = ps.batches > 0 ? static_cast<double>(ps.batch_reports) / static_cast<double>(ps.batches) : 0;
    pb.build_cpu_us_per_report =
        ps.batch_reports > 0 ? static_cast<double>(ps.build_cpu_ns) / 1e3 / static_cast<double>(ps.batch_reports) : 0;
    pb.epoch_reused = ps.epoch_reused;
    pb.epoch_started = ps.epoch_started;
    m.pub_builds.push_back(pb);
    m.batches += ps.batches;
    m.batch_reports += ps.batch_reports;
    m.epoch_reused += ps.epoch_reused;
    m.epoch_started += ps.epoch_started;
    build_cpu_ns += ps.build_cpu_ns;
    m.built_inline += p.summary.built_inline;
    m.prebuilt += p.summary.prebuilt;
    m.stalled_reports += p.summary.stalled;
    for (const auto& r : p.records) {
      if (r.outcome == Outcome::kAccepted) {
        m.accepted++;
        if (r.t_done >= b && r.t_done < e) accepted_in++;
        if (r.t_sched >= b && r.t_sched < e) acc.push_back(r.t_done - r.t_sched);
      } else if (r.outcome == Outcome::kRejected) {
        m.rejected++;
      }
    }
  }
  m.prebuild_s = static_cast<double>(d.prebuild_wall_ns) / 1e9;
  if (m.batches > 0) m.mean_batch = static_cast<double>(m.batch_reports) / static_cast<double>(m.batches);
  if (m.batch_reports > 0)
    m.build_cpu_us_per_report = static_cast<double>(build_cpu_ns) / 1e3 / static_cast<double>(m.batch_reports);
  m.epoch_hit_rate = rate(m.epoch_reused, m.epoch_started);
  m.reports_per_s = static_cast<double>(accepted_in) / m.interval_s;

  std::uint64_t delivered_in = 0, delivered_total = 0;
  std::vector<std::int64_t> lat;
  // received[j][p][seq-1]
  std::vector<std::vector<std::vector<bool>>> received(d.subs.size());
  for (std::size_t j = 0; j < d.subs.size(); ++j) {
    const auto& s = d.subs[j];
    m.violations += s.summary.violations;
    m.missing_sections += s.summary.missing_sections;
    m.verify_failures += s.summary.verify_failures;
    m.open_failures += s.summary.open_failures;
    m.duplicates += s.summary.duplicates;
    m.unexpected_deliveries += s.summary.unexpected;
    m.root_hits += s.summary.root_hits;
    m.root_verifies += s.summary.root_verifies;
    m.unwrap_hits += s.summary.unwrap_hits;
    m.unwrap_opens += s.summary.unwrap_opens;
    if (static_cast<int>(j) == stalled) {
      m.stalled_sub_error = s.summary.last_error;
    } else {
      m.sub_errors += s.summary.errors;
    }
    received[j].resize(d.pubs.size());
    for (std::size_t p = 0; p < d.pubs.size(); ++p) received[j][p].assign(d.pubs[p].records.size(), false);
    for (const auto& r : s.records) {
      delivered_total++;
      if (r.t_recv >= b && r.t_recv < e) delivered_in++;
      if (r.pub >= d.pubs.size() || r.seq == 0 || r.seq > d.pubs[r.pub].records.size()) {
        m.unexpected_deliveries++;
        continue;
      }
      received[j][r.pub][r.seq - 1] = true;
      const PubRecord& pr = d.pubs[r.pub].records[r.seq - 1];
      if (pr.outcome != Outcome::kAccepted) m.unexpected_deliveries++;
      if (static_cast<int>(j) != stalled && pr.t_sched >= b && pr.t_sched < e) lat.push_back(r.t_recv - pr.t_sched);
    }
  }
  m.deliveries_per_s = static_cast<double>(delivered_in) / m.interval_s;
  m.root_hit_rate = rate(m.root_hits, m.root_verifies);
  m.unwrap_hit_rate = rate(m.unwrap_hits, m.unwrap_opens);
  m.latency.samples = lat.size();
  m.latency.p50_ms = percentile(lat, 0.5);
  m.latency.p99_ms = percentile(lat, 0.99);
  m.latency.p999_ms = percentile(lat, 0.999);
  m.accept_latency.samples = acc.size();
  m.accept_latency.p50_ms = percentile(acc, 0.5);
  m.accept_latency.p99_ms = percentile(acc, 0.99);
  m.accept_latency.p999_ms = percentile(acc, 0.999);
  m.latency.max_ms = lat.empty() ? 0 : static_cast<double>(*std::max_element(lat.begin(), lat.end())) / 1e6;

  for (std::size_t p = 0; p < d.pubs.size(); ++p) {
    for (const auto& r : d.pubs[p].records) {
      if (r.outcome != Outcome::kAccepted) continue;
      for (int j : receivers(shape, static_cast<int>(p), r.seq)) {
        if (j == stalled) continue;
        m.expected_deliveries++;
        if (!received[static_cast<std::size_t>(j)][p][r.seq - 1]) m.lost++;
      }
    }
  }

  const double server_cpu = d.server_end.cpu_seconds - d.server_begin.cpu_seconds + d.other_brokers_cpu_s;
  if (accepted_in > 0) {
    m.server_cpu_us_per_report = server_cpu * 1e6 / static_cast<double>(accepted_in);
    m.pubs_cpu_us_per_report = d.pubs_cpu_s * 1e6 / static_cast<double>(accepted_in);
    m.store_cpu_us_per_report = d.store_cpu_s * 1e6 / static_cast<double>(accepted_in);
  }
  if (delivered_in > 0) m.subs_cpu_us_per_delivery = d.subs_cpu_s * 1e6 / static_cast<double>(delivered_in);
  m.server_cpu_cores = server_cpu / m.interval_s;
  if (d.spec.pg_store) m.store = "postgresql";
  m.background_cores =
      std::max(0.0, (d.machine_busy_s - server_cpu - d.store_cpu_s - d.pubs_cpu_s - d.subs_cpu_s) / m.interval_s);
  m.loadavg = d.loadavg_end;
  m.server_rss_begin_mib = static_cast<double>(d.server_begin.rss_kib) / 1024;
  m.server_rss_end_mib = static_cast<double>(d.server_end.rss_kib) / 1024;
  m.server_hwm_mib = static_cast<double>(d.server_hwm_kib) / 1024;
  if (accepted_in > 0) {
    m.server_rss_bytes_per_report =
        static_cast<double>(d.server_end.rss_kib - d.server_begin.rss_kib) * 1024 / static_cast<double>(accepted_in);
  }
  double next_point = 0;
  for (const auto& [t, kib] : d.server_rss) {
    const double at = static_cast<double>(t - d.start_ns) / 1e9;
    if (at >= next_point) {
      m.rss_timeline.emplace_back(at, static_cast<double>(kib) / 1024);
      next_point = at + 0.5;
    }
    m.server_rss_max_mib = std::max(m.server_rss_max_mib, static_cast<double>(kib) / 1024);
    if (d.spec.stall && t <= d.stall_ns) m.rss_at_stall_mib = static_cast<double>(kib) / 1024;
    if (d.spec.stall && t > d.stall_ns)
      m.rss_after_stall_max_mib = std::max(m.rss_after_stall_max_mib, static_cast<double>(kib) / 1024);
  }

  problem(m, m.lost, "accepted deliveries lost");
  problem(m, m.violations, "sections delivered to a subscriber not entitled to them");
  problem(m, m.unexpected_deliveries, "deliveries of reports not accepted or not addressed to the subscriber");
  problem(m, m.missing_sections, "entitled sections withheld");
  problem(m, m.verify_failures, "deliveries that failed verification");
  problem(m, m.open_failures, "sections that did not open to the right plaintext");
  problem(m, m.duplicates, "duplicate deliveries");
  problem(m, m.rejected, "reports rejected");
  problem(m, m.stalled_reports, "reports given up on by a publisher");
  problem(m, m.sub_errors, "ERROR frames at subscribers");
  (void)delivered_total;
  return m;
}

}  // namespace tearline::bench
