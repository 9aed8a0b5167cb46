// The Store contract (store_contract.h): recovery. A reopened store gives a
// restarted broker every piece of state it needs, and a new one an empty state.
#include "store_contract.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "audit/audit.h"

namespace tearline::broker::store_contract {

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

}  // namespace tearline::broker::store_contract
