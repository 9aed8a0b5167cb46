// The Store contract (store_contract.h): retention by age and by size removes
// the oldest reports, just enough of them, and never the audit log.
#include "store_contract.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "audit/audit.h"

namespace tearline::broker::store_contract {

TEST_CASE("store: retention by age deletes reports older than retention_seconds, not the seq or sequences") {
  StorePlace place;
  StoreOptions options;
  options.retention_seconds = std::int64_t{30} * 86400;
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
  constexpr std::size_t kSize = std::size_t{64} * 1024;
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

}  // namespace tearline::broker::store_contract
