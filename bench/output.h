// Printing results: the per-cell table with ratios to the baselines, the
// targets of the performance issue with PASS/MISS, markdown rows for
// docs/performance.md, and the JSON document.
#pragma once

#include <filesystem>
#include <string>

#include "bench/suite.h"

namespace tearline::bench {

// What the cryptography alone allows: per report, one verify_report at the
// broker and, per receiving subscriber, verify_report + open (tearline) or
// one Ed25519 verify (nats); the ceiling is all cores doing only that.
struct Ceilings {
  unsigned cores = 0;
  double tearline_floor_us = 0, nats_floor_us = 0;
  double tearline_ceiling = 0, nats_ceiling = 0;
};
Ceilings ceilings(const CellResult& cell, unsigned cores);

void print_machine(const Machine& m, const std::filesystem::path& workdir);
void print_crypto(const CryptoRates& c);
void print_progress(const RunMetrics& m);  // ends the "running ..." line
void print_cell(const CellResult& cell);
void print_markdown(const SuiteResult& result);
Status write_json(const SuiteResult& result, const std::filesystem::path& file);

}  // namespace tearline::bench
