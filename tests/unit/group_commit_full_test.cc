// broker/group_commit and broker/audit_backlog while the store cannot write
// (issue 16, points 1 and 5): refusals are counted, not kept one by one, so
// the audit backlog stays bounded however many publishes are refused; the
// reports' batch goes first once space is back and the backlog follows in a
// batch of its own; a failed backlog batch refuses nothing; schedules follow
// the steady clock, not the wall clock.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "broker/group_commit.h"
#include "broker_test_reports.h"
#include "crypto/signing.h"

namespace tearline::broker {
namespace {

using test_reports::label;
using test_reports::make_report;
using test_reports::TestReport;
namespace v1 = tearline::v1;

constexpr std::int64_t kWall = 1'700'000'000'000;

const TestReport& full_report() {
  static const TestReport r = make_report("intel.seizures", "diran-bogota-hq", 1, {label(v1::SECRET, {"COL"})});
  return r;
}

struct FullFixture {
  ReplayGuard replay{600'000};
  crypto::SigningKey key = crypto::SigningKey::generate();
  StorageLimits storage;
  GroupCommit gc{storage, replay, key, "tearline-broker", nullptr};
  std::map<std::string, std::uint64_t> cursors;
  std::int64_t steady = 0;

  void stage(std::int64_t at) {
    const TestReport& r = full_report();
    const std::string node = r.parsed->originator.node_id;
    const std::uint64_t previous = replay.last_sequence(node);
    replay.record(r.parsed->header.report_id(), node, r.parsed->header.sequence(), at);
    IngressResult in;
    in.routing_id = "r1";
    in.node_id = node;
    in.request_id = 1;
    in.report = r.parsed;
    in.raw = r.bytes;
    gc.stage(std::move(in), previous, at);
  }
  // The broker's reject_publish: one audit event per refusal.
  void answer(const CommitOutcome& out, std::int64_t at) {
    for (const auto& r : out.refused) {
      gc.audit(AuditEvent{at, "publish", r.node_id, r.report_hex, "rejected", r.status.to_string()});
    }
  }
  CommitOutcome commit(std::int64_t at, const Status& result) {
    auto batch = gc.build(at, steady, cursors);
    REQUIRE(batch);
    return gc.finish(StoreWriter::Written{result, std::move(*batch), "", {}}, steady);
  }
};

const Status kFull = Status::fail(Code::STORAGE_FULL, "the store is full");

TEST_CASE("group commit while full: N refusals are one counted entry, memory bounded", "[broker][commit][full]") {
  FullFixture f;
  f.gc.restore(0, audit::ChainWriter(), 0, 0);
  constexpr int kRefusals = 5000;
  for (int i = 0; i < kRefusals; ++i) {
    f.stage(kWall + i);
    CommitOutcome out = f.commit(kWall + i, kFull);
    REQUIRE(out.kind == CommitOutcome::Kind::kFailed);
    REQUIRE(out.refused.size() == 1);
    f.answer(out, kWall + i);
    f.steady += 1;
  }
  // Bounded: one tally for (node, STORAGE_FULL), counting every refusal.
  CHECK(f.gc.backlog_size() == 1);
  CHECK(f.gc.backlog_refusals("diran-bogota-hq", Code::STORAGE_FULL) == kRefusals);

  // Space is back: the reports' batch carries no backlog entry, so it fits.
  f.stage(kWall + kRefusals);
  auto batch = f.gc.build(kWall + kRefusals, f.steady, f.cursors);
  REQUIRE(batch);
  REQUIRE(batch->reports.size() == 1);
  REQUIRE(batch->audit.size() == 1);
  CHECK(batch->audit[0].decision == "accepted");
  CommitOutcome out = f.gc.finish(StoreWriter::Written{Status::ok(), std::move(*batch), "", {}}, f.steady);
  CHECK(out.kind == CommitOutcome::Kind::kWritten);
  REQUIRE(out.committed.size() == 1);

  // Then the backlog in a batch of its own: one entry for all of them.
  auto backlog = f.gc.build(kWall + kRefusals, f.steady, f.cursors);
  REQUIRE(backlog);
  CHECK(backlog->reports.empty());
  REQUIRE(backlog->audit.size() == 1);
  CHECK(backlog->audit[0].event == "publish");
  CHECK(backlog->audit[0].node == "diran-bogota-hq");
  CHECK(backlog->audit[0].decision == "rejected");
  CHECK(backlog->audit[0].detail.rfind("5000 x STORAGE_FULL between 2023-11-14T22:13:20.000Z and ", 0) == 0);
  CHECK(backlog->audit[0].index == 2);
  f.gc.finish(StoreWriter::Written{Status::ok(), std::move(*backlog), "", {}}, f.steady);
  CHECK(f.gc.backlog_size() == 0);
  CHECK(f.gc.idle());
}

TEST_CASE("group commit while full: a failed backlog batch refuses nothing and keeps its count",
          "[broker][commit][full]") {
  FullFixture f;
  f.gc.restore(0, audit::ChainWriter(), 0, 0);
  f.gc.audit(AuditEvent{kWall, "session", "n", "", "admitted", "x"});  // in the failed batch: kept whole
  for (int i = 0; i < 3; ++i) {
    f.stage(kWall);
    f.answer(f.commit(kWall, kFull), kWall);
  }
  // A report's batch is written; the backlog's turn comes next, while
  // another report is staged: the backlog batch fails, the report waits.
  f.stage(kWall);
  CHECK(f.commit(kWall, Status::ok()).kind == CommitOutcome::Kind::kWritten);
  const TestReport& other = make_report("intel.arrests", "dea-cucuta-agent", 1, {label(v1::SECRET, {"COL"})});
  IngressResult in;
  in.routing_id = "r2";
  in.node_id = "dea-cucuta-agent";
  in.request_id = 2;
  in.report = other.parsed;
  in.raw = other.bytes;
  f.replay.record(other.parsed->header.report_id(), in.node_id, 1, kWall);
  f.gc.stage(std::move(in), 0, kWall);
  auto backlog = f.gc.build(kWall, f.steady, f.cursors);
  REQUIRE(backlog);
  CHECK(backlog->reports.empty());
  CHECK(backlog->audit.size() == 2);
  CommitOutcome out = f.gc.finish(StoreWriter::Written{kFull, std::move(*backlog), "", {}}, f.steady);
  CHECK(out.kind == CommitOutcome::Kind::kFailed);
  CHECK(out.refused.empty());
  CHECK(f.gc.backlog_refusals("diran-bogota-hq", Code::STORAGE_FULL) == 3);
  CHECK(f.gc.backlog_size() == 2);
  // The staged report goes first, then the backlog.
  auto next = f.gc.build(kWall, f.steady, f.cursors);
  REQUIRE(next);
  REQUIRE(next->reports.size() == 1);
  CHECK(next->reports[0].originator == "dea-cucuta-agent");
}

TEST_CASE("audit backlog: events beyond its bound are counted, not kept", "[broker][commit][full]") {
  AuditBacklog b;
  const std::size_t n = AuditBacklog::kMaxHeld + 500;
  for (std::size_t i = 0; i < n; ++i) {
    b.keep(AuditEvent{kWall + static_cast<std::int64_t>(i), "delivery", "n", "r", "delivered", "seq"});
  }
  CHECK(b.size() == AuditBacklog::kMaxHeld + 1);
  auto entries = AuditBacklog::entries(b.take());
  REQUIRE(entries.size() == AuditBacklog::kMaxHeld + 1);
  CHECK(entries.back().detail.rfind("500 x delivery delivered between ", 0) == 0);
  CHECK(b.empty());
}

TEST_CASE("group commit: a step of the wall clock moves no schedule", "[broker][commit][clock]") {
  FullFixture f;
  f.storage.audit_checkpoint_entries = 1000;
  f.storage.audit_checkpoint_seconds = 10;
  GroupCommit gc(f.storage, f.replay, f.key, "tearline-broker", nullptr);
  gc.restore(0, audit::ChainWriter(), 0, 0);
  gc.reply_after_commit("r", 1);  // urgent: written at once, at steady 0
  auto first = gc.build(kWall, 0, f.cursors);
  REQUIRE(first);
  gc.finish(StoreWriter::Written{Status::ok(), std::move(*first), "", {}}, 0);
  gc.audit(AuditEvent{kWall, "delivery", "n", "r", "delivered", "x"});
  // The wall clock jumps two hours ahead, 50 ms of steady time later: the
  // lazy entry still waits for its 100 ms.
  CHECK_FALSE(gc.build(kWall + 7'200'000, 50, f.cursors));
  auto batch = gc.build(kWall + 7'200'050, 100, f.cursors);
  REQUIRE(batch);
  CHECK(batch->checkpoints.empty());  // 100 ms of steady time: no checkpoint due
  gc.finish(StoreWriter::Written{Status::ok(), std::move(*batch), "", {}}, 100);
  CHECK_FALSE(gc.build(kWall + 9'999'999, 9'999, f.cursors));  // the wall clock says hours, the interval is 10 s
  batch = gc.build(kWall, 10'000, f.cursors);                  // steady 10 s later, the wall clock stepped back
  REQUIRE(batch);
  CHECK(batch->checkpoints.size() == 1);
}

}  // namespace
}  // namespace tearline::broker
