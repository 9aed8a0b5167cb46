#include "crash_support.h"

#include <sqlite3.h>

#include <pqxx/pqxx>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "base/bytes.h"
#include "base/files.h"

namespace tearline::crash_test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "crash_test: setup failed: %s\n", why.c_str());
  std::exit(2);
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

BrokerProcess::BrokerProcess(fs::path binary, fs::path config, fs::path log_dir)
    : binary_(std::move(binary)), config_(std::move(config)), log_dir_(std::move(log_dir)) {}

BrokerProcess::~BrokerProcess() { kill_now(); }

double BrokerProcess::start() {
  ++starts_;
  char name[32];
  std::snprintf(name, sizeof name, "broker-%04d.log", starts_);
  log_ = log_dir_ / name;
  ProcessSpec spec;
  spec.argv = {binary_.string(), "--config", config_.string()};
  spec.stdout_file = log_;
  spec.stderr_to_stdout = true;
  spec.parent_death_signal = 0;  // started from whichever thread; it is killed on purpose anyway
  const auto t0 = Clock::now();
  auto started = Process::spawn(spec);
  if (!started) die("cannot run " + binary_.string() + ": " + started.status().to_string());
  process_ = std::move(started).value();
  for (;;) {
    if (read_text(log_).find("event=started") != std::string::npos) break;
    if (process_.poll_exit()) die("the broker exited during start-up; its log:\n" + read_text(log_));
    if (seconds_since(t0) > 60) die("the broker did not start within 60 s; its log:\n" + read_text(log_));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return seconds_since(t0);
}

void BrokerProcess::kill_now() {
  process_.signal(SIGKILL);
  (void)process_.wait_exit(std::chrono::minutes(1));
}

int BrokerProcess::terminate() { return process_.stop(std::chrono::minutes(10)); }

namespace {

Stored read_store_sqlite(const fs::path& db_path) {
  Stored out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    die("cannot open " + db_path.string());
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT lower(hex(report_id)), seq FROM reports ORDER BY seq", -1, &q, nullptr);
  while (q && sqlite3_step(q) == SQLITE_ROW) {
    out.seq_of[reinterpret_cast<const char*>(sqlite3_column_text(q, 0))] =
        static_cast<std::uint64_t>(sqlite3_column_int64(q, 1));
  }
  sqlite3_finalize(q);
  sqlite3_prepare_v2(db, "SELECT report FROM audit WHERE event = 'publish' AND decision = 'accepted'", -1, &q, nullptr);
  while (q && sqlite3_step(q) == SQLITE_ROW)
    out.accepted_in_audit.insert(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
  sqlite3_finalize(q);
  sqlite3_close(db);
  return out;
}

Stored read_store_postgresql(const std::string& conninfo) {
  Stored out;
  pqxx::connection conn(conninfo);
  pqxx::read_transaction tx(conn);
  for (const auto& row : tx.exec("SELECT encode(report_id, 'hex'), seq FROM reports ORDER BY seq")) {
    out.seq_of[row[0].as<std::string>()] = static_cast<std::uint64_t>(row[1].as<std::int64_t>());
  }
  for (const auto& row : tx.exec("SELECT report FROM audit WHERE event = 'publish' AND decision = 'accepted'")) {
    out.accepted_in_audit.insert(row[0].as<std::string>());
  }
  return out;
}

}  // namespace

Stored read_store(const std::string& conninfo, const fs::path& data_dir) {
  return conninfo.empty() ? read_store_sqlite(data_dir / "tearline.db") : read_store_postgresql(conninfo);
}

crypto::VerifyKey audit_key(const identity::PkiPaths& pki) {
  auto text = read_file(pki.broker_audit_public(), 1024);
  if (!text) die(text.status().to_string());
  std::string hex = to_string(*text);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  Bytes raw;
  if (!from_hex(hex, &raw)) die("bad broker-audit.pub");
  auto key = crypto::VerifyKey::from(raw, "broker audit key");
  if (!key) die(key.status().to_string());
  return *key;
}

}  // namespace tearline::crash_test
