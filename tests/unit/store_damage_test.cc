// broker/sqlite_store and broker/store_check on a damaged file (issue 16,
// point 4): a clean stop leaves its record and the next open takes it; a
// damaged header, a truncated file, or damage quick_check finds after a
// stop that was not clean refuse the open with STORAGE_DAMAGED, naming the
// file and what to do; damage found while running halts the store
// (STORAGE_HALTED saying so) and nothing more is written into the file.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "broker/sqlite_store.h"
#include "store_contract.h"

namespace tearline::broker::store_contract {
namespace {

namespace fs = std::filesystem;

fs::path db_of(const StorePlace& place) { return place.dir() / "tearline.db"; }
fs::path record_of(const StorePlace& place) { return place.dir() / "tearline.db.clean-stop"; }

// 300 reports of 2 KiB, then a clean stop (the Store destroyed).
void populate(const StorePlace& place) {
  auto o = place.open();
  Batch b;
  for (std::uint64_t seq = 1; seq <= 300; ++seq) b.reports.push_back(blob_report(seq, 2048, kNowMs));
  Status s = o.store->commit(b);
  INFO(s.to_string());
  REQUIRE(s);
}

void flip_bit(const fs::path& file, std::streamoff offset, int bit) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  f.seekg(offset);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ (1 << bit));
  f.seekp(offset);
  f.write(&c, 1);
}

Result<std::unique_ptr<Store>> open_again(const StorePlace& place) {
  RecoveredState state;
  StoreOptions options;
  options.path = db_of(place);
  return SqliteStore::open(options, kNowMs, kWindowMs, &state);
}

void check_damaged(const Status& s, const StorePlace& place, const std::string& finding) {
  INFO(s.to_string());
  CHECK(codes_of(s) == std::vector<std::string>{"STORAGE_DAMAGED"});
  const std::string& m = s.reasons().at(0).message;
  CHECK(m.find(db_of(place).string() + " is damaged: ") != std::string::npos);
  CHECK(m.find(finding) != std::string::npos);
  CHECK(m.find("restore the data dir from a backup") != std::string::npos);
}

TEST_CASE("sqlite store: a clean stop leaves its record, which the next open takes") {
  StorePlace place;
  populate(place);
  CHECK(fs::exists(record_of(place)));
  {
    auto again = open_again(place);
    REQUIRE(again);
    CHECK_FALSE(fs::exists(record_of(place)));  // a crash from here on is not a clean stop
  }
  CHECK(fs::exists(record_of(place)));
}

TEST_CASE("sqlite store: a damaged header refuses the open with STORAGE_DAMAGED") {
  StorePlace place;
  populate(place);
  struct Case {
    std::streamoff byte;
    int bit;
    const char* finding;
  };
  const Case c =
      GENERATE(Case{0, 0, "does not begin with \"SQLite format 3\""}, Case{16, 0, "page size"},
               Case{18, 0, "file format versions 3/2"},  // SQLite would open it read-only
               Case{21, 0, "payload fractions"}, Case{28, 3, "database disk image is malformed"},  // the size in pages
               Case{36, 0, "PRAGMA quick_check"},   // the free-list page count
               Case{52, 0, "PRAGMA quick_check"});  // the largest root page
  INFO("byte " << c.byte << " bit " << c.bit);
  const fs::path copy_dir = place.dir() / "copy";
  // Each case on its own copy of the cleanly stopped store.
  fs::create_directories(copy_dir);
  StorePlace copy;
  fs::copy_file(db_of(place), db_of(copy));
  fs::copy_file(record_of(place), record_of(copy));
  flip_bit(db_of(copy), c.byte, c.bit);
  auto opened = open_again(copy);
  REQUIRE_FALSE(opened);
  check_damaged(opened.status(), copy, c.finding);
  // Refused again at the next open: the record is gone, the check runs.
  CHECK_FALSE(fs::exists(record_of(copy)));
  auto again = open_again(copy);
  REQUIRE_FALSE(again);
  CHECK(codes_of(again.status()) == std::vector<std::string>{"STORAGE_DAMAGED"});
}

TEST_CASE("sqlite store: a database truncated to half refuses the open with STORAGE_DAMAGED") {
  StorePlace place;
  populate(place);
  const bool clean = GENERATE(true, false);
  INFO((clean ? "after a clean stop" : "after a crash (no clean-stop record)"));
  if (!clean) fs::remove(record_of(place));
  fs::resize_file(db_of(place), fs::file_size(db_of(place)) / 2);
  auto opened = open_again(place);
  REQUIRE_FALSE(opened);
  check_damaged(opened.status(), place, "database disk image is malformed");
}

TEST_CASE("sqlite store: damage found while running halts the store; nothing more is written") {
  StorePlace place;
  populate(place);
  auto opened = open_again(place);  // after the clean stop: not checked
  REQUIRE(opened);
  Store& store = **opened;
  fs::resize_file(db_of(place), fs::file_size(db_of(place)) / 2);
  auto read = store.read_after(0, 1000);
  REQUIRE_FALSE(read);
  INFO(read.status().to_string());
  CHECK(codes_of(read.status()) == std::vector<std::string>{"STORAGE_HALTED"});
  CHECK(store.halted());
  CHECK(store.halt_reason().find("is damaged") != std::string::npos);
  CHECK(store.halt_reason().find("restore the data dir from a backup") != std::string::npos);

  const auto size = fs::file_size(db_of(place));
  const auto wal = place.dir() / "tearline.db-wal";
  const auto wal_size = fs::exists(wal) ? fs::file_size(wal) : 0;
  Batch b;
  b.reports.push_back(blob_report(301, 2048, kNowMs));
  Status s = store.commit(b);
  CHECK(code_of(s) == "STORAGE_HALTED");
  CHECK(s.reasons().at(0).message.find("is damaged") != std::string::npos);
  CHECK(fs::file_size(db_of(place)) == size);
  CHECK((fs::exists(wal) ? fs::file_size(wal) : 0) == wal_size);
  opened->reset();
  // A halted store leaves no clean-stop record: the next open checks.
  CHECK_FALSE(fs::exists(record_of(place)));
  auto again = open_again(place);
  REQUIRE_FALSE(again);
  CHECK(codes_of(again.status()) == std::vector<std::string>{"STORAGE_DAMAGED"});
}

}  // namespace
}  // namespace tearline::broker::store_contract
