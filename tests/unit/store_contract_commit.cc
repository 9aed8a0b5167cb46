// The Store contract (store_contract.h): commits. A batch is written whole or
// not at all: STORAGE_FULL at the size cap with the store still readable, a
// failed sync halting the store for good (STORAGE_HALTED), REPLAYED_REPORT
// naming the clashing id.
#include "store_contract.h"

#include <catch2/catch.hpp>

#include <numeric>
#include <string>
#include <vector>

#include "audit/audit.h"

namespace tearline::broker::store_contract {

TEST_CASE("store: STORAGE_FULL at max_bytes; nothing of the failed batch is kept; reads and small commits go on") {
  StorePlace place;
  StoreOptions options;
  options.max_bytes = 1 << 20;
  Opened o = place.open(options);

  constexpr std::size_t kBig = std::size_t{200} * 1024;
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
