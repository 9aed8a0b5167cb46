// The Store contract (broker/store.h), run against the backend this
// executable links (store_backend_under_test()): recovery of every piece of
// state a restarted broker needs, a batch written whole or not at all,
// REPLAYED_REPORT naming the clashing id, STORAGE_FULL at the size cap with
// the store still readable, a failed sync halting the store for good
// (STORAGE_HALTED), reads in seq order and of committed batches only, and
// retention by age and by size removing the oldest reports, just enough of
// them.
#include "store_contract.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit.h"
#include "crypto/key_file.h"
#include "report/builder.h"

namespace tearline::broker::store_contract {

using testing::DemoWorld;

StorePlace::StorePlace() : dir_("tearline-store") {}

StorePlace::~StorePlace() { store_backend_under_test().remove(dir_.path()); }

Opened StorePlace::open(const StoreOptions& options, std::int64_t now_ms) const {
  Opened o;
  auto store = store_backend_under_test().open(dir_.path(), options, now_ms, kWindowMs, &o.state);
  INFO(store_backend_under_test().name() << ": " << store.status().to_string());
  REQUIRE(store);
  o.store = std::move(store).value();
  return o;
}

policy::Label label(identity::Classification c, std::vector<std::string> rel, std::vector<std::string> units) {
  return policy::normalized(policy::Label{c, std::move(rel), std::move(units), false});
}

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

namespace {

namespace v1 = tearline::v1;

// Everything a RecoveredState holds, compared field by field.
void check_same_state(const RecoveredState& got, const RecoveredState& want) {
  CHECK(got.last_seq == want.last_seq);
  CHECK(got.sequences == want.sequences);
  CHECK(got.subscriptions == want.subscriptions);
  CHECK(got.cursors == want.cursors);
  CHECK(got.recent_ids == want.recent_ids);
  REQUIRE(got.sources.size() == want.sources.size());
  for (std::size_t i = 0; i < got.sources.size(); ++i) {
    CHECK(got.sources[i].first == want.sources[i].first);
    CHECK(got.sources[i].second.originator == want.sources[i].second.originator);
    CHECK(got.sources[i].second.labels == want.sources[i].second.labels);
  }
  CHECK(got.last_audit.index == want.last_audit.index);
  CHECK(got.last_audit.hash == want.last_audit.hash);
  CHECK(got.last_checkpoint == want.last_checkpoint);
}

}  // namespace

TEST_CASE("store: a reopened store recovers everything that was committed") {
  StorePlace place;
  const StoreOptions options;
  const auto everyone = label(v1::CONFIDENTIAL, {"COL", "MEX", "USA"});
  const auto unit = label(v1::SECRET, {"COL"}, {"cucuta-jtf"});
  const auto usa = label(v1::SECRET, {"COL", "USA"});

  const StoredReport r1 = real_report(1, "diran-cucuta-commander", 100, kNowMs - 2000, {unit, everyone});
  const StoredReport r2 = real_report(2, "diran-cucuta-commander", 101, kNowMs - 1000, {everyone});
  const StoredReport r3 = real_report(3, "dea-bogota-analyst", 7, kNowMs - 2 * kDayMs, {usa});  // outside the window
  audit::ChainWriter chain;
  {
    Opened fresh = place.open(options);
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

  Opened again = place.open(options);
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

TEST_CASE("store: a new store recovers an empty state, holds no report and is not halted") {
  StorePlace place;
  Opened o = place.open();
  check_same_state(o.state, RecoveredState{});
  CHECK(o.state.last_audit.hash == audit::AuditEntry{}.hash);
  CHECK_FALSE(o.store->halted());
  CHECK(stored_seqs(*o.store).empty());
  const std::string id = blob_report(1, 0, 0).report_id;
  auto has = o.store->has_report(id);
  REQUIRE(has);
  CHECK_FALSE(*has);
  CHECK_FALSE(o.store->find_source(id));
  std::vector<std::string> removed_ids;
  auto removed = o.store->apply_retention(kNowMs, &removed_ids);
  REQUIRE(removed);
  CHECK(*removed == 0);
  CHECK(removed_ids.empty());

  INFO("opening it again (nothing committed) recovers the same empty state");
  o.store.reset();
  Opened again = place.open();
  check_same_state(again.state, RecoveredState{});
}

TEST_CASE(
    "store: recovery keeps the highest sequence per originator and the last committed subscriptions and cursors") {
  StorePlace place;
  {
    Opened o = place.open();
    Batch a;
    StoredReport high = blob_report(1, 10, kNowMs);
    high.sequence = 10;
    a.reports.push_back(high);
    a.subscriptions["fgr-liaison"] = {"intel.>", "unit.>", "intel.>"};  // a duplicate is stored once
    a.subscriptions["dea-cucuta-agent"] = {"intel.>"};
    a.cursors["fgr-liaison"] = 5;
    a.cursors["dea-cucuta-agent"] = 1;
    REQUIRE(o.store->commit(a));

    Batch b;
    StoredReport low = blob_report(2, 10, kNowMs);
    low.sequence = 4;  // below the stored 10: the stored sequence stays
    b.reports.push_back(low);
    StoredReport other = blob_report(3, 10, kNowMs);
    other.originator = "dea-bogota-analyst";
    other.sequence = 3;
    b.reports.push_back(other);
    b.subscriptions["dea-cucuta-agent"] = {};  // an empty list: the node has none left
    b.cursors["fgr-liaison"] = 2;              // a cursor is replaced, not maxed
    REQUIRE(o.store->commit(b));
  }
  Opened again = place.open();
  CHECK(again.state.last_seq == 3);
  CHECK(again.state.sequences ==
        std::map<std::string, std::uint64_t>{{"dea-bogota-analyst", 3}, {"diran-bogota-hq", 10}});
  CHECK(again.state.subscriptions ==
        std::map<std::string, std::vector<std::string>>{{"fgr-liaison", {"intel.>", "unit.>"}}});
  CHECK(again.state.cursors == std::map<std::string, std::uint64_t>{{"dea-cucuta-agent", 1}, {"fgr-liaison", 2}});
}

TEST_CASE(
    "store: recovery returns the ids accepted at or after now - window, and the sources of the most recent reports") {
  StorePlace place;
  constexpr std::size_t kCapacity = SourceIndex::kDefaultCapacity;
  {
    Opened o = place.open();
    Batch b;
    b.reports.push_back(blob_report(1, 8, kNowMs - kWindowMs - 1));  // one ms too old
    b.reports.push_back(blob_report(2, 8, kNowMs - kWindowMs));      // exactly at the window's edge
    b.reports.push_back(blob_report(3, 8, kNowMs));
    for (std::uint64_t seq = 4; seq <= kCapacity + 2; ++seq) b.reports.push_back(blob_report(seq, 8, kNowMs - kDayMs));
    audit::ChainWriter chain;
    const crypto::SigningKey key = crypto::SigningKey::generate();
    for (int i = 0; i < 4; ++i) {
      b.audit.push_back(chain.append(kNowMs + i, "publish", "n", "", "accepted", "d"));
      if (i == 1 || i == 3) b.checkpoints.push_back(audit::sign_checkpoint(b.audit.back(), kNowMs, key));
    }
    REQUIRE(o.store->commit(b));
  }
  Opened again = place.open();
  CHECK(again.state.last_seq == kCapacity + 2);
  CHECK(again.state.last_audit.index == 4);
  CHECK(again.state.last_checkpoint == 4);
  CHECK(again.state.recent_ids ==
        std::vector<std::pair<std::string, std::int64_t>>{{blob_report(2, 0, 0).report_id, kNowMs - kWindowMs},
                                                          {blob_report(3, 0, 0).report_id, kNowMs}});
  INFO("sources: the kDefaultCapacity reports of highest seq, in seq order; an opaque report has no labels");
  REQUIRE(again.state.sources.size() == kCapacity);
  CHECK(again.state.sources.front().first == blob_report(3, 0, 0).report_id);
  CHECK(again.state.sources.back().first == blob_report(kCapacity + 2, 0, 0).report_id);
  std::size_t in_order = 0;
  for (std::size_t i = 0; i < kCapacity; ++i) {
    const auto& [id, source] = again.state.sources[i];
    if (id == blob_report(i + 3, 0, 0).report_id && source.originator == "diran-bogota-hq" &&
        source.agency == "DIRAN" && source.country == "COL" && source.labels.empty()) {
      ++in_order;
    }
  }
  CHECK(in_order == kCapacity);
}

TEST_CASE("store: STORAGE_FULL at max_bytes; nothing of the failed batch is kept; reads and small commits go on") {
  StorePlace place;
  StoreOptions options;
  options.max_bytes = 1 << 20;
  Opened o = place.open(options);

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
  Opened again = place.open(options);
  CHECK(again.state.last_seq == seq + 1);
  CHECK(again.state.cursors["fgr-liaison"] == seq);
  CHECK(again.state.last_audit.index == seq);  // the failed batch's audit entry is gone too
  std::vector<std::uint64_t> expected(seq + 1);
  std::iota(expected.begin(), expected.end(), 1);
  CHECK(stored_seqs(*again.store) == expected);
}

TEST_CASE(
    "store: a failed batch writes nothing at all: no report, sequence, subscription, cursor, audit entry or "
    "checkpoint") {
  struct Row {
    const char* failure;
    const char* code;
    bool halts;
  };
  const Row rows[] = {
      {"a report id already stored", "REPLAYED_REPORT", false},
      {"the store is full", "STORAGE_FULL", false},
      {"the sync fails", "STORAGE_HALTED", true},
  };
  for (const Row& row : rows) {
    INFO("the batch fails because " << row.failure);
    StorePlace place;
    StoreOptions options;
    options.max_bytes = 1 << 20;
    const crypto::SigningKey key = crypto::SigningKey::generate();
    audit::ChainWriter chain;
    RecoveredState before;
    {
      Opened o = place.open(options);
      Batch base;
      base.reports.push_back(blob_report(1, 100, kNowMs));
      base.subscriptions["fgr-liaison"] = {"intel.>"};
      base.cursors["fgr-liaison"] = 1;
      base.audit.push_back(chain.append(kNowMs, "publish", "n", "", "accepted", "d"));
      base.checkpoints.push_back(audit::sign_checkpoint(base.audit.back(), kNowMs, key));
      REQUIRE(o.store->commit(base));
    }
    {
      Opened o = place.open(options);
      before = o.state;

      Batch failing;
      failing.reports.push_back(blob_report(2, 100, kNowMs));
      StoredReport third = blob_report(3, 100, kNowMs);
      third.originator = "dea-bogota-analyst";
      failing.reports.push_back(third);
      failing.subscriptions["fgr-liaison"] = {"unit.>"};
      failing.subscriptions["dea-cucuta-agent"] = {"intel.>"};
      failing.cursors["fgr-liaison"] = 3;
      failing.cursors["dea-cucuta-agent"] = 2;
      for (int i = 0; i < 2; ++i)
        failing.audit.push_back(chain.append(kNowMs + 1 + i, "publish", "n", "", "accepted", "d"));
      failing.checkpoints.push_back(audit::sign_checkpoint(failing.audit.back(), kNowMs, key));
      const std::string failure = row.failure;
      if (failure == "a report id already stored") {
        failing.reports.back().report_id = blob_report(1, 0, 0).report_id;
      } else if (failure == "the store is full") {
        failing.reports.back().bytes = Bytes(2 << 20, 7);
      } else {
        o.store->fail_next_syncs_for_testing(1);
      }
      std::string clashing_id;
      const Status s = o.store->commit(failing, &clashing_id);
      INFO(s.to_string());
      CHECK(codes_of(s) == std::vector<std::string>{row.code});
      CHECK(o.store->halted() == row.halts);
      CHECK(clashing_id == (failure == "a report id already stored" ? blob_report(1, 0, 0).report_id : ""));

      INFO("reads see nothing of it");
      CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{1});
      auto has = o.store->has_report(blob_report(2, 0, 0).report_id);
      REQUIRE(has);
      CHECK_FALSE(*has);
      CHECK_FALSE(o.store->find_source(blob_report(2, 0, 0).report_id));
    }
    INFO("a restart recovers exactly the state before the failed batch");
    Opened again = place.open(options);
    check_same_state(again.state, before);
    CHECK(again.state.last_seq == 1);
    CHECK(again.state.sequences == std::map<std::string, std::uint64_t>{{"diran-bogota-hq", 1}});
    CHECK(again.state.cursors == std::map<std::string, std::uint64_t>{{"fgr-liaison", 1}});
    CHECK(again.state.last_audit.index == 1);
    CHECK(again.state.last_checkpoint == 1);
  }
}

TEST_CASE("store: a failed sync halts the store: STORAGE_HALTED now and for every later commit") {
  StorePlace place;
  const StoreOptions options;
  Opened o = place.open(options);

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
  Opened again = place.open(options);
  CHECK(again.state.last_seq == 1);
  CHECK(again.state.cursors.empty());
  CHECK_FALSE(again.store->halted());
  Batch d;
  d.reports.push_back(blob_report(2, 100, kNowMs));
  CHECK(again.store->commit(d));
  CHECK(stored_seqs(*again.store) == std::vector<std::uint64_t>{1, 2});
}

TEST_CASE(
    "store: an empty batch does not use up an injected sync failure; once halted even an empty batch is "
    "STORAGE_HALTED; reads go on") {
  StorePlace place;
  Opened o = place.open();
  const StoredReport r = real_report(1, "diran-cucuta-commander", 1, kNowMs, {label(v1::CONFIDENTIAL, {"COL"})});
  Batch a;
  a.reports.push_back(r);
  REQUIRE(o.store->commit(a));

  o.store->fail_next_syncs_for_testing(1);
  CHECK(o.store->commit(Batch{}));
  CHECK_FALSE(o.store->halted());
  Batch b;
  b.audit.push_back(audit::ChainWriter().append(kNowMs, "publish", "n", "", "accepted", "d"));
  CHECK(codes_of(o.store->commit(b)) == std::vector<std::string>{"STORAGE_HALTED"});
  CHECK(o.store->halted());
  CHECK(codes_of(o.store->commit(Batch{})) == std::vector<std::string>{"STORAGE_HALTED"});

  INFO("every read still answers from what was committed");
  auto rows = o.store->read_after(0, 10);
  REQUIRE(rows);
  REQUIRE(rows->size() == 1);
  CHECK((*rows)[0].bytes == r.bytes);
  auto has = o.store->has_report(r.report_id);
  REQUIRE(has);
  CHECK(*has);
  auto found = o.store->find_source(r.report_id);
  REQUIRE(found);
  CHECK(found->labels == r.source.labels);

  INFO("the injection belongs to that Store: a restart is not halted and commits");
  o.store.reset();
  Opened again = place.open();
  CHECK(again.state.last_audit.index == 0);
  CHECK_FALSE(again.store->halted());
  CHECK(again.store->commit(b));
}

TEST_CASE("store: read_after returns committed reports in ascending seq, at most limit, every field as committed") {
  StorePlace place;
  Opened o = place.open();
  const auto col = label(v1::CONFIDENTIAL, {"COL"});
  StoredReport r5 = real_report(5, "diran-cucuta-commander", 40, kNowMs - 5, {col});
  Batch a;
  a.reports = {blob_report(2, 30, kNowMs), blob_report(1, 20, kNowMs)};  // written out of order
  REQUIRE(o.store->commit(a));
  Batch b;
  b.reports = {r5, blob_report(9, 90, kNowMs), blob_report(10, 100, kNowMs)};
  REQUIRE(o.store->commit(b));

  CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{1, 2, 5, 9, 10});
  auto seqs_of = [&](std::uint64_t after, std::size_t limit) {
    auto rows = o.store->read_after(after, limit);
    REQUIRE(rows);
    std::vector<std::uint64_t> out;
    for (const auto& r : *rows) out.push_back(r.seq);
    return out;
  };
  CHECK(seqs_of(0, 2) == std::vector<std::uint64_t>{1, 2});
  CHECK(seqs_of(2, 2) == std::vector<std::uint64_t>{5, 9});
  CHECK(seqs_of(3, 1) == std::vector<std::uint64_t>{5});
  CHECK(seqs_of(9, 10) == std::vector<std::uint64_t>{10});
  CHECK(seqs_of(10, 10).empty());
  CHECK(seqs_of(0, 0).empty());

  INFO("every field of a row as committed; labels are not parsed on this path");
  auto rows = o.store->read_after(4, 1);
  REQUIRE(rows);
  REQUIRE(rows->size() == 1);
  const StoredReport& got = (*rows)[0];
  CHECK(got.seq == 5);
  CHECK(got.report_id == r5.report_id);
  CHECK(got.originator == "diran-cucuta-commander");
  CHECK(got.topic == "intel.seizures");
  CHECK(got.accepted_ms == kNowMs - 5);
  CHECK(got.sequence == 40);
  CHECK(got.source.originator == "diran-cucuta-commander");
  CHECK(got.source.agency == r5.source.agency);
  CHECK(got.source.country == r5.source.country);
  CHECK(got.source.labels.empty());
  CHECK(got.bytes == r5.bytes);
  auto blob = o.store->read_after(9, 1);
  REQUIRE(blob);
  REQUIRE(blob->size() == 1);
  CHECK((*blob)[0].bytes == blob_report(10, 100, kNowMs).bytes);
  CHECK((*blob)[0].topic == "intel.flood");
}

TEST_CASE("store: readers on other threads see whole committed batches only, never fewer than before") {
  StorePlace place;
  Opened o = place.open();
  constexpr std::uint64_t kBatches = 60;
  constexpr std::uint64_t kPerBatch = 3;
  std::atomic<bool> done{false};
  struct Seen {
    std::size_t reads = 0;
    std::size_t torn = 0;       // a read that is not 1..n with n a multiple of kPerBatch
    std::size_t shrunk = 0;     // a read holding fewer reports than an earlier one
    std::size_t failed = 0;     // a read that returned an error
    std::size_t id_behind = 0;  // has_report false for a report an earlier read_after returned
  };
  auto reader = [&](Seen* seen) {
    std::size_t last = 0;
    while (true) {
      const bool finished = done.load();  // one more read after the writer is done
      auto rows = o.store->read_after(0, 100000);
      ++seen->reads;
      if (!rows) {
        ++seen->failed;
      } else {
        const std::size_t n = rows->size();
        bool whole = n % kPerBatch == 0;
        for (std::size_t i = 0; i < n; ++i) whole = whole && (*rows)[i].seq == i + 1;
        if (!whole) ++seen->torn;
        if (n < last) ++seen->shrunk;
        last = std::max(last, n);
        if (n > 0) {
          auto has = o.store->has_report((*rows)[n - 1].report_id);
          if (!has || !*has) ++seen->id_behind;
        }
      }
      if (finished) break;
    }
  };
  Seen seen[2];
  std::thread t0(reader, &seen[0]);
  std::thread t1(reader, &seen[1]);
  std::uint64_t seq = 0;
  std::size_t failed_commits = 0;
  for (std::uint64_t b = 0; b < kBatches; ++b) {
    Batch batch;
    for (std::uint64_t i = 0; i < kPerBatch; ++i) batch.reports.push_back(blob_report(++seq, 64, kNowMs));
    if (!o.store->commit(batch)) ++failed_commits;
  }
  done = true;
  t0.join();
  t1.join();
  CHECK(failed_commits == 0);
  for (const Seen& s : seen) {
    CHECK(s.reads >= 1);
    CHECK(s.torn == 0);
    CHECK(s.shrunk == 0);
    CHECK(s.failed == 0);
    CHECK(s.id_behind == 0);
  }
  CHECK(stored_seqs(*o.store).size() == kBatches * kPerBatch);
}

TEST_CASE("store: retention by age deletes reports older than retention_seconds, not the seq or sequences") {
  StorePlace place;
  StoreOptions options;
  options.retention_seconds = 30 * 86400;
  Opened o = place.open(options);
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
  Opened again = place.open(options, kNowMs + 31 * kDayMs);
  CHECK(again.state.last_seq == 4);
  CHECK(again.state.sequences["diran-bogota-hq"] == 4);
  CHECK(again.state.sources.empty());
  CHECK(again.state.recent_ids.empty());
}

TEST_CASE("store: retention by age keeps a report accepted exactly retention_seconds ago, and the audit log") {
  StorePlace place;
  StoreOptions options;
  options.retention_seconds = 3600;
  Opened o = place.open(options);
  Batch b;
  b.reports.push_back(blob_report(1, 100, kNowMs - 3'600'001));
  b.reports.push_back(blob_report(2, 100, kNowMs - 3'600'000));
  audit::ChainWriter chain;
  b.audit.push_back(chain.append(kNowMs - 3'600'001, "publish", "n", "", "accepted", "d"));
  REQUIRE(o.store->commit(b));
  std::vector<std::string> removed_ids;
  auto removed = o.store->apply_retention(kNowMs, &removed_ids);
  REQUIRE(removed);
  CHECK(*removed == 1);
  CHECK(removed_ids == std::vector<std::string>{blob_report(1, 0, 0).report_id});
  CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{2});
  o.store.reset();
  Opened again = place.open(options);
  CHECK(again.state.last_audit.index == 1);
  CHECK(again.state.last_audit.hash == chain.last_hash());
}

TEST_CASE("store: retention by size deletes the oldest reports until the store fits, and no more") {
  StorePlace place;
  StoreOptions options;
  options.retention_bytes = 1 << 20;
  Opened o = place.open(options);
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

TEST_CASE(
    "store: retention by size deletes exactly the shortest run of oldest reports whose bytes reach the excess; audit "
    "entries do not count") {
  StorePlace place;
  StoreOptions options;
  options.retention_bytes = 10'000;
  Opened o = place.open(options);
  const std::size_t sizes[] = {3000, 1000, 4000, 2000};  // 10,000 bytes: exactly the limit
  Batch a;
  for (std::uint64_t seq = 1; seq <= 4; ++seq) a.reports.push_back(blob_report(seq, sizes[seq - 1], kNowMs));
  audit::ChainWriter chain;
  for (int i = 0; i < 50; ++i)
    a.audit.push_back(chain.append(kNowMs, "publish", "n", "", "accepted", std::string(1000, 'd')));
  REQUIRE(o.store->commit(a));
  std::vector<std::string> removed_ids;
  auto removed = o.store->apply_retention(kNowMs, &removed_ids);
  REQUIRE(removed);
  CHECK(*removed == 0);
  CHECK(removed_ids.empty());

  INFO("3,000 bytes more: 3,000 over; seq 1 (3,000 bytes) reaches it");
  Batch b;
  b.reports.push_back(blob_report(5, 3000, kNowMs));
  REQUIRE(o.store->commit(b));
  removed = o.store->apply_retention(kNowMs, &removed_ids);
  REQUIRE(removed);
  CHECK(*removed == 1);
  CHECK(removed_ids == std::vector<std::string>{blob_report(1, 0, 0).report_id});
  CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{2, 3, 4, 5});

  INFO("2,500 bytes more: 2,500 over; seq 2 (1,000) does not reach it, seqs 2 and 3 (5,000) do");
  Batch c;
  c.reports.push_back(blob_report(6, 2500, kNowMs));
  REQUIRE(o.store->commit(c));
  removed_ids.clear();
  removed = o.store->apply_retention(kNowMs, &removed_ids);
  REQUIRE(removed);
  CHECK(*removed == 2);
  std::sort(removed_ids.begin(), removed_ids.end());
  std::vector<std::string> expected{blob_report(2, 0, 0).report_id, blob_report(3, 0, 0).report_id};
  std::sort(expected.begin(), expected.end());
  CHECK(removed_ids == expected);
  CHECK(stored_seqs(*o.store) == std::vector<std::uint64_t>{4, 5, 6});
}

TEST_CASE(
    "store: find_source reads a committed report's source; uncommitted, unknown and retained-away ids are nullopt") {
  StorePlace place;
  StoreOptions options;
  Opened o = place.open(options);
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

TEST_CASE(
    "store: has_report is true once a report is committed, false for unknown ids and after retention deletes it") {
  StorePlace place;
  StoreOptions options;
  options.retention_seconds = 86400;
  Opened o = place.open(options);
  const StoredReport old = blob_report(1, 100, kNowMs - 2 * kDayMs);
  const StoredReport fresh = blob_report(2, 100, kNowMs);
  auto has = [&](const std::string& id) {
    auto r = o.store->has_report(id);
    INFO(r.status().to_string());
    REQUIRE(r);
    return *r;
  };
  CHECK_FALSE(has(old.report_id));
  Batch b;
  b.reports = {old, fresh};
  REQUIRE(o.store->commit(b));
  CHECK(has(old.report_id));
  CHECK(has(fresh.report_id));
  CHECK_FALSE(has(std::string(16, 'x')));
  auto removed = o.store->apply_retention(kNowMs);
  REQUIRE(removed);
  CHECK(*removed == 1);
  CHECK_FALSE(has(old.report_id));
  CHECK(has(fresh.report_id));
  INFO("an id deleted by retention is no longer a clash: it may be stored again");
  Batch again;
  again.reports.push_back(blob_report(1, 100, kNowMs));
  again.reports.back().seq = 3;
  REQUIRE(o.store->commit(again));
  CHECK(has(old.report_id));
}

TEST_CASE("store: a batch with a report id already stored writes nothing and names the id") {
  StorePlace place;
  Opened o = place.open();
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

TEST_CASE("store: one report id twice in one batch is a clash too: nothing written, the id named") {
  StorePlace place;
  Opened o = place.open();
  Batch twice;
  twice.reports.push_back(blob_report(1, 100, kNowMs));
  StoredReport copy = blob_report(2, 100, kNowMs);
  copy.report_id = twice.reports[0].report_id;
  twice.reports.push_back(copy);
  std::string clashing_id;
  const Status s = o.store->commit(twice, &clashing_id);
  CHECK(codes_of(s) == std::vector<std::string>{"REPLAYED_REPORT"});
  CHECK(clashing_id == copy.report_id);
  CHECK(stored_seqs(*o.store).empty());
  CHECK_FALSE(o.store->halted());
  INFO("the clashing id needs no out-parameter");
  CHECK(codes_of(o.store->commit(twice)) == std::vector<std::string>{"REPLAYED_REPORT"});
}

}  // namespace tearline::broker::store_contract
