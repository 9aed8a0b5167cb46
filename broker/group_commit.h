// GroupCommit: what waits for the store, and what happens once it is written
// (docs/architecture.md, "Group commit"; docs/reliability.md).
//
// Accepted publishes are STAGED (their broker seq is assigned when their
// batch is built); SUBSCRIBE/UNSUBSCRIBE answers, subscription and cursor
// changes and audit events wait with them. build() makes one Batch of all
// that (the StoreWriter writes it, one at a time); while it is IN FLIGHT new
// work accumulates for the next one. finish() takes the writer's answer and
// RETURNS what the I/O loop must now do, in this order:
//  - written: the request answers (ACCEPTED), then each committed report in
//    seq order (answer ACCEPTED to its publisher, route it), then the
//    refusals (copies of reports of this batch: REPLAYED_REPORT is true now);
//  - rebuilt (a report reused the id of a stored report, or, in a store
//    several brokers share, its sequence was reached by another broker's
//    report): that report is refused REPLAYED_REPORT (or the store's
//    SEQUENCE_REGRESSION); everything else of the batch goes back, in
//    order, ahead of what arrived since, and is built again;
//  - failed: every staged report (in flight and since: their replay records
//    sat on the failed batch's) and every copy held for them is refused with
//    the store's answer, and so are the request answers; audit events other
//    than those made with each report ("publish accepted", "crossing taken")
//    and the subscription and cursor changes are kept, the
//    events in the bounded AuditBacklog (refusals counted, not kept one by
//    one, while the store cannot write). A failed batch without reports
//    refuses nothing staged since.
// The backlog goes in a batch of its own, without reports: after a batch
// was written, or when no report waits. So a backlog never makes a batch of
// reports too big to fit; its entries are chained after entries made later
// (the only exception to the order below).
// Receipts: build() signs ONE acceptance statement per batch over its
// reports (receipt::sign_acceptance; their seqs are consecutive by
// construction, head + 1 ...), at the batch's time, which is also each
// report's accepted_ms; each report is stored with its receipt.
// Rules kept: nothing is answered ACCEPTED, and nothing routed, before its
// batch is synced; a copy of a report staged or in flight is answered only
// after the original's commit (or failure); audit entries are chained in the
// order they were made, with a signed checkpoint every
// `audit_checkpoint_entries` entries or `audit_checkpoint_seconds`.
//
// Ownership and threads: owned by the broker's I/O thread, which alone calls
// it; borrows the ReplayGuard (unrecord on failure) and the audit key, which
// must outlive it. Takes the time as arguments: `now_ms` the wall clock
// (entry, batch and receipt times), `steady_ms` the monotonic clock
// (Clock::steady_ms: the lazy-commit age, the checkpoint interval, the
// error log's rate), so a step of the wall clock moves no schedule.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "broker/audit_backlog.h"
#include "broker/config.h"
#include "broker/ingress.h"
#include "broker/replay_guard.h"
#include "broker/store.h"
#include "broker/store_writer.h"
#include "crypto/keys.h"

namespace spdlog {
class logger;
}

namespace tearline::broker {

// An accepted publish waiting for its group commit.
struct Staged {
  IngressResult result;
  std::uint64_t seq = 0;  // assigned when its batch is built
  std::uint64_t previous_sequence = 0;
  std::int64_t recorded_ms = 0;  // when the ReplayGuard recorded its id
};

// A request answer that waits for the group commit (durable state).
struct PendingReply {
  std::string routing_id;
  std::uint64_t request_id = 0;
  std::string node;  // the node whose durable rows the request changed ("" for none)
};

// A publish to answer REJECTED (and audit "rejected").
struct Refusal {
  std::string routing_id, node_id;
  std::uint64_t request_id = 0;
  std::string report_hex;
  Status status;
  std::optional<ArrivalTag> arrival;  // a copy from a partner's broker (ingress.h)
};

struct Committed {
  Staged staged;
  SourceRecord source;  // as written
  Bytes receipt;        // its acceptance receipt, as written
  std::int64_t accepted_ms = 0;
  std::optional<StreamPosition> prev;  // its originator's previous report (StoredReport::prev)
};

struct CommitOutcome {
  enum class Kind { kWritten, kRebuilt, kFailed };
  Kind kind = Kind::kWritten;
  std::vector<PendingReply> replies;  // kWritten: ACCEPTED; kFailed: REJECTED with `failure`
  std::vector<Committed> committed;   // kWritten, in seq order
  std::vector<Refusal> refused;
  Status failure;  // kFailed: the store's answer
  // kWritten: (node, fence) whose rows the store kept out: another writer
  // claimed the node after this broker's claim with that fence.
  std::vector<std::pair<std::string, std::uint64_t>> fenced;
};

class GroupCommit {
 public:
  // `broker_id`: the broker's node id, named by its receipts; `audit_key`
  // signs them (and the audit checkpoints).
  GroupCommit(const StorageLimits& storage, ReplayGuard& replay, const crypto::SigningKey& audit_key,
              std::string broker_id, std::shared_ptr<spdlog::logger> log);

  // After a reload: the broker's id as its credential now says.
  void set_broker_id(std::string broker_id) { broker_id_ = std::move(broker_id); }
  // The receipt of a report stored without one (a database from before
  // receipts): a statement of one leaf at its stored seq and acceptance
  // time, the broker's own record of both.
  Bytes receipt_for_stored(std::uint64_t seq, const crypto::Digest& digest, std::int64_t accepted_ms) const;
  const std::string& broker_id() const { return broker_id_; }

  // The recovered state: the last committed seq and audit entry, the last
  // checkpointed index; `steady_ms` counts as the last checkpoint's time for
  // scheduling the next one. `checkpoint_time_ms`: the time the last stored
  // checkpoint carries (0 when none), reported by last_checkpoint_time_ms().
  void restore(std::uint64_t head, audit::ChainWriter chain, std::uint64_t last_checkpoint_index,
               std::int64_t steady_ms, std::int64_t checkpoint_time_ms = 0);

  // ---- work for the next batch ----
  void stage(IngressResult accepted, std::uint64_t previous_sequence, std::int64_t recorded_ms);
  // Whether the report `copy` is a copy of is staged or in flight.
  bool holds_original(const IngressResult& copy) const;
  // Keeps a copy (its status says REPLAYED_REPORT) until its original's
  // batch is written or fails.
  void hold_replay(IngressResult copy);
  // `node`: the node whose durable rows the request changed, when any: its
  // answer is a refusal should the store fence that node's rows out.
  void reply_after_commit(std::string routing_id, std::uint64_t request_id, std::string node = "");
  // Forgets the node's pending subscription and cursor changes (this
  // broker's memory of the node was replaced by the store's).
  void drop_pending(const std::string& node);
  void subscriptions_changed(const std::string& node, std::vector<std::string> patterns);
  // The node's cursor in `writer`'s stream (empty: this broker's) moved.
  void cursor_moved(const std::string& node, const std::string& writer = "");
  // While the store cannot write (the last batch failed), the refusal of a
  // publish is counted in the backlog instead of kept one by one.
  void audit(AuditEvent event);
  // The other brokers' audit chains as last read (Store::audit_heads). When
  // one moved since the last heads entry, the next checkpoint is preceded by
  // a heads entry naming them all (audit/chain_heads.h), and a checkpoint is
  // due once audit_checkpoint_seconds passed, even with no entry of this
  // broker's, unless the store is failing. A chain whose only news is its
  // own heads entry right after the index last named did not move (else two
  // idle brokers would name each other's heads entries for ever).
  void other_chains(std::vector<audit::ChainHead> heads) { chains_read_ = std::move(heads); }

  // ---- the batch ----
  // The next batch when one is due (something urgent, lazy entries old or
  // many enough, a checkpoint due, or force()); nullopt otherwise or while
  // one is in flight. `cursors`: the acknowledged seq per node;
  // `stream_cursors`: per node and other broker's stream; `fences`: the
  // fencing number of this broker's claim per node (Batch::fences), for
  // the nodes whose rows the batch writes.
  std::optional<Batch> build(std::int64_t now_ms, std::int64_t steady_ms,
                             const std::map<std::string, std::uint64_t>& cursors,
                             const std::map<std::string, std::map<std::string, std::uint64_t>>& stream_cursors = {},
                             const std::map<std::string, std::uint64_t>& fences = {});
  bool in_flight() const { return inflight_.has_value(); }
  // Precondition: in_flight(). See the header comment for the outcome.
  CommitOutcome finish(StoreWriter::Written written, std::int64_t steady_ms);

  // The next build() makes a batch even with nothing pending, with a
  // checkpoint over everything written (clean shutdown).
  void force();
  // Nothing waits for a batch.
  bool idle() const;
  // The last committed broker seq.
  std::uint64_t head() const { return head_; }
  // Verified reports staged or in flight, not yet committed.
  std::size_t waiting() const { return staged_.size() + (inflight_ ? inflight_->staged.size() : 0); }
  // The time of the last audit checkpoint written (this run, or as
  // recovered); 0 when the log has none.
  std::int64_t last_checkpoint_time_ms() const { return checkpoint_time_ms_; }
  // The newest checkpoint written since this broker started (none before
  // the first): what it sends its peerings' partners (docs/federation.md,
  // "Audit checkpoints").
  const std::optional<audit::Checkpoint>& newest_checkpoint() const { return newest_checkpoint_; }
  // When the oldest report not yet written was recorded; `now_ms` if none.
  std::int64_t oldest_pending_ms(std::int64_t now_ms) const;
  // The audit events waiting in the backlog (bounded: AuditBacklog), and
  // how many refusals of `node`'s publishes with `code` it counts.
  std::size_t backlog_size() const { return backlog_.size(); }
  std::uint64_t backlog_refusals(const std::string& node, Code code) const {
    return backlog_.refusals(node, std::string(code_name(code)));
  }

 private:
  struct InFlight {
    std::vector<Staged> staged;
    std::vector<IngressResult> replays;  // copies of staged reports, answered after
    std::vector<PendingReply> replies;
    std::vector<AuditEvent> events;                              // chained into batch.audit
    std::set<std::pair<std::string, std::string>> cursor_nodes;  // (node, writer) cursors written
    std::map<std::string, std::vector<std::string>> subscriptions;
    AuditBacklog::Taken backlog;          // a backlog batch: what it took
    audit::ChainWriter next;              // the chain once the batch is written
    std::vector<audit::ChainHead> named;  // its heads entry's heads (none: no heads entry)
    std::int64_t steady_ms = 0;
  };

  bool checkpoint_due(const audit::ChainWriter& chain, std::int64_t steady_ms) const;
  bool chains_moved() const;
  bool heads_due(std::int64_t steady_ms) const;
  std::optional<Batch> finish_build(InFlight f, Batch& batch, std::int64_t now_ms, std::int64_t steady_ms);
  // The next batch is the backlog's own (see the header comment).
  bool backlog_turn(bool urgent, bool lazy_age) const;
  void unbuild_without(InFlight f, const std::string& clashing_id, const Status& why, CommitOutcome& out);
  void fail(InFlight f, const Status& why, std::int64_t steady_ms, CommitOutcome& out);
  // Audit events of `f` other than those made with each report (made again
  // when rebuilt), then the pending ones.
  void keep_events(std::vector<AuditEvent>& from_batch);

  const StorageLimits storage_;
  ReplayGuard& replay_;
  const crypto::SigningKey& audit_key_;
  std::string broker_id_;
  std::shared_ptr<spdlog::logger> log_;

  std::uint64_t head_ = 0;
  audit::ChainWriter chain_;
  std::uint64_t last_checkpoint_index_ = 0;
  std::int64_t last_checkpoint_steady_ = 0;
  std::int64_t checkpoint_time_ms_ = 0;
  std::optional<std::int64_t> last_commit_steady_;  // none yet: lazy entries are due at once
  std::optional<std::int64_t> last_error_log_steady_;
  bool force_ = false;
  bool checkpoint_forced_ = false;  // force(): a checkpoint with the next batch written
  bool failing_ = false;            // the last batch failed (the store cannot write)
  bool halt_logged_ = false;        // event=store_halted logged (once: a halt lasts until a restart)
  bool backlog_next_ = false;       // a batch was written since the backlog's last turn

  std::vector<audit::ChainHead> chains_read_;          // other_chains()
  std::map<std::string, std::uint64_t> chains_named_;  // by the last heads entry written
  std::optional<InFlight> inflight_;
  std::vector<Staged> staged_;
  std::vector<IngressResult> replays_;  // copies of staged reports, answered after the commit
  std::vector<PendingReply> replies_;
  std::optional<audit::Checkpoint> newest_checkpoint_;
  std::vector<AuditEvent> events_;
  AuditBacklog backlog_;
  std::set<std::pair<std::string, std::string>> dirty_cursors_;  // (node, writer; empty: own)
  std::map<std::string, std::vector<std::string>> dirty_subscriptions_;
};

}  // namespace tearline::broker
