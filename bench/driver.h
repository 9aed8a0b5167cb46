// One measured run of one system: starts the server process (tearline-broker,
// the raw relay, or nats-server), N subscriber and P publisher processes,
// sets the timeline in the control block once all are ready, samples /proc
// of every process over the measured interval, lets the publishers drain,
// ends everything, and reads back the records.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"
#include "bench/plan.h"
#include "bench/process.h"
#include "bench/records.h"
#include "bench/world.h"

namespace tearline::bench {

// kNats signs and verifies; kNatsSealed also seals to every entitled
// subscriber and opens (same guarantees as tearline but durability).
enum class System { kTearline, kRawZmq, kNats, kNatsSealed };
std::string_view system_name(System s);  // "tearline", "zmq-curve", "nats-tls", "nats-tls-sealed"

struct Tools {
  std::filesystem::path self;         // tearline-bench
  std::filesystem::path broker;       // tearline-broker
  std::filesystem::path nats_server;  // empty: not installed
  std::filesystem::path openssl;
  std::filesystem::path perf;        // empty: not installed
  std::filesystem::path pg_cluster;  // scripts/pg-cluster.sh; empty: no PostgreSQL runs
};

struct RunSpec {
  std::string role;   // "max", "max-vt1", "raw", "nats", "latency", "nats-latency", "stall"
  std::string label;  // names the run in the output
  System system = System::kTearline;
  Shape shape;
  double warmup_s = 2;
  double duration_s = 10;
  double rate = 0;         // total offered reports/s; 0 = closed loop
  int verify_threads = 2;  // tearline
  bool pg_store = false;   // tearline: the store on a private PostgreSQL server (Tools::pg_cluster)
  // tearline with pg_store: 2 runs a second broker (kSecondBroker) on the
  // same store; publisher and subscriber i speak to broker i % 2.
  int brokers = 1;
  std::string broker_log_level = "info";
  bool stall = false;  // subscriber 0 stops reading 0.5 s after the start
  std::uint64_t pool_per_publisher = 0;
  std::size_t payload_bytes = 0;  // raw: message size
  std::string pool_tag;           // tearline: runs with the same tag reuse the publishers' built reports
  // Non-empty: `perf record` the server and subscriber 0 over the measured
  // interval into this folder (server.perf.data, sub0.perf.data).
  std::filesystem::path profile_dir;
  std::filesystem::path perf;  // the perf program
};

struct PubData {
  PubSummary summary;
  std::vector<PubRecord> records;
};
struct SubData {
  SubSummary summary;
  std::vector<SubRecord> records;
};

struct RunData {
  RunSpec spec;
  std::int64_t start_ns = 0, measure_begin_ns = 0, measure_end_ns = 0, stall_ns = 0;
  std::vector<PubData> pubs;
  std::vector<SubData> subs;
  ProcSample server_begin, server_end;  // the (first) broker
  double other_brokers_cpu_s = 0;       // RunSpec::brokers 2: the second broker's CPU over the interval
  std::int64_t server_hwm_kib = 0;
  std::vector<std::pair<std::int64_t, std::int64_t>> server_rss;  // (t ns, KiB) over the interval
  double pubs_cpu_s = 0, subs_cpu_s = 0;                          // over the measured interval
  double store_cpu_s = 0;             // pg_store: the PostgreSQL server's processes over the interval
  double machine_busy_s = 0;          // all CPUs busy time over the interval (/proc/stat)
  double loadavg_end = 0;             // 1-minute load average at the end of the interval
  std::int64_t prebuild_wall_ns = 0;  // from starting publishers to all ready
  std::string server_log_tail;
  bool stalled_sub_closed = false;  // the broker logged event=slow_consumer for subscriber 0
};

// Runs it in a fresh folder under world.root; the server's data folder is
// deleted afterwards (logs are kept).
Result<RunData> run_system(const World& world, const Tools& tools, const RunSpec& spec, int run_number);

}  // namespace tearline::bench
