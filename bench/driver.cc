#include "bench/driver.h"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include "base/ports.h"
#include "bench/control.h"
#include "bench/pg_server.h"
#include "bench/roles.h"
#include "identity/pki.h"

namespace tearline::bench {
namespace {

constexpr auto kReadyTimeout = std::chrono::seconds(60);
constexpr auto kPrebuildTimeout = std::chrono::seconds(300);
constexpr std::int64_t kDrainNs = 15'000'000'000;

std::string str(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::vector<std::string> shape_args(const Shape& s) {
  return {"--publishers", std::to_string(s.publishers), "--subscribers", std::to_string(s.subscribers),
          "--size",       std::to_string(s.size),       "--sections",    std::to_string(s.sections),
          "--recipients", std::to_string(s.recipients), "--window",      std::to_string(s.window)};
}

// `second`: the config of the PKI's second broker (kSecondBroker).
Status write_broker_config(const std::filesystem::path& file, const World& world, const RunSpec& spec, int port,
                           const std::filesystem::path& data, const PgServer* pg, bool second = false) {
  identity::PkiPaths pki(world.pki);
  std::ofstream out(file);
  const std::size_t frame_limit = std::max<std::size_t>(std::size_t{1} << 20, 2 * spec.payload_bytes + 65536);
  out << "[broker]\n"
      << "endpoint = \"tcp://127.0.0.1:" << port << "\"\n"
      << "key_file = \"" << (second ? pki.other_broker_key(kSecondBroker) : pki.broker_key()).string() << "\"\n"
      << "directory = \"" << pki.directory().string() << "\"\n"
      << "policy = \"" << world.policy.string() << "\"\n"
      << "data_dir = \"" << data.string() << "\"\n"
      << "log_level = \"" << spec.broker_log_level << "\"\n"
      << "verify_threads = " << spec.verify_threads << "\n"
      << "[limits]\nmax_frame_bytes = " << frame_limit
      << "\n"
      // The benchmark's publishers are the busy nodes the broker is sized
      // for: the per-node flood limits must not be what is measured.
      << "publish_rate = 1000000\npublish_burst = 1000000\nmax_inflight_per_node = 100000\n";
  if (pg != nullptr) out << "[storage]\nstore = \"postgresql\"\nconninfo = \"" << pg->conninfo() << "\"\n";
  if (!out) return Status::fail(Code::IO_ERROR, "cannot write " + file.string());
  return Status::ok();
}

Status write_nats_config(const std::filesystem::path& dir, const Tools& tools, int port) {
  const std::string cert = (dir / "nats-cert.pem").string(), key = (dir / "nats-key.pem").string();
  const std::string cmd = tools.openssl.string() +
                          " req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
                          " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
                          key + " -out " + cert + " >" + (dir / "openssl.log").string() + " 2>&1";
  // NOLINTNEXTLINE(bugprone-command-processor): openssl with paths the bench made; the shell redirects
  if (std::system(cmd.c_str()) != 0)
    return Status::fail(Code::IO_ERROR, "openssl could not make a certificate: " + cmd);
  std::ofstream out(dir / "nats.conf");
  out << "listen: 127.0.0.1:" << port << "\n"
      << "max_payload: 4MB\n"
      << "tls {\n  cert_file: \"" << cert << "\"\n  key_file: \"" << key << "\"\n  timeout: 5\n}\n";
  if (!out) return Status::fail(Code::IO_ERROR, "cannot write nats.conf");
  return Status::ok();
}

double cpu_of(const std::vector<std::unique_ptr<Child>>& children) {
  double t = 0;
  for (const auto& c : children) t += sample_proc(c->pid()).cpu_seconds;
  return t;
}

void sleep_until(std::int64_t t_ns) {
  const std::int64_t left = t_ns - mono_ns();
  if (left > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(left));
}

}  // namespace

std::string_view system_name(System s) {
  switch (s) {
    case System::kTearline: return "tearline";
    case System::kRawZmq: return "zmq-curve";
    case System::kNats: return "nats-tls";
    case System::kNatsSealed: return "nats-tls-sealed";
  }
  return "?";
}

Result<RunData> run_system(const World& world, const Tools& tools, const RunSpec& spec, int run_number) {
  RunData data;
  data.spec = spec;
  const Shape& shape = spec.shape;
  const std::filesystem::path dir =
      world.root / ("run-" + std::to_string(run_number) + "-" + std::string(system_name(spec.system)));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
  auto control = Control::create(control_file(dir));
  if (!control) return control.status();
  ControlBlock& ctl = **control;
  for (int p = 0; p < shape.publishers; ++p) {
    Status s = make_notify_fifo(notify_fifo(dir, p));
    if (!s) return s;
  }
  auto port = free_loopback_port();
  if (!port) return port.status();

  // The server.
  std::unique_ptr<Child> server;
  std::string endpoint = "tcp://127.0.0.1:" + std::to_string(*port);
  const std::filesystem::path server_log = dir / "server.log";
  const std::filesystem::path store_dir = dir / "data";
  std::filesystem::path ca;
  std::unique_ptr<PgServer> pg;  // pg_store: started first, stopped last
  if (spec.pg_store) {
    if (tools.pg_cluster.empty()) return Status::fail(Code::UNAVAILABLE, "no scripts/pg-cluster.sh");
    auto started = PgServer::start(tools.pg_cluster, dir);
    if (!started) return started.status();
    pg = std::move(started).value();
  }
  {
    Result<std::unique_ptr<Child>> started = Status::fail(Code::IO_ERROR, "no server");
    if (spec.system == System::kTearline) {
      Status s = write_broker_config(dir / "broker.toml", world, spec, *port, store_dir, pg.get());
      if (!s) return s;
      started = Child::start({tools.broker.string(), "--config", (dir / "broker.toml").string()}, server_log);
    } else if (spec.system == System::kRawZmq) {
      std::vector<std::string> argv{tools.self.string(), "raw-relay",  "--run-dir", dir.string(), "--pki",
                                    world.pki.string(),  "--endpoint", endpoint};
      for (auto& a : shape_args(shape)) argv.push_back(a);
      started = Child::start(argv, server_log);
    } else {
      if (tools.nats_server.empty()) return Status::fail(Code::UNAVAILABLE, "nats-server is not installed");
      Status s = write_nats_config(dir, tools, *port);
      if (!s) return s;
      started = Child::start({tools.nats_server.string(), "-c", (dir / "nats.conf").string()}, server_log);
      endpoint = "tls://127.0.0.1:" + std::to_string(*port);
      ca = dir / "nats-cert.pem";
    }
    if (!started) return started.status();
    server = std::move(started).value();
  }
  auto fail = [&](const Status& why) {
    ctl.abort.store(1);
    return Status::fail(why.code(), why.to_string() + "\n  server log (" + server_log.string() + "):\n" +
                                        tail_of(server_log) + "  run folder: " + dir.string());
  };
  Status up = wait_for_port(*port, *server, std::chrono::seconds(20));
  if (!up) return fail(up);
  // brokers 2: the second broker on the same store, started once the first
  // made the schema.
  std::unique_ptr<Child> second;
  std::string second_endpoint;
  if (spec.brokers == 2) {
    if (spec.system != System::kTearline || !pg)
      return fail(Status::fail(Code::INVALID_FIELD, "2 brokers need PostgreSQL"));
    auto port2 = free_loopback_port();
    if (!port2) return fail(port2.status());
    second_endpoint = "tcp://127.0.0.1:" + std::to_string(*port2);
    Status s = write_broker_config(dir / "broker-2.toml", world, spec, *port2, dir / "data-2", pg.get(), true);
    if (!s) return fail(s);
    auto started =
        Child::start({tools.broker.string(), "--config", (dir / "broker-2.toml").string()}, dir / "server-2.log");
    if (!started) return fail(started.status());
    second = std::move(started).value();
    up = wait_for_port(*port2, *second, std::chrono::seconds(20));
    if (!up) return fail(up);
  }

  auto role_argv = [&](const char* role, int index) {
    const bool to_second = second && index % 2 == 1;
    std::vector<std::string> argv{tools.self.string(),
                                  role,
                                  "--run-dir",
                                  dir.string(),
                                  "--pki",
                                  world.pki.string(),
                                  "--endpoint",
                                  to_second ? second_endpoint : endpoint,
                                  "--index",
                                  std::to_string(index)};
    if (to_second) argv.insert(argv.end(), {"--broker-id", kSecondBroker});
    for (auto& a : shape_args(shape)) argv.push_back(a);
    argv.insert(argv.end(), {"--pool", std::to_string(spec.pool_per_publisher), "--rate",
                             str(spec.rate / shape.publishers), "--payload-bytes", std::to_string(spec.payload_bytes)});
    if (!ca.empty()) argv.insert(argv.end(), {"--ca", ca.string()});
    if (spec.system == System::kNatsSealed) argv.emplace_back("--sealed");
    if (spec.system == System::kTearline && !spec.pool_tag.empty() && spec.pool_per_publisher > 0 &&
        std::string_view(role) == "tearline-pub") {
      argv.insert(argv.end(),
                  {"--pool-file", (world.root / ("pool-" + spec.pool_tag + "-" + std::to_string(index))).string()});
    }
    return argv;
  };
  const char* sub_role = spec.system == System::kTearline ? "tearline-sub"
                         : spec.system == System::kRawZmq ? "raw-sub"
                                                          : "nats-sub";
  const char* pub_role = spec.system == System::kTearline ? "tearline-pub"
                         : spec.system == System::kRawZmq ? "raw-pub"
                                                          : "nats-pub";

  std::vector<std::unique_ptr<Child>> subs, pubs;
  auto wait_ready = [&](const std::atomic<std::uint32_t>& counter, int want, std::chrono::seconds timeout,
                        const char* what) -> Status {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (counter.load() < static_cast<std::uint32_t>(want)) {
      if (ctl.abort.load())
        return Status::fail(Code::UNAVAILABLE, std::string("a ") + what + " failed; see " + dir.string());
      for (auto* group : {&subs, &pubs}) {
        for (auto& c : *group) {
          if (auto rc = c->poll_exit()) {
            return Status::fail(Code::UNAVAILABLE, std::string("a child exited with ") + std::to_string(*rc) +
                                                       " while " + what + "s got ready; see " + dir.string());
          }
        }
      }
      if (server->poll_exit() || (second && second->poll_exit()))
        return Status::fail(Code::UNAVAILABLE, "the server exited");
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::fail(Code::UNAVAILABLE, std::string(what) + "s not ready in time; see " + dir.string());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Status::ok();
  };
  for (int j = 0; j < shape.subscribers; ++j) {
    auto c = Child::start(role_argv(sub_role, j), dir / ("sub-" + std::to_string(j) + ".log"));
    if (!c) return fail(c.status());
    subs.push_back(std::move(c).value());
  }
  Status ready = wait_ready(ctl.ready_subs, shape.subscribers, kReadyTimeout, "subscriber");
  if (!ready) return fail(ready);
  const std::int64_t prebuild_begin = mono_ns();
  for (int p = 0; p < shape.publishers; ++p) {
    auto c = Child::start(role_argv(pub_role, p), dir / ("pub-" + std::to_string(p) + ".log"));
    if (!c) return fail(c.status());
    pubs.push_back(std::move(c).value());
  }
  ready = wait_ready(ctl.ready_pubs, shape.publishers, kPrebuildTimeout, "publisher");
  if (!ready) return fail(ready);
  data.prebuild_wall_ns = mono_ns() - prebuild_begin;

  // The timeline. start_ns last: publishers wait for it.
  const std::int64_t start = mono_ns() + 200'000'000;
  data.start_ns = start;
  data.measure_begin_ns = start + static_cast<std::int64_t>(spec.warmup_s * 1e9);
  data.measure_end_ns = data.measure_begin_ns + static_cast<std::int64_t>(spec.duration_s * 1e9);
  ctl.measure_begin_ns.store(data.measure_begin_ns);
  ctl.measure_end_ns.store(data.measure_end_ns);
  ctl.drain_deadline_ns.store(data.measure_end_ns + kDrainNs);
  if (spec.stall) {
    data.stall_ns = start + 500'000'000;
    ctl.stall_ns.store(data.stall_ns);
    ctl.stalled_sub.store(0);
  }
  ctl.start_ns.store(start);

  // Resident memory from the start (the stall test stalls during warm-up).
  sleep_until(start);
  while (mono_ns() < data.measure_begin_ns && !ctl.abort.load()) {
    data.server_rss.emplace_back(mono_ns(), sample_proc(server->pid()).rss_kib);
    sleep_until(std::min(mono_ns() + 100'000'000, data.measure_begin_ns));
  }
  std::vector<std::unique_ptr<Child>> profilers;
  if (!spec.profile_dir.empty()) {
    std::filesystem::create_directories(spec.profile_dir);
    for (const auto& [name, pid] :
         {std::pair{std::string("server"), server->pid()}, std::pair{std::string("sub0"), subs.front()->pid()}}) {
      auto c =
          Child::start({spec.perf.string(), "record", "-e", "cpu-clock", "-F", "499", "--call-graph", "dwarf,16384",
                        "-p", std::to_string(pid), "-o", (spec.profile_dir / (name + ".perf.data")).string()},
                       spec.profile_dir / (name + ".perf.log"));
      if (c) profilers.push_back(std::move(c).value());
    }
  }
  data.server_begin = sample_proc(server->pid());
  const double second_begin = second ? sample_proc(second->pid()).cpu_seconds : 0;
  const double pubs_begin = cpu_of(pubs), subs_begin = cpu_of(subs);
  const double store_begin = pg ? pg->cpu_seconds() : 0;
  const double busy_begin = machine_busy_seconds();
  while (mono_ns() < data.measure_end_ns && !ctl.abort.load()) {
    data.server_rss.emplace_back(mono_ns(), sample_proc(server->pid()).rss_kib);
    sleep_until(std::min(mono_ns() + 100'000'000, data.measure_end_ns));
  }
  data.server_end = sample_proc(server->pid());
  if (second) data.other_brokers_cpu_s = sample_proc(second->pid()).cpu_seconds - second_begin;
  data.pubs_cpu_s = cpu_of(pubs) - pubs_begin;
  data.subs_cpu_s = cpu_of(subs) - subs_begin;
  if (pg) data.store_cpu_s = pg->cpu_seconds() - store_begin;
  data.machine_busy_s = machine_busy_seconds() - busy_begin;
  data.loadavg_end = load_average();
  for (auto& p : profilers) {
    ::kill(p->pid(), SIGINT);  // perf writes its data and exits
    p->wait_exit(std::chrono::seconds(30));
  }

  // Drain: publishers finish their windows, then subscribers write records.
  while (ctl.done_pubs.load() < static_cast<std::uint32_t>(shape.publishers) && !ctl.abort.load() &&
         mono_ns() < data.measure_end_ns + kDrainNs + 5'000'000'000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ctl.finish.store(1);
  for (auto& c : pubs) c->wait_exit(std::chrono::seconds(20));
  for (auto& c : subs) c->wait_exit(std::chrono::seconds(20));
  data.server_hwm_kib = sample_proc(server->pid()).hwm_kib;
  if (data.server_hwm_kib == 0) data.server_hwm_kib = data.server_end.hwm_kib;
  server->stop(std::chrono::seconds(20));
  if (second) second->stop(std::chrono::seconds(20));
  data.server_log_tail = tail_of(server_log, 5);
  if (spec.stall && spec.system == System::kTearline) {
    std::ifstream log(server_log);
    const std::string needle = "event=slow_consumer node=" + subscriber_node(0);
    for (std::string line; std::getline(log, line);) {
      if (line.find(needle) != std::string::npos) data.stalled_sub_closed = true;
    }
  }
  if (ctl.abort.load()) return fail(Status::fail(Code::UNAVAILABLE, "the run was aborted by a child"));

  for (int p = 0; p < shape.publishers; ++p) {
    PubData d;
    Status s = read_pub_records(pub_records_file(dir, p), &d.summary, &d.records);
    if (!s) return fail(s);
    data.pubs.push_back(std::move(d));
  }
  for (int j = 0; j < shape.subscribers; ++j) {
    SubData d;
    Status s = read_sub_records(sub_records_file(dir, j), &d.summary, &d.records);
    if (!s) return fail(s);
    data.subs.push_back(std::move(d));
  }
  std::filesystem::remove_all(store_dir, ec);
  std::filesystem::remove_all(dir / "data-2", ec);
  return data;
}

}  // namespace tearline::bench
