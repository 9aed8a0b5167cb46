// broker/catch_up: sessions behind the head read from a real store, one
// read serving every session it covers; the batch and backlog limits; the
// move to the head when nothing is stored after a session; rows that fail
// their re-check (do not parse, a flipped bit in a signature or a section)
// answered with a GAP to exactly the sessions that would have received them,
// and reported once.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "broker/catch_up.h"
#include "broker/sqlite_store.h"
#include "broker_test_reports.h"
#include "crypto/key_file.h"
#include "receipt/acceptance.h"
#include "support/temp_dir.h"
#include "wire/frame.h"

namespace tearline::broker {
namespace {

using test_reports::label;
using test_reports::make_report;
using testing::DemoWorld;
using testing::kDemoNow;
namespace v1 = tearline::v1;

constexpr std::uint64_t kStored = 300;
constexpr std::uint64_t kGarbageSeq = 150;

std::string id_of(std::uint64_t seq) {
  std::string id(16, '\0');
  for (int i = 0; i < 8; ++i) id[static_cast<std::size_t>(i)] = static_cast<char>((seq >> (8 * i)) & 0xff);
  id[15] = 'c';
  return id;
}

struct Fixture {
  testing::TempDir dir{"tearline-catch-up"};
  std::unique_ptr<Store> store;
  std::map<std::string, bool> full;
  std::map<std::string, std::vector<std::uint64_t>> seqs;  // DELIVER seqs by routing id
  std::map<std::uint64_t, v1::Deliver> frames;             // the last DELIVER of each seq
  std::map<std::string, std::vector<std::uint64_t>> gaps;  // GAP seqs by routing id
  std::map<std::uint64_t, Code> gap_codes;                 // the last GAP's code of each seq
  std::vector<std::string> slow;
  Limits limits;
  SubscriptionIndex index;
  std::unique_ptr<SessionTable> sessions;
  std::unique_ptr<Router> router;
  std::unique_ptr<CatchUp> catch_up;
  TrustSnapshot trust;

  explicit Fixture(std::size_t max_pending_deliveries = 10000, LateReceipt late_receipt = nullptr) {
    limits.max_pending_deliveries = max_pending_deliveries;
    StoreOptions o;
    o.path = dir.path() / "tearline.db";
    RecoveredState state;
    auto opened = SqliteStore::open(o, kDemoNow * 1000, 600'000, &state);
    INFO(opened.status().to_string());
    REQUIRE(opened);
    store = std::move(opened).value();
    // Seqs 1..300: the same real report under 300 ids (the store does not
    // parse; catch-up does), and one row that does not parse.
    const auto rep = make_report("intel.seizures", "diran-bogota-hq", 1, {label(v1::SECRET, {"COL", "USA"})});
    Batch batch;
    for (std::uint64_t seq = 1; seq <= kStored; ++seq) {
      StoredReport r;
      r.seq = seq;
      r.report_id = id_of(seq);
      r.originator = "diran-bogota-hq";
      r.topic = "intel.seizures";
      r.accepted_ms = kDemoNow * 1000;
      r.sequence = seq;
      r.source = SourceRecord{"diran-bogota-hq", "DIRAN", "COL", {}};
      r.bytes = seq == kGarbageSeq ? Bytes{1, 2, 3} : rep.bytes;
      batch.reports.push_back(std::move(r));
    }
    Status written = store->commit(batch);
    INFO(written.to_string());
    REQUIRE(written);

    sessions = std::make_unique<SessionTable>(
        [this](const std::string& id, const Bytes& b) {
          if (full[id]) return false;
          auto f = wire::decode_frame(b, 1 << 24);
          REQUIRE(f);
          if (f->has_deliver()) {
            seqs[id].push_back(f->deliver().broker_seq());
            frames[f->deliver().broker_seq()] = f->deliver();
          }
          if (f->has_gap()) {
            gap_codes[f->gap().broker_seq()] = wire::status_of(f->gap()).code();
            gaps[id].push_back(f->gap().broker_seq());
          }
          return true;
        },
        [this](Session& s) { slow.push_back(s.routing_id); }, limits.max_pending_deliveries, limits.max_pending_bytes,
        nullptr);
    router = std::make_unique<Router>(index, *sessions, [](auto&&...) {});
    catch_up = std::make_unique<CatchUp>(*store, *router, *sessions, limits, nullptr, std::move(late_receipt));
    trust = test_reports::demo_trust();
  }

  Session& session(const std::string& rid, const std::string& node, std::uint64_t delivered) {
    Session& s = *sessions->attach(rid, node, 0);
    s.state = SessionState::kReady;
    s.delivered = delivered;
    s.attached = true;  // catches up on its node's durable set
    return s;
  }
};

std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to, std::uint64_t skip = 0) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t s = from; s <= to; ++s) {
    if (s != skip) out.push_back(s);
  }
  return out;
}

TEST_CASE("catch-up: one read serves every session it covers, in seq order", "[broker][catch_up]") {
  Fixture f;
  REQUIRE(f.index.insert("dea-cucuta-agent", "intel.>"));
  REQUIRE(f.index.insert("diran-cucuta-commander", "intel.*"));
  REQUIRE(f.index.insert("dea-bogota-analyst", "ops.>"));
  Session& a = f.session("r-a", "dea-cucuta-agent", 0);
  Session& b = f.session("r-b", "diran-cucuta-commander", 280);
  Session& c = f.session("r-c", "dea-bogota-analyst", 100);
  Session& d = f.session("r-d", "dea-cucuta-agent", kStored);  // at the head
  CHECK(f.catch_up->behind(kStored));

  // Reads 1..256 (a, and c inside it), then 281..300 for b, beyond that batch.
  const std::size_t sent = f.catch_up->run(kStored, f.trust, kDemoNow);
  CHECK(f.catch_up->reads() == 2);
  CHECK(f.seqs["r-a"] == range(1, 256, kGarbageSeq));
  CHECK(a.delivered == 256);
  CHECK(f.seqs["r-b"] == range(281, 300));
  CHECK(b.delivered == 300);
  CHECK(f.seqs.count("r-c") == 0);  // nothing it subscribed to; it moves on all the same
  CHECK(c.delivered == 256);
  CHECK(f.seqs.count("r-d") == 0);
  CHECK(d.delivered == kStored);
  CHECK(sent == 255 + 20);

  // The next round: one read from 256 serves a and c.
  f.catch_up->run(kStored, f.trust, kDemoNow);
  CHECK(f.catch_up->reads() == 3);
  CHECK(f.seqs["r-a"] == range(1, 300, kGarbageSeq));
  CHECK(a.delivered == 300);
  CHECK(c.delivered == 300);
  CHECK_FALSE(f.catch_up->behind(kStored));
}

// A database from before receipts: its rows have none. Each copy goes out
// with a receipt signed now for the row's stored seq and acceptance time,
// which a client verifies like any other.
TEST_CASE("catch-up: a report stored without a receipt goes out with one for its stored seq and time",
          "[broker][catch_up]") {
  auto keys = crypto::read_broker_keys(DemoWorld::get().pki().broker_key());
  REQUIRE(keys);
  std::size_t signed_late = 0;
  Fixture f(10000, [&](std::uint64_t seq, const report::VerifiedReport& r, std::int64_t accepted_ms) {
    ++signed_late;
    return receipt::sign_acceptance("tearline-broker", keys->audit, seq, {receipt::report_digest(r.report)},
                                    accepted_ms)
        .front();
  });
  REQUIRE(f.index.insert("dea-cucuta-agent", "intel.>"));
  f.session("r-a", "dea-cucuta-agent", 0);
  f.catch_up->run(kStored, f.trust, kDemoNow);
  REQUIRE(f.frames.count(7) == 1);
  CHECK(signed_late == 255);  // once per row read that parses, not per copy
  const v1::Deliver& d = f.frames.at(7);
  auto copy = report::parse_report_structure(as_bytes(d.report()));
  REQUIRE(copy);
  auto ok = receipt::verify_acceptance(as_bytes(d.receipt()), receipt::report_digest(copy->report),
                                       *DemoWorld::get().directory(), {7, "tearline-broker"});
  INFO(ok.status().to_string());
  REQUIRE(ok);
  CHECK(ok->accepted_ms == kDemoNow * 1000);
}

TEST_CASE("catch-up: never more than the backlog has room for", "[broker][catch_up]") {
  Fixture f(50);
  REQUIRE(f.index.insert("dea-cucuta-agent", "intel.>"));
  Session& a = f.session("r-a", "dea-cucuta-agent", 0);
  f.full["r-a"] = true;  // the reader does not read
  f.catch_up->run(kStored, f.trust, kDemoNow);
  CHECK(a.backlog.size() == 50);
  CHECK(a.delivered == 50);
  CHECK(a.ready());
  CHECK(f.slow.empty());
  // No room left: nothing read for it.
  f.catch_up->run(kStored, f.trust, kDemoNow);
  CHECK(f.catch_up->reads() == 1);
  CHECK(a.delivered == 50);
  // Once it reads again it catches up.
  f.full["r-a"] = false;
  f.sessions->flush();
  f.catch_up->run(kStored, f.trust, kDemoNow);
  CHECK(a.delivered == 100);
  CHECK(f.slow.empty());
}

TEST_CASE("catch-up: a backlog above its limits waits", "[broker][catch_up]") {
  Fixture f;
  REQUIRE(f.index.insert("dea-cucuta-agent", "intel.>"));
  Session& a = f.session("r-a", "dea-cucuta-agent", 0);
  for (int i = 0; i < 65; ++i) a.backlog.push_back(Bytes{1});
  a.backlog_bytes = 65;
  f.full["r-a"] = true;
  CHECK(f.catch_up->run(kStored, f.trust, kDemoNow) == 0);
  CHECK(f.catch_up->reads() == 0);
  CHECK(a.delivered == 0);
}

TEST_CASE("catch-up: nothing stored after a session moves it to the head", "[broker][catch_up]") {
  Fixture f;
  Session& a = f.session("r-a", "dea-cucuta-agent", kStored);
  // The head is past what is stored (retention removed the rest).
  f.catch_up->run(kStored + 10, f.trust, kDemoNow);
  CHECK(a.delivered == kStored + 10);
  // Rows past the head are not routed yet.
  Session& b = f.session("r-b", "diran-cucuta-commander", 290);
  REQUIRE(f.index.insert("diran-cucuta-commander", ">"));
  f.catch_up->run(295, f.trust, kDemoNow);
  CHECK(f.seqs["r-b"] == range(291, 295));
  CHECK(b.delivered == 295);
}

namespace {

// A stored row of diran-bogota-hq's at `seq` (its sequence too), accepted
// at `accepted_ms`, holding `bytes` as written.
StoredReport stored_row(std::uint64_t seq, std::int64_t accepted_ms, const std::string& bytes) {
  StoredReport r;
  r.seq = seq;
  r.report_id = id_of(seq);
  r.originator = "diran-bogota-hq";
  r.topic = "intel.seizures";
  r.accepted_ms = accepted_ms;
  r.sequence = seq;
  r.source = SourceRecord{"diran-bogota-hq", "DIRAN", "COL", {}};
  r.bytes = Bytes(bytes.begin(), bytes.end());
  return r;
}

}  // namespace

// Rows 301 (one bit of the signature flipped) and 302 (one bit of section 1's
// ciphertext) beside the unreadable row 150: each is a GAP, never a DELIVER,
// for the sessions that would have received it (150: every session reading
// across it, nothing of it is readable), and one audit entry, one counter
// step per record however often it is read.
TEST_CASE("catch-up: a stored report that fails its re-check is a GAP, reported once", "[broker][catch_up]") {
  Fixture f;
  const auto rep = make_report("intel.seizures", "diran-bogota-hq", 1, {label(v1::SECRET, {"COL", "USA"})});
  v1::Report bad_signature;
  REQUIRE(bad_signature.ParseFromArray(rep.bytes.data(), static_cast<int>(rep.bytes.size())));
  v1::Report bad_section = bad_signature;
  auto flip = [](std::string* bytes, std::size_t at) { (*bytes)[at] = static_cast<char>((*bytes)[at] ^ 1); };
  flip(bad_signature.mutable_signature(), 5);
  flip(bad_section.mutable_sections(0)->mutable_sealed()->mutable_ciphertext(), 3);
  Batch batch;
  batch.reports.push_back(stored_row(kStored + 1, kDemoNow * 1000, bad_signature.SerializeAsString()));
  batch.reports.push_back(stored_row(kStored + 2, kDemoNow * 1000, bad_section.SerializeAsString()));
  batch.reports.push_back(stored_row(kStored + 3, kDemoNow * 1000, std::string(rep.bytes.begin(), rep.bytes.end())));
  REQUIRE(f.store->commit(batch));
  std::vector<std::string> audited;
  std::atomic<std::uint64_t> counted{0};
  report::RootCache roots;
  f.catch_up = std::make_unique<CatchUp>(
      *f.store, *f.router, *f.sessions, f.limits, nullptr, nullptr,
      CatchUpChecks{&roots,
                    [&](const std::string& event, const std::string& node, const std::string& id,
                        const std::string& decision, const std::string& detail) {
                      audited.push_back(event + "|" + node + "|" + id + "|" + decision + "|" + detail);
                    },
                    &counted});
  REQUIRE(f.index.insert("dea-cucuta-agent", "intel.>"));
  REQUIRE(f.index.insert("dea-bogota-analyst", "ops.>"));
  Session& a = f.session("r-a", "dea-cucuta-agent", 100);
  Session& c = f.session("r-c", "dea-bogota-analyst", 100);
  const std::uint64_t head = kStored + 3;
  while (f.catch_up->behind(head)) f.catch_up->run(head, f.trust, kDemoNow);

  CHECK(f.gaps["r-a"] == std::vector<std::uint64_t>{kGarbageSeq, kStored + 1, kStored + 2});
  CHECK(f.gaps["r-c"] == std::vector<std::uint64_t>{kGarbageSeq});  // 301, 302 are not its topic
  for (const auto& [seq, code] : f.gap_codes) CHECK(code == Code::STORAGE_DAMAGED);
  std::vector<std::uint64_t> delivered = range(101, kStored, kGarbageSeq);
  delivered.push_back(kStored + 3);
  CHECK(f.seqs["r-a"] == delivered);
  CHECK(f.seqs.count("r-c") == 0);
  CHECK(a.delivered == head);
  CHECK(c.delivered == head);
  v1::ReportHeader header;
  REQUIRE(header.ParseFromString(bad_signature.header()));
  const std::string sig_id = to_hex(as_bytes(header.report_id()));  // 301 and 302: the same report
  REQUIRE(audited.size() == 3);
  CHECK(audited[0] == "storage|||damaged|seq 150: REPORT_MALFORMED: report does not parse");
  CHECK(audited[1].rfind("storage||" + sig_id + "|damaged|seq 301: REPORT_SIGNATURE: ", 0) == 0);
  CHECK(audited[2].rfind("storage||" + sig_id + "|damaged|seq 302: COMMITMENT_MISMATCH: section 1: ", 0) == 0);
  CHECK(counted == 3);
  CHECK(f.catch_up->damaged() == 3);

  // A second session reading the same rows: GAPs again, no second report.
  Session& b = f.session("r-b", "dea-cucuta-agent", 290);
  while (f.catch_up->behind(head)) f.catch_up->run(head, f.trust, kDemoNow);
  CHECK(f.gaps["r-b"] == std::vector<std::uint64_t>{kStored + 1, kStored + 2});
  CHECK(b.delivered == head);
  CHECK(audited.size() == 3);
  CHECK(counted == 3);
}

// `tearline certs issue --replace` gives a node a new credential and key;
// its reports accepted before that were signed with the old key, which the
// directory no longer holds. Their failing signature is not damage.
TEST_CASE("catch-up: a report signed with the key its originator's credential replaced is withheld, not damage",
          "[broker][catch_up]") {
  Fixture f;
  const identity::Credential* current = f.trust.directory->node("diran-bogota-hq");
  REQUIRE(current != nullptr);
  const auto rep = make_report("intel.seizures", "diran-bogota-hq", 1, {label(v1::SECRET, {"COL", "USA"})});
  v1::Report other_key;  // as a signature by another key looks to the current one
  REQUIRE(other_key.ParseFromArray(rep.bytes.data(), static_cast<int>(rep.bytes.size())));
  (*other_key.mutable_signature())[5] = static_cast<char>((*other_key.mutable_signature())[5] ^ 1);
  const std::string bytes = other_key.SerializeAsString();
  Batch batch;
  // 301: accepted before the current credential became valid (the old
  // key's report); 302: after it (the same bytes are damage then).
  batch.reports.push_back(stored_row(kStored + 1, (current->not_before - 60) * 1000, bytes));
  batch.reports.push_back(stored_row(kStored + 2, kDemoNow * 1000, bytes));
  REQUIRE(f.store->commit(batch));
  std::vector<std::string> audited;
  std::atomic<std::uint64_t> counted{0};
  f.catch_up = std::make_unique<CatchUp>(
      *f.store, *f.router, *f.sessions, f.limits, nullptr, nullptr,
      CatchUpChecks{nullptr,
                    [&](const std::string& event, const std::string& node, const std::string& id,
                        const std::string& decision, const std::string& detail) {
                      audited.push_back(event + "|" + node + "|" + id + "|" + decision + "|" + detail);
                    },
                    &counted});
  REQUIRE(f.index.insert("dea-cucuta-agent", "intel.>"));
  Session& a = f.session("r-a", "dea-cucuta-agent", kStored);
  const std::uint64_t head = kStored + 2;
  while (f.catch_up->behind(head)) f.catch_up->run(head, f.trust, kDemoNow);

  CHECK(f.gaps["r-a"] == std::vector<std::uint64_t>{kStored + 1, kStored + 2});
  CHECK(f.gap_codes[kStored + 1] == Code::ORIGINATOR_INVALID);
  CHECK(f.gap_codes[kStored + 2] == Code::STORAGE_DAMAGED);
  CHECK(f.seqs.count("r-a") == 0);
  CHECK(a.delivered == head);
  v1::ReportHeader header;
  REQUIRE(header.ParseFromString(other_key.header()));
  const std::string id = to_hex(as_bytes(header.report_id()));
  REQUIRE(audited.size() == 2);
  CHECK(audited[0].rfind(
            "withheld|diran-bogota-hq|" + id + "|withheld|seq 301: ORIGINATOR_INVALID: it was accepted at ", 0) == 0);
  CHECK(audited[0].find("signed with the key that credential replaced") != std::string::npos);
  CHECK(audited[1].rfind("storage||" + id + "|damaged|seq 302: REPORT_SIGNATURE: ", 0) == 0);
  CHECK(counted == 1);  // only 302 is damage
  CHECK(f.catch_up->damaged() == 1);
}

}  // namespace
}  // namespace tearline::broker
