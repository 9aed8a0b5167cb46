// broker/pg_store: runs the Store contract (store_contract.cc) on a real
// PostgreSQL 15 server (a private cluster, tests/support/pg_cluster.h; one
// database per test case), plus what only PostgreSQL has: the schema and its
// version, a server that goes away between batches or in the middle of one
// (STORAGE_FAILED: nothing written), and a connection lost while COMMIT
// waits for a synchronous standby (STORAGE_HALTED: the outcome is unknown;
// a restart finds what did commit and a retry is REPLAYED_REPORT).
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit.h"
#include "broker/pg_schema.h"
#include "broker/pg_store.h"
#include "store_contract.h"
#include "store_postgresql_support.h"
#include "support/pg_cluster.h"

namespace tearline::broker::store_contract {
namespace {

namespace fs = std::filesystem;
namespace v1 = tearline::v1;
using testing::PgCluster;

class PostgresBackend final : public StoreBackend {
 public:
  std::string name() const override { return "postgresql"; }
  Result<std::unique_ptr<Store>> open(const fs::path& dir, StoreOptions options, std::int64_t now_ms,
                                      std::int64_t recent_window_ms, RecoveredState* state) const override {
    PgCluster& cluster = PgCluster::shared();
    cluster.create_database(database_of(dir));
    return PgStore::open(cluster.conninfo(database_of(dir)), options, now_ms, recent_window_ms, state);
  }
  void remove(const fs::path& dir) const override {
    try {
      PgCluster::shared().drop_database(database_of(dir));
    } catch (const std::exception& e) {
      WARN("could not drop the case's database: " << e.what());
    }
  }
};

Batch reports_batch(std::vector<StoredReport> reports, std::uint64_t cursor) {
  Batch b;
  b.reports = std::move(reports);
  b.cursors["fgr-liaison"] = cursor;
  return b;
}

}  // namespace

const StoreBackend& store_backend_under_test() {
  static const PostgresBackend backend;
  return backend;
}

TEST_CASE("postgresql store: the documented tables at schema version 4; rows hold the batch as committed") {
  StorePlace place;
  Opened o = place.open();
  const StoredReport r = real_report(1, "diran-cucuta-commander", 9, kNowMs - 7, {label(v1::CONFIDENTIAL, {"COL"})});
  Batch b;
  b.reports.push_back(r);
  b.cursors["fgr-liaison"] = 1;
  b.subscriptions["fgr-liaison"] = {"unit.>", "intel.>"};
  b.audit.push_back(audit::ChainWriter().append(kNowMs, "publish", "n", "", "accepted", "d"));
  REQUIRE(o.store->commit(b));

  Db db(place);
  CHECK(db.rows("SELECT version FROM schema_version") == Rows{{"4"}});
  CHECK(db.rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename") ==
        Rows{{"audit"},
             {"audit_checkpoints"},
             {"cursors"},
             {"node_claims"},
             {"originators"},
             {"reports"},
             {"schema_version"},
             {"subscriptions"},
             {"writers"}});
  CHECK(db.rows("SELECT writer_id, seq, encode(report_id, 'hex'), originator, agency, country, topic, sequence,"
                " accepted_ms, octet_length(bytes), octet_length(receipt), octet_length(path) FROM reports") ==
        Rows{{"1", "1", to_hex(as_bytes(r.report_id)), "diran-cucuta-commander", r.source.agency, r.source.country,
              "intel.seizures", "9", std::to_string(kNowMs - 7), std::to_string(r.bytes.size()), "0", "0"}});
  CHECK(db.rows("SELECT writer_id, broker_id, last_seq, report_bytes FROM writers") ==
        Rows{{"1", "broker", "1", std::to_string(r.bytes.size())}});
  CHECK(db.rows("SELECT node, last_sequence FROM originators") == Rows{{"diran-cucuta-commander", "9"}});
  CHECK(db.rows("SELECT node, pattern, position FROM subscriptions ORDER BY position") ==
        Rows{{"fgr-liaison", "unit.>", "0"}, {"fgr-liaison", "intel.>", "1"}});
  CHECK(db.rows("SELECT node, writer_id, acked FROM cursors") == Rows{{"fgr-liaison", "1", "1"}});
  CHECK(db.rows("SELECT writer_id, idx, event, decision FROM audit") == Rows{{"1", "1", "publish", "accepted"}});
}

// footprint_bytes() never asks the server itself (status is answered on the
// broker's I/O thread): it is measured at open and after a commit.
TEST_CASE("postgresql store: footprint_bytes is the tables' size as measured at open and after a commit") {
  StorePlace place;
  Opened o = place.open();
  Db db(place);
  const auto tables_size = [&db] {
    return std::stoull(
        db.rows("SELECT SUM(pg_total_relation_size(format('%I.%I', schemaname, tablename)))::bigint FROM pg_tables"
                " WHERE schemaname = 'public'")[0][0]);
  };
  const std::uint64_t at_open = tables_size();
  CHECK(o.store->footprint_bytes() == at_open);
  StoredReport r = real_report(1, "diran-cucuta-commander", 1, kNowMs, {label(v1::CONFIDENTIAL, {"COL"})});
  r.receipt.resize(std::size_t{256} * 1024);  // bytes that do not compress: TOAST keeps them all
  std::uint32_t x = 2463534242u;
  for (auto& b : r.receipt) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  REQUIRE(o.store->commit(reports_batch({r}, 1)));
  const std::uint64_t after_commit = tables_size();
  CHECK(after_commit > at_open);
  CHECK(o.store->footprint_bytes() == after_commit);
}

TEST_CASE(
    "postgresql store: a newer schema version is refused and left as it is; no server is STORAGE_FAILED without the "
    "password; neither recovers anything") {
  RecoveredState state;
  state.last_seq = 77;
  SECTION("the schema version after this tearline's") {
    StorePlace place;
    { Opened o = place.open(); }
    const std::string newer = std::to_string(kPgSchemaVersion + 1);
    Db(place).exec("UPDATE schema_version SET version = " + newer);
    auto store = store_backend_under_test().open(place.dir(), StoreOptions{}, kNowMs, kWindowMs, &state);
    REQUIRE_FALSE(store);
    CHECK(codes_of(store.status()) == std::vector<std::string>{"STORAGE_FAILED"});
    CHECK(store.status().reasons()[0].message.find("schema version " + newer) != std::string::npos);
    CHECK(Db(place).rows("SELECT version FROM schema_version") == Rows{{newer}});
  }
  SECTION("a socket folder where no server listens") {
    auto store = PgStore::open("host=/nonexistent-tearline-pg port=5432 dbname=x password=hunter2", StoreOptions{},
                               kNowMs, kWindowMs, &state);
    REQUIRE_FALSE(store);
    CHECK(codes_of(store.status()) == std::vector<std::string>{"STORAGE_FAILED"});
    CHECK(store.status().reasons()[0].message.find("cannot open the PostgreSQL store") == 0);
    CHECK(store.status().reasons()[0].message.find("hunter2") == std::string::npos);
  }
  CHECK(state.last_seq == 77);
  CHECK(state.sequences.empty());
}

TEST_CASE(
    "postgresql store: a session the server ends between batches is replaced; one ended in the middle of a batch "
    "fails it (STORAGE_FAILED, nothing written, not halted) and the next batch commits") {
  StorePlace place;
  Opened o = place.open();
  REQUIRE(o.store->commit(reports_batch({blob_report(1, 100, kNowMs)}, 1)));

  INFO("between batches: the next commit and the next read connect anew");
  CHECK(end_sessions(place, PgStore::kWriteApplicationName) == 1);
  CHECK(end_sessions(place, PgStore::kReadApplicationName) == 1);
  Status s = o.store->commit(reports_batch({blob_report(2, 100, kNowMs)}, 2));
  INFO(s.to_string());
  CHECK(s);
  CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{1, 2});

  INFO("in the middle of a batch: its report is written, then it waits for a lock on cursors and its session ends");
  Db locker(place);
  pqxx::work lock(locker.connection());
  lock.exec("LOCK TABLE cursors IN ACCESS EXCLUSIVE MODE");
  Status failed;
  std::thread writer([&] { failed = o.store->commit(reports_batch({blob_report(3, 100, kNowMs)}, 3)); });
  const bool waited = writer_waits_for(place, "relation");
  const std::size_t ended = end_sessions(place, PgStore::kWriteApplicationName);
  writer.join();
  lock.abort();
  REQUIRE(waited);
  CHECK(ended == 1);
  INFO(failed.to_string());
  CHECK(codes_of(failed) == std::vector<std::string>{"STORAGE_FAILED"});
  CHECK_FALSE(o.store->halted());
  CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{1, 2});
  auto has = o.store->has_report(blob_report(3, 0, 0).report_id);
  REQUIRE(has);
  CHECK_FALSE(*has);

  INFO("the same batch again commits, and a restart recovers exactly the committed batches");
  s = o.store->commit(reports_batch({blob_report(3, 100, kNowMs)}, 3));
  INFO(s.to_string());
  CHECK(s);
  o.store.reset();
  Opened again = place.open();
  CHECK(again.state.last_seq == 3);
  CHECK(again.state.cursors == std::map<std::string, std::uint64_t>{{"fgr-liaison", 3}});
  CHECK(stored_seqs(*again.store) == std::vector<std::uint64_t>{1, 2, 3});
}

TEST_CASE(
    "postgresql store: a session lost while COMMIT waits for a synchronous standby halts the store (the outcome is "
    "unknown); a restart finds the batch committed, and a retry of its report is REPLAYED_REPORT, stored once") {
  StorePlace place;
  const std::string database = database_of(place.dir());
  Opened o = place.open();
  const StoredReport r1 = blob_report(1, 100, kNowMs);
  const StoredReport r2 = blob_report(2, 100, kNowMs);
  REQUIRE(o.store->commit(reports_batch({r1}, 1)));

  // The store's next session waits at COMMIT for the standby that never
  // comes (pg_cluster.h), committed locally.
  Db admin("postgres");
  admin.exec("ALTER DATABASE \"" + database + "\" SET synchronous_commit = on");
  CHECK(end_sessions(place, PgStore::kWriteApplicationName) == 1);
  Status lost;
  std::thread writer([&] { lost = o.store->commit(reports_batch({r2}, 2)); });
  const bool waited = writer_waits_for(place, "SyncRep");
  const std::size_t ended = end_sessions(place, PgStore::kWriteApplicationName);
  writer.join();
  admin.exec("ALTER DATABASE \"" + database + "\" RESET synchronous_commit");
  REQUIRE(waited);
  CHECK(ended == 1);
  INFO(lost.to_string());
  CHECK(codes_of(lost) == std::vector<std::string>{"STORAGE_HALTED"});
  CHECK(o.store->halted());
  CHECK(o.store->halt_reason().find("whether the batch committed is unknown") != std::string::npos);
  CHECK(codes_of(o.store->commit(reports_batch({}, 2))) == std::vector<std::string>{"STORAGE_HALTED"});

  INFO("a restart reads what the server holds: the batch had committed");
  o.store.reset();
  Opened again = place.open();
  CHECK(again.state.last_seq == 2);
  CHECK(again.state.cursors == std::map<std::string, std::uint64_t>{{"fgr-liaison", 2}});
  CHECK(again.state.sequences == std::map<std::string, std::uint64_t>{{"diran-bogota-hq", 2}});

  INFO("the publisher's retry of r2 (under the next seq) is REPLAYED_REPORT; r2 is stored once");
  StoredReport retry = r2;
  retry.seq = 3;
  std::string clashing_id;
  CHECK(codes_of(again.store->commit(reports_batch({retry}, 3), &clashing_id)) ==
        std::vector<std::string>{"REPLAYED_REPORT"});
  CHECK(clashing_id == r2.report_id);
  CHECK(stored_seqs(*again.store) == std::vector<std::uint64_t>{1, 2});
  CHECK(Db(place).rows("SELECT count(*) FROM reports WHERE encode(report_id, 'hex') = '" +
                       to_hex(as_bytes(r2.report_id)) + "'") == Rows{{"1"}});
}

}  // namespace tearline::broker::store_contract
