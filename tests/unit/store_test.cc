// broker/store: the durable store on a real SQLite file. Recovery of every
// piece of state a restarted broker needs, STORAGE_FULL at the size cap with
// the store still readable, a failed sync halting the store for good
// (STORAGE_HALTED), and retention by age and by size removing the oldest
// reports, just enough of them.
#include <catch2/catch.hpp>

#include <numeric>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "broker/replay_guard.h"
#include "broker/store.h"
#include "crypto/key_file.h"
#include "report/builder.h"
#include "support/demo_world.h"
#include "support/temp_dir.h"

namespace tearline::broker {
namespace {

using testing::DemoWorld;
using testing::kDemoNow;
namespace v1 = tearline::v1;

constexpr std::int64_t kNowMs = kDemoNow * 1000;
constexpr std::int64_t kWindowMs = 600'000;  // 2 x the default clock window
constexpr std::int64_t kDayMs = 86'400'000;

policy::Label label(identity::Classification c, std::vector<std::string> rel, std::vector<std::string> units = {}) {
  return policy::normalized(policy::Label{c, std::move(rel), std::move(units), false});
}

// A real signed report of the demo world, as the broker would store it.
StoredReport real_report(std::uint64_t seq, const std::string& node, std::uint64_t sequence, std::int64_t accepted_ms,
                         std::vector<policy::Label> labels) {
  const auto& world = DemoWorld::get();
  auto keys = crypto::read_node_keys(world.pki().node_key(node));
  REQUIRE(keys);
  report::ReportDraft d;
  d.topic = "intel.seizures";
  for (const auto& l : labels) d.sections.push_back({l, to_bytes("section text of " + node)});
  d.created_at_ms = kNowMs;
  d.sequence = sequence;
  auto built = report::build_report(d, node, keys->signing, *world.directory());
  INFO(built.status().to_string());
  REQUIRE(built);
  const identity::Credential* cred = world.directory()->node(node);
  REQUIRE(cred != nullptr);
  StoredReport r;
  r.seq = seq;
  r.report_id = to_string(built->report_id);
  r.originator = node;
  r.topic = d.topic;
  r.accepted_ms = accepted_ms;
  r.sequence = sequence;
  r.source = SourceRecord{node, cred->agency, cred->country, labels};
  r.bytes = built->bytes;
  return r;
}

// An opaque report of `size` bytes (the store does not parse what it writes).
StoredReport blob_report(std::uint64_t seq, std::size_t size, std::int64_t accepted_ms) {
  StoredReport r;
  r.seq = seq;
  r.report_id = std::string(16, '\0');
  for (int i = 0; i < 8; ++i) r.report_id[static_cast<std::size_t>(i)] = static_cast<char>((seq >> (8 * i)) & 0xff);
  r.report_id[15] = 'b';
  r.originator = "diran-bogota-hq";
  r.topic = "intel.flood";
  r.accepted_ms = accepted_ms;
  r.sequence = seq;
  r.source = SourceRecord{r.originator, "DIRAN", "COL", {}};
  r.bytes = Bytes(size, static_cast<std::uint8_t>(seq));
  return r;
}

struct Opened {
  std::unique_ptr<Store> store;
  RecoveredState state;
};

Opened open_store(const StoreOptions& options, std::int64_t now_ms = kNowMs) {
  Opened o;
  auto store = Store::open(options, now_ms, kWindowMs, &o.state);
  INFO(store.status().to_string());
  REQUIRE(store);
  o.store = std::move(store).value();
  return o;
}

StoreOptions options_in(const testing::TempDir& dir) {
  StoreOptions o;
  o.path = dir.path() / "tearline.db";
  return o;
}

std::vector<std::uint64_t> stored_seqs(Store& store) {
  auto rows = store.read_after(0, 100000);
  INFO(rows.status().to_string());
  REQUIRE(rows);
  std::vector<std::uint64_t> out;
  for (const auto& r : *rows) out.push_back(r.seq);
  return out;
}

std::string code_of(const Status& s) { return std::string(code_name(s.code())); }

std::vector<std::string> codes_of(const Status& s) {
  std::vector<std::string> out;
  for (const auto& r : s.reasons()) out.push_back(std::string(code_name(r.code)));
  return out;
}

}  // namespace

TEST_CASE("store: a reopened store recovers everything that was committed") {
  testing::TempDir dir("tearline-store");
  const StoreOptions options = options_in(dir);
  const auto everyone = label(v1::CONFIDENTIAL, {"COL", "MEX", "USA"});
  const auto unit = label(v1::SECRET, {"COL"}, {"cucuta-jtf"});
  const auto usa = label(v1::SECRET, {"COL", "USA"});

  const StoredReport r1 = real_report(1, "diran-cucuta-commander", 100, kNowMs - 2000, {unit, everyone});
  const StoredReport r2 = real_report(2, "diran-cucuta-commander", 101, kNowMs - 1000, {everyone});
  const StoredReport r3 = real_report(3, "dea-bogota-analyst", 7, kNowMs - 2 * kDayMs, {usa});  // outside the window
  audit::ChainWriter chain;
  {
    Opened fresh = open_store(options);
    CHECK(fresh.state.last_seq == 0);
    CHECK(fresh.state.last_audit.index == 0);

    Batch a;
    a.reports = {r1, r2};
    a.subscriptions["fgr-liaison"] = {"intel.>"};
    a.subscriptions["dea-cucuta-agent"] = {"intel.>", "unit.>"};
    a.cursors["fgr-liaison"] = 1;
    for (int i = 0; i < 3; ++i) a.audit.push_back(chain.append(kNowMs + i, "publish", "n", "", "accepted", "d"));
    a.checkpoints.push_back(audit::sign_checkpoint(a.audit.back(), kNowMs, crypto::SigningKey::generate()));
    Status s = fresh.store->commit(a);
    INFO(s.to_string());
    REQUIRE(s);

    Batch b;
    b.reports = {r3};
    b.subscriptions["fgr-liaison"] = {"intel.liaison.>", "intel.>"};  // the full list replaces the old one
    b.cursors["fgr-liaison"] = 3;
    b.cursors["dea-cucuta-agent"] = 2;
    for (int i = 0; i < 2; ++i) b.audit.push_back(chain.append(kNowMs + 10 + i, "delivery", "n", "", "delivered", "d"));
    s = fresh.store->commit(b);
    INFO(s.to_string());
    REQUIRE(s);
    REQUIRE(fresh.store->commit(Batch{}));  // empty: nothing to do
  }

  Opened again = open_store(options);
  const RecoveredState& st = again.state;
  CHECK(st.last_seq == 3);
  CHECK(st.sequences ==
        std::map<std::string, std::uint64_t>{{"dea-bogota-analyst", 7}, {"diran-cucuta-commander", 101}});
  CHECK(st.subscriptions ==
        std::map<std::string, std::vector<std::string>>{{"dea-cucuta-agent", {"intel.>", "unit.>"}},
                                                        {"fgr-liaison", {"intel.liaison.>", "intel.>"}}});
  CHECK(st.cursors == std::map<std::string, std::uint64_t>{{"dea-cucuta-agent", 2}, {"fgr-liaison", 3}});

  INFO("replay protection: only ids inside the window come back, oldest first");
  REQUIRE(st.recent_ids.size() == 2);
  CHECK(st.recent_ids[0] == std::make_pair(r1.report_id, r1.accepted_ms));
  CHECK(st.recent_ids[1] == std::make_pair(r2.report_id, r2.accepted_ms));

  INFO("sources: every retained report, with its labels parsed back from the stored bytes");
  REQUIRE(st.sources.size() == 3);
  const StoredReport* expected[] = {&r1, &r2, &r3};
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("source " << i + 1);
    CHECK(st.sources[i].first == expected[i]->report_id);
    CHECK(st.sources[i].second.originator == expected[i]->source.originator);
    CHECK(st.sources[i].second.agency == expected[i]->source.agency);
    CHECK(st.sources[i].second.country == expected[i]->source.country);
    CHECK(st.sources[i].second.labels == expected[i]->source.labels);
  }

  INFO("the audit head and the last checkpoint");
  CHECK(st.last_audit.index == 5);
  CHECK(st.last_audit.hash == chain.last_hash());
  CHECK(st.last_checkpoint == 3);

  INFO("reports read back byte for byte, in seq order");
  auto rows = again.store->read_after(1, 10);
  REQUIRE(rows);
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].seq == 2);
  CHECK((*rows)[0].bytes == r2.bytes);
  CHECK((*rows)[0].report_id == r2.report_id);
  CHECK((*rows)[1].seq == 3);
  CHECK((*rows)[1].bytes == r3.bytes);
  CHECK((*rows)[1].originator == "dea-bogota-analyst");
  CHECK((*rows)[1].source.country == "USA");
  CHECK((*rows)[1].sequence == 7);
  CHECK((*rows)[1].accepted_ms == r3.accepted_ms);
  auto limited = again.store->read_after(0, 2);
  REQUIRE(limited);
  CHECK(limited->size() == 2);
}

TEST_CASE("store: STORAGE_FULL at max_bytes; nothing of the failed batch is kept; reads and small commits go on") {
  testing::TempDir dir("tearline-store");
  StoreOptions options = options_in(dir);
  options.max_bytes = 1 << 20;
  Opened o = open_store(options);

  constexpr std::size_t kBig = 200 * 1024;
  std::uint64_t seq = 0;
  Status failed;
  std::vector<Bytes> committed;
  audit::ChainWriter chain;
  while (seq < 20) {
    Batch b;
    b.reports.push_back(blob_report(seq + 1, kBig, kNowMs));
    b.audit.push_back(chain.append(kNowMs, "publish", "diran-bogota-hq", "", "accepted", "big"));
    Status s = o.store->commit(b);
    if (!s) {
      failed = s;
      break;
    }
    committed.push_back(b.reports[0].bytes);
    ++seq;
  }
  INFO(failed.to_string());
  CHECK(code_of(failed) == "STORAGE_FULL");
  CHECK(seq >= 3);  // 1 MiB holds a few 200 KiB reports
  CHECK(seq < 6);
  CHECK_FALSE(o.store->halted());

  INFO("reads still work and hold exactly what was committed");
  auto rows = o.store->read_after(0, 100);
  REQUIRE(rows);
  REQUIRE(rows->size() == seq);
  for (std::size_t i = 0; i < rows->size(); ++i) CHECK((*rows)[i].bytes == committed[i]);

  INFO("another big report fails the same way");
  Batch big;
  big.reports.push_back(blob_report(seq + 1, kBig, kNowMs));
  CHECK(code_of(o.store->commit(big)) == "STORAGE_FULL");

  INFO("a small commit (a cursor, a small report under the same seq) still fits");
  Batch small;
  small.reports.push_back(blob_report(seq + 1, 512, kNowMs));
  small.cursors["fgr-liaison"] = seq;
  Status s = o.store->commit(small);
  INFO(s.to_string());
  CHECK(s);

  o.store.reset();
  Opened again = open_store(options);
  CHECK(again.state.last_seq == seq + 1);
  CHECK(again.state.cursors["fgr-liaison"] == seq);
  CHECK(again.state.last_audit.index == seq);  // the failed batch's audit entry is gone too
  std::vector<std::uint64_t> expected(seq + 1);
  std::iota(expected.begin(), expected.end(), 1);
  CHECK(stored_seqs(*again.store) == expected);
}

TEST_CASE("store: a failed sync halts the store: STORAGE_HALTED now and for every later commit") {
  testing::TempDir dir("tearline-store");
  const StoreOptions options = options_in(dir);
  Opened o = open_store(options);

  Batch a;
  a.reports.push_back(blob_report(1, 100, kNowMs));
  REQUIRE(o.store->commit(a));

  o.store->fail_next_syncs_for_testing(1);
  Batch b;
  b.reports.push_back(blob_report(2, 100, kNowMs));
  b.cursors["fgr-liaison"] = 1;
  Status s = o.store->commit(b);
  CHECK(code_of(s) == "STORAGE_HALTED");
  CHECK(o.store->halted());

  for (int i = 0; i < 3; ++i) {
    INFO("later commit " << i);
    Batch c;
    c.reports.push_back(blob_report(2, 100, kNowMs));
    CHECK(code_of(o.store->commit(c)) == "STORAGE_HALTED");
    Batch only_cursor;
    only_cursor.cursors["fgr-liaison"] = 1;
    CHECK(code_of(o.store->commit(only_cursor)) == "STORAGE_HALTED");
  }
  INFO("a halted store deletes nothing and still reads");
  auto removed = o.store->apply_retention(kNowMs + 365 * kDayMs);
  REQUIRE(removed);
  CHECK(*removed == 0);
  CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{1});

  INFO("a restart (a new Store on the same file) recovers what was synced and accepts again");
  o.store.reset();
  Opened again = open_store(options);
  CHECK(again.state.last_seq == 1);
  CHECK(again.state.cursors.empty());
  CHECK_FALSE(again.store->halted());
  Batch d;
  d.reports.push_back(blob_report(2, 100, kNowMs));
  CHECK(again.store->commit(d));
  CHECK(stored_seqs(*again.store) == std::vector<std::uint64_t>{1, 2});
}

TEST_CASE("store: retention by age deletes reports older than retention_seconds, not the seq or sequences") {
  testing::TempDir dir("tearline-store");
  StoreOptions options = options_in(dir);
  options.retention_seconds = 30 * 86400;
  Opened o = open_store(options);
  Batch b;
  b.reports.push_back(blob_report(1, 100, kNowMs - 40 * kDayMs));
  b.reports.push_back(blob_report(2, 100, kNowMs - 31 * kDayMs));
  b.reports.push_back(blob_report(3, 100, kNowMs - 29 * kDayMs));
  b.reports.push_back(blob_report(4, 100, kNowMs - 1000));
  REQUIRE(o.store->commit(b));

  std::vector<std::string> removed_ids;
  auto removed = o.store->apply_retention(kNowMs, &removed_ids);
  REQUIRE(removed);
  CHECK(*removed == 2);
  CHECK(removed_ids == std::vector<std::string>{blob_report(1, 0, 0).report_id, blob_report(2, 0, 0).report_id});
  CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{3, 4});

  INFO("once every report has aged out, a restart still resumes after seq 4 with the sequence remembered");
  removed = o.store->apply_retention(kNowMs + 31 * kDayMs);
  REQUIRE(removed);
  CHECK(*removed == 2);
  o.store.reset();
  Opened again = open_store(options, kNowMs + 31 * kDayMs);
  CHECK(again.state.last_seq == 4);
  CHECK(again.state.sequences["diran-bogota-hq"] == 4);
  CHECK(again.state.sources.empty());
  CHECK(again.state.recent_ids.empty());
}

TEST_CASE("store: retention by size deletes the oldest reports until the store fits, and no more") {
  testing::TempDir dir("tearline-store");
  StoreOptions options = options_in(dir);
  options.retention_bytes = 1 << 20;
  Opened o = open_store(options);
  constexpr std::size_t kSize = 64 * 1024;
  constexpr std::uint64_t kReports = 40;  // 2.5 MiB
  for (std::uint64_t seq = 1; seq <= kReports; ++seq) {
    Batch b;
    b.reports.push_back(blob_report(seq, kSize, kNowMs));
    REQUIRE(o.store->commit(b));
  }
  auto removed = o.store->apply_retention(kNowMs);
  REQUIRE(removed);
  const std::vector<std::uint64_t> left = stored_seqs(*o.store);
  INFO("removed " << *removed << ", left " << left.size());
  CHECK(*removed + left.size() == kReports);
  REQUIRE_FALSE(left.empty());
  CHECK(left.back() == kReports);                     // the newest survive...
  CHECK(left.front() == kReports - left.size() + 1);  // ...as one contiguous run: the oldest went first
  CHECK(left.size() * kSize <= options.retention_bytes);
  CHECK(left.size() >= 10);  // 10 x 64 KiB = 640 KiB: no more was deleted than needed

  INFO("a second pass finds nothing to delete");
  removed = o.store->apply_retention(kNowMs);
  REQUIRE(removed);
  CHECK(*removed == 0);
}

TEST_CASE("store: find_source reads a committed report's source; uncommitted, unknown and retained-away ids are nullopt") {
  testing::TempDir dir("tearline-store");
  StoreOptions options = options_in(dir);
  Opened o = open_store(options);
  const auto dea = label(identity::Classification::SECRET, {"COL", "USA"}, {"cucuta-jtf"});
  const auto col = label(identity::Classification::CONFIDENTIAL, {"COL"});
  StoredReport r = real_report(1, "diran-cucuta-commander", 1, kNowMs - 40 * kDayMs, {dea, col});
  CHECK_FALSE(o.store->find_source(r.report_id));
  Batch b;
  b.reports.push_back(r);
  REQUIRE(o.store->commit(b));
  auto found = o.store->find_source(r.report_id);
  REQUIRE(found);
  CHECK(found->originator == "diran-cucuta-commander");
  CHECK(found->agency == r.source.agency);
  CHECK(found->country == r.source.country);
  CHECK(found->labels == std::vector<policy::Label>{dea, col});
  CHECK_FALSE(o.store->find_source(std::string(16, 'x')));
  std::vector<std::string> removed_ids;
  REQUIRE(o.store->apply_retention(kNowMs, &removed_ids));
  CHECK(removed_ids == std::vector<std::string>{r.report_id});
  CHECK_FALSE(o.store->find_source(r.report_id));
}

TEST_CASE("source index: keeps the most recent `capacity` records, asks the fallback for the rest, forgets removed ones") {
  SourceIndex index(3);
  std::vector<std::string> asked;
  index.set_fallback([&](const std::string& id) -> std::optional<SourceRecord> {
    asked.push_back(id);
    if (id == "old-1") return SourceRecord{"from-store", "DIRAN", "COL", {}};
    return std::nullopt;
  });
  for (const char* id : {"old-1", "r2", "r3", "r4"}) index.add(id, SourceRecord{std::string("cached-") + id, "DIRAN", "COL", {}});
  CHECK(index.cached() == 3);
  CHECK(index.find("r4")->originator == "cached-r4");
  CHECK(index.find("r2")->originator == "cached-r2");
  CHECK(asked.empty());
  INFO("evicted: answered by the fallback");
  CHECK(index.find("old-1")->originator == "from-store");
  CHECK(asked == std::vector<std::string>{"old-1"});
  INFO("removed (retention): the cache no longer answers, the fallback does");
  index.remove({"r3"});
  CHECK(index.cached() == 2);
  CHECK_FALSE(index.find("r3"));
  CHECK(asked == std::vector<std::string>{"old-1", "r3"});
  INFO("adding more after a removal still keeps at most 3");
  for (const char* id : {"r5", "r6", "r7", "r8"}) index.add(id, SourceRecord{id, "DIRAN", "COL", {}});
  CHECK(index.cached() == 3);
  CHECK(index.find("r8"));
  CHECK_FALSE(index.find("r4"));
}

TEST_CASE("store: a batch with a report id already stored writes nothing and names the id") {
  testing::TempDir dir("tearline-store");
  Opened o = open_store(options_in(dir));
  Batch first;
  first.reports.push_back(blob_report(1, 100, kNowMs));
  first.reports.push_back(blob_report(2, 100, kNowMs));
  REQUIRE(o.store->commit(first));
  Batch clash;
  clash.reports.push_back(blob_report(3, 100, kNowMs));
  StoredReport reused = blob_report(4, 100, kNowMs);
  reused.report_id = first.reports[1].report_id;
  clash.reports.push_back(reused);
  clash.cursors["fgr-liaison"] = 2;
  std::string clashing_id;
  const Status s = o.store->commit(clash, &clashing_id);
  CHECK(codes_of(s) == std::vector<std::string>{"REPLAYED_REPORT"});
  CHECK(clashing_id == reused.report_id);
  CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{1, 2});
  CHECK_FALSE(o.store->halted());
  INFO("without the clashing report the same batch is written");
  clash.reports.pop_back();
  clashing_id.clear();
  CHECK(o.store->commit(clash, &clashing_id));
  CHECK(clashing_id.empty());
  CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{1, 2, 3});
}

TEST_CASE("replay guard: ids remembered for remember_ms; sequences for good") {
  ReplayGuard guard(60'000);
  const std::string id(16, 'r');
  guard.record(id, "diran-bogota-hq", 5, kNowMs);
  CHECK(codes_of(guard.check(id, "diran-bogota-hq", 6)) == std::vector<std::string>{"REPLAYED_REPORT"});
  CHECK(codes_of(guard.check(id, "diran-bogota-hq", 5)) ==
        std::vector<std::string>{"REPLAYED_REPORT", "SEQUENCE_REGRESSION"});
  guard.expire(kNowMs + 60'000);
  CHECK(guard.remembered_ids() == 1);  // not older than remember_ms yet
  guard.expire(kNowMs + 60'001);
  CHECK(guard.remembered_ids() == 0);
  CHECK(guard.check(id, "diran-bogota-hq", 6));  // the store answers for it now (Store::commit)
  CHECK(codes_of(guard.check(id, "diran-bogota-hq", 5)) == std::vector<std::string>{"SEQUENCE_REGRESSION"});
}

}  // namespace tearline::broker
