// broker/pg_store with several writers on one store (issue 17): each broker
// registers as its own writer by name and numbers its own reports; report
// ids stay unique across writers; read_streams reads the others' reports in
// one snapshot; cursors in another writer's stream; the watch woken by
// another writer's commit; and the unnamed writer of a schema-1 store
// claimed only by the broker its receipts name.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "broker/pg_store.h"
#include "store_postgresql_support.h"
#include "tearline/v1/receipt.pb.h"

namespace tearline::broker::store_contract {
namespace {

StoreOptions as_writer(const std::string& name) {
  StoreOptions o;
  o.writer = name;
  return o;
}

// A blob report whose id differs from blob_report(seq)'s by `salt`.
StoredReport salted_report(std::uint64_t seq, char salt) {
  StoredReport r = blob_report(seq, 40, kNowMs);
  r.report_id[14] = salt;
  return r;
}

Batch reports(std::vector<StoredReport> rs) {
  Batch b;
  b.reports = std::move(rs);
  return b;
}

std::vector<std::pair<std::string, std::uint64_t>> positions_of(const StreamRead& read) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  out.reserve(read.reports.size());
  for (const auto& r : read.reports) out.emplace_back(r.writer, r.seq);
  return out;
}

using Positions = std::vector<std::pair<std::string, std::uint64_t>>;
using Heads = std::map<std::string, std::uint64_t>;

// Makes the case's store look as schema version 1 left it: writer 1 had no
// name, and the version says 1.
void downgrade_to_schema_1(const StorePlace& place) {
  Db db(place);
  db.exec("ALTER TABLE writers DROP COLUMN broker_id");
  db.exec("UPDATE schema_version SET version = 1");
}

}  // namespace

TEST_CASE("postgresql streams: two writers on one store number their own reports and read each other's") {
  StorePlace place;
  Opened a = place.open(as_writer("broker-a"));
  Opened b = place.open(as_writer("broker-b"));
  REQUIRE(
      a.store->commit(reports({blob_report(1, 40, kNowMs), blob_report(2, 40, kNowMs), blob_report(3, 40, kNowMs)})));
  // Report ids are shared by every writer: B cannot store A's report again.
  std::string clash;
  CHECK(code_of(b.store->commit(reports({blob_report(1, 40, kNowMs)}), &clash)) == "REPLAYED_REPORT");
  CHECK(clash == blob_report(1, 40, kNowMs).report_id);
  REQUIRE(b.store->commit(reports({salted_report(1, 'b')})));

  CHECK(Db(place).rows("SELECT writer_id, broker_id, last_seq FROM writers ORDER BY writer_id") ==
        Rows{{"1", "broker-a", "3"}, {"2", "broker-b", "1"}});
  CHECK(static_cast<PgStore&>(*a.store).writer_id() == 1);
  CHECK(static_cast<PgStore&>(*b.store).writer_id() == 2);

  // Own reports through read_after, the others' through read_streams.
  CHECK(stored_seqs(*b.store) == std::vector<std::uint64_t>{1});
  auto all = b.store->read_streams({}, 10);
  REQUIRE(all);
  CHECK(all->heads == Heads{{"broker-a", 3}, {"broker-b", 1}});
  CHECK(positions_of(*all) == Positions{{"broker-a", 1}, {"broker-a", 2}, {"broker-a", 3}});
  CHECK(all->reports[1].report_id == blob_report(2, 40, kNowMs).report_id);
  CHECK(all->reports[1].bytes == blob_report(2, 40, kNowMs).bytes);
  CHECK(all->more.empty());

  auto page = b.store->read_streams({}, 2);
  REQUIRE(page);
  CHECK(positions_of(*page) == Positions{{"broker-a", 1}, {"broker-a", 2}});
  CHECK(page->more == std::vector<std::string>{"broker-a"});
  auto rest = b.store->read_streams({{"broker-a", 2}}, 2);
  REQUIRE(rest);
  CHECK(positions_of(*rest) == Positions{{"broker-a", 3}});
  CHECK(rest->more.empty());
  auto none = b.store->read_streams({{"broker-a", 3}}, 2);
  REQUIRE(none);
  CHECK(none->reports.empty());

  auto from_a = a.store->read_streams({}, 10);
  REQUIRE(from_a);
  CHECK(positions_of(*from_a) == Positions{{"broker-b", 1}});

  // Each writer found again by name; a new name is the next writer.
  a.store.reset();
  Opened again = place.open(as_writer("broker-a"));
  CHECK(static_cast<PgStore&>(*again.store).writer_id() == 1);
  CHECK(again.state.last_seq == 3);
  Opened c = place.open(as_writer("broker-c"));
  CHECK(static_cast<PgStore&>(*c.store).writer_id() == 3);
  CHECK(c.state.last_seq == 0);
  // Replay protection across writers holds after a restart too.
  CHECK(c.state.recent_ids.size() == 4);
}

TEST_CASE("postgresql streams: a cursor in another writer's stream is that writer's cursor of the node") {
  StorePlace place;
  Opened a = place.open(as_writer("broker-a"));
  Opened b = place.open(as_writer("broker-b"));
  REQUIRE(a.store->commit(reports({blob_report(1, 40, kNowMs), blob_report(2, 40, kNowMs)})));
  Batch moved;
  moved.stream_cursors[{"fgr-liaison", "broker-a"}] = 2;
  moved.cursors["fgr-liaison"] = 0;
  REQUIRE(b.store->commit(moved));

  Batch unknown;
  unknown.stream_cursors[{"fgr-liaison", "broker-z"}] = 1;
  unknown.reports.push_back(salted_report(2, 'z'));
  const Status refused = b.store->commit(unknown);
  CHECK(code_of(refused) == "STORAGE_FAILED");
  CHECK(refused.reasons()[0].message.find("no writer \"broker-z\"") != std::string::npos);
  CHECK(Db(place).rows("SELECT COUNT(*) FROM reports WHERE writer_id = 2") == Rows{{"0"}});

  a.store.reset();
  b.store.reset();
  Opened a2 = place.open(as_writer("broker-a"));
  CHECK(a2.state.cursors == std::map<std::string, std::uint64_t>{{"fgr-liaison", 2}});
  CHECK(a2.state.stream_cursors ==
        std::map<std::string, std::map<std::string, std::uint64_t>>{{"fgr-liaison", {{"broker-b", 0}}}});
  Opened b2 = place.open(as_writer("broker-b"));
  CHECK(b2.state.cursors == std::map<std::string, std::uint64_t>{{"fgr-liaison", 0}});
  CHECK(b2.state.stream_cursors ==
        std::map<std::string, std::map<std::string, std::uint64_t>>{{"fgr-liaison", {{"broker-a", 2}}}});
}

TEST_CASE("postgresql streams: the watch wakes on another writer's reports, not on its own or on other rows") {
  StorePlace place;
  Opened a = place.open(as_writer("broker-a"));
  Opened b = place.open(as_writer("broker-b"));
  std::unique_ptr<StoreWatch> watch = a.store->watch();
  REQUIRE(watch);
  CHECK(watch->wait(0));  // it starts listening: what came before is unknown
  CHECK_FALSE(watch->wait(100));

  REQUIRE(b.store->commit(reports({salted_report(1, 'b')})));
  CHECK(watch->wait(60000));
  CHECK_FALSE(watch->wait(100));  // one commit, one wake-up

  REQUIRE(a.store->commit(reports({blob_report(1, 40, kNowMs)})));
  Batch cursor_only;
  cursor_only.cursors["fgr-liaison"] = 1;
  REQUIRE(b.store->commit(cursor_only));
  CHECK_FALSE(watch->wait(300));

  // Its session ended: the next wait says "read" and listens again.
  CHECK(end_sessions(place, PgStore::kWatchApplicationName) == 1);
  CHECK(watch->wait(60000));
  CHECK_FALSE(watch->wait(100));
  const Status committed = b.store->commit(reports({salted_report(2, 'b')}));
  INFO(committed.to_string());
  REQUIRE(committed);
  CHECK(watch->wait(60000));
}

TEST_CASE("postgresql streams: a schema-1 store's unnamed writer goes to the broker its receipts name") {
  StorePlace place;
  {
    Opened a = place.open(as_writer("broker-a"));
    StoredReport r = blob_report(1, 40, kNowMs);
    tearline::v1::AcceptanceReceipt receipt;
    receipt.set_broker_id("broker-a");
    const std::string bytes = receipt.SerializeAsString();
    r.receipt.assign(bytes.begin(), bytes.end());
    REQUIRE(a.store->commit(reports({r})));
  }
  downgrade_to_schema_1(place);
  Opened b = place.open(as_writer("broker-b"));
  CHECK(static_cast<PgStore&>(*b.store).writer_id() == 2);
  CHECK(b.state.last_seq == 0);
  Opened a = place.open(as_writer("broker-a"));
  CHECK(static_cast<PgStore&>(*a.store).writer_id() == 1);
  CHECK(a.state.last_seq == 1);
  CHECK(Db(place).rows("SELECT version FROM schema_version") == Rows{{"2"}});
}

TEST_CASE("postgresql streams: without receipts, the first broker to open a schema-1 store takes its writer") {
  StorePlace place;
  {
    Opened a = place.open(as_writer("broker-a"));
    REQUIRE(a.store->commit(reports({blob_report(1, 40, kNowMs)})));  // no receipt
  }
  downgrade_to_schema_1(place);
  Opened b = place.open(as_writer("broker-b"));
  CHECK(static_cast<PgStore&>(*b.store).writer_id() == 1);
  CHECK(b.state.last_seq == 1);
  Opened a = place.open(as_writer("broker-a"));
  CHECK(static_cast<PgStore&>(*a.store).writer_id() == 2);
}

}  // namespace tearline::broker::store_contract
