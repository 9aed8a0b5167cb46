// The broker's durable store: one SQLite database (WAL, synchronous=FULL) in
// the data directory (docs/reliability.md).
//
// Threads: commit() runs on the StoreWriter thread (broker/store_writer.h);
// apply_retention() on the I/O thread, only while no commit is in flight (the
// write connection is handed over by StoreWriter's submit/take handshake,
// never shared).
// read_after() and find_source() use a second, read-only connection guarded by
// its own mutex; they see committed transactions only, and may be called from
// any thread at any time (WAL: readers never block the writer).
//
// A Batch is written in ONE transaction (group commit): the reports accepted
// since the previous batch was built, the originators' sequences, subscription and cursor
// changes, and the audit entries. commit() returns OK only once the
// transaction is synced to disk; only then does the broker answer ACCEPTED.
// A failed commit is rolled back and returns STORAGE_FULL (the database hit
// its size cap or the disk is full) or STORAGE_FAILED; a failure of the
// commit itself (the sync) also halts the store: it refuses every later
// commit with STORAGE_HALTED until the broker restarts, rather than pretend.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "base/mutex.h"
#include "base/result.h"
#include "broker/source_index.h"

struct sqlite3;

namespace tearline::broker {

struct StoreOptions {
  std::filesystem::path path;                  // the database file
  std::int64_t retention_seconds = 30 * 86400; // reports older than this are deleted
  std::uint64_t retention_bytes = 1ull << 30;  // oldest reports deleted while the store is larger
  std::uint64_t max_bytes = 4ull << 30;        // hard cap: commits beyond it fail with STORAGE_FULL
};

struct StoredReport {
  std::uint64_t seq = 0;
  std::string report_id;  // raw 16 bytes
  std::string originator, topic;
  std::int64_t accepted_ms = 0;
  std::uint64_t sequence = 0;  // the originator's
  SourceRecord source;         // originator agency/country and labels
  Bytes bytes;
};

// What a restarted broker recovers.
struct RecoveredState {
  std::uint64_t last_seq = 0;
  std::map<std::string, std::uint64_t> sequences;                 // originator -> last accepted
  std::map<std::string, std::vector<std::string>> subscriptions;  // node -> patterns
  std::map<std::string, std::uint64_t> cursors;                   // node -> acked broker seq
  std::vector<std::pair<std::string, std::int64_t>> recent_ids;   // (report id, accepted ms), oldest first
  std::vector<std::pair<std::string, SourceRecord>> sources;      // the most recent retained reports, oldest first
  audit::AuditEntry last_audit;                                   // index 0 when empty
  std::uint64_t last_checkpoint = 0;
};

struct Batch {
  std::vector<StoredReport> reports;
  std::map<std::string, std::vector<std::string>> subscriptions;  // node -> full pattern list
  std::map<std::string, std::uint64_t> cursors;
  std::vector<audit::AuditEntry> audit;
  std::vector<audit::Checkpoint> checkpoints;

  bool empty() const {
    return reports.empty() && subscriptions.empty() && cursors.empty() && audit.empty() && checkpoints.empty();
  }
};

class Store {
 public:
  // Opens (creating if needed) and recovers. `recent_window_ms`: how far back
  // report ids are recovered for replay protection.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options, std::int64_t now_ms,
                                             std::int64_t recent_window_ms, RecoveredState* state);
  ~Store();

  // REPLAYED_REPORT, with nothing written, when a report of the batch has the
  // id of a stored report; that id (the first one met) in `clashing_id`.
  Status commit(const Batch& batch, std::string* clashing_id = nullptr);
  bool halted() const { return halted_.load(); }

  // Reports with seq > after, ascending, at most `limit` (committed only).
  Result<std::vector<StoredReport>> read_after(std::uint64_t after, std::size_t limit);
  // The source record of a stored report; nullopt when it is not stored
  // (never accepted, or deleted by retention) or cannot be read.
  std::optional<SourceRecord> find_source(const std::string& report_id);
  // Whether a committed report has this id; STORAGE_FAILED when the store
  // cannot be read.
  Result<bool> has_report(const std::string& report_id);
  // Deletes reports past the age or size limits; returns how many, and their
  // ids in `removed_ids` when given.
  Result<std::size_t> apply_retention(std::int64_t now_ms, std::vector<std::string>* removed_ids = nullptr);

  // Test seam: the next `n` transaction commits fail as a failed sync would.
  void fail_next_syncs_for_testing(int n) { fail_syncs_ = n; }

 private:
  Store() = default;
  Status exec(const char* sql);

  StoreOptions options_;
  sqlite3* db_ = nullptr;      // the write connection
  Mutex reader_mu_;
  sqlite3* reader_ GUARDED_BY(reader_mu_) = nullptr;  // read-only
  std::atomic<bool> halted_{false};
  std::atomic<int> fail_syncs_{0};
};

}  // namespace tearline::broker
