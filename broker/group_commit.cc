#include "broker/group_commit.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "receipt/acceptance.h"

namespace tearline::broker {

namespace {

// The entries a batch makes for each report it writes: in the same
// transaction as the report, made again when the batch is rebuilt, never
// kept from a batch that failed.
bool made_with_its_report(const AuditEvent& e) {
  return (e.event == "publish" && e.decision == "accepted") || (e.event == "crossing" && e.decision == "taken");
}

// Reports and request answers are committed at once (the publisher waits);
// audit entries of deliveries and cursor moves ride along with them, or are
// flushed on their own after kLazyCommitMs.
constexpr std::int64_t kLazyCommitMs = 100;
constexpr std::size_t kLazyCommitEntries = 4096;

// Whether `list` holds the report that `copy` is a copy of (same report id).
bool holds(const std::vector<Staged>& list, const IngressResult& copy) {
  const std::string& id = copy.report->header.report_id();
  return std::any_of(list.begin(), list.end(),
                     [&](const Staged& st) { return st.result.report->header.report_id() == id; });
}

Refusal refusal_of(const IngressResult& r, Status status) {
  return Refusal{r.routing_id, r.node_id, r.request_id, r.report->report_id_hex(), std::move(status), r.arrival};
}

}  // namespace

GroupCommit::GroupCommit(const StorageLimits& storage, ReplayGuard& replay, const crypto::SigningKey& audit_key,
                         std::string broker_id, std::shared_ptr<spdlog::logger> log)
    : storage_(storage),
      replay_(replay),
      audit_key_(audit_key),
      broker_id_(std::move(broker_id)),
      log_(log ? std::move(log) : spdlog::default_logger()) {}

Bytes GroupCommit::receipt_for_stored(std::uint64_t seq, const crypto::Digest& digest, std::int64_t accepted_ms) const {
  return receipt::sign_acceptance(broker_id_, audit_key_, seq, {digest}, accepted_ms).front();
}

void GroupCommit::restore(std::uint64_t head, audit::ChainWriter chain, std::uint64_t last_checkpoint_index,
                          std::int64_t steady_ms, std::int64_t checkpoint_time_ms) {
  head_ = head;
  checkpoint_time_ms_ = checkpoint_time_ms;
  chain_ = chain;
  last_checkpoint_index_ = last_checkpoint_index;
  last_checkpoint_steady_ = steady_ms;
}

void GroupCommit::stage(IngressResult accepted, std::uint64_t previous_sequence, std::int64_t recorded_ms) {
  Staged st;
  st.result = std::move(accepted);
  st.previous_sequence = previous_sequence;
  st.recorded_ms = recorded_ms;
  staged_.push_back(std::move(st));
}

bool GroupCommit::holds_original(const IngressResult& copy) const {
  return copy.report && (holds(staged_, copy) || (inflight_ && holds(inflight_->staged, copy)));
}

void GroupCommit::hold_replay(IngressResult copy) { replays_.push_back(std::move(copy)); }

void GroupCommit::reply_after_commit(std::string routing_id, std::uint64_t request_id, std::string node) {
  replies_.push_back(PendingReply{std::move(routing_id), request_id, std::move(node)});
}

void GroupCommit::drop_pending(const std::string& node) {
  dirty_subscriptions_.erase(node);
  for (auto it = dirty_cursors_.lower_bound({node, ""}); it != dirty_cursors_.end() && it->first == node;) {
    it = dirty_cursors_.erase(it);
  }
}

void GroupCommit::subscriptions_changed(const std::string& node, std::vector<std::string> patterns) {
  dirty_subscriptions_[node] = std::move(patterns);
}

void GroupCommit::cursor_moved(const std::string& node, const std::string& writer) {
  dirty_cursors_.emplace(node, writer);
}

void GroupCommit::audit(AuditEvent event) {
  if (failing_ && AuditBacklog::is_refusal(event)) {
    backlog_.keep(std::move(event));
    return;
  }
  events_.push_back(std::move(event));
}

void GroupCommit::force() {
  checkpoint_forced_ = true;  // a checkpoint with the last entries
  force_ = true;
}

bool GroupCommit::idle() const {
  return staged_.empty() && events_.empty() && dirty_cursors_.empty() && replies_.empty() && replays_.empty() &&
         dirty_subscriptions_.empty() && backlog_.empty();
}

std::int64_t GroupCommit::oldest_pending_ms(std::int64_t now_ms) const {
  if (inflight_ && !inflight_->staged.empty()) return inflight_->staged.front().recorded_ms;
  if (!staged_.empty()) return staged_.front().recorded_ms;
  return now_ms;
}

// The end of every build(): the pending audit events chained into `batch`,
// a signed checkpoint when one is due, and `f` in flight.
std::optional<Batch> GroupCommit::finish_build(InFlight f, Batch& batch, std::int64_t now_ms, std::int64_t steady_ms) {
  f.events = std::exchange(events_, {});
  for (const auto& e : f.events) {
    batch.audit.push_back(f.next.append(e.time_ms, e.event, e.node, e.report, e.decision, e.detail));
  }
  if (heads_due(steady_ms) || (checkpoint_due(f.next, steady_ms) && chains_moved())) {
    f.named = chains_read_;
    batch.audit.push_back(f.next.append(now_ms, std::string(audit::kHeadsEvent), "", "",
                                        std::string(audit::kHeadsDecision), audit::heads_detail(f.named)));
  }
  if (checkpoint_due(f.next, steady_ms)) {
    audit::AuditEntry last;
    last.index = f.next.last_index();
    last.hash = f.next.last_hash();
    batch.checkpoints.push_back(audit::sign_checkpoint(last, now_ms, audit_key_));
  }
  inflight_ = std::move(f);
  return std::move(batch);
}

bool GroupCommit::checkpoint_due(const audit::ChainWriter& chain, std::int64_t steady_ms) const {
  return chain.last_index() > last_checkpoint_index_ &&
         (chain.last_index() - last_checkpoint_index_ >= storage_.audit_checkpoint_entries || checkpoint_forced_ ||
          steady_ms - last_checkpoint_steady_ >= storage_.audit_checkpoint_seconds * 1000);
}

bool GroupCommit::chains_moved() const {
  return std::any_of(chains_read_.begin(), chains_read_.end(), [&](const audit::ChainHead& h) {
    auto it = chains_named_.find(h.writer);
    if (it == chains_named_.end()) return true;
    return h.index > it->second && !(h.heads_entry && h.index == it->second + 1);
  });
}

// Not while the store fails (or halted): the heads entry's batch would fail
// too, at once, and be built again in a loop; failures retry on their own.
bool GroupCommit::heads_due(std::int64_t steady_ms) const {
  return !failing_ && steady_ms - last_checkpoint_steady_ >= storage_.audit_checkpoint_seconds * 1000 && chains_moved();
}

bool GroupCommit::backlog_turn(bool urgent, bool lazy_age) const {
  return !backlog_.empty() && (backlog_next_ || (!urgent && lazy_age));
}

std::optional<Batch> GroupCommit::build(
    std::int64_t now_ms, std::int64_t steady_ms, const std::map<std::string, std::uint64_t>& cursors,
    const std::map<std::string, std::map<std::string, std::uint64_t>>& stream_cursors,
    const std::map<std::string, std::uint64_t>& fences) {
  if (inflight_) return std::nullopt;
  const bool urgent =
      !staged_.empty() || !replays_.empty() || !replies_.empty() || !dirty_subscriptions_.empty() || force_;
  const bool lazy_age = !last_commit_steady_ || steady_ms - *last_commit_steady_ >= kLazyCommitMs;
  const bool lazy_due =
      (!events_.empty() || !dirty_cursors_.empty()) && (events_.size() >= kLazyCommitEntries || lazy_age);
  const bool backlog = backlog_turn(urgent, lazy_age);
  if (!urgent && !lazy_due && !backlog && !checkpoint_due(chain_, steady_ms) && !heads_due(steady_ms)) {
    return std::nullopt;
  }
  last_commit_steady_ = steady_ms;

  InFlight f;
  f.steady_ms = steady_ms;
  Batch batch;
  f.next = chain_;
  if (backlog) {
    // The backlog's own batch: its entries (older), then the events made
    // since; reports and answers wait for the next batch.
    backlog_next_ = false;
    f.backlog = backlog_.take();
    for (const auto& e : AuditBacklog::entries(f.backlog)) {
      batch.audit.push_back(f.next.append(e.time_ms, e.event, e.node, e.report, e.decision, e.detail));
    }
    return finish_build(std::move(f), batch, now_ms, steady_ms);
  }
  force_ = false;
  f.staged = std::exchange(staged_, {});
  f.replays = std::exchange(replays_, {});
  f.replies = std::exchange(replies_, {});
  f.subscriptions = std::exchange(dirty_subscriptions_, {});
  f.cursor_nodes = std::exchange(dirty_cursors_, {});
  batch.reports.reserve(f.staged.size());
  std::vector<crypto::Digest> digests;
  digests.reserve(f.staged.size());
  for (std::size_t i = 0; i < f.staged.size(); ++i) {
    Staged& st = f.staged[i];
    st.seq = head_ + i + 1;
    const auto& rep = *st.result.report;
    StoredReport sr;
    sr.seq = st.seq;
    sr.report_id = rep.header.report_id();
    sr.originator = rep.originator.node_id;
    sr.topic = rep.header.topic();
    sr.accepted_ms = now_ms;
    sr.sequence = rep.header.sequence();
    sr.source = SourceRecord{rep.originator.node_id, rep.originator.agency, rep.originator.country, {}};
    for (const auto& sec : rep.sections) {
      if (!sec.present || !sec.label) sr.source.torn.push_back(static_cast<std::uint32_t>(sr.source.labels.size()));
      sr.source.labels.push_back(sec.present && sec.label ? *sec.label : torn_section_label(rep.originator.country));
    }
    sr.bytes = st.result.raw;
    sr.path = st.result.path;
    batch.reports.push_back(std::move(sr));
    digests.push_back(receipt::report_digest(rep.report));
    events_.push_back(AuditEvent{now_ms, "publish", st.result.node_id, rep.report_id_hex(), "accepted",
                                 "seq " + std::to_string(st.seq) + " topic " + rep.header.topic() + " sections " +
                                     std::to_string(rep.sections.size())});
    if (const auto& tag = st.result.arrival) {
      events_.push_back(AuditEvent{now_ms, "crossing", tag->peer, rep.report_id_hex(), "taken",
                                   arrival_place(*tag) + " stored as seq " + std::to_string(st.seq)});
    }
  }
  // One signature for the whole batch: seqs head_ + 1 .. are consecutive.
  if (!digests.empty()) {
    std::vector<Bytes> receipts = receipt::sign_acceptance(broker_id_, audit_key_, head_ + 1, digests, now_ms);
    for (std::size_t i = 0; i < receipts.size(); ++i) batch.reports[i].receipt = std::move(receipts[i]);
  }
  batch.subscriptions = f.subscriptions;
  for (const auto& [node, writer] : f.cursor_nodes) {
    if (writer.empty()) {
      auto it = cursors.find(node);
      batch.cursors[node] = it == cursors.end() ? 0 : it->second;
      continue;
    }
    auto of_node = stream_cursors.find(node);
    if (of_node == stream_cursors.end()) continue;
    auto it = of_node->second.find(writer);
    if (it != of_node->second.end()) batch.stream_cursors[{node, writer}] = it->second;
  }
  auto fence = [&](const std::string& node) {
    if (auto it = fences.find(node); it != fences.end()) batch.fences[node] = it->second;
  };
  for (const auto& [node, patterns] : batch.subscriptions) fence(node);
  for (const auto& [node, acked] : batch.cursors) fence(node);
  for (const auto& [key, acked] : batch.stream_cursors) fence(key.first);
  return finish_build(std::move(f), batch, now_ms, steady_ms);
}

CommitOutcome GroupCommit::finish(StoreWriter::Written written, std::int64_t steady_ms) {
  InFlight f = std::move(*inflight_);
  inflight_.reset();
  CommitOutcome out;
  if (!written.clashing_id.empty()) {
    out.kind = CommitOutcome::Kind::kRebuilt;
    unbuild_without(std::move(f), written.clashing_id, written.status, out);
    return out;
  }
  if (!written.status) {
    out.kind = CommitOutcome::Kind::kFailed;
    out.failure = written.status;
    fail(std::move(f), written.status, steady_ms, out);
    return out;
  }
  out.kind = CommitOutcome::Kind::kWritten;
  if (failing_) {
    log_->info("event=store_resumed backlog={}", backlog_.size());
    failing_ = false;
  }
  backlog_next_ = !backlog_.empty();
  chain_ = f.next;
  if (!written.batch.checkpoints.empty()) {
    const auto& c = written.batch.checkpoints.back();
    last_checkpoint_index_ = c.index;
    last_checkpoint_steady_ = f.steady_ms;
    checkpoint_forced_ = false;
    checkpoint_time_ms_ = c.time_ms;
    newest_checkpoint_ = c;
    for (const auto& h : f.named) chains_named_[h.writer] = h.index;
    log_->info("event=audit_checkpoint index={} hash={} signature={}", c.index, to_hex(c.hash),
               to_hex(ByteView(c.signature.data(), c.signature.size())));
  }
  out.replies = std::move(f.replies);
  for (const auto& node : written.fenced) {
    if (auto it = written.batch.fences.find(node); it != written.batch.fences.end())
      out.fenced.emplace_back(node, it->second);
  }
  const std::uint64_t head_before = head_;
  out.committed.reserve(f.staged.size());
  for (auto& st : f.staged) {
    head_ = st.seq;
    auto& row = written.batch.reports[static_cast<std::size_t>(st.seq - head_before - 1)];
    const std::int64_t accepted_ms = row.accepted_ms;
    out.committed.push_back(
        Committed{std::move(st), std::move(row.source), std::move(row.receipt), accepted_ms, std::move(row.prev)});
  }
  for (auto& r : f.replays) out.refused.push_back(refusal_of(r, r.status));
  // Copies that arrived while their original was in this batch: it is
  // written now, so REPLAYED_REPORT is true.
  std::vector<IngressResult> still_held;
  for (auto& r : replays_) {
    const bool original_written = std::any_of(out.committed.begin(), out.committed.end(), [&](const Committed& c) {
      return c.staged.result.report->header.report_id() == r.report->header.report_id();
    });
    if (original_written) {
      out.refused.push_back(refusal_of(r, r.status));
    } else {
      still_held.push_back(std::move(r));
    }
  }
  replays_ = std::move(still_held);
  return out;
}

void GroupCommit::keep_events(std::vector<AuditEvent>& from_batch) {
  std::vector<AuditEvent> events;
  for (auto& e : from_batch) {
    if (!made_with_its_report(e)) events.push_back(std::move(e));
  }
  for (auto& e : events_) events.push_back(std::move(e));
  events_ = std::move(events);
}

void GroupCommit::unbuild_without(InFlight f, const std::string& clashing_id, const Status& why, CommitOutcome& out) {
  std::vector<Staged> keep;
  for (auto& st : f.staged) {
    const std::string& id = st.result.report->header.report_id();
    if (id != clashing_id) {
      keep.push_back(std::move(st));
      continue;
    }
    // Its id stays remembered (it is a used id) and its sequence counts.
    // The store's SEQUENCE_REGRESSION (another broker accepted a later
    // report of its originator) is told as the store said it.
    out.refused.push_back(refusal_of(
        st.result, why.code() == Code::SEQUENCE_REGRESSION
                       ? why
                       : Status::fail(Code::REPLAYED_REPORT,
                                      "report " + st.result.report->report_id_hex() + " was accepted before")));
  }
  for (auto& st : staged_) keep.push_back(std::move(st));
  staged_ = std::move(keep);
  // The "accepted" audit entries are made again when the batch is rebuilt.
  keep_events(f.events);
  for (auto& r : replays_) f.replays.push_back(std::move(r));
  replays_ = std::move(f.replays);
  for (auto& p : replies_) f.replies.push_back(std::move(p));
  replies_ = std::move(f.replies);
  for (auto& [node, patterns] : f.subscriptions) dirty_subscriptions_.try_emplace(node, std::move(patterns));
  dirty_cursors_.insert(f.cursor_nodes.begin(), f.cursor_nodes.end());
}

void GroupCommit::fail(InFlight f, const Status& why, std::int64_t steady_ms, CommitOutcome& out) {
  // A halt once, at once (it lasts until a restart: an operator's or a
  // supervisor's cue); any failure at most one line a second while it lasts.
  if (why.code() == Code::STORAGE_HALTED && !halt_logged_) {
    halt_logged_ = true;
    log_->error("event=store_halted reason=\"{}\"", why.to_string());
  }
  if (!last_error_log_steady_ || steady_ms - *last_error_log_steady_ >= 1000) {
    last_error_log_steady_ = steady_ms;
    log_->error("event=store_failed code={} reason=\"{}\" staged={} audit_backlog={}", code_name(why.code()),
                why.to_string(), f.staged.size() + staged_.size(), backlog_.size());
  }
  // Until a batch is written, the audit events of this one (but those made
  // with each report, made again) and the refusals it causes wait in the
  // bounded backlog.
  failing_ = true;
  backlog_.put_back(std::move(f.backlog));
  for (auto& e : f.events) {
    if (!made_with_its_report(e)) backlog_.keep(std::move(e));
  }
  for (auto& [node, patterns] : f.subscriptions) dirty_subscriptions_.try_emplace(node, std::move(patterns));
  dirty_cursors_.insert(f.cursor_nodes.begin(), f.cursor_nodes.end());
  if (f.staged.empty()) {
    // No report sat on it: what was staged since waits for the next batch.
    for (auto& r : replays_) f.replays.push_back(std::move(r));
    replays_ = std::move(f.replays);
    out.replies = std::move(f.replies);
    return;
  }

  auto later = std::exchange(staged_, {});
  for (auto it = later.rbegin(); it != later.rend(); ++it) {
    replay_.unrecord(it->result.report->header.report_id(), it->result.node_id, it->previous_sequence);
  }
  for (auto it = f.staged.rbegin(); it != f.staged.rend(); ++it) {
    replay_.unrecord(it->result.report->header.report_id(), it->result.node_id, it->previous_sequence);
  }
  for (auto* list : {&f.staged, &later}) {
    for (auto& st : *list) out.refused.push_back(refusal_of(st.result, why));
  }
  // Their originals were not accepted after all: the same answer. A copy
  // whose original is in neither list (it was refused because its id is
  // stored) keeps its own answer: REPLAYED_REPORT is true.
  for (auto* list : {&f.replays, &replays_}) {
    for (auto& r : *list) {
      const bool original_failed = holds(f.staged, r) || holds(later, r);
      out.refused.push_back(refusal_of(r, original_failed ? why : r.status));
    }
  }
  replays_.clear();
  out.replies = std::move(f.replies);
}

}  // namespace tearline::broker
