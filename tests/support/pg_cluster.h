// A private PostgreSQL 15 cluster for the tests of one executable, never the
// system service: initdb into a temporary folder, then pg_ctl start with the
// server listening on a unix socket in that folder only
// (listen_addresses = ''), trust authentication for local connections and
// fsync on. initdb refuses to run as root, so when the tests run as root the
// server's programs run as the `postgres` account the Debian package creates
// (runuser), and the folder is handed to it.
//
// One cluster per process (shared(), started at first use: initdb and start
// take a second or two), one database per test case (create_database). The
// destructor, at exit, stops the server (pg_ctl stop -m fast) and removes
// the folder. A process killed without unwinding leaves its server behind
// until the folder is gone: PostgreSQL stops by itself within a minute once
// it finds its lock file missing.
//
// Synchronous replication, for the tests that need a COMMIT whose outcome is
// unknown: the cluster names a synchronous standby that never connects
// (synchronous_standby_names = 'tearline_absent_standby') and sets
// synchronous_commit = local, so commits are flushed locally and never wait.
// A database set to synchronous_commit = on (ALTER DATABASE) makes each new
// session's COMMIT wait for that standby forever, committed locally: the
// state of a COMMIT whose connection is lost before a standby confirmed.
//
// When the PostgreSQL 15 server programs are missing, shared() throws
// std::runtime_error saying which package to install (scripts/install-deps.sh,
// the build group). TEARLINE_PG_BINDIR overrides where they are looked for
// (default /usr/lib/postgresql/15/bin).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace tearline::testing {

class PgCluster {
 public:
  // This process's cluster, started at the first call. Throws
  // std::runtime_error, with the server's log, when it cannot start.
  static PgCluster& shared();
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // A libpq connection string to `database` as the superuser postgres.
  std::string conninfo(const std::string& database = "postgres") const;
  // Creates `database` unless it exists; drops it (closing its sessions)
  // if it does. Throw what libpqxx throws.
  void create_database(const std::string& database) const;
  void drop_database(const std::string& database) const;
  // Runs one SQL statement (outside a transaction) in `database`.
  void exec(const std::string& sql, const std::string& database = "postgres") const;

 private:
  PgCluster();
  void run(const std::vector<std::string>& argv, const std::string& step) const;

  TempDir dir_;  // the socket, and data/ with the server's files
  std::filesystem::path bindir_;
  bool started_ = false;
};

}  // namespace tearline::testing
