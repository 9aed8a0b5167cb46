// The Store on PostgreSQL (issue 17): the store of one broker, or of
// several that share it ("Writers"), in a PostgreSQL database, through
// libpqxx. It passes the same contract suite as
// SqliteStore (tests/unit/store_contract.h) against a real server.
//
// Where the data lives: the database and schema the conninfo names (tables
// unqualified, so a conninfo `options=-csearch_path=NAME` picks a schema);
// one store per database or schema. open() creates the tables when
// they are missing and applies migrations (broker/pg_schema.h, recorded in
// schema_version), under an advisory lock so that two openers do not race.
// The role needs CREATE on that schema the first time (PostgreSQL 15 no
// longer grants it on `public` to every role).
//
// Batches: one transaction (READ COMMITTED) per Batch: its reports, each
// originator's highest sequence, the writer's last seq and report bytes,
// subscriptions, cursors, audit entries and checkpoints. commit() returns OK
// only after COMMIT returned, i.e. once the server flushed the commit record
// (and, when the cluster has synchronous standbys and synchronous_commit is
// on, once they confirmed: the server's settings decide; PgStore sets none
// and never sets a statement_timeout, and never cancels a COMMIT: a
// cancelled wait for a standby leaves the transaction committed locally).
// Codes, as store.h:
//   SEQUENCE_REGRESSION  a report's sequence is not above its originator's
//                    stored one, which another writer's report reached (a
//                    later report of it went to another broker; against its
//                    own reports the broker's ReplayGuard judges, and the
//                    stored sequence stays the highest, as store.h says):
//                    the originators' rows of the batch are locked
//                    (in name order) before its reports are written, so two
//                    brokers' batches are checked one after the other.
//   REPLAYED_REPORT  a report's id is already stored (the UNIQUE constraint
//                    on reports.report_id, as SQLite's UNIQUE index: ids are
//                    unique whoever the originator; ON CONFLICT DO NOTHING
//                    finds the first such id, which *clashing_id receives).
//   STORAGE_FULL     the reports' bytes would exceed max_bytes, or the server
//                    reports a full disk (SQLSTATE 53100).
//   STORAGE_FAILED   any other error, the transaction rolled back: nothing
//                    of the batch is written. This includes a connection
//                    lost before COMMIT was sent (the server rolls back an
//                    open transaction whose connection ends); the next
//                    commit connects anew.
//   STORAGE_HALTED   the connection was lost while COMMIT was in flight: the
//                    batch may or may not have committed, and the store
//                    cannot tell, so it halts (store.h: the state is
//                    unknown) rather than guess or retry the COMMIT. A
//                    restart recovers whatever did commit; a publisher's
//                    retry of a report that had committed is then
//                    REPLAYED_REPORT, so nothing is stored twice. Also a
//                    server reporting damaged data (SQLSTATE XX001, XX002),
//                    on any read or write, halts the store saying so.
//
// max_bytes and retention_bytes measure the same thing: the sum of the
// reports' own bytes (octet_length(bytes), before PostgreSQL compresses
// them), kept in writers.report_bytes in the same transactions that insert
// and delete reports, and recomputed at every open. Receipts, the audit log,
// indexes, TOAST and WAL are not counted (SQLite's cap counts its whole
// file): the server's disk-full error is the bound for those. Measured this
// way, the cap does not depend on how well the reports compress, nor on
// vacuum.
//
// Connections: two, like SqliteStore: the write connection (commit,
// apply_retention; one thread at a time, store.h) and the read connection
// (read_after, heads, read_stream, find_source, has_report, claim_node;
// guarded by reader_mu_, any thread; lock_timeout kReadLockTimeout), and one
// more per watch(). Each read is one statement, so it sees whole committed
// batches only; claim_node is three (the claim, then the node's rows). A read that finds its connection lost connects
// anew and tries once more; a commit that finds it lost at BEGIN (nothing sent yet) does the same. application_name is
// kWriteApplicationName, kReadApplicationName or kWatchApplicationName, so operators (and the tests) can find them in
// pg_stat_activity.
//
// Writers: each broker writes as its own writer, named by its node id
// (StoreOptions::writer, writers.broker_id). open() finds the writer of that
// name, or registers it with the next writer id; the unnamed writer 1 of a
// schema-1 store goes to the broker its newest report's receipt names (or,
// lacking one, to the first broker to open the store while no other writer
// exists). Every commit with reports is followed by one NOTIFY on
// kNotifyChannel, its payload the writer id, in a transaction of its own
// (in the batch's, it would serialize every broker's commits): a wake-up
// hint for watch(), whose caller then reads every writer's last_seq (heads)
// and what lies past its position in each stream (read_stream). A hint can
// be lost (a broker killed between the two): a reader also reads the heads
// now and then without one. Cursors in another writer's
// stream (Batch::stream_cursors) are rows of `cursors` under that writer's
// id; the other writers' rows are never written otherwise.
//
// One session per writer: a broker writes as its writer only while its
// write session holds that writer's advisory lock
// (pg_try_advisory_lock(kWriterLockClass, writer_id), taken at open, held
// for the session's life). A second broker opening the same store as the
// same writer is refused (STORAGE_FAILED naming the session that holds it)
// once kWriterLockWait has passed: a broker restarted after a crash may
// find its previous session still ending on the server. Its data_dir lock
// cannot see another host. When the write session is lost, the lock goes
// with it: the next commit connects anew and must take the lock again and
// find the writer's last_seq and highest audit idx where this store left
// them; otherwise another broker wrote as this writer meanwhile, and the
// store halts rather than interleave with it. A previous session of this
// store's own that still holds the lock (a dead connection the server has
// not noticed) is ended first.
//
// leave_as_found(): nothing to do. The server owns the files; closing the
// connections changes nothing in the database.
//
// A broker opens it when its configuration says storage.store =
// "postgresql" (broker/store_open.cc).
//
// Claims (node_claims, schema 3): a node's subscriptions and cursors are
// written only by the writer that last claimed the node (claim_node), and
// only under that claim's fencing number: write_batch locks each fenced
// node's claim row (FOR SHARE, in node order) and leaves out the rows of a
// node whose claim moved on (*fenced). A claim waits for a batch that holds
// the row; a batch that comes after a claim sees it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "audit/pg_audit_reader.h"
#include "base/mutex.h"
#include "broker/halt_latch.h"
#include "broker/store.h"

namespace pqxx {
class dbtransaction;
class transaction_base;
}  // namespace pqxx

namespace tearline::broker {

class PgStore final : public Store {
 public:
  // The advisory lock of writer W is (kWriterLockClass, W) ("One writer").
  static constexpr int kWriterLockClass = 0x746c7772;  // "tlwr"
  // How long open() waits for a writer lock that another session holds.
  static constexpr std::chrono::milliseconds kWriterLockWait{3000};
  static constexpr const char* kWriteApplicationName = "tearline-store-write";
  static constexpr const char* kReadApplicationName = "tearline-store-read";
  static constexpr const char* kWatchApplicationName = "tearline-store-watch";
  // Every commit with reports sends one NOTIFY on this channel, its payload
  // the writer id; watch() LISTENs to it.
  static constexpr const char* kNotifyChannel = "tearline_reports";

  // Connects with `conninfo` (a libpq connection string or URI), creates or
  // migrates the schema and recovers the store into *state (as
  // SqliteStore::open: `recent_window_ms` back from now_ms for report ids).
  // options.path is not used. On error returns STORAGE_FAILED (or
  // STORAGE_DAMAGED when the server reports damaged data) with the server's
  // message, never the conninfo (it may hold a password), and leaves *state
  // untouched.
  static Result<std::unique_ptr<Store>> open(const std::string& conninfo, const StoreOptions& options,
                                             std::int64_t now_ms, std::int64_t recent_window_ms, RecoveredState* state);
  ~PgStore() override;

  Status commit(const Batch& batch, std::string* clashing_id, std::vector<std::optional<StreamPosition>>* prevs,
                std::vector<std::string>* fenced) override;
  bool halted() const override { return halt_.halted(); }
  std::string halt_reason() const override { return halt_.reason(); }
  std::uint64_t footprint_bytes() override { return footprint_.load(); }
  void leave_as_found() override {}
  Result<std::vector<StoredReport>> read_after(std::uint64_t after, std::size_t limit) override;
  std::optional<SourceRecord> find_source(const std::string& report_id) override;
  Result<bool> has_report(const std::string& report_id) override;
  Result<std::size_t> apply_retention(std::int64_t now_ms, std::vector<std::string>* removed_ids) override;
  Result<std::map<std::string, std::uint64_t>> heads() override;
  Result<std::vector<audit::ChainHead>> audit_heads() override;
  Result<std::vector<StoredReport>> read_stream(const std::string& writer, std::uint64_t after,
                                                std::size_t limit) override;
  std::unique_ptr<StoreWatch> watch() override;
  // One statement on the read connection takes the claim (node_claims:
  // holder this writer, fence one more); then the node's rows are read.
  Result<std::optional<NodeClaim>> claim_node(const std::string& node) override;
  void fail_next_syncs_for_testing(int n) override { fail_syncs_ = n; }
  // This broker's writer id in the store (registered at open).
  int writer_id() const { return writer_id_; }

  struct Connection;  // a pqxx connection and its prepared statements (pg_store_internal.h)

 private:
  PgStore();
  // Starts the batch's transaction on the write connection, connecting
  // (again) when there is none or it was lost before anything was sent.
  Status begin_write(std::unique_ptr<pqxx::dbtransaction>* tx);
  // Writes the batch's rows inside `tx`; REPLAYED_REPORT,
  // SEQUENCE_REGRESSION or STORAGE_FULL as values, server errors as
  // exceptions. Fills *prevs (when given) as commit() says.
  Status write_batch(pqxx::transaction_base& tx, const Batch& batch, std::string* clashing_id,
                     std::vector<std::optional<StreamPosition>>* prevs, std::vector<std::string>* fenced);
  // Runs `query` on the read connection, connecting (again) when needed.
  Status read(const std::function<void(pqxx::transaction_base&)>& query) EXCLUDES(reader_mu_);
  // The status for a server error: halts on damaged data.
  Status failure(const std::exception& e, const std::string& what);
  // After a commit with reports: one NOTIFY on kNotifyChannel, in its own
  // transaction with synchronous_commit off; failing, it is lost (a hint).
  void notify_watchers();
  // Asks the server for the tables' size into footprint_, on the read
  // connection, only when that is free and connected: it never waits for a
  // read of another thread, nor connects; footprint_ is left as it was when
  // it cannot measure. Never throws.
  void measure_footprint() EXCLUDES(reader_mu_);

  std::string conninfo_;
  StoreOptions options_;
  int writer_id_ = 0;                   // set by open()
  std::unique_ptr<Connection> writer_;  // writer thread only
  Mutex reader_mu_;
  std::unique_ptr<Connection> reader_ GUARDED_BY(reader_mu_);
  HaltLatch halt_;
  std::atomic<int> fail_syncs_{0};
  // Writer thread only: the highest seq and audit idx this store committed
  // (or recovered), and its write session's server pid.
  std::uint64_t committed_seq_ = 0;
  std::uint64_t committed_audit_ = 0;
  int writer_pid_ = 0;
  // footprint_bytes(): measured at open, then after a commit (once its
  // outcome is known) at most once per kFootprintEvery (writer thread),
  // read by any thread.
  static constexpr auto kFootprintEvery = std::chrono::seconds(1);
  std::atomic<std::uint64_t> footprint_{0};
  std::chrono::steady_clock::time_point footprint_at_{};  // writer thread only
};

}  // namespace tearline::broker
