// What the PostgreSQL store's test files share: the case's database, a
// connection of the test's own, and ending the store's sessions.
#pragma once

#include <pqxx/pqxx>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "broker/pg_store.h"
#include "store_contract.h"
#include "support/pg_cluster.h"

namespace tearline::broker::store_contract {

using Rows = std::vector<std::vector<std::string>>;

// The case's database: named after its folder (StorePlace makes a new one).
inline std::string database_of(const std::filesystem::path& dir) { return dir.filename().string(); }

// A connection of the test's own, to the case's database or another.
class Db {
 public:
  explicit Db(const std::string& database) : conn_(testing::PgCluster::shared().conninfo(database)) {}
  explicit Db(const StorePlace& place) : Db(database_of(place.dir())) {}

  // Every row of `sql`, each column as text ("" for NULL).
  Rows rows(const std::string& sql) {
    pqxx::nontransaction tx(conn_);
    Rows out;
    for (const auto& row : tx.exec(sql)) {
      std::vector<std::string> values;
      for (const auto& field : row) values.emplace_back(field.is_null() ? "" : field.c_str());
      out.push_back(std::move(values));
    }
    return out;
  }
  void exec(const std::string& sql) { rows(sql); }
  pqxx::connection& connection() { return conn_; }

 private:
  pqxx::connection conn_;
};

// Ends the store's sessions named `application` in the case's database
// (waiting until they are gone); how many there were.
inline std::size_t end_sessions(const StorePlace& place, const char* application) {
  Db admin("postgres");
  return admin
      .rows("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = '" +
            std::string(application) + "' AND datname = '" + database_of(place.dir()) + "'")
      .size();
}

// Waits (up to a minute) until the store's write session of the case waits
// for `wait_event`; whether it did. A state reached, not a time guessed.
inline bool writer_waits_for(const StorePlace& place, const std::string& wait_event) {
  Db admin("postgres");
  const std::string sql = "SELECT pid FROM pg_stat_activity WHERE application_name = '" +
                          std::string(PgStore::kWriteApplicationName) + "' AND datname = '" + database_of(place.dir()) +
                          "' AND wait_event = '" + wait_event + "'";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!admin.rows(sql).empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace tearline::broker::store_contract
