// tearline-bench: measures tearline's full secure path side by side with a
// raw ZeroMQ CURVE relay, the single-core Ed25519 verify rate, and NATS over
// TLS (docs/performance.md).
//
//   tearline-bench run [--publishers P] [--subscribers N] [--size BYTES] [--sections S]
//                      [--recipients R] [--duration SEC] [--window W] [--verify-threads T]
//                      [--json FILE] [--matrix] [--quick] ...
//
// The other sub-commands are the processes `run` starts (roles.h); they are
// not meant to be run by hand.
#include <sodium.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>

#include "bench/output.h"
#include "bench/process.h"
#include "bench/roles.h"
#include "bench/suite.h"

namespace tb = tearline::bench;

namespace {

std::filesystem::path find_on_path(const std::string& name, std::initializer_list<const char*> extra) {
  for (const char* dir : extra) {
    std::filesystem::path p = std::filesystem::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  const char* path = std::getenv("PATH");
  std::string rest = path ? path : "";
  std::size_t start = 0;
  while (start <= rest.size()) {
    const std::size_t end = rest.find(':', start);
    const std::string dir = rest.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty()) {
      std::filesystem::path p = std::filesystem::path(dir) / name;
      if (::access(p.c_str(), X_OK) == 0) return p;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return {};
}

void add_shape(CLI::App* app, tb::Shape& shape) {
  app->add_option("--publishers", shape.publishers, "publisher processes (P)")
      ->check(CLI::Range(1, tb::kMaxPublishers));
  app->add_option("--subscribers", shape.subscribers, "subscriber processes (N)")
      ->check(CLI::Range(1, tb::kMaxSubscribers));
  app->add_option("--size", shape.size, "plaintext bytes per report, split across its sections")
      ->check(CLI::Range(16, 4 << 20));
  app->add_option("--sections", shape.sections, "sections per report")->check(CLI::Range(1, 64));
  app->add_option("--recipients", shape.recipients, "subscribers each section is sealed to (0 = all)")
      ->check(CLI::Range(0, 256));
  app->add_option("--window", shape.window, "reports in flight per publisher")->check(CLI::Range(1, 4096));
}

int run_main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  CLI::App app{"tearline-bench: tearline's secure path against its baselines (docs/performance.md)"};
  app.require_subcommand(1);

  tb::Shape shape;
  tb::SuiteOptions options;
  bool matrix = false, quick = false, no_extras = false, no_nats = false;
  std::string broker;
  auto* run = app.add_subcommand("run", "run the benchmark and print the results");
  add_shape(run, shape);
  run->add_option("--duration", options.duration_s, "measured seconds per run")->check(CLI::Range(1.0, 3600.0));
  run->add_option("--warmup", options.warmup_s, "seconds before measuring")->check(CLI::Range(0.0, 600.0));
  run->add_option("--verify-threads", options.verify_threads, "broker verify threads (the other count is compared too)")
      ->check(CLI::Range(1, 64));
  run->add_option("--json", options.json, "also write the results as JSON to this file");
  run->add_option("--broker", broker, "tearline-broker (default: next to this program, then ../broker/)");
  run->add_option("--workdir", options.workdir, "work folder (default: a new one under $TMPDIR or /tmp)");
  run->add_option("--broker-log-level", options.broker_log_level, "the broker's log_level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  run->add_option("--profile", options.profile_dir,
                  "perf record the broker and subscriber 0 during the first tearline run into this folder");
  run->add_option(
         "--only", options.only,
         "run only these runs of each cell (max, max-vt1, max-vt2, max-pg, max-pg2, raw, nats, nats-sealed, latency,"
         " nats-latency, stall); max always runs")
      ->delimiter(',');
  run->add_option("--repeat", options.repeat, "rounds of the maximum runs, interleaved; the median is reported")
      ->check(CLI::Range(1, 9));
  run->add_flag("--keep", options.keep, "keep the work folder (logs, configs, records)");
  run->add_flag("--matrix", matrix, "run the matrix of docs/performance.md instead of one shape");
  run->add_flag("--markdown", options.markdown, "print a markdown table of all cells at the end");
  run->add_flag("--no-extras", no_extras, "skip the verify-thread comparison, NATS latency and the stall test");
  run->add_flag("--no-nats", no_nats, "skip both NATS peers");
  bool no_pg = false;
  run->add_flag("--no-pg", no_pg, "skip the runs with the store on PostgreSQL (one broker and two)");
  run->add_flag("--quick", quick, "3 s runs, 1 s warm-up, no extras (a smoke test)");
  bool prebuilt = false, build_inline = false;
  run->add_flag("--prebuilt", prebuilt,
                "publishers send reports built before the start (for comparison; the default builds in the interval)");
  run->add_flag("--build-inline", build_inline, "(the default) publishers build and sign inside the measured interval");

  tb::RoleArgs role;
  std::string role_name;
  for (const char* name : {"tearline-pub", "tearline-sub", "raw-relay", "raw-pub", "raw-sub", "nats-pub", "nats-sub"}) {
    auto* sub = app.add_subcommand(name, "(internal) a process of a run");
    sub->group("");  // hidden from --help
    add_shape(sub, role.shape);
    sub->add_option("--run-dir", role.run_dir)->required();
    sub->add_option("--pki", role.pki)->required();
    sub->add_option("--endpoint", role.endpoint)->required();
    sub->add_option("--broker-id", role.broker_id);
    sub->add_option("--index", role.index);
    sub->add_option("--pool", role.pool);
    sub->add_option("--rate", role.rate);
    sub->add_option("--payload-bytes", role.payload_bytes);
    sub->add_option("--ca", role.ca);
    sub->add_option("--pool-file", role.pool_file);
    sub->add_flag("--sealed", role.sealed);
    sub->callback([&role_name, name] { role_name = name; });
  }
  CLI11_PARSE(app, argc, argv);

  if (!role_name.empty()) {
    if (role_name == "tearline-pub") return tb::tearline_pub_main(role);
    if (role_name == "tearline-sub") return tb::tearline_sub_main(role);
    if (role_name == "raw-relay") return tb::raw_relay_main(role);
    if (role_name == "raw-pub") return tb::raw_pub_main(role);
    if (role_name == "raw-sub") return tb::raw_sub_main(role);
    if (role_name == "nats-pub") return tb::nats_pub_main(role);
    if (role_name == "nats-sub") return tb::nats_sub_main(role);
    return 2;
  }

  tb::Tools tools;
  tools.self = tb::self_exe();
  if (!broker.empty()) {
    tools.broker = broker;
  } else {
    for (const auto& p : {tools.self.parent_path() / "tearline-broker",
                          tools.self.parent_path() / ".." / "broker" / "tearline-broker"}) {
      if (::access(p.c_str(), X_OK) == 0) {
        tools.broker = p;
        break;
      }
    }
  }
  if (tools.broker.empty() || ::access(tools.broker.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "tearline-bench: cannot find tearline-broker (next to %s or in ../broker/); use --broker\n",
                 tools.self.c_str());
    return 2;
  }
  if (!no_nats) tools.nats_server = find_on_path("nats-server", {"/usr/sbin", "/usr/bin"});
  tools.openssl = find_on_path("openssl", {"/usr/bin"});
  // The script of this source tree (its path is compiled in); without it,
  // or without the PostgreSQL server programs it needs, no max-pg run.
  tools.pg_cluster = TEARLINE_PG_CLUSTER_SCRIPT;
  if (!no_pg &&
      (::access(tools.pg_cluster.c_str(), X_OK) != 0 || ::access("/usr/lib/postgresql/15/bin/initdb", X_OK) != 0)) {
    std::fprintf(stderr,
                 "tearline-bench: %s or PostgreSQL 15 (package postgresql) missing; the max-pg run is skipped\n",
                 tools.pg_cluster.c_str());
    tools.pg_cluster.clear();
  }
  if (no_pg) tools.pg_cluster.clear();
  tools.perf = find_on_path("perf", {"/usr/bin"});
  if (!options.profile_dir.empty() && tools.perf.empty()) {
    std::fprintf(stderr, "tearline-bench: --profile needs perf (Debian linux-perf)\n");
    return 2;
  }
  if (!no_nats && (tools.nats_server.empty() || tools.openssl.empty())) {
    std::fprintf(stderr,
                 "tearline-bench: nats-server or openssl missing (scripts/install-deps.sh bench); "
                 "the NATS baseline is skipped\n");
    tools.nats_server.clear();
  }

  options.build_inline = !prebuilt;
  if (quick) {
    options.duration_s = 3;
    options.warmup_s = 1;
    options.verify_seconds = 0.5;
    no_extras = true;
  }
  std::vector<tb::CellPlan> cells;
  if (matrix) {
    cells = tb::matrix_cells(shape);
    options.markdown = true;
  } else {
    cells.push_back(tb::full_cell(shape));
  }
  for (auto& c : cells) {
    if (no_extras) c.nats_latency = c.vt_compare = c.stall = false;
    if (no_nats) c.nats = c.nats_latency = false;
    if (no_pg) c.pg = false;
  }
  auto result = tb::run_suite(cells, options, tools);
  if (!result) {
    std::fprintf(stderr, "tearline-bench: %s\n", result.status().to_string().c_str());
    return 1;
  }
  if (options.markdown) tb::print_markdown(*result);
  if (!options.json.empty()) {
    tearline::Status s = tb::write_json(*result, options.json);
    if (!s) {
      std::fprintf(stderr, "tearline-bench: %s\n", s.to_string().c_str());
      return 1;
    }
    std::printf("\nJSON: %s\n", options.json.c_str());
  }
  return 0;
}

}  // namespace

// Any exception that escapes a run (CLI11 building the options, a role)
// ends the process with exit 1 and its message.
int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tearline-bench: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "tearline-bench: unknown exception\n");
  }
  return 1;
}
