// broker/sqlite_store: runs the Store contract (store_contract.cc) on a real
// SQLite file, plus what only SQLite has: the file in WAL mode with the
// documented tables, the read connection seeing committed transactions
// only, the size cap in 4 KiB pages, and the failures to open a file.
#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "broker/sqlite_store.h"
#include "store_contract.h"

namespace tearline::broker::store_contract {
namespace {

namespace fs = std::filesystem;
namespace v1 = tearline::v1;

class SqliteBackend final : public StoreBackend {
 public:
  std::string name() const override { return "sqlite"; }
  Result<std::unique_ptr<Store>> open(const fs::path& dir, StoreOptions options, std::int64_t now_ms,
                                      std::int64_t recent_window_ms, RecoveredState* state) const override {
    options.path = dir / "tearline.db";
    return SqliteStore::open(options, now_ms, recent_window_ms, state);
  }
};

// A connection of the test's own to the store's file.
class Db {
 public:
  Db(const fs::path& path, int flags) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    INFO(sqlite3_errstr(rc));
    REQUIRE(rc == SQLITE_OK);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Every row of `sql`, each column as text.
  std::vector<std::vector<std::string>> rows(const char* sql) {
    sqlite3_stmt* s = nullptr;
    INFO(sql);
    REQUIRE(sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) == SQLITE_OK);
    std::vector<std::vector<std::string>> out;
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const void* p = sqlite3_column_blob(s, i);
        row.emplace_back(
            p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
              : std::string());
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(s);
    return out;
  }
  void exec(const char* sql) {
    INFO(sql << ": " << sqlite3_errmsg(db_));
    REQUIRE(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  }

 private:
  sqlite3* db_ = nullptr;
};

fs::path file_of(const StorePlace& place) { return place.dir() / "tearline.db"; }

}  // namespace

const StoreBackend& store_backend_under_test() {
  static const SqliteBackend backend;
  return backend;
}

TEST_CASE(
    "sqlite store: one database file in WAL mode with the documented tables; a row holds the report as committed") {
  StorePlace place;
  Opened o = place.open();
  const StoredReport r = real_report(1, "diran-cucuta-commander", 9, kNowMs - 7, {label(v1::CONFIDENTIAL, {"COL"})});
  Batch b;
  b.reports.push_back(r);
  b.cursors["fgr-liaison"] = 1;
  b.subscriptions["fgr-liaison"] = {"intel.>"};
  b.audit.push_back(audit::ChainWriter().append(kNowMs, "publish", "n", "", "accepted", "d"));
  REQUIRE(o.store->commit(b));

  CHECK(fs::exists(file_of(place)));
  CHECK(fs::exists(place.dir() / "tearline.db-wal"));  // WAL: the log beside the file while it is open
  Db db(file_of(place), SQLITE_OPEN_READONLY);
  CHECK(db.rows("PRAGMA journal_mode") == std::vector<std::vector<std::string>>{{"wal"}});
  CHECK(db.rows("PRAGMA page_size") == std::vector<std::vector<std::string>>{{"4096"}});
  CHECK(db.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") ==
        std::vector<std::vector<std::string>>{
            {"audit"}, {"audit_checkpoints"}, {"cursors"}, {"meta"}, {"originators"}, {"reports"}, {"subscriptions"}});
  CHECK(
      db.rows("SELECT seq, report_id, originator, agency, country, topic, sequence, accepted_ms, bytes FROM reports") ==
      std::vector<std::vector<std::string>>{{"1", r.report_id, "diran-cucuta-commander", r.source.agency,
                                             r.source.country, "intel.seizures", "9", std::to_string(kNowMs - 7),
                                             std::string(r.bytes.begin(), r.bytes.end())}});
  CHECK(db.rows("SELECT node, last_sequence FROM originators") ==
        std::vector<std::vector<std::string>>{{"diran-cucuta-commander", "9"}});
  CHECK(db.rows("SELECT node, pattern FROM subscriptions") ==
        std::vector<std::vector<std::string>>{{"fgr-liaison", "intel.>"}});
  CHECK(db.rows("SELECT node, acked FROM cursors") == std::vector<std::vector<std::string>>{{"fgr-liaison", "1"}});
  CHECK(db.rows("SELECT key, value FROM meta") == std::vector<std::vector<std::string>>{{"last_seq", "1"}});
  CHECK(db.rows("SELECT idx, event, decision FROM audit") ==
        std::vector<std::vector<std::string>>{{"1", "publish", "accepted"}});
}

TEST_CASE("sqlite store: a database made before receipts gains the receipt column; its reports read back without one") {
  StorePlace place;
  {
    // The reports table as it was before acceptance receipts.
    Db db(file_of(place), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    db.exec(
        "CREATE TABLE reports(seq INTEGER PRIMARY KEY, report_id BLOB NOT NULL UNIQUE,"
        " originator TEXT NOT NULL, agency TEXT NOT NULL, country TEXT NOT NULL, topic TEXT NOT NULL,"
        " sequence INTEGER NOT NULL, accepted_ms INTEGER NOT NULL, bytes BLOB NOT NULL)");
    db.exec(
        "INSERT INTO reports VALUES(1, x'00112233445566778899aabbccddeeff', 'fgr-liaison', 'FGR', 'MEX',"
        " 'intel.old', 1, 5, x'0102')");
  }
  Opened o = place.open();
  auto old = o.store->read_after(0, 10);
  REQUIRE(old);
  REQUIRE(old->size() == 1);
  CHECK(old->front().topic == "intel.old");
  CHECK(old->front().receipt.empty());
  StoredReport r = blob_report(2, 10, kNowMs);
  r.receipt = Bytes{1, 2, 3};
  Batch b;
  b.reports.push_back(r);
  REQUIRE(o.store->commit(b));
  auto rows = o.store->read_after(1, 10);
  REQUIRE(rows);
  REQUIRE(rows->size() == 1);
  CHECK(rows->front().receipt == Bytes{1, 2, 3});
  Db db(file_of(place), SQLITE_OPEN_READONLY);
  CHECK(db.rows("SELECT COUNT(*) FROM pragma_table_info('reports') WHERE name = 'receipt'") ==
        std::vector<std::vector<std::string>>{{"1"}});
}

TEST_CASE("sqlite store: reads see committed transactions only") {
  StorePlace place;
  Opened o = place.open();
  const StoredReport r = blob_report(1, 100, kNowMs);
  Db writer(file_of(place), SQLITE_OPEN_READWRITE);
  writer.exec("BEGIN IMMEDIATE");
  writer.exec(
      "INSERT INTO reports(seq, report_id, originator, agency, country, topic, sequence, accepted_ms, bytes)"
      " VALUES(1, x'01000000000000000000000000000062', 'diran-bogota-hq', 'DIRAN', 'COL', 'intel.flood', 1, 0, x'01')");
  CHECK(stored_seqs(*o.store).empty());
  auto has = o.store->has_report(r.report_id);
  REQUIRE(has);
  CHECK_FALSE(*has);
  CHECK_FALSE(o.store->find_source(r.report_id));
  writer.exec("COMMIT");
  CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{1});
  has = o.store->has_report(r.report_id);
  REQUIRE(has);
  CHECK(*has);
}

TEST_CASE("sqlite store: max_bytes is a cap in 4 KiB pages, never below 64 pages (256 KiB)") {
  SECTION("max_bytes = 1: the cap is 256 KiB") {
    StorePlace place;
    StoreOptions options;
    options.max_bytes = 1;
    Opened o = place.open(options);
    Batch fits;
    fits.reports.push_back(blob_report(1, std::size_t{100} * 1024, kNowMs));
    Status s = o.store->commit(fits);
    INFO(s.to_string());
    CHECK(s);
    Batch too_big;
    too_big.reports.push_back(blob_report(2, std::size_t{300} * 1024, kNowMs));
    CHECK(codes_of(o.store->commit(too_big)) == std::vector<std::string>{"STORAGE_FULL"});
    CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{1});
  }
  SECTION("max_bytes = 4 MiB: the same 300 KiB report fits") {
    StorePlace place;
    StoreOptions options;
    options.max_bytes = 4 << 20;
    Opened o = place.open(options);
    Batch b;
    b.reports.push_back(blob_report(1, std::size_t{100} * 1024, kNowMs));
    b.reports.push_back(blob_report(2, std::size_t{300} * 1024, kNowMs));
    Status s = o.store->commit(b);
    INFO(s.to_string());
    CHECK(s);
    CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{1, 2});
  }
}

TEST_CASE(
    "sqlite store: a file that cannot be opened is STORAGE_FAILED, one that is no database STORAGE_DAMAGED;"
    " neither recovers anything") {
  testing::TempDir dir("tearline-store");
  RecoveredState state;
  state.last_seq = 77;
  StoreOptions options;

  SECTION("in a folder that does not exist") {
    options.path = dir.path() / "missing" / "tearline.db";
    auto store = SqliteStore::open(options, kNowMs, kWindowMs, &state);
    REQUIRE_FALSE(store);
    CHECK(codes_of(store.status()) == std::vector<std::string>{"STORAGE_FAILED"});
    CHECK(store.status().reasons()[0].message.find(options.path.string()) != std::string::npos);
  }
  SECTION("a file of something else") {
    options.path = dir.path() / "tearline.db";
    std::ofstream(options.path, std::ios::binary) << std::string(8192, 'x');
    auto store = SqliteStore::open(options, kNowMs, kWindowMs, &state);
    REQUIRE_FALSE(store);
    CHECK(codes_of(store.status()) == std::vector<std::string>{"STORAGE_DAMAGED"});
  }
  CHECK(state.last_seq == 77);
  CHECK(state.sequences.empty());
}

}  // namespace tearline::broker::store_contract

namespace tearline::broker::store_contract {

TEST_CASE("sqlite store: one writer has no claims: claim_node says so, fences are ignored") {
  StorePlace place;
  Opened o = place.open();
  auto claim = o.store->claim_node("fgr-liaison");
  REQUIRE(claim);
  CHECK_FALSE(claim->has_value());
  Batch b;
  b.cursors["fgr-liaison"] = 0;
  b.fences["fgr-liaison"] = 7;
  std::vector<std::string> fenced{"left over"};
  REQUIRE(o.store->commit(b, nullptr, nullptr, &fenced));
  CHECK(fenced.empty());
  o.store.reset();
  Opened again = place.open();
  CHECK(again.state.cursors == std::map<std::string, std::uint64_t>{{"fgr-liaison", 0}});
}

}  // namespace tearline::broker::store_contract
