// broker/group_commit: what waits for the store and what happens once it is
// written, without the writer thread or a database: batches built in order,
// nothing answered before its batch is written, copies of staged reports
// answered after their original, the rebuild after an id clash, a failed
// commit refusing everything that sat on it, and audit checkpoints.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "broker/group_commit.h"
#include "broker_test_reports.h"
#include "crypto/merkle.h"
#include "crypto/signing.h"
#include "receipt/acceptance.h"

namespace tearline::broker {
namespace {

using test_reports::label;
using test_reports::make_report;
using test_reports::TestReport;
namespace v1 = tearline::v1;

constexpr std::int64_t kNow = 1'700'000'000'000;

const TestReport& report_a() {
  static const TestReport r = make_report("intel.seizures", "diran-bogota-hq", 1, {label(v1::SECRET, {"COL"})});
  return r;
}
const TestReport& report_b() {
  static const TestReport r = make_report("intel.arrests", "diran-bogota-hq", 2,
                                          {label(v1::SECRET, {"COL"}), label(v1::SECRET, {"COL", "USA"})});
  return r;
}
const TestReport& report_c() {
  static const TestReport r = make_report("intel.routes", "dea-cucuta-agent", 1, {label(v1::SECRET, {"COL", "USA"})});
  return r;
}

IngressResult result_of(const TestReport& r, const std::string& routing_id, std::uint64_t request_id,
                        Status status = Status::ok()) {
  IngressResult out;
  out.routing_id = routing_id;
  out.node_id = r.parsed->originator.node_id;
  out.request_id = request_id;
  out.status = std::move(status);
  out.report = r.parsed;
  out.raw = r.bytes;
  return out;
}

Status replayed(const TestReport& r) {
  return Status::fail(Code::REPLAYED_REPORT, "report " + r.parsed->report_id_hex() + " was accepted before");
}

std::size_t accepted_entries(const Batch& b) {
  std::size_t n = 0;
  for (const auto& e : b.audit) n += e.event == "publish" && e.decision == "accepted" ? 1 : 0;
  return n;
}

struct Fixture {
  ReplayGuard replay{600'000};
  crypto::SigningKey key = crypto::SigningKey::generate();
  StorageLimits storage;
  GroupCommit gc{storage, replay, key, "tearline-broker", nullptr};
  std::map<std::string, std::uint64_t> cursors;

  // Stages as the broker does: recorded in the ReplayGuard first.
  void stage(const TestReport& r, const std::string& rid, std::uint64_t request_id, std::int64_t at = kNow) {
    const std::string node = r.parsed->originator.node_id;
    const std::uint64_t previous = replay.last_sequence(node);
    replay.record(r.parsed->header.report_id(), node, r.parsed->header.sequence(), at);
    gc.stage(result_of(r, rid, request_id), previous, at);
  }
};

StoreWriter::Written written_ok(Batch b) { return StoreWriter::Written{Status::ok(), std::move(b), "", {}}; }

TEST_CASE("group commit: reports and answers wait for their batch, in order", "[broker][commit]") {
  Fixture f;
  CHECK(f.gc.idle());
  CHECK_FALSE(f.gc.build(kNow, kNow, f.cursors));  // nothing due
  f.gc.restore(41, audit::ChainWriter(), 0, kNow);
  f.stage(report_a(), "r1", 10);
  f.stage(report_b(), "r1", 11);
  f.gc.reply_after_commit("r2", 7);
  f.gc.subscriptions_changed("node-x", {"intel.>"});
  f.cursors["node-x"] = 40;
  f.gc.cursor_moved("node-x");
  CHECK_FALSE(f.gc.idle());
  CHECK(f.gc.oldest_pending_ms(kNow + 5) == kNow);

  auto batch = f.gc.build(kNow, kNow, f.cursors);
  REQUIRE(batch);
  CHECK(f.gc.in_flight());
  REQUIRE(batch->reports.size() == 2);
  CHECK(batch->reports[0].seq == 42);
  CHECK(batch->reports[0].report_id == report_a().parsed->header.report_id());
  CHECK(batch->reports[0].bytes == report_a().bytes);
  CHECK(batch->reports[1].seq == 43);
  CHECK(batch->reports[1].source.labels.size() == 2);
  CHECK(batch->subscriptions.at("node-x") == std::vector<std::string>{"intel.>"});
  CHECK(batch->cursors.at("node-x") == 40);
  REQUIRE(batch->audit.size() == 2);
  CHECK(batch->audit[0].detail == "seq 42 topic intel.seizures sections 1");
  CHECK(batch->audit[1].detail == "seq 43 topic intel.arrests sections 2");
  CHECK(batch->audit[1].index == 2);
  CHECK(f.gc.head() == 41);                        // nothing is committed before the writer says so
  CHECK_FALSE(f.gc.build(kNow, kNow, f.cursors));  // one batch at a time

  CommitOutcome out = f.gc.finish(written_ok(std::move(*batch)), kNow + 1);
  CHECK(out.kind == CommitOutcome::Kind::kWritten);
  REQUIRE(out.replies.size() == 1);
  CHECK(out.replies[0].routing_id == "r2");
  CHECK(out.replies[0].request_id == 7);
  REQUIRE(out.committed.size() == 2);
  CHECK(out.committed[0].staged.seq == 42);
  CHECK(out.committed[0].staged.result.request_id == 10);
  CHECK(out.committed[1].staged.seq == 43);
  CHECK(out.committed[1].source.originator == "diran-bogota-hq");
  CHECK(out.refused.empty());
  CHECK(f.gc.head() == 43);
  CHECK_FALSE(f.gc.in_flight());
  CHECK(f.gc.idle());
}

TEST_CASE("group commit: a copy of a staged report is answered only after the original's commit", "[broker][commit]") {
  Fixture f;
  f.stage(report_a(), "r1", 1);
  const IngressResult copy1 = result_of(report_a(), "r9", 5, replayed(report_a()));
  REQUIRE(f.gc.holds_original(copy1));
  CHECK_FALSE(f.gc.holds_original(result_of(report_b(), "r9", 6)));
  f.gc.hold_replay(copy1);  // before the build: travels with the batch
  auto batch = f.gc.build(kNow, kNow, f.cursors);
  REQUIRE(batch);
  const IngressResult copy2 = result_of(report_a(), "r9", 6, replayed(report_a()));
  REQUIRE(f.gc.holds_original(copy2));  // in flight
  f.gc.hold_replay(copy2);
  // A report staged after the build, and a copy of it: not settled by this batch.
  f.stage(report_b(), "r1", 2);
  f.gc.hold_replay(result_of(report_b(), "r9", 7, replayed(report_b())));

  CommitOutcome out = f.gc.finish(written_ok(std::move(*batch)), kNow);
  REQUIRE(out.kind == CommitOutcome::Kind::kWritten);
  REQUIRE(out.committed.size() == 1);
  REQUIRE(out.refused.size() == 2);
  CHECK(out.refused[0].request_id == 5);
  CHECK(out.refused[1].request_id == 6);
  for (const auto& r : out.refused) {
    CHECK(r.routing_id == "r9");
    CHECK(r.report_hex == report_a().parsed->report_id_hex());
    CHECK(r.status.code() == Code::REPLAYED_REPORT);
  }
  CHECK_FALSE(f.gc.idle());  // report B and its copy wait for the next batch
  auto next = f.gc.build(kNow, kNow, f.cursors);
  REQUIRE(next);
  out = f.gc.finish(written_ok(std::move(*next)), kNow);
  REQUIRE(out.committed.size() == 1);
  REQUIRE(out.refused.size() == 1);
  CHECK(out.refused[0].request_id == 7);
  CHECK(f.gc.idle());
}

TEST_CASE("group commit: an id clash refuses that report and rebuilds the rest", "[broker][commit]") {
  Fixture f;
  f.stage(report_a(), "r1", 1);
  f.stage(report_b(), "r1", 2);
  f.gc.reply_after_commit("r2", 3);
  auto batch = f.gc.build(kNow, kNow, f.cursors);
  REQUIRE(batch);
  f.stage(report_c(), "r3", 4);  // arrived meanwhile
  f.gc.audit(AuditEvent{kNow, "session", "n", "", "admitted", "x"});

  CommitOutcome out = f.gc.finish(
      StoreWriter::Written{replayed(report_a()), std::move(*batch), report_a().parsed->header.report_id(), {}}, kNow);
  CHECK(out.kind == CommitOutcome::Kind::kRebuilt);
  CHECK(out.committed.empty());
  CHECK(out.replies.empty());
  REQUIRE(out.refused.size() == 1);
  CHECK(out.refused[0].request_id == 1);
  CHECK(out.refused[0].status.code() == Code::REPLAYED_REPORT);
  CHECK(out.refused[0].status.reasons()[0].message ==
        "report " + report_a().parsed->report_id_hex() + " was accepted before");
  CHECK(f.gc.head() == 0);

  auto rebuilt = f.gc.build(kNow, kNow, f.cursors);
  REQUIRE(rebuilt);
  REQUIRE(rebuilt->reports.size() == 2);  // B first, then what arrived since
  CHECK(rebuilt->reports[0].report_id == report_b().parsed->header.report_id());
  CHECK(rebuilt->reports[0].seq == 1);
  CHECK(rebuilt->reports[1].report_id == report_c().parsed->header.report_id());
  CHECK(accepted_entries(*rebuilt) == 2);  // the first build's entries are not kept twice
  CHECK(rebuilt->audit.size() == 3);
  CHECK(rebuilt->audit[0].index == 1);  // the chain did not move on the unwritten batch
  out = f.gc.finish(written_ok(std::move(*rebuilt)), kNow);
  REQUIRE(out.replies.size() == 1);
  CHECK(out.replies[0].request_id == 3);
  REQUIRE(out.committed.size() == 2);
  CHECK(out.committed[1].staged.result.request_id == 4);
  CHECK(f.gc.head() == 2);
}

TEST_CASE("group commit: a failed commit refuses what sat on it and undoes the replay records", "[broker][commit]") {
  Fixture f;
  f.stage(report_a(), "r1", 1, kNow - 50);
  f.gc.subscriptions_changed("node-x", {"intel.>"});
  f.gc.reply_after_commit("r2", 9);
  auto batch = f.gc.build(kNow, kNow, f.cursors);
  REQUIRE(batch);
  f.stage(report_c(), "r3", 2);  // staged since, on top of the failed batch's records
  f.gc.hold_replay(result_of(report_a(), "r4", 3, replayed(report_a())));
  f.gc.audit(AuditEvent{kNow, "session", "n", "", "admitted", "x"});
  CHECK(f.gc.oldest_pending_ms(kNow) == kNow - 50);

  const Status why = Status::fail(Code::STORAGE_FAILED, "disk on fire");
  CommitOutcome out = f.gc.finish(StoreWriter::Written{why, std::move(*batch), "", {}}, kNow);
  CHECK(out.kind == CommitOutcome::Kind::kFailed);
  CHECK(out.failure.code() == Code::STORAGE_FAILED);
  CHECK(out.committed.empty());
  REQUIRE(out.refused.size() == 3);
  CHECK(out.refused[0].request_id == 1);
  CHECK(out.refused[1].request_id == 2);
  CHECK(out.refused[2].request_id == 3);  // its original failed: the same answer
  for (const auto& r : out.refused) CHECK(r.status.code() == Code::STORAGE_FAILED);
  REQUIRE(out.replies.size() == 1);
  CHECK(out.replies[0].request_id == 9);
  CHECK(f.gc.head() == 0);
  // Nothing was accepted: the ids and sequences are free again.
  CHECK(f.replay.check(report_a().parsed->header.report_id(), "diran-bogota-hq", 1).is_ok());
  CHECK(f.replay.check(report_c().parsed->header.report_id(), "dea-cucuta-agent", 1).is_ok());
  // The subscription change and the other audit events are kept for the next batch.
  auto next = f.gc.build(kNow, kNow, f.cursors);
  REQUIRE(next);
  CHECK(next->reports.empty());
  CHECK(next->subscriptions.count("node-x") == 1);
  REQUIRE(next->audit.size() == 1);
  CHECK(next->audit[0].decision == "admitted");
}

TEST_CASE("group commit: a copy of a report refused for its stored id keeps its own answer on failure",
          "[broker][commit]") {
  Fixture f;
  f.stage(report_b(), "r1", 1);
  // A copy of A held while B is staged (A itself is not staged: its id is stored).
  f.gc.hold_replay(result_of(report_a(), "r4", 3, replayed(report_a())));
  auto batch = f.gc.build(kNow, kNow, f.cursors);
  REQUIRE(batch);
  CommitOutcome out =
      f.gc.finish(StoreWriter::Written{Status::fail(Code::STORAGE_FULL, "full"), std::move(*batch), "", {}}, kNow);
  REQUIRE(out.refused.size() == 2);
  CHECK(out.refused[0].status.code() == Code::STORAGE_FULL);
  CHECK(out.refused[1].status.code() == Code::REPLAYED_REPORT);
}

TEST_CASE("group commit: lazy entries wait; checkpoints follow the entry count; force()", "[broker][commit]") {
  Fixture f;
  f.storage.audit_checkpoint_entries = 3;
  f.storage.audit_checkpoint_seconds = 3600;
  GroupCommit gc(f.storage, f.replay, f.key, "tearline-broker", nullptr);
  gc.restore(0, audit::ChainWriter(), 0, kNow);
  gc.reply_after_commit("r", 1);  // urgent: committed at once
  auto batch = gc.build(kNow, kNow, f.cursors);
  REQUIRE(batch);
  gc.finish(written_ok(std::move(*batch)), kNow);
  gc.audit(AuditEvent{kNow, "delivery", "n", "r", "delivered", "seq 1 sections 1"});
  CHECK_FALSE(gc.build(kNow + 99, kNow + 99, f.cursors));  // an audit entry alone waits up to 100 ms
  batch = gc.build(kNow + 100, kNow + 100, f.cursors);
  REQUIRE(batch);
  CHECK(batch->audit.size() == 1);
  CHECK(batch->checkpoints.empty());
  gc.finish(written_ok(std::move(*batch)), kNow + 100);
  for (int i = 0; i < 2; ++i) gc.audit(AuditEvent{kNow, "delivery", "n", "r", "delivered", "x"});
  batch = gc.build(kNow + 200, kNow + 200, f.cursors);
  REQUIRE(batch);
  REQUIRE(batch->checkpoints.size() == 1);
  CHECK(batch->checkpoints[0].index == 3);
  gc.finish(written_ok(std::move(*batch)), kNow + 200);
  CHECK(gc.idle());
  CHECK_FALSE(gc.build(kNow + 10'000, kNow + 10'000, f.cursors));
  gc.force();
  batch = gc.build(kNow + 10'000, kNow + 10'000, f.cursors);
  REQUIRE(batch);
  CHECK(batch->empty());  // nothing new to checkpoint
}

}  // namespace
}  // namespace tearline::broker

namespace tearline::broker {
namespace {

TEST_CASE("group commit: one acceptance signature per batch; each report stored with its receipt",
          "[broker][commit][receipt]") {
  Fixture f;
  f.gc.restore(41, audit::ChainWriter(), 0, kNow);
  const std::vector<const TestReport*> reports = {&report_a(), &report_b(), &report_c()};
  for (std::size_t i = 0; i < reports.size(); ++i) f.stage(*reports[i], "r1", 10 + i);
  auto batch = f.gc.build(kNow, kNow, f.cursors);
  REQUIRE(batch);
  REQUIRE(batch->reports.size() == 3);
  std::set<std::string> signatures;
  for (std::size_t i = 0; i < 3; ++i) {
    const StoredReport& row = batch->reports[i];
    INFO("report " << i);
    auto r = receipt::parse_acceptance(row.receipt);
    REQUIRE(r);
    CHECK(r->broker_id() == "tearline-broker");
    CHECK(r->first_seq() == 42);
    CHECK(r->leaf_count() == 3);
    CHECK(r->leaf_index() == i);
    CHECK(r->accepted_ms() == kNow);
    CHECK(row.accepted_ms == kNow);  // the time stored is the time signed
    signatures.insert(r->signature());
    // The path leads from this report at its seq to the root that the
    // broker's key signed.
    std::vector<ByteView> path;
    path.reserve(static_cast<std::size_t>(r->path_size()));
    for (const auto& p : r->path()) path.push_back(as_bytes(p));
    auto root = crypto::merkle_root_from_path(
        receipt::kReceiptNodeTag, receipt::receipt_leaf(row.seq, receipt::report_digest(reports[i]->parsed->report)), i,
        3, receipt::kMaxReceiptLeaves, path);
    REQUIRE(root);
    CHECK(to_hex(*root) == to_hex(as_bytes(r->root())));
    CHECK(crypto::verify(f.key.public_key(), crypto::tags::kAcceptanceBatch,
                         receipt::acceptance_statement("tearline-broker", 42, 3, kNow, *root),
                         as_bytes(r->signature())));
  }
  CHECK(signatures.size() == 1);  // one signature for the batch

  CommitOutcome out = f.gc.finish(written_ok(std::move(*batch)), kNow + 1);
  REQUIRE(out.committed.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    auto r = receipt::parse_acceptance(out.committed[i].receipt);
    REQUIRE(r);
    CHECK(r->leaf_index() == i);
    CHECK(out.committed[i].accepted_ms == kNow);
  }

  // The next batch signs its own statement, from the next seq.
  f.stage(report_a(), "r1", 20);  // a replay guard would refuse it; the group commit signs what it is given
  auto next = f.gc.build(kNow + 5, kNow + 5, f.cursors);
  REQUIRE(next);
  REQUIRE(next->reports.size() == 1);
  auto r = receipt::parse_acceptance(next->reports[0].receipt);
  REQUIRE(r);
  CHECK(r->first_seq() == 45);
  CHECK(r->leaf_count() == 1);
  CHECK(r->accepted_ms() == kNow + 5);
}

}  // namespace
}  // namespace tearline::broker

namespace tearline::broker {
namespace {

TEST_CASE(
    "group commit: a node's rows carry its claim's fence; the store's fenced nodes come back; "
    "dropped changes are not written",
    "[broker][commit]") {
  Fixture f;
  f.gc.subscriptions_changed("node-x", {"intel.>"});
  f.gc.cursor_moved("node-x");
  f.gc.cursor_moved("node-x", "broker-b");
  f.gc.cursor_moved("node-y");
  f.gc.cursor_moved("node-z");
  f.gc.drop_pending("node-z");
  f.gc.reply_after_commit("r1", 5, "node-x");
  const std::map<std::string, std::uint64_t> cursors{{"node-x", 3}, {"node-y", 4}, {"node-z", 9}};
  const std::map<std::string, std::map<std::string, std::uint64_t>> streams{{"node-x", {{"broker-b", 7}}}};
  const std::map<std::string, std::uint64_t> fences{{"node-x", 12}, {"node-z", 2}};
  auto batch = f.gc.build(kNow, kNow, cursors, streams, fences);
  REQUIRE(batch);
  CHECK(batch->cursors == std::map<std::string, std::uint64_t>{{"node-x", 3}, {"node-y", 4}});
  CHECK(batch->stream_cursors ==
        std::map<std::pair<std::string, std::string>, std::uint64_t>{{{"node-x", "broker-b"}, 7}});
  CHECK(batch->fences == std::map<std::string, std::uint64_t>{{"node-x", 12}});  // node-y: no claim held
  StoreWriter::Written w = written_ok(std::move(*batch));
  w.fenced = {"node-x"};
  CommitOutcome out = f.gc.finish(std::move(w), kNow);
  CHECK(out.kind == CommitOutcome::Kind::kWritten);
  CHECK(out.fenced == std::vector<std::pair<std::string, std::uint64_t>>{{"node-x", 12}});
  REQUIRE(out.replies.size() == 1);
  CHECK(out.replies[0].node == "node-x");
}

}  // namespace
}  // namespace tearline::broker
