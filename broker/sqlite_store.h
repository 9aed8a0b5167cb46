// The Store on SQLite: one database file (StoreOptions::path) in WAL mode
// with synchronous=FULL, so that COMMIT returns only after the write-ahead
// log holding the batch was fsynced (docs/reliability.md, section 1).
//
// Two connections, each with a 5 s busy timeout: the write connection, used
// by commit() and apply_retention() (one thread at a time, store.h), and a
// read-only connection for read_after(), find_source() and has_report(),
// guarded by reader_mu_; under WAL the reader sees committed transactions
// only and never blocks the writer.
//
// Codes, as store.h: SQLITE_FULL (max_page_count reached or the disk full)
// is STORAGE_FULL; the UNIQUE index on reports.report_id refusing an insert
// is REPLAYED_REPORT; a COMMIT failing with SQLITE_IOERR halts the store
// (STORAGE_HALTED); SQLITE_CORRUPT or SQLITE_NOTADB on any read or write
// (the file is damaged) halts it too, with a reason saying so, and nothing
// more is written into the file; any other failure is STORAGE_FAILED.
// Every failure rolls the transaction back.
//
// Start-up check (broker/store_check.h): a damaged header is refused at
// every open; after a stop that was not clean (no clean-stop record, or one
// that no longer matches the file), PRAGMA quick_check runs before the store
// serves. Either refuses with STORAGE_DAMAGED, as does a file SQLite finds
// corrupt or not a database while opening. The destructor writes the
// clean-stop record when both connections close and the store never halted.
//
// The hard cap: max_page_count = max_bytes / 4096 pages of 4096 bytes, at
// least 64 pages (256 KiB), set on the write connection at every open.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "base/mutex.h"
#include "broker/halt_latch.h"
#include "broker/store.h"

struct sqlite3;

namespace tearline::broker {

class SqliteStore final : public Store {
 public:
  // Opens, creating if needed, the database at options.path and recovers
  // it into *state. `recent_window_ms`: how far back from now_ms report ids
  // are recovered for replay protection. On error returns STORAGE_FAILED
  // (or STORAGE_FULL, or STORAGE_DAMAGED) naming the file, and leaves *state
  // untouched.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options, std::int64_t now_ms,
                                             std::int64_t recent_window_ms, RecoveredState* state);
  ~SqliteStore() override;

  // `prevs`: every report's is nullopt; `fenced`: none, Batch::fences is
  // ignored (one writer).
  Status commit(const Batch& batch, std::string* clashing_id, std::vector<std::optional<StreamPosition>>* prevs,
                std::vector<std::string>* fenced) override;
  bool halted() const override { return halt_.halted(); }
  std::string halt_reason() const override { return halt_.reason(); }
  std::uint64_t footprint_bytes() override;
  void leave_as_found() override { leave_as_found_ = true; }
  Result<std::vector<StoredReport>> read_after(std::uint64_t after, std::size_t limit) override;
  std::optional<SourceRecord> find_source(const std::string& report_id) override;
  Result<bool> has_report(const std::string& report_id) override;
  Result<std::size_t> apply_retention(std::int64_t now_ms, std::vector<std::string>* removed_ids) override;
  // One writer: its own head and stream (StoreOptions::writer), no other.
  Result<std::map<std::string, std::uint64_t>> heads() override;
  Result<std::vector<audit::ChainHead>> audit_heads() override { return std::vector<audit::ChainHead>{}; }
  Result<std::vector<StoredReport>> read_stream(const std::string& writer, std::uint64_t after,
                                                std::size_t limit) override;
  std::unique_ptr<StoreWatch> watch() override { return nullptr; }
  Result<std::optional<NodeClaim>> claim_node(const std::string&) override { return std::optional<NodeClaim>(); }
  void fail_next_syncs_for_testing(int n) override { fail_syncs_ = n; }

 private:
  SqliteStore() = default;
  Status exec(const char* sql);
  // When `rc` says the file is damaged (SQLITE_CORRUPT, SQLITE_NOTADB):
  // halts and returns STORAGE_HALTED saying so; otherwise `otherwise`.
  Status unless_damaged(int rc, const std::string& what, Status otherwise);
  // A read on the read connection failed with `rc`: STORAGE_FAILED, or
  // STORAGE_HALTED when the file is damaged. Caller holds reader_mu_.
  Status read_failure(int rc) REQUIRES(reader_mu_);

  StoreOptions options_;
  sqlite3* db_ = nullptr;  // the write connection
  Mutex reader_mu_;
  sqlite3* reader_ GUARDED_BY(reader_mu_) = nullptr;  // read-only
  bool opened_ = false;                               // open() succeeded: a clean close may be recorded
  HaltLatch halt_;
  bool leave_as_found_ = false;
  std::atomic<int> fail_syncs_{0};
};

}  // namespace tearline::broker
