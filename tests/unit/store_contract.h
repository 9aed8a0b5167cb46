// The Store contract (broker/store.h) as one suite of test cases, written
// once against the interface (store_contract_*.cc, one file per topic), and
// the helpers its cases and a backend's own cases share (store_contract.cc).
//
// A backend runs the contract by linking the contract's files (the list
// store_contract_cases in tests/unit/CMakeLists.txt) into its test
// executable together with one small file that defines
// store_backend_under_test() and holds the backend's own cases (SQLite:
// store_sqlite_test.cc). Adding a backend is that file and one
// tearline_test() line in tests/unit/CMakeLists.txt; the contract's cases do
// not change.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "broker/store.h"
#include "policy/label.h"
#include "support/demo_world.h"
#include "support/temp_dir.h"

namespace tearline::broker::store_contract {

namespace v1 = tearline::v1;

constexpr std::int64_t kNowMs = testing::kDemoNow * 1000;
constexpr std::int64_t kWindowMs = 600'000;  // 2 x the default clock window
constexpr std::int64_t kDayMs = 86'400'000;

// One storage backend under test.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  virtual std::string name() const = 0;
  // Opens, creating when new, the store that belongs to `dir` (an empty
  // directory made for one test case: the store lives in it, or is named
  // after it), with the limits of `options` (retention_seconds,
  // retention_bytes, max_bytes; where the store lives is the backend's
  // choice, so options.path is the backend's to set). Opening the same dir
  // again after the previous Store was destroyed is a restart: it recovers.
  virtual Result<std::unique_ptr<Store>> open(const std::filesystem::path& dir, StoreOptions options,
                                              std::int64_t now_ms, std::int64_t recent_window_ms,
                                              RecoveredState* state) const = 0;
  // Called when a test case is done with `dir`, every Store on it destroyed,
  // before the dir itself is removed: a backend whose data lives outside the
  // dir (a database server) drops it here.
  virtual void remove(const std::filesystem::path& dir) const { (void)dir; }
};

// The backend this test executable runs the contract against; defined by
// the backend's test file, exactly once per executable.
const StoreBackend& store_backend_under_test();

struct Opened {
  std::unique_ptr<Store> store;
  RecoveredState state;
};

// A fresh, empty place for one test case's store: a temporary directory
// given to the backend under test, removed (with backend.remove) at the end.
class StorePlace {
 public:
  StorePlace();
  ~StorePlace();
  StorePlace(const StorePlace&) = delete;
  StorePlace& operator=(const StorePlace&) = delete;

  const std::filesystem::path& dir() const { return dir_.path(); }
  // Opens the store (the first time: creates it; then: a restart) and
  // REQUIREs that it opened.
  Opened open(const StoreOptions& options = {}, std::int64_t now_ms = kNowMs) const;

 private:
  testing::TempDir dir_;
};

policy::Label label(identity::Classification c, std::vector<std::string> rel, std::vector<std::string> units = {});

// A real signed report of the demo world, as the broker would store it.
StoredReport real_report(std::uint64_t seq, const std::string& node, std::uint64_t sequence, std::int64_t accepted_ms,
                         const std::vector<policy::Label>& labels);

// An opaque report of `size` bytes (the store does not parse what it
// writes); its id is derived from `seq`, so equal seqs give equal ids.
StoredReport blob_report(std::uint64_t seq, std::size_t size, std::int64_t accepted_ms);

// The seqs of every stored report, in the order read_after returns them.
std::vector<std::uint64_t> stored_seqs(Store& store);

// Everything a RecoveredState holds, compared field by field (CHECKs).
void check_same_state(const RecoveredState& got, const RecoveredState& want);

std::string code_of(const Status& s);
std::vector<std::string> codes_of(const Status& s);

}  // namespace tearline::broker::store_contract
