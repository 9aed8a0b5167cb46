// The Store contract (store_contract.h): reads. read_after in seq order,
// readers on other threads seeing committed batches only, find_source and
// has_report.
#include "store_contract.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace tearline::broker::store_contract {

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

TEST_CASE("store: a report's acceptance receipt round-trips through read_after, and survives a restart") {
  StorePlace place;
  {
    Opened o = place.open();
    Batch a;
    a.reports = {blob_report(1, 10, kNowMs), blob_report(2, 10, kNowMs)};
    a.reports[0].receipt = Bytes{0x0a, 0x00, 0x01, 0xff};  // any bytes, kept exactly (a zero byte too)
    const Bytes long_receipt(700, 0x5c);
    a.reports[1].receipt = long_receipt;
    REQUIRE(o.store->commit(a));
    Batch b;
    b.reports = {blob_report(3, 10, kNowMs)};  // none: a report stored before receipts existed reads back empty
    REQUIRE(o.store->commit(b));
    auto rows = o.store->read_after(0, 10);
    REQUIRE(rows);
    REQUIRE(rows->size() == 3);
    CHECK((*rows)[0].receipt == Bytes{0x0a, 0x00, 0x01, 0xff});
    CHECK((*rows)[1].receipt == long_receipt);
    CHECK((*rows)[2].receipt.empty());
  }
  Opened again = place.open();
  auto rows = again.store->read_after(1, 1);
  REQUIRE(rows);
  REQUIRE(rows->size() == 1);
  CHECK((*rows)[0].receipt == Bytes(700, 0x5c));
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

// A store only this broker wrote: its own head and stream, nothing of
// other writers (SQLite never has any; PostgreSQL:
// store_postgresql_streams_test.cc).
TEST_CASE("store: heads and read_stream of a store with one writer: its own, and nothing of others") {
  StorePlace place;
  StoreOptions options;
  options.writer = "broker-a";
  Opened o = place.open(options);
  auto empty = o.store->heads();
  REQUIRE(empty);
  CHECK(*empty == std::map<std::string, std::uint64_t>{{"broker-a", 0}});
  Batch b;
  b.reports = {blob_report(1, 20, kNowMs), blob_report(2, 20, kNowMs)};
  REQUIRE(o.store->commit(b));
  auto heads = o.store->heads();
  REQUIRE(heads);
  CHECK(*heads == std::map<std::string, std::uint64_t>{{"broker-a", 2}});
  auto own = o.store->read_stream("broker-a", 1, 10);
  REQUIRE(own);
  REQUIRE(own->size() == 1);
  CHECK((*own)[0].seq == 2);
  CHECK((*own)[0].writer.empty());
  auto other = o.store->read_stream("broker-b", 0, 10);
  REQUIRE(other);
  CHECK(other->empty());
}

}  // namespace tearline::broker::store_contract
