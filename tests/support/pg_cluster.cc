#include "support/pg_cluster.h"

#include <pwd.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "base/process.h"

namespace tearline::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInstallAdvice =
    "install the Debian package postgresql (scripts/install-deps.sh installs it with the build group)";

std::string file_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

PgCluster& PgCluster::shared() {
  static PgCluster cluster;
  return cluster;
}

PgCluster::PgCluster() : dir_("tearline-pg") {
  const char* bindir = std::getenv("TEARLINE_PG_BINDIR");
  bindir_ = bindir != nullptr ? fs::path(bindir) : fs::path("/usr/lib/postgresql/15/bin");
  for (const char* program : {"initdb", "pg_ctl", "postgres"}) {
    if (::access((bindir_ / program).c_str(), X_OK) != 0) {
      throw std::runtime_error("the PostgreSQL 15 server program " + (bindir_ / program).string() +
                               " is missing (the tests start a private cluster with it): " + kInstallAdvice);
    }
  }
  if (::geteuid() == 0) {
    // initdb refuses root: the cluster belongs to the postgres account.
    const passwd* account = ::getpwnam("postgres");
    if (account == nullptr)
      throw std::runtime_error(std::string("no postgres account to run the cluster as: ") + kInstallAdvice);
    if (::chown(dir_.path().c_str(), account->pw_uid, account->pw_gid) != 0) {
      throw std::runtime_error("cannot hand " + dir_.path().string() + " to the postgres account");
    }
  }
  const fs::path data = dir_.path() / "data";
  run({"initdb", "-D", data.string(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
       // initdb's own syncing only: the server runs with fsync on.
       "--no-sync"},
      "initdb");
  {
    std::ofstream conf(data / "postgresql.conf", std::ios::app);
    conf << "\n# tests/support/pg_cluster.cc\n"
         << "listen_addresses = ''\n"
         << "unix_socket_directories = '" << dir_.path().string() << "'\n"
         << "port = 5432\n"
         << "fsync = on\n"
         << "max_connections = 20\n"
         << "shared_buffers = 16MB\n"
         << "synchronous_standby_names = 'tearline_absent_standby'\n"
         << "synchronous_commit = local\n";
    if (!conf) throw std::runtime_error("cannot write " + (data / "postgresql.conf").string());
  }
  run({"pg_ctl", "-D", data.string(), "-l", (dir_.path() / "server.log").string(), "-w", "-t", "60", "start"},
      "pg_ctl start");
  started_ = true;
}

PgCluster::~PgCluster() {
  if (!started_) return;
  try {
    run({"pg_ctl", "-D", (dir_.path() / "data").string(), "-m", "fast", "-w", "stop"}, "pg_ctl stop");
  } catch (const std::exception&) {
    // Ignored: nothing more to do at exit; the server stops once its folder is gone.
  }
}

void PgCluster::run(const std::vector<std::string>& argv, const std::string& step) const {
  ProcessSpec spec;
  if (::geteuid() == 0) spec.argv = {"runuser", "-u", "postgres", "--", "env", "-C", dir_.path().string()};
  spec.argv.push_back((bindir_ / argv.front()).string());
  spec.argv.insert(spec.argv.end(), argv.begin() + 1, argv.end());
  const fs::path log = dir_.path() / (argv.front() + ".out");
  spec.stdout_file = log;
  spec.stderr_to_stdout = true;
  auto process = Process::spawn(spec);
  if (!process) throw std::runtime_error(step + " could not start: " + process.status().to_string());
  const std::optional<int> status = process->wait_exit(std::chrono::seconds(120));
  if (status != 0) {
    std::string server_log = file_text(dir_.path() / "server.log");
    throw std::runtime_error("the test's PostgreSQL cluster in " + dir_.path().string() + ": " + step + " failed (" +
                             (status ? "exit status " + std::to_string(*status) : std::string("timed out")) + "):\n" +
                             file_text(log) + server_log);
  }
}

std::string PgCluster::conninfo(const std::string& database) const {
  return "host='" + dir_.path().string() + "' port=5432 user=postgres dbname='" + database + "'";
}

void PgCluster::exec(const std::string& sql, const std::string& database) const {
  pqxx::connection conn(conninfo(database));
  pqxx::nontransaction tx(conn);
  tx.exec(sql);
}

void PgCluster::create_database(const std::string& database) const {
  pqxx::connection conn(conninfo());
  pqxx::nontransaction tx(conn);
  if (tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", database).empty()) {
    tx.exec("CREATE DATABASE " + tx.quote_name(database));
  }
}

void PgCluster::drop_database(const std::string& database) const {
  pqxx::connection conn(conninfo());
  pqxx::nontransaction tx(conn);
  tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(database) + " WITH (FORCE)");
}

}  // namespace tearline::testing
