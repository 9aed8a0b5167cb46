// broker/pg_store and lib/audit/pg_audit_reader on a real server (issue 17
// step 2): one writer per store (a second store on the same database is
// refused; a store whose session was lost while another wrote as its writer
// halts), and the audit log read through audit::AuditReader exactly as the
// SQLite reader reads the same entries.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit.h"
#include "audit/pg_audit_reader.h"
#include "broker/pg_store.h"
#include "broker/sqlite_store.h"
#include "store_postgresql_support.h"
#include "support/temp_dir.h"

namespace tearline::broker::store_contract {
namespace {

Batch one_report(std::uint64_t seq) {
  Batch b;
  b.reports.push_back(blob_report(seq, 100, kNowMs));
  return b;
}

bool has(const Status& s, const std::string& text) {
  return !s.reasons().empty() && s.reasons()[0].message.find(text) != std::string::npos;
}

// An entry as one comparable line: every field the reader returns.
std::string line_of(const audit::AuditEntry& e) {
  return std::to_string(e.index) + " " + std::to_string(e.time_ms) + " " + e.event + " " + e.node + " " + e.report +
         " " + e.decision + " [" + e.detail + "] " + to_hex(ByteView(e.prev_hash.data(), e.prev_hash.size())) + " " +
         to_hex(ByteView(e.hash.data(), e.hash.size()));
}

std::vector<std::string> lines_of(Result<std::vector<audit::AuditEntry>> entries) {
  REQUIRE(entries);
  std::vector<std::string> out;
  for (const auto& e : *entries) out.push_back(line_of(e));
  return out;
}

std::vector<std::uint64_t> indexes_of(Result<std::vector<audit::AuditEntry>> entries) {
  REQUIRE(entries);
  std::vector<std::uint64_t> out;
  for (const auto& e : *entries) out.push_back(e.index);
  return out;
}

// Waits (up to a minute) until no session holds writer 1's lock in the
// case's database; whether none does.
bool writer_lock_free(const StorePlace& place) {
  Db db(place);
  const std::string sql =
      "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = " + std::to_string(PgStore::kWriterLockClass) +
      " AND objid = 1 AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (std::chrono::steady_clock::now() < deadline) {
    if (db.rows(sql).empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TEST_CASE(
    "postgresql store: one writer: a second store on the same database is refused, naming the session that holds "
    "writer 1; a store whose session was lost while another wrote as writer 1 halts and writes nothing") {
  StorePlace place;
  Opened first = place.open();
  REQUIRE(first.store->commit(one_report(1)));

  RecoveredState untouched;
  untouched.last_seq = 77;
  auto refused = store_backend_under_test().open(place.dir(), StoreOptions{}, kNowMs, kWindowMs, &untouched);
  REQUIRE_FALSE(refused);
  INFO(refused.status().to_string());
  CHECK(codes_of(refused.status()) == std::vector<std::string>{"STORAGE_FAILED"});
  CHECK(has(refused.status(), "writer 1 of the PostgreSQL store is held by the session of server pid "));
  CHECK(has(refused.status(),
            ": another broker with the same id writes this store; stop it, or give this broker an "
            "id of its own (tearline certs broker --additional)"));
  CHECK(untouched.last_seq == 77);

  INFO("the first store's write session is lost: the lock goes with it, and a second store takes writer 1");
  // (The refused store's session may still be listed while it exits.)
  CHECK(end_sessions(place, PgStore::kWriteApplicationName) >= 1);
  REQUIRE(writer_lock_free(place));
  Opened second = place.open();
  CHECK(second.state.last_seq == 1);
  REQUIRE(second.store->commit(one_report(2)));

  SECTION("while the second holds writer 1, the first's next commit cannot take it back: halted") {
    const Status s = first.store->commit(one_report(2));
    INFO(s.to_string());
    CHECK(codes_of(s) == std::vector<std::string>{"STORAGE_HALTED"});
    CHECK(has(s, "writer 1 of the PostgreSQL store is held by the session of server pid "));
    CHECK(has(s, "this broker accepts nothing more: stop one of the two brokers"));
  }
  SECTION("once the second is gone, the first takes writer 1 back, finds seq 2 written meanwhile: halted") {
    second.store.reset();
    REQUIRE(writer_lock_free(place));  // the server ends the session after the client left
    const Status s = first.store->commit(one_report(2));
    INFO(s.to_string());
    CHECK(codes_of(s) == std::vector<std::string>{"STORAGE_HALTED"});
    CHECK(has(s,
              "writer 1 of the PostgreSQL store wrote up to seq 2 and audit entry 0 while this broker, which had "
              "written up to seq 1 and audit entry 0, was disconnected"));
    INFO("and it let the lock go: a new store opens");
    Opened third = place.open();
    CHECK(third.state.last_seq == 2);
  }
  CHECK(first.store->halted());
  CHECK(Db(place).rows("SELECT seq FROM reports ORDER BY seq") == Rows{{"1"}, {"2"}});
}

TEST_CASE(
    "postgresql audit reader: reads every entry, filter, checkpoint and distinct value exactly as the SQLite reader "
    "reads the same batches") {
  audit::ChainWriter chain;
  std::vector<audit::AuditEntry> entries = {
      chain.append(kNowMs - 3000, "connection", "diran-bogota-hq", "", "admitted", "curve"),
      chain.append(kNowMs - 2000, "publish", "dea-bogota-analyst", "ab12cd34", "accepted", "seq 1"),
      chain.append(kNowMs - 2000, "routing", "", "ab12cd34", "routed",
                   "section 1 | diran-bogota-hq CONFIDENTIAL ok | fgr-liaison withheld"),
      chain.append(kNowMs - 1000, "delivery", "diran-bogota-hq", "AB12CD34", "delivered", "sections [1]"),
      chain.append(kNowMs, "publish", "fgr-liaison", "ef56", "rejected", "CLEARANCE_BELOW: it's \"quoted\""),
  };
  audit::Checkpoint cp;
  cp.index = 3;
  cp.time_ms = kNowMs - 1500;
  cp.hash = entries[2].hash;
  cp.signature.fill(0x5a);
  Batch first, second;
  first.audit.assign(entries.begin(), entries.begin() + 3);
  first.checkpoints.push_back(cp);
  second.audit.assign(entries.begin() + 3, entries.end());

  StorePlace place;
  Opened pg = place.open();
  REQUIRE(pg.store->commit(first));
  REQUIRE(pg.store->commit(second));
  testing::TempDir dir("tearline-audit-sqlite");
  StoreOptions options;
  options.path = dir.path() / "tearline.db";
  RecoveredState state;
  {
    auto sqlite = SqliteStore::open(options, kNowMs, kWindowMs, &state);
    REQUIRE(sqlite);
    REQUIRE((*sqlite)->commit(first));
    REQUIRE((*sqlite)->commit(second));
  }
  auto opened =
      audit::pg_audit_reader(testing::PgCluster::shared().conninfo(database_of(place.dir())), audit::kPgWriterId);
  REQUIRE(opened);
  audit::AuditReader& from_pg = **opened;
  const auto from_sqlite = audit::sqlite_audit_reader(options.path);

  struct Case {
    const char* what;
    std::function<void(audit::Filter&)> set;
    std::vector<std::uint64_t> want;
  };
  const std::vector<Case> cases = {
      {"all", [](audit::Filter&) {}, {1, 2, 3, 4, 5}},
      {"node, with the routing clause about it", [](audit::Filter& f) { f.node = "diran-bogota-hq"; }, {1, 3, 4}},
      {"node named only as the last word of a clause: no match", [](audit::Filter& f) { f.node = "withheld"; }, {}},
      {"report prefix, any case", [](audit::Filter& f) { f.report = "AB12"; }, {2, 3, 4}},
      {"decision", [](audit::Filter& f) { f.decision = "rejected"; }, {5}},
      {"event", [](audit::Filter& f) { f.event = "publish"; }, {2, 5}},
      {"since", [](audit::Filter& f) { f.since_ms = kNowMs - 2000; }, {2, 3, 4, 5}},
      {"until", [](audit::Filter& f) { f.until_ms = kNowMs - 2000; }, {1, 2, 3}},
      {"after an index", [](audit::Filter& f) { f.after_index = 3; }, {4, 5}},
      {"the last 2 of the matching", [](audit::Filter& f) { f.limit = 2; }, {4, 5}},
      {"every filter at once",
       [](audit::Filter& f) { f = {"diran-bogota-hq", "ab", "delivered", "delivery", kNowMs - 1000, kNowMs, 1, 1}; },
       {4}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    audit::Filter filter;
    c.set(filter);
    CHECK(indexes_of(from_pg.entries(filter)) == c.want);
    CHECK(lines_of(from_pg.entries(filter)) == lines_of(from_sqlite->entries(filter)));
  }
  auto pg_checkpoints = from_pg.checkpoints();
  REQUIRE(pg_checkpoints);
  REQUIRE(pg_checkpoints->size() == 1);
  CHECK((*pg_checkpoints)[0].index == 3);
  CHECK((*pg_checkpoints)[0].time_ms == kNowMs - 1500);
  CHECK((*pg_checkpoints)[0].hash == entries[2].hash);
  CHECK((*pg_checkpoints)[0].signature == cp.signature);
  CHECK(*from_pg.distinct(audit::Column::kEvent) == *from_sqlite->distinct(audit::Column::kEvent));
  CHECK(*from_pg.distinct(audit::Column::kDecision) ==
        std::vector<std::string>{"accepted", "admitted", "delivered", "rejected", "routed"});
  CHECK(*from_pg.last_index() == 5);
  CHECK(*from_pg.hash_at(4) == std::optional<crypto::Digest>(entries[3].hash));
  CHECK(*from_pg.hash_at(6) == std::nullopt);
  CHECK(*from_sqlite->hash_at(4) == std::optional<crypto::Digest>(entries[3].hash));
  CHECK(audit::verify_chain(*from_pg.entries({}), {}, crypto::SigningKey::generate().public_key()).ok());
}

TEST_CASE(
    "postgresql audit reader: a connection string that does not parse is INVALID_FIELD; no server is UNAVAILABLE; "
    "neither message holds the password") {
  auto bad = audit::pg_audit_reader("host=/tmp dbname", audit::kPgWriterId);
  REQUIRE_FALSE(bad);
  CHECK(codes_of(bad.status()) == std::vector<std::string>{"INVALID_FIELD"});
  CHECK(has(bad.status(), "the PostgreSQL connection string does not parse: "));
  auto none = audit::pg_audit_reader("host=/nonexistent-tearline-pg dbname=x password=hunter2", audit::kPgWriterId);
  REQUIRE_FALSE(none);
  CHECK(codes_of(none.status()) == std::vector<std::string>{"UNAVAILABLE"});
  CHECK(has(none.status(), "cannot connect to the PostgreSQL store: "));
  CHECK(none.status().to_string().find("hunter2") == std::string::npos);
  CHECK(none.status().to_string().find('\n') == std::string::npos);
}

}  // namespace tearline::broker::store_contract
