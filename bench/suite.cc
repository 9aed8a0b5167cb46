#include "bench/suite.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "bench/output.h"

namespace tearline::bench {
namespace {

constexpr double kPoolHeadroom = 1.5;
constexpr double kPoolMemoryBytes = 2.0 * (1ull << 30);
constexpr double kPoolBuildSeconds = 90;

// How many reports each publisher builds ahead: enough for the run at the
// rate the single-core costs say the machine could reach (with headroom),
// capped by memory and by build time. Publishers build inline past it, and
// the output says so.
std::uint64_t pool_for(System system, const CryptoRates& c, const Shape& shape, const SuiteOptions& o, double rate,
                       unsigned cores) {
  if (system == System::kRawZmq || o.build_inline) return 0;
  double est = rate;
  if (est <= 0) {
    const double rx = c.receivers_per_report;
    // The unavoidable crypto plus what a broker/server and a subscriber
    // spend besides it at the least (measured on 2 cores, docs/performance.md).
    const double cost_us = system == System::kTearline
                               ? c.verify_report_us + 100 + rx * (c.verify_report_us + c.open_us + 30)
                           : system == System::kNatsSealed ? 20 + rx * (c.verify_payload_us + c.open_us + 20)
                                                           : 20 + rx * (c.verify_payload_us + 20);
    est = kPoolHeadroom * cores * 1e6 / cost_us;
  }
  double total = est * (o.warmup_s + o.duration_s + 0.5) + shape.publishers * shape.window;
  const double bytes =
      system == System::kNats ? static_cast<double>(shape.size + 80) : static_cast<double>(c.frame_bytes);
  total = std::min(total, kPoolMemoryBytes / std::max(1.0, bytes));
  // A sealed NATS message costs about what a report does: seal to R and sign.
  const double build_us = system == System::kNats ? c.sign_us : c.build_us;
  total =
      std::min(total, kPoolBuildSeconds * 1e6 * std::min<double>(shape.publishers, cores) / std::max(1.0, build_us));
  return static_cast<std::uint64_t>(std::ceil(total / shape.publishers));
}

// The publishers' built reports of a cell (see RoleArgs::pool_file).
void remove_pools(const std::filesystem::path& root) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(root, ec)) {
    if (e.path().filename().string().rfind("pool-", 0) == 0) std::filesystem::remove(e.path(), ec);
  }
}

RunMetrics failed_run(const RunSpec& spec, const Status& why) {
  RunMetrics m;
  m.role = spec.role;
  m.label = spec.label;
  m.system = std::string(system_name(spec.system));
  m.shape = spec.shape;
  m.problems.push_back("run failed: " + why.to_string());
  return m;
}

}  // namespace

const RunMetrics* CellResult::find(const std::string& role) const {
  for (const auto& r : runs) {
    if (r.role == role) return &r;
  }
  return nullptr;
}

CellPlan full_cell(const Shape& shape) {
  CellPlan c;
  c.shape = shape;
  c.nats_latency = true;
  c.vt_compare = true;
  c.stall = true;
  return c;
}

std::vector<CellPlan> matrix_cells(const Shape& base) {
  std::vector<CellPlan> cells;
  auto add = [&](Shape s, bool latency) {
    for (const auto& c : cells) {
      if (c.shape.describe() == s.describe()) return;  // the same cell reached twice
    }
    CellPlan c;
    c.shape = s;
    c.latency = latency;
    cells.push_back(c);
  };
  for (int n : {1, 4, 16, 64}) {  // fan-out: sealed to every subscriber
    Shape s = base;
    s.subscribers = n;
    s.recipients = 0;
    add(s, true);
  }
  for (int r : {1, 4, 16}) {  // recipients per section, 16 subscribers
    Shape s = base;
    s.subscribers = 16;
    s.recipients = r;
    add(s, false);
  }
  for (int sections : {1, 4}) {  // sections, 4 subscribers each sealed to all
    Shape s = base;
    s.subscribers = 4;
    s.recipients = 0;
    s.sections = sections;
    add(s, false);
  }
  for (std::size_t size : {std::size_t{1024}, std::size_t{16384}, std::size_t{262144}}) {
    Shape s = base;
    s.subscribers = 4;
    s.recipients = 0;
    s.size = size;
    add(s, false);
  }
  return cells;
}

Result<SuiteResult> run_suite(const std::vector<CellPlan>& cells, const SuiteOptions& options, const Tools& tools) {
  SuiteResult result;
  result.options = options;
  std::filesystem::path root = options.workdir;
  if (root.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/tearline-bench.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return Status::fail(Code::IO_ERROR, "cannot create a work folder");
    root = pattern;
  } else {
    std::filesystem::create_directories(root);
  }
  int max_p = 1, max_n = 1;
  for (const auto& c : cells) {
    max_p = std::max(max_p, c.shape.publishers);
    max_n = std::max(max_n, c.shape.subscribers);
  }
  result.machine = describe_machine(root);
  print_machine(result.machine, root);
  auto world = World::create(root, max_p, max_n);
  if (!world) return world.status();

  int run_number = 0;
  for (const auto& plan : cells) {
    CellResult cell;
    cell.plan = plan;
    cell.cores = result.machine.cores;
    const Shape& shape = plan.shape;
    std::printf("\n== %s ==\n", shape.describe().c_str());
    std::fflush(stdout);
    auto crypto = measure_crypto(*world, shape, run_number == 0 ? options.verify_seconds : 0.5);
    if (!crypto) return crypto.status();
    cell.crypto = *crypto;
    print_crypto(cell.crypto);

    auto run = [&](const std::string& role, const std::string& label, System system, double rate, int vt, bool stall,
                   bool pg = false, int brokers = 1) -> std::optional<RunMetrics> {
      if (role != "max" && !options.only.empty() &&
          std::find(options.only.begin(), options.only.end(), role) == options.only.end()) {
        return std::nullopt;
      }
      RunSpec spec;
      spec.role = role;
      spec.label = label;
      spec.system = system;
      spec.shape = shape;
      spec.warmup_s = options.warmup_s;
      spec.duration_s = options.duration_s;
      spec.rate = rate;
      spec.verify_threads = vt;
      spec.broker_log_level = options.broker_log_level;
      spec.stall = stall;
      spec.pg_store = pg;
      spec.brokers = brokers;
      spec.payload_bytes = cell.crypto.frame_bytes;
      spec.pool_tag = "cell" + std::to_string(result.cells.size());
      spec.pool_per_publisher = pool_for(system, cell.crypto, shape, options, rate, result.machine.cores);
      if (role == "max" && result.cells.empty() && !options.profile_dir.empty() && !tools.perf.empty() &&
          cell.runs.empty()) {
        spec.profile_dir = options.profile_dir;
        spec.perf = tools.perf;
      }
      std::printf("  running %-34s ...", label.c_str());
      std::fflush(stdout);
      auto data = run_system(*world, tools, spec, ++run_number);
      RunMetrics m = data ? analyze(*data) : failed_run(spec, data.status());
      print_progress(m);
      return m;
    };
    const int vt = options.verify_threads;
    auto threads = [](int n) { return "tearline, " + std::to_string(n) + " verify thread" + (n == 1 ? "" : "s"); };

    // The maxima, `repeat` rounds interleaved so that a burst of other work on
    // the machine hits every system alike; each keeps its median round.
    struct Maximum {
      std::string role, label;
      System system;
      int vt;
      bool pg = false;
      int brokers = 1;
    };
    std::vector<Maximum> maxima{{"max", threads(vt), System::kTearline, vt}};
    if (plan.pg && !tools.pg_cluster.empty()) {
      maxima.push_back({"max-pg", threads(vt) + ", PostgreSQL store", System::kTearline, vt, true});
      maxima.push_back({"max-pg2", threads(vt) + ", PostgreSQL, 2 brokers", System::kTearline, vt, true, 2});
    }
    if (plan.vt_compare) {
      const int other = vt == 1 ? 2 : 1;
      maxima.push_back({"max-vt" + std::to_string(other), threads(other), System::kTearline, other});
    }
    if (plan.raw) maxima.push_back({"raw", "zmq-curve relay (baseline 1)", System::kRawZmq, 0});
    if (plan.nats && !tools.nats_server.empty()) {
      maxima.push_back({"nats", "nats-tls sign+verify (baseline 3)", System::kNats, 0});
      maxima.push_back({"nats-sealed", "nats-tls sealed (same guarantees)", System::kNatsSealed, 0});
    }
    std::vector<std::vector<RunMetrics>> rounds(maxima.size());
    for (int round = 0; round < std::max(1, options.repeat); ++round) {
      for (std::size_t i = 0; i < maxima.size(); ++i) {
        const Maximum& x = maxima[i];
        if (auto m = run(x.role, x.label, x.system, 0, x.vt, false, x.pg, x.brokers)) {
          rounds[i].push_back(std::move(*m));
        }
      }
    }
    for (auto& r : rounds) {
      if (r.empty()) continue;
      std::sort(r.begin(), r.end(),
                [](const RunMetrics& a, const RunMetrics& b) { return a.reports_per_s < b.reports_per_s; });
      RunMetrics median = r[(r.size() - 1) / 2];
      for (const auto& x : r) {
        median.round_reports_per_s.push_back(x.reports_per_s);
        if (&x != &r[(r.size() - 1) / 2]) {
          for (const auto& p : x.problems) median.problems.push_back("another round: " + p);
        }
      }
      cell.runs.push_back(std::move(median));
    }
    const RunMetrics* max = cell.find("max");
    const RunMetrics* nats = cell.find("nats");
    std::vector<RunMetrics> more;
    if (plan.latency && max != nullptr && max->reports_per_s > 0) {
      const double rate = 0.5 * max->reports_per_s;
      char label[96];
      std::snprintf(label, sizeof label, "tearline latency @ %.0f/s", rate);
      if (auto m = run("latency", label, System::kTearline, rate, vt, false)) more.push_back(std::move(*m));
    }
    if (plan.nats_latency && nats != nullptr && nats->reports_per_s > 0) {
      const double rate = 0.5 * nats->reports_per_s;
      char label[96];
      std::snprintf(label, sizeof label, "nats latency @ %.0f/s", rate);
      if (auto m = run("nats-latency", label, System::kNats, rate, 0, false)) more.push_back(std::move(*m));
    }
    if (plan.stall) {
      if (auto m = run("stall", "tearline, subscriber 0 stops reading", System::kTearline, 0, vt, true)) {
        more.push_back(std::move(*m));
      }
    }
    for (auto& m : more) cell.runs.push_back(std::move(m));
    print_cell(cell);
    result.cells.push_back(std::move(cell));
    remove_pools(root);
  }
  if (!options.keep) {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  } else {
    std::printf("\nwork folder kept: %s\n", root.c_str());
  }
  return result;
}

}  // namespace tearline::bench
