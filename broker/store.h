// The broker's durable store, as an interface: the seam behind which each
// storage backend lives (broker/sqlite_store.h today). The broker holds a
// Store and never names a backend except to open one in Broker::create().
// Every backend runs the same contract suite (tests/unit/store_contract.h);
// what follows is that contract.
//
// Opening. Each backend has its own static factory (e.g. SqliteStore::open)
// that opens, creating when new, the store and recovers it: it returns the
// store and fills a RecoveredState (below), or returns STORAGE_FAILED (or
// another code naming the cause) and leaves the RecoveredState untouched.
//
// Batches. commit() writes a Batch atomically (group commit): all of it, or,
// on any failure, nothing of it (no report, sequence, subscription, cursor,
// audit entry or checkpoint): the store stays as it was and, unless the
// failure halted it (STORAGE_HALTED), takes the next batch. commit() returns
// OK only once the batch is durable (synced); only then may the broker
// answer ACCEPTED for a report in it. Its codes:
//   OK               committed and durable (an empty batch: nothing to do,
//                    OK at once, nothing synced).
//   REPLAYED_REPORT  a report of the batch has the id of a stored report (or
//                    of an earlier report of the same batch); the first such
//                    id is stored in *clashing_id when given. Not a storage
//                    fault: the store is not halted.
//   SEQUENCE_REGRESSION  (several writers only) the same for a report whose
//                    sequence another writer's report already reached.
//   STORAGE_FULL     the store reached max_bytes, or the disk is full. Not
//                    halted: reads go on, and a batch that fits commits.
//   STORAGE_FAILED   any other failure to write the batch; not halted.
//   STORAGE_HALTED   the commit itself (the sync) failed: the state on disk
//                    is unknown, so the store halts for the life of this
//                    object and refuses every later commit, empty or not,
//                    with STORAGE_HALTED, rather than pretend. A restart (a
//                    new open) recovers what was synced. A store that finds
//                    its file damaged (on any read or write) halts the same
//                    way, saying so, and writes nothing more into it; a new
//                    open refuses a damaged store with STORAGE_DAMAGED.
//
// Reads (read_after, find_source, has_report) see committed batches only,
// each whole or not at all, never a batch that failed; a report is visible
// to them once its batch has committed (at the latest when commit() returns
// OK) until retention deletes it. Reads go on after STORAGE_FULL and after a
// halt.
//
// Threads: commit() and apply_retention() use the backend's write path; the
// broker calls them from one thread at a time, never concurrently (commit on
// the StoreWriter thread, broker/store_writer.h; retention on the I/O thread
// while no commit is in flight). read_after(), find_source(), has_report()
// and halted() may be called from any thread at any time, concurrently with
// each other and with a commit or retention in progress; a backend
// serializes them internally as it needs to (WAL: readers never block the
// writer). fail_next_syncs_for_testing() may be called from any thread.
//
// Writers (several brokers on one store, docs/scale-out.md): every broker
// writes its own stream of reports, numbered by its own gap-free seq and
// named by the broker's node id (StoreOptions::writer). A SQLite store has
// one writer, its own; a PostgreSQL store may hold several. Report ids and
// originators' sequences are shared by every writer (replay protection holds
// across them); seqs, cursors and the audit chain are per writer.
// heads() and read_stream() read the other writers' streams; watch() wakes
// a reader when one of them commits.
//
// Ownership: the caller owns the Store; it must outlive every thread that
// calls it (the StoreWriter and the source index fallback hold references).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "audit/chain_heads.h"
#include "base/result.h"
#include "broker/source_index.h"

namespace tearline::broker {

struct StoreOptions {
  std::filesystem::path path;  // SQLite: the database file (other backends: their own location)
  std::int64_t retention_seconds = std::int64_t{30} * 86400;  // reports older than this are deleted
  std::uint64_t retention_bytes = 1ull << 30;  // oldest reports deleted while the reports' bytes exceed this
  std::uint64_t max_bytes = 4ull << 30;        // hard cap: commits beyond it fail with STORAGE_FULL
  // This store's writer: the broker's node id (1 to kMaxWriterNameBytes
  // bytes). SQLite keeps no name (one writer); PostgreSQL registers it.
  std::string writer = "broker";
  // The broker's audit verify key: PostgreSQL gives the nameless writer of
  // a schema-1 store to the broker whose key signed its last checkpoint.
  std::optional<crypto::VerifyKey> writer_key;
};

inline constexpr std::size_t kMaxWriterNameBytes = 128;

// A place in a writer's stream.
struct StreamPosition {
  std::string writer;  // the writer's name (its broker's node id)
  std::uint64_t seq = 0;
  bool operator==(const StreamPosition&) const = default;
};

struct StoredReport {
  std::uint64_t seq = 0;  // the broker's; unique, the order of reads
  std::string report_id;  // raw 16 bytes; unique among stored reports
  std::string originator, topic;
  std::int64_t accepted_ms = 0;
  std::uint64_t sequence = 0;  // the originator's
  SourceRecord source;         // originator agency/country and labels (read_after: labels left empty)
  Bytes bytes;
  // The broker's acceptance receipt (a serialized tearline.v1.AcceptanceReceipt,
  // receipt/acceptance.h), delivered with every copy; empty for a report
  // stored before receipts existed. read_after returns it as written.
  Bytes receipt;
  // read_stream: the writer that accepted it (its broker's node id); empty
  // for this store's own reports (read_after).
  std::string writer;
  // A report that crossed from another agency's broker: its path there (a
  // serialized tearline.v1.CrossingPath, docs/federation.md), delivered
  // with every copy; empty for a report published to this broker.
  Bytes path;
  // Where its originator's previous report was when it was committed (read
  // back as commit() found it); nullopt when it had none, or the store keeps
  // no such record (SQLite: one writer, whose own order is the originators').
  std::optional<StreamPosition> prev;
};

// Wakes a reader of other writers' streams (Store::watch). One thread.
class StoreWatch {
 public:
  virtual ~StoreWatch() = default;
  // Waits up to `timeout_ms` for another writer to commit reports; true when
  // one may have (a notification came, or the watch had to reconnect and
  // may have missed one), false when the time passed quietly. Never throws.
  virtual bool wait(std::int64_t timeout_ms) = 0;
};

// What a restarted broker recovers: what every batch that committed OK
// wrote, and nothing of a batch that failed.
struct RecoveredState {
  std::uint64_t last_seq = 0;                      // the highest seq ever committed, even if retention deleted it
  std::map<std::string, std::uint64_t> sequences;  // originator -> highest sequence committed, for good
  std::map<std::string, std::vector<std::string>>
      subscriptions;                             // node -> patterns, as last committed, duplicates once
  std::map<std::string, std::uint64_t> cursors;  // node -> acked broker seq, as last committed
  // node -> (writer -> acked seq) in other writers' streams, as last committed
  std::map<std::string, std::map<std::string, std::uint64_t>> stream_cursors;
  std::vector<std::pair<std::string, std::int64_t>>
      recent_ids;  // (report id, accepted ms) of the stored reports accepted at or after now - recent_window, seq order
  std::vector<std::pair<std::string, SourceRecord>> sources;  // the SourceIndex::kDefaultCapacity stored reports of
                                                              // highest seq, seq order, labels parsed from their bytes
  audit::AuditEntry last_audit;                               // the entry of highest index; index 0 when empty
  std::uint64_t last_checkpoint = 0;                          // the highest checkpoint index; 0 when none
  std::int64_t last_checkpoint_ms = 0;                        // that checkpoint's time_ms; 0 when none
};

// A node's durable state as one writer takes it over (Store::claim_node).
struct NodeClaim {
  std::uint64_t fence = 0;              // this claim's fencing number: higher than every earlier claim of the node
  std::vector<std::string> patterns;    // the node's durable patterns, in their order
  std::optional<std::uint64_t> cursor;  // in the claiming writer's stream; nullopt: none
  std::map<std::string, std::uint64_t> stream_cursors;  // in the other writers' streams, by writer name
};

struct Batch {
  std::vector<StoredReport> reports;
  std::map<std::string, std::vector<std::string>> subscriptions;  // node -> full pattern list (replaces; empty: none)
  std::map<std::string, std::uint64_t> cursors;                   // node -> acked seq (replaces)
  // (node, writer) -> acked seq in another writer's stream (replaces);
  // a store with one writer refuses a batch with any (STORAGE_FAILED).
  std::map<std::pair<std::string, std::string>, std::uint64_t> stream_cursors;
  // node -> the fencing number of this writer's claim (claim_node) under
  // which the batch writes the node's subscriptions and cursors. When
  // another writer has claimed the node since, none of that node's rows
  // are written (the rest of the batch is) and commit() names the node in
  // *fenced. A node not listed is written unfenced; a store with one
  // writer ignores this.
  std::map<std::string, std::uint64_t> fences;
  std::vector<audit::AuditEntry> audit;
  std::vector<audit::Checkpoint> checkpoints;

  bool empty() const {
    return reports.empty() && subscriptions.empty() && cursors.empty() && stream_cursors.empty() && audit.empty() &&
           checkpoints.empty();
  }
};

class Store {
 public:
  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Writes `batch` in one atomic, durable step; the codes above. Each
  // originator's sequence becomes the highest of its stored one and its
  // reports' in the batch. A store several writers share also refuses,
  // with SEQUENCE_REGRESSION, a report whose sequence is not above its
  // originator's stored one when another writer's report reached that (a
  // later report of it went to another broker), the report's id in
  // *clashing_id as for REPLAYED_REPORT; and, when
  // `prevs` is given, fills it in batch order with each report's `prev`
  // (StoredReport::prev); `fenced`, when given, receives the nodes whose
  // rows Batch::fences kept out. Writer thread only.
  virtual Status commit(const Batch& batch, std::string* clashing_id = nullptr,
                        std::vector<std::optional<StreamPosition>>* prevs = nullptr,
                        std::vector<std::string>* fenced = nullptr) = 0;
  // Whether a failed sync or damage halted the store (then every commit is
  // refused); halt_reason(): why, and what to do (empty when not halted).
  // Any thread.
  virtual bool halted() const = 0;
  virtual std::string halt_reason() const = 0;
  // The start was refused after the store opened (STORAGE_TRUNCATED): close
  // it leaving its files as they were, for whoever examines the loss: no
  // checkpoint of the WAL into the database, no record of a clean stop.
  // Start-up thread only, before any commit.
  virtual void leave_as_found() = 0;

  // Reports with seq > after, in ascending seq, at most `limit` (committed
  // only); STORAGE_FAILED when the store cannot be read. Any thread.
  virtual Result<std::vector<StoredReport>> read_after(std::uint64_t after, std::size_t limit) = 0;
  // The source record of a stored report, labels parsed from its bytes;
  // nullopt when it is not stored (never committed, or deleted by retention)
  // or cannot be read. Any thread.
  virtual std::optional<SourceRecord> find_source(const std::string& report_id) = 0;
  // Whether a committed report has this id; STORAGE_FAILED when the store
  // cannot be read. Any thread.
  virtual Result<bool> has_report(const std::string& report_id) = 0;

  // Every writer's last committed seq (its head), this store's own
  // included, by writer name; STORAGE_FAILED when the store cannot be read.
  // Any thread.
  virtual Result<std::map<std::string, std::uint64_t>> heads() = 0;
  // The last audit entry of every other named writer's chain that has one
  // (audit/chain_heads.h), sorted by writer name; none for a store with one
  // writer. STORAGE_FAILED when the store cannot be read. Any thread.
  virtual Result<std::vector<audit::ChainHead>> audit_heads() = 0;
  // Reports of the writer named `writer` with seq > after, in ascending seq,
  // at most `limit`, each naming `writer` (this store's own writer: as
  // read_after, writer left empty); none for a writer the store does not
  // hold. STORAGE_FAILED when the store cannot be read. Any thread.
  virtual Result<std::vector<StoredReport>> read_stream(const std::string& writer, std::uint64_t after,
                                                        std::size_t limit) = 0;
  // A watch on the other writers' commits, on its own connection; nullptr
  // for a store with one writer (there is nothing to watch). Any thread;
  // the watch must not outlive the store.
  virtual std::unique_ptr<StoreWatch> watch() = 0;
  // Claims `node` for this writer (docs/scale-out.md, "Claims"): from now
  // on only this writer's batches write the node's subscriptions and
  // cursors (Batch::fences with the returned fence); an earlier claim of
  // another writer, or of this one, is superseded. Returns the node's
  // durable state as stored at the claim. nullopt for a store with one
  // writer: there is nothing to claim, the caller's memory is the truth.
  // STORAGE_FAILED when the store cannot be reached. Any thread.
  virtual Result<std::optional<NodeClaim>> claim_node(const std::string& node) = 0;

  // Deletes the reports accepted before now_ms - retention_seconds, then,
  // while the reports' own bytes (not the audit log's) exceed
  // retention_bytes, the shortest run of oldest reports (lowest seq) whose
  // bytes reach the excess. Returns how many were deleted, and their ids in
  // `removed_ids` when given; deletes nothing and returns 0 once halted.
  // Sequences, last_seq and the audit log are kept. Writer thread only.
  virtual Result<std::size_t> apply_retention(std::int64_t now_ms, std::vector<std::string>* removed_ids = nullptr) = 0;

  // What the store takes up where it lives, in bytes: SQLite, its files
  // (database, WAL, WAL index); PostgreSQL, its tables with their indexes
  // and TOAST (pg_total_relation_size). 0 when it cannot be told. For
  // `tearline status`. Any thread; it never waits for a server (the I/O
  // thread answers status with it): a backend that must ask one returns
  // what it last measured (PgStore: at open, then after a commit at most
  // once a second, so the batches of the second after a measurement are
  // counted only by the next commit's).
  virtual std::uint64_t footprint_bytes() = 0;

  // Test seam, implemented by every backend: the next `n` non-empty commits
  // fail as a failed sync would (nothing written, STORAGE_HALTED, halted()).
  virtual void fail_next_syncs_for_testing(int n) = 0;

 protected:
  Store() = default;
};

}  // namespace tearline::broker
