// What `tearline-bench run` measures: for each cell (a workload shape),
// the crypto baselines, tearline's sustained maximum, the raw ZeroMQ CURVE
// relay and NATS at their maxima, tearline's latency at half its maximum,
// and optionally the other verify-thread count, NATS latency and the
// stalled-subscriber test. All runs of a cell happen back to back in one
// invocation, so their ratios share the machine's conditions.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "bench/analysis.h"
#include "bench/crypto_rates.h"
#include "bench/driver.h"
#include "bench/machine.h"

namespace tearline::bench {

struct CellPlan {
  Shape shape;
  bool raw = true;
  bool nats = true;           // both NATS peers: sign + verify, and sealed (same guarantees)
  bool latency = true;        // tearline paced at half its measured maximum
  bool nats_latency = false;  // NATS paced at half its maximum
  bool vt_compare = false;    // tearline also with the other verify-thread count (1 <-> 2)
  bool stall = false;         // tearline with subscriber 0 stopping to read
  bool pg = true;             // tearline with its store on PostgreSQL (when Tools::pg_cluster is set)
};

struct SuiteOptions {
  double warmup_s = 2;
  double duration_s = 10;
  double verify_seconds = 2;
  int verify_threads = 2;
  std::string broker_log_level = "info";
  bool build_inline = true;  // publishers build inside the measured interval; false: a prebuilt pool (--prebuilt)
  std::filesystem::path workdir;
  bool keep = false;
  std::filesystem::path json;
  bool markdown = false;              // also print the matrix as markdown rows
  std::filesystem::path profile_dir;  // perf record the first cell's "max" run here
  std::vector<std::string> only;      // non-empty: run only these roles ("max" always runs)
  int repeat = 1;                     // rounds of the maxima (median kept)
};

struct CellResult {
  CellPlan plan;
  unsigned cores = 0;  // of the machine
  CryptoRates crypto;
  std::vector<RunMetrics> runs;
  const RunMetrics* find(const std::string& role) const;
};

struct SuiteResult {
  Machine machine;
  SuiteOptions options;
  std::vector<CellResult> cells;
};

// The default cell for a shape (everything on), and the matrix of
// docs/performance.md.
CellPlan full_cell(const Shape& shape);
std::vector<CellPlan> matrix_cells(const Shape& base);

// Runs the cells; prints each cell's table as it completes. Fails only when
// the bench itself cannot run (a run's inexactness is a result, not a failure).
Result<SuiteResult> run_suite(const std::vector<CellPlan>& cells, const SuiteOptions& options, const Tools& tools);

}  // namespace tearline::bench
