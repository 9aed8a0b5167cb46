// broker/pg_store with several writers on one store (issue 17): each broker
// registers as its own writer by name and numbers its own reports; report
// ids stay unique across writers; heads and read_stream read the others'
// streams; cursors in another writer's stream; the watch woken by
// another writer's commit; and the unnamed writer of a schema-1 store
// claimed only by the broker its receipts name.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "broker/pg_store.h"
#include "crypto/keys.h"
#include "store_postgresql_support.h"
#include "tearline/v1/receipt.pb.h"

namespace tearline::broker::store_contract {
namespace {

StoreOptions as_writer(const std::string& name) {
  StoreOptions o;
  o.writer = name;
  return o;
}

// A blob report whose id differs from blob_report(seq)'s by `salt`, from
// an originator of its own ("node-<salt>"), whose sequences are its own.
StoredReport salted_report(std::uint64_t seq, char salt) {
  StoredReport r = blob_report(seq, 40, kNowMs);
  r.report_id[14] = salt;
  r.originator = r.source.originator = std::string("node-") + salt;
  return r;
}

// The same, from blob_report's originator with `sequence`.
StoredReport same_originator(std::uint64_t seq, char salt, std::uint64_t sequence) {
  StoredReport r = blob_report(seq, 40, kNowMs);
  r.report_id[14] = salt;
  r.sequence = sequence;
  return r;
}

Batch reports(std::vector<StoredReport> rs) {
  Batch b;
  b.reports = std::move(rs);
  return b;
}

std::vector<std::pair<std::string, std::uint64_t>> positions_of(const Result<std::vector<StoredReport>>& read) {
  REQUIRE(read);
  std::vector<std::pair<std::string, std::uint64_t>> out;
  out.reserve(read->size());
  for (const auto& r : *read) out.emplace_back(r.writer, r.seq);
  return out;
}

using Positions = std::vector<std::pair<std::string, std::uint64_t>>;
using Heads = std::map<std::string, std::uint64_t>;

// Makes the case's store look as schema version 1 left it: writer 1 had no
// name, and the version says 1.
void downgrade_to_schema_1(const StorePlace& place) {
  Db db(place);
  db.exec("ALTER TABLE writers DROP COLUMN broker_id");
  db.exec("ALTER TABLE originators DROP COLUMN last_writer, DROP COLUMN last_seq");
  db.exec("ALTER TABLE reports DROP COLUMN prev_writer, DROP COLUMN prev_seq");
  db.exec("DROP TABLE node_claims");
  db.exec("ALTER TABLE reports DROP COLUMN path");
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

  // Own reports through read_after, the others' through read_stream.
  CHECK(stored_seqs(*b.store) == std::vector<std::uint64_t>{1});
  auto heads = b.store->heads();
  REQUIRE(heads);
  CHECK(*heads == Heads{{"broker-a", 3}, {"broker-b", 1}});
  auto all = b.store->read_stream("broker-a", 0, 10);
  CHECK(positions_of(all) == Positions{{"broker-a", 1}, {"broker-a", 2}, {"broker-a", 3}});
  CHECK((*all)[1].report_id == blob_report(2, 40, kNowMs).report_id);
  CHECK((*all)[1].bytes == blob_report(2, 40, kNowMs).bytes);
  CHECK(positions_of(b.store->read_stream("broker-a", 0, 2)) == Positions{{"broker-a", 1}, {"broker-a", 2}});
  CHECK(positions_of(b.store->read_stream("broker-a", 2, 2)) == Positions{{"broker-a", 3}});
  CHECK(positions_of(b.store->read_stream("broker-a", 3, 2)).empty());
  CHECK(positions_of(b.store->read_stream("broker-z", 0, 2)).empty());
  // Its own stream, as read_after: the writer left empty.
  CHECK(positions_of(b.store->read_stream("broker-b", 0, 2)) == Positions{{"", 1}});
  CHECK(positions_of(a.store->read_stream("broker-b", 0, 10)) == Positions{{"broker-b", 1}});

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

TEST_CASE("postgresql streams: a node's claim fences out the writer that held it before") {
  StorePlace place;
  Opened a = place.open(as_writer("broker-a"));
  Opened b = place.open(as_writer("broker-b"));
  auto first = a.store->claim_node("fgr-liaison");
  REQUIRE(first);
  REQUIRE(first->has_value());
  CHECK((*first)->fence == 1);
  CHECK((*first)->patterns.empty());
  CHECK_FALSE((*first)->cursor);
  Batch mailbox = reports({blob_report(1, 40, kNowMs)});
  mailbox.subscriptions["fgr-liaison"] = {"unit.>", "intel.>"};
  mailbox.cursors["fgr-liaison"] = 0;
  mailbox.fences["fgr-liaison"] = 1;
  std::vector<std::string> fenced{"left over"};
  REQUIRE(a.store->commit(mailbox, nullptr, nullptr, &fenced));
  CHECK(fenced.empty());

  // B takes the node over and reads what A wrote of it.
  auto second = b.store->claim_node("fgr-liaison");
  REQUIRE(second);
  REQUIRE(second->has_value());
  CHECK((*second)->fence == 2);
  CHECK((*second)->patterns == std::vector<std::string>{"unit.>", "intel.>"});
  CHECK_FALSE((*second)->cursor);
  CHECK((*second)->stream_cursors == std::map<std::string, std::uint64_t>{{"broker-a", 0}});

  // A, still under fence 1: the node's rows are kept out, the rest is written.
  Batch late = reports({blob_report(2, 40, kNowMs)});
  late.subscriptions["fgr-liaison"] = {"intel.>"};
  late.cursors["fgr-liaison"] = 2;
  late.cursors["dea-cucuta-agent"] = 2;
  late.fences["fgr-liaison"] = 1;
  REQUIRE(a.store->commit(late, nullptr, nullptr, &fenced));
  CHECK(fenced == std::vector<std::string>{"fgr-liaison"});
  Db db(place);
  CHECK(db.rows("SELECT node, writer_id, acked FROM cursors ORDER BY node, writer_id") ==
        Rows{{"dea-cucuta-agent", "1", "2"}, {"fgr-liaison", "1", "0"}});
  CHECK(db.rows("SELECT pattern FROM subscriptions WHERE node = 'fgr-liaison' ORDER BY position") ==
        Rows{{"unit.>"}, {"intel.>"}});
  CHECK(stored_seqs(*a.store) == std::vector<std::uint64_t>{1, 2});

  // B, under fence 2, writes; A claiming back reads B's writes.
  Batch moved;
  moved.stream_cursors[{"fgr-liaison", "broker-a"}] = 2;
  moved.fences["fgr-liaison"] = 2;
  REQUIRE(b.store->commit(moved, nullptr, nullptr, &fenced));
  CHECK(fenced.empty());
  auto back = a.store->claim_node("fgr-liaison");
  REQUIRE(back);
  REQUIRE(back->has_value());
  CHECK((*back)->fence == 3);
  CHECK((*back)->cursor == std::optional<std::uint64_t>(2));
  // The holder claiming again keeps its fence: its own batches stay valid.
  auto again = a.store->claim_node("fgr-liaison");
  REQUIRE(again);
  REQUIRE(again->has_value());
  CHECK((*again)->fence == 3);
  CHECK(db.rows("SELECT node, holder, fence FROM node_claims") == Rows{{"fgr-liaison", "1", "3"}});
}

TEST_CASE("postgresql streams: a schema-2 store gains claims only while no broker writes it") {
  StorePlace place;
  { Opened first = place.open(as_writer("broker-a")); }
  Db db(place);
  db.exec("DROP TABLE node_claims");
  db.exec("ALTER TABLE reports DROP COLUMN path");
  db.exec("UPDATE schema_version SET version = 2");
  Db old_broker(place);  // a broker of schema 2, writing as writer 1
  old_broker.exec("SELECT pg_advisory_lock(" + std::to_string(PgStore::kWriterLockClass) + ", 1)");
  RecoveredState state;
  auto refused = store_backend_under_test().open(place.dir(), as_writer("broker-b"), kNowMs, kWindowMs, &state);
  REQUIRE_FALSE(refused);
  CHECK(refused.status().reasons()[0].message ==
        "the PostgreSQL store (schema version 2) is written by brokers of an older tearline: stop them all, then "
        "start this one, which upgrades the store");
  CHECK(db.rows("SELECT version FROM schema_version") == Rows{{"2"}});
  old_broker.exec("SELECT pg_advisory_unlock_all()");
  Opened b = place.open(as_writer("broker-b"));
  CHECK(db.rows("SELECT version FROM schema_version") == Rows{{"4"}});
  CHECK(db.rows("SELECT count(*) FROM node_claims") == Rows{{"0"}});
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

// Per-originator sequences hold across writers (docs/scale-out.md, step 4):
// checked in the commit's transaction, under the originator's row lock.
TEST_CASE("postgresql streams: an originator's sequence holds across writers, and each report names its previous") {
  StorePlace place;
  Opened a = place.open(as_writer("broker-a"));
  Opened b = place.open(as_writer("broker-b"));
  using Prevs = std::vector<std::optional<StreamPosition>>;
  Prevs prevs;
  REQUIRE(a.store->commit(reports({blob_report(1, 40, kNowMs), blob_report(2, 40, kNowMs)}), nullptr, &prevs));
  CHECK(prevs == Prevs{std::nullopt, StreamPosition{"broker-a", 1}});

  // B has not seen A's sequence 2: the store has.
  StoredReport behind = same_originator(1, 'b', 2);
  std::string clash;
  const Status regressed = b.store->commit(reports({behind}), &clash, &prevs);
  CHECK(code_of(regressed) == "SEQUENCE_REGRESSION");
  CHECK(regressed.reasons()[0].message ==
        "sequence 2 of diran-bogota-hq is not above its last accepted sequence 2 (accepted by broker-a)");
  CHECK(clash == behind.report_id);
  // A copy of the stored report itself is a replay.
  CHECK(code_of(b.store->commit(reports({blob_report(2, 40, kNowMs)}), &clash)) == "REPLAYED_REPORT");
  CHECK(Db(place).rows("SELECT COUNT(*) FROM reports WHERE writer_id = 2") == Rows{{"0"}});

  StoredReport next = same_originator(1, 'b', 3);
  REQUIRE(b.store->commit(reports({next}), nullptr, &prevs));
  CHECK(prevs == Prevs{StreamPosition{"broker-a", 2}});
  CHECK(Db(place).rows("SELECT node, last_sequence, last_writer, last_seq FROM originators") ==
        Rows{{"diran-bogota-hq", "3", "2", "1"}});

  // Read back as committed, from either side.
  auto from_b = a.store->read_stream("broker-b", 0, 10);
  REQUIRE(from_b);
  REQUIRE(from_b->size() == 1);
  CHECK((*from_b)[0].prev == std::optional<StreamPosition>(StreamPosition{"broker-a", 2}));
  auto own = a.store->read_after(0, 10);
  REQUIRE(own);
  REQUIRE(own->size() == 2);
  CHECK_FALSE((*own)[0].prev);
  CHECK((*own)[1].prev == std::optional<StreamPosition>(StreamPosition{"broker-a", 1}));
}

// Two brokers' batches of one originator: the second waits for the first's
// row lock and then sees what it committed.
TEST_CASE("postgresql streams: a commit waits for another writer's open batch of the same originator") {
  StorePlace place;
  Opened a = place.open(as_writer("broker-a"));
  Opened b = place.open(as_writer("broker-b"));
  REQUIRE(b.store->commit(reports({same_originator(1, 'b', 1)})));
  // broker-a's batch, open: the originator's row locked, a later sequence
  // of it written but not committed yet (as PgStore writes it).
  Db other(place);
  pqxx::work open_batch(other.connection());
  open_batch.exec(
      "UPDATE originators SET last_sequence = 10, last_writer = 1, last_seq = 7 WHERE node = 'diran-bogota-hq'");
  StoredReport r = same_originator(2, 'b', 5);
  Status waited;
  bool blocked = false;
  {
    std::thread writer([&] { waited = b.store->commit(reports({r})); });
    // Joined however the waiting below ends (an exception would otherwise
    // leave a joinable thread: std::terminate).
    struct Join {
      std::thread& t;
      ~Join() { t.join(); }
    } join{writer};
    blocked = writer_waits_for(place, "transactionid");
    open_batch.commit();
  }
  CHECK(blocked);
  CHECK(code_of(waited) == "SEQUENCE_REGRESSION");
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
  CHECK(Db(place).rows("SELECT version FROM schema_version") == Rows{{"4"}});
}

// The strongest evidence: writer 1's last audit checkpoint, signed with its
// broker's audit key (StoreOptions::writer_key).
TEST_CASE("postgresql streams: a schema-1 store's unnamed writer goes to the broker whose key signed its checkpoint") {
  StorePlace place;
  const crypto::SigningKey key_a = crypto::SigningKey::generate();
  const crypto::SigningKey key_b = crypto::SigningKey::generate();
  {
    Opened a = place.open(as_writer("broker-a"));
    audit::ChainWriter chain;
    Batch b = reports({blob_report(1, 40, kNowMs)});  // no receipt
    b.audit.push_back(chain.append(kNowMs, "publish", "n", "", "accepted", "d"));
    b.checkpoints.push_back(audit::sign_checkpoint(b.audit.back(), kNowMs, key_a));
    REQUIRE(a.store->commit(b));
  }
  downgrade_to_schema_1(place);
  StoreOptions b_options = as_writer("broker-a");  // even in A's name: the key decides
  b_options.writer_key = key_b.public_key();
  StoreOptions a_options = as_writer("broker-b");
  a_options.writer_key = key_a.public_key();
  Opened b = place.open(b_options);
  CHECK(static_cast<PgStore&>(*b.store).writer_id() == 2);
  Opened a = place.open(a_options);
  CHECK(static_cast<PgStore&>(*a.store).writer_id() == 1);
  CHECK(a.state.last_audit.index == 1);
}

TEST_CASE(
    "postgresql streams: a schema-1 store's writer with nothing in it goes to the first broker; one with no "
    "evidence to no one") {
  SECTION("empty: the first broker takes it") {
    StorePlace place;
    {
      Opened a = place.open(as_writer("broker-a"));
      Batch cursor_only;
      cursor_only.cursors["fgr-liaison"] = 0;
      REQUIRE(a.store->commit(cursor_only));
    }
    downgrade_to_schema_1(place);
    Opened b = place.open(as_writer("broker-b"));
    CHECK(static_cast<PgStore&>(*b.store).writer_id() == 1);
  }
  SECTION("a report without receipt or checkpoint: no claim") {
    StorePlace place;
    {
      Opened a = place.open(as_writer("broker-a"));
      REQUIRE(a.store->commit(reports({blob_report(1, 40, kNowMs)})));
    }
    downgrade_to_schema_1(place);
    Opened b = place.open(as_writer("broker-b"));
    CHECK(static_cast<PgStore&>(*b.store).writer_id() == 2);
    CHECK(Db(place).rows("SELECT writer_id, broker_id FROM writers ORDER BY writer_id") ==
          Rows{{"1", ""}, {"2", "broker-b"}});
  }
}

// An older broker still writing a schema-1 store holds writer 1's lock: the
// store is not upgraded under it.
TEST_CASE("postgresql streams: a schema-1 store is not upgraded while an older broker writes it") {
  StorePlace place;
  { Opened a = place.open(as_writer("broker-a")); }
  downgrade_to_schema_1(place);
  Db old_broker(place);
  old_broker.exec("SELECT pg_advisory_lock(" + std::to_string(PgStore::kWriterLockClass) + ", 1)");
  RecoveredState state;
  auto refused = store_backend_under_test().open(place.dir(), as_writer("broker-b"), kNowMs, kWindowMs, &state);
  REQUIRE_FALSE(refused);
  CHECK(code_of(refused.status()) == "STORAGE_FAILED");
  CHECK(refused.status().reasons()[0].message ==
        "the PostgreSQL store (schema version 1) is written by a broker of an older tearline (it holds writer 1): stop "
        "that broker, then start this one, which upgrades the store");
  CHECK(Db(place).rows("SELECT version FROM schema_version") == Rows{{"1"}});
  old_broker.exec("SELECT pg_advisory_unlock_all()");
  Opened b = place.open(as_writer("broker-b"));
  CHECK(Db(place).rows("SELECT version FROM schema_version") == Rows{{"4"}});
}

}  // namespace tearline::broker::store_contract

namespace tearline::broker::store_contract {

TEST_CASE(
    "postgresql streams: audit_heads names each other writer's last audit entry, and whether it is a heads entry") {
  StorePlace place;
  Opened a = place.open(as_writer("broker-a"));
  Opened b = place.open(as_writer("broker-b"));
  Opened c = place.open(as_writer("broker-c"));
  auto none = a.store->audit_heads();
  REQUIRE(none);
  CHECK(none->empty());  // no other writer has an entry yet

  audit::ChainWriter chain_b;
  Batch of_b;
  of_b.audit.push_back(chain_b.append(kNowMs, "broker", "", "", "ok", "started"));
  of_b.audit.push_back(chain_b.append(kNowMs, "session", "n", "", "admitted", ""));
  REQUIRE(b.store->commit(of_b));
  audit::ChainWriter chain_c;
  Batch of_c;
  of_c.audit.push_back(chain_c.append(kNowMs, "broker", "", "", "ok", "started"));
  of_c.audit.push_back(chain_c.append(kNowMs, std::string(audit::kHeadsEvent), "", "",
                                      std::string(audit::kHeadsDecision), "broker-b 2 " + std::string(64, '0')));
  REQUIRE(c.store->commit(of_c));
  REQUIRE(a.store->commit([&] {
    audit::ChainWriter chain_a;
    Batch of_a;
    of_a.audit.push_back(chain_a.append(kNowMs, "broker", "", "", "ok", "started"));
    return of_a;
  }()));

  auto heads = a.store->audit_heads();
  REQUIRE(heads);
  REQUIRE(heads->size() == 2);  // its own is not among them
  CHECK((*heads)[0].writer == "broker-b");
  CHECK((*heads)[0].index == 2);
  CHECK((*heads)[0].hash == chain_b.last_hash());
  CHECK_FALSE((*heads)[0].heads_entry);
  CHECK((*heads)[1].writer == "broker-c");
  CHECK((*heads)[1].index == 2);
  CHECK((*heads)[1].hash == chain_c.last_hash());
  CHECK((*heads)[1].heads_entry);
  auto from_b = b.store->audit_heads();
  REQUIRE(from_b);
  REQUIRE(from_b->size() == 2);
  CHECK((*from_b)[0].writer == "broker-a");
  CHECK((*from_b)[0].index == 1);
}

}  // namespace tearline::broker::store_contract
