// Broker::Impl: answering client requests (docs/protocol.md): HELLO,
// SUBSCRIBE, UNSUBSCRIBE, ACK, PUBLISH (flood control, then the verifier
// pool; on_verified() stages what passed), ADMIN; and the failure rules of a
// session (failure counting, closing).
#include <algorithm>

#include "broker/broker_impl.h"
#include "broker/delivery_ack.h"
#include "broker/subscription_policy.h"
#include "policy/topic.h"

namespace tearline::broker {
namespace v1 = tearline::v1;

// A closed session's PUBLISHes still queued for verification are dropped:
// nobody would be answered, and verifying them is work for nothing.
void Broker::Impl::cancel_queued_jobs(const Session& s) {
  for (const auto& job : pool->cancel(s.routing_id)) flood.finished(job.node_id);
}

void Broker::Impl::close_session(Session& s, Code code, const Status& reasons) {
  if (live_on && s.ready()) live_events.session(s.node_id, false, code_name(code));
  SessionTable::close(s);
  cancel_queued_jobs(s);
  counters.closed++;
  audit_event("session", s.node_id, "", "closed", std::string(code_name(code)) + ": " + reasons.to_string());
  send(s, wire::make_error(code, reasons));
}

void Broker::Impl::note_outcome(Session& s, const Status& status) {
  if (!SessionTable::count_outcome(s, status, config.limits.max_failures)) return;
  log->warn("event=session_closed node={} reason=TOO_MANY_FAILURES failures={}", s.node_id, s.failures);
  flood.start_cooldown(s.node_id, clock.steady_ms());
  close_session(s, Code::TOO_MANY_FAILURES,
                Status::fail(Code::TOO_MANY_FAILURES,
                             std::to_string(s.failures) + " consecutive failed requests; session closed"));
}

void Broker::Impl::error(Session& s, Code code, const std::string& message, std::uint64_t request_id) {
  send(s, wire::make_error(code, message, request_id));
  note_outcome(s, Status::fail(code, message));
}

void Broker::Impl::reject(Session& s, std::uint64_t request_id, const Status& status) {
  send(s, wire::make_rejected(request_id, status));
  note_outcome(s, status);
}

void Broker::Impl::reject_publish_early(Session& s, std::uint64_t request_id, const Status& status) {
  counters.rejected++;
  metrics.rejected_by_code.add(status.code());
  if (live_on) live_events.rejected("", s.node_id, status);
  reject(s, request_id, status);
}

void Broker::Impl::on_hello(Session& s, const v1::Hello& hello) {
  Status version = wire::check_hello(hello);
  if (!version) {
    send(s, wire::make_error(Code::UNSUPPORTED_VERSION, version));
    return;
  }
  Status cooling = flood.hello_refusal(s.node_id, clock.steady_ms());
  if (!cooling) {
    refuse_hello(s, Code::TOO_MANY_FAILURES, cooling, SessionTable::may_answer_cooldown(s, clock.steady_ms()));
    return;
  }
  TrustSnapshotPtr snap = trust.current();
  Status valid = snap->check_session_node(s.node_id, clock.now_seconds());
  if (!valid) {
    refuse_hello(s, Code::SESSION_REVOKED, valid, true);
    s.state = SessionState::kClosed;
    return;
  }
  // The session bound (session_churn.cc, SessionTable::admit_hello).
  const SessionBound bound = session_bound();
  const HelloAdmission admission = sessions.admit_hello(s, bound);
  switch (admission.verdict) {
    case HelloAdmission::Verdict::kBusy:
      refuse_hello(s, Code::BROKER_BUSY,
                   Status::fail(Code::BROKER_BUSY,
                                "the broker serves its maximum of " + std::to_string(bound.max_sessions) + " sessions"),
                   true);
      return;
    case HelloAdmission::Verdict::kReserved:
      refuse_hello(s, Code::BROKER_BUSY,
                   Status::fail(Code::BROKER_BUSY, "the last " + std::to_string(bound.effective_reserve()) +
                                                       " free sessions are kept for nodes without one, and " +
                                                       s.node_id + " holds one; close a session or retry later"),
                   true);
      return;
    case HelloAdmission::Verdict::kReplaceOldest: {
      Session& old = *admission.replaced;
      log->info("event=session_replaced node={} max_sessions_per_node={}", old.node_id, bound.per_node);
      close_session(old, Code::SESSION_REPLACED,
                    Status::fail(Code::SESSION_REPLACED, s.node_id + " opened a newer session beyond its " +
                                                             std::to_string(bound.per_node) +
                                                             " sessions; this, its oldest, is closed"));
      forget_session(old);
      break;
    }
    case HelloAdmission::Verdict::kAdmit: break;
  }
  sessions.mark_ready(s);
  if (live_on) live_events.session(s.node_id, true);
  s.failures = 0;
  s.backlog.clear();
  s.backlog_bytes = 0;
  s.unacked.clear();   // copies of an earlier session are sent again, not acknowledged
  s.attached = false;  // until its durable SUBSCRIBE (docs/protocol.md, "Subscriptions")
  s.session_patterns.clear();
  s.sent_unattached.clear();
  // Live from here, in every stream (other brokers': at their heads as last
  // read); attaching rewinds to the node's cursors.
  s.delivered = commits->head();
  s.acked = s.delivered;
  s.waits_seq = 0;
  s.streams.clear();
  for (const auto& [stream, head] : feed->heads()) {
    StreamPlace& place = s.place(stream);
    place.delivered = place.acked = head;
  }
  auto cursor = node_cursors.find(s.node_id);
  const std::string mailbox =
      cursor == node_cursors.end() ? std::string("no mailbox") : "mailbox after " + std::to_string(cursor->second);
  log->info("event=session_ready node={} client=\"{}\" head={} {}", s.node_id, hello.client(), s.delivered, mailbox);
  audit_event("session", s.node_id, "", "admitted", mailbox);
  const auto& digest = snap->directory->digest();
  send(s, wire::make_welcome(s.node_id, clock.now_ms(), static_cast<std::uint32_t>(config.limits.max_frame_bytes),
                             static_cast<std::uint32_t>(config.limits.max_subscriptions), broker_id,
                             ByteView(digest.data(), digest.size())));
}

// Patterns of a SUBSCRIBE or UNSUBSCRIBE: 1..kMaxPatternsPerRequest, each
// valid and within the broker's topic limits; every problem is named.
Status Broker::Impl::check_patterns(const google::protobuf::RepeatedPtrField<std::string>& patterns, bool policy_check,
                                    const std::string& node) {
  Status problems;
  if (static_cast<std::size_t>(patterns.size()) > wire::kMaxPatternsPerRequest || patterns.empty()) {
    problems.add(Code::TOPIC_INVALID,
                 "a SUBSCRIBE or UNSUBSCRIBE carries 1.." + std::to_string(wire::kMaxPatternsPerRequest) + " patterns");
  }
  TrustSnapshotPtr snap = trust.current();
  for (const auto& p : patterns) {
    Status valid = policy::validate_pattern(p);
    if (valid) valid = check_topic_limits(p, config.limits);
    const PeerLink* peer = snap->peer(node, clock.now_seconds());
    if (valid && policy_check && peer != nullptr) {
      valid = check_peer_pattern(*peer, p);
    } else if (valid && policy_check && snap->is_partner_node(node)) {
      valid = Status::fail(Code::FOREIGN_NODE, node + " is a partner agency's node and no peering names it now");
    } else if (valid && policy_check) {
      valid = check_subscribe_pattern(snap->topics, *snap->directory, node, p, clock.now_seconds());
    }
    problems.merge(valid);
  }
  return problems;
}

// Attaches the session to its node's mailbox: it catches up from the
// node's cursors, one per stream (a node without a mailbox gets one at the
// session's places; a node with one but no cursor in some stream, this
// broker's or another's, starts that stream from its beginning), and its
// ACKs move them
// from now on. Copies it was sent before attaching, after a cursor, are not
// sent again (StreamPlace::sent_unattached).
void Broker::Impl::attach(Session& s) {
  s.attached = true;
  auto cursor = node_cursors.find(s.node_id);
  auto& stream_cursors = node_stream_cursors[s.node_id];
  if (cursor == node_cursors.end() && stream_cursors.empty()) {  // no mailbox yet
    node_cursors[s.node_id] = s.delivered;
    commits->cursor_moved(s.node_id);
    s.sent_unattached.clear();
    for (auto& [stream, place] : s.streams) {
      stream_cursors[stream] = place.delivered;
      commits->cursor_moved(s.node_id, stream);
      place.sent_unattached.clear();
    }
  } else {
    // From the cursor, also when it is past the place (another broker's
    // head as last read may be older than what the node acknowledged).
    auto rewind = [](StreamPlace& place, std::uint64_t acked) {
      place.delivered = acked;
      place.sent_unattached.erase(place.sent_unattached.begin(), place.sent_unattached.upper_bound(acked));
      place.acked = acked;
      place.waits_seq = 0;
    };
    rewind(s, cursor == node_cursors.end() ? 0 : cursor->second);
    for (auto& [stream, place] : s.streams) {
      auto at = stream_cursors.find(stream);
      rewind(place, at == stream_cursors.end() ? 0 : at->second);
    }
    // Streams the node has a cursor in that this session has no place in
    // yet (their writers not read by the feed so far): from the cursor.
    for (const auto& [stream, acked] : stream_cursors) {
      if (s.streams.find(stream) != s.streams.end()) continue;
      StreamPlace& place = s.place(stream);
      place.delivered = place.acked = acked;
    }
  }
  s.acked = node_cursors[s.node_id];
  if (stream_cursors.empty()) node_stream_cursors.erase(s.node_id);
  log->info("event=session_attached node={} resume_after={} streams={}", s.node_id, s.delivered, s.streams.size());
}

// A partner broker's refused SUBSCRIBE is also audited and logged: a
// partner asking for what its peering does not carry is news for the
// operator (a node's refusal is its own mistake, answered and counted).
void Broker::Impl::reject_subscribe(Session& s, std::uint64_t request_id, const Status& problems) {
  if (trust.current()->is_partner_node(s.node_id)) {
    log->warn("event=peer_subscribe_refused peer={} reasons=\"{}\"", s.node_id, problems.to_string());
    audit_event("subscribe", s.node_id, "", "refused", problems.to_string());
  }
  reject(s, request_id, problems);
}

void Broker::Impl::on_subscribe(Session& s, const v1::Subscribe& sub) {
  Status problems = check_patterns(sub.patterns(), true, s.node_id);
  if (sub.session_only()) {
    std::vector<SessionPattern> patterns = s.session_patterns;
    for (const auto& p : sub.patterns()) {
      const bool known = std::any_of(patterns.begin(), patterns.end(), [&](const auto& q) { return q.pattern == p; });
      if (!known) {
        SessionPattern added{p, commits->head(), {}};
        for (const auto& [stream, head] : feed->heads()) added.after_streams.emplace(stream, head);
        patterns.push_back(std::move(added));
      }
    }
    if (problems.is_ok() && patterns.size() > config.limits.max_subscriptions) {
      problems.add(Code::TOO_MANY_SUBSCRIPTIONS,
                   "at most " + std::to_string(config.limits.max_subscriptions) + " session patterns");
    }
    if (!problems) {
      reject_subscribe(s, sub.request_id(), problems);
      return;
    }
    s.session_patterns = std::move(patterns);
    log->debug("event=subscribed node={} session_patterns={}", s.node_id, s.session_patterns.size());
    // Nothing durable: answered at once. Reports committed from here on match.
    send(s, wire::make_accepted(sub.request_id()));
    note_outcome(s, Status::ok());
    return;
  }
  if (problems.is_ok() && !s.attached) problems.merge(claim_node_of(s));
  std::vector<std::string> patterns = subscriptions.patterns_of(s.node_id);
  const std::size_t before = patterns.size();
  if (problems.is_ok()) {
    for (const auto& p : sub.patterns()) {
      if (std::find(patterns.begin(), patterns.end(), p) == patterns.end()) patterns.push_back(p);
    }
  }
  if (problems.is_ok() && patterns.size() > config.limits.max_subscriptions) {
    problems.add(Code::TOO_MANY_SUBSCRIPTIONS,
                 "at most " + std::to_string(config.limits.max_subscriptions) + " patterns per node");
  }
  if (!problems) {
    reject_subscribe(s, sub.request_id(), problems);
    return;
  }
  if (patterns.size() != before) {
    subscriptions.set(s.node_id, patterns);
    commits->subscriptions_changed(s.node_id, patterns);
  }
  if (!s.attached) attach(s);
  log->debug("event=subscribed node={} patterns={}", s.node_id, patterns.size());
  // Answered after the group commit: the subscription is durable by then.
  commits->reply_after_commit(s.routing_id, sub.request_id(), s.node_id);
}

void Broker::Impl::on_unsubscribe(Session& s, const v1::Unsubscribe& unsub) {
  Status problems = check_patterns(unsub.patterns(), false, s.node_id);
  if (!problems) {
    reject(s, unsub.request_id(), problems);
    return;
  }
  if (unsub.session_only()) {
    auto& own = s.session_patterns;
    for (const auto& p : unsub.patterns()) {
      own.erase(std::remove_if(own.begin(), own.end(), [&](const auto& q) { return q.pattern == p; }), own.end());
    }
    send(s, wire::make_accepted(unsub.request_id()));
    note_outcome(s, Status::ok());
    return;
  }
  if (!s.attached) {
    Status claimed = claim_node_of(s);
    if (!claimed) {
      reject(s, unsub.request_id(), claimed);
      return;
    }
  }
  std::vector<std::string> patterns = subscriptions.patterns_of(s.node_id);
  for (const auto& p : unsub.patterns())
    patterns.erase(std::remove(patterns.begin(), patterns.end(), p), patterns.end());
  subscriptions.set(s.node_id, patterns);
  commits->subscriptions_changed(s.node_id, patterns);
  commits->reply_after_commit(s.routing_id, unsub.request_id(), s.node_id);
}

void Broker::Impl::on_list_subscriptions(Session& s, const v1::ListSubscriptions& list) {
  std::vector<std::string> own;
  own.reserve(s.session_patterns.size());
  for (const auto& p : s.session_patterns) own.push_back(p.pattern);
  auto cursor = node_cursors.find(s.node_id);
  v1::Frame f = wire::make_subscription_list(list.request_id(), subscriptions.patterns_of(s.node_id), std::move(own),
                                             cursor == node_cursors.end() ? 0 : cursor->second);
  // Its cursors in other brokers' streams (docs/protocol.md 6.14).
  if (auto streams = node_stream_cursors.find(s.node_id); streams != node_stream_cursors.end()) {
    for (const auto& [stream, acked] : streams->second) {
      auto* c = f.mutable_subscription_list()->add_streams();
      c->set_writer(stream);
      c->set_acked_seq(acked);
    }
  }
  send(s, f);
}

// An ACK is the node's signed delivery receipt (broker/delivery_ack.h). A
// receipt that fails is answered like any bad frame (ERROR, counted towards
// max_failures) and changes nothing: the copies stay unacknowledged and are
// delivered again to the node's next session. A good one moves the cursor and is kept in the audit log, whole, so that
// anyone with the directory can verify it again offline (`tearline audit receipts`).
void Broker::Impl::on_ack(Session& s, const v1::Ack& ack) {
  const std::int64_t now = clock.now_ms();
  const TrustSnapshotPtr snap = trust.current();
  auto receipt = check_ack(s, ack, broker_id, *snap->directory, now, snap->peer(s.node_id, now / 1000) != nullptr);
  if (!receipt) {
    log->warn("event=receipt_invalid node={} reasons=\"{}\"", s.node_id, receipt.status().to_string());
    send(s, wire::make_error(Code::RECEIPT_INVALID, receipt.status()));
    note_outcome(s, receipt.status());
    return;
  }
  // The stream acknowledged: this broker's own, or another's (delivery_ack.h).
  const std::string stream = ack.writer() == broker_id ? std::string() : ack.writer();
  StreamPlace& place = s.place(stream);
  for (const auto& e : receipt->entries()) place.unacked.erase(e.broker_seq());
  audit_event("receipt", s.node_id, to_hex(as_bytes(receipt->entries(0).report_id())), "received",
              to_hex(as_bytes(ack.receipt())));
  // The copies the partner's broker refused, and why: in our audit log as
  // in its own (docs/federation.md, "The receiving side's check").
  for (const auto& x : ack.refused()) {
    const std::string report = to_hex(as_bytes(x.report_id()));
    const Status why = wire::status_from_proto(x.reasons());
    // The partner's own words: no control character and no quote into our
    // log lines (each message is at most 256 bytes, check_ack).
    std::string said = why.to_string();
    std::replace_if(
        said.begin(), said.end(), [](char c) { return (c >= 0 && c < 0x20) || c == 0x7f || c == '"'; }, '?');
    log->warn("event=crossing_refused_by_peer peer={} seq={} report={} code={} reasons=\"{}\"", s.node_id,
              x.broker_seq(), report, code_name(why.code()), said);
    audit_event("crossing", s.node_id, report, "refused",
                s.node_id + " refused seq " + std::to_string(x.broker_seq()) +
                    (stream.empty() ? std::string() : " of " + stream + "'s stream") + ": " + said);
  }
  if (!s.attached) return;  // a receipt, kept; the node's mailbox is not this session's
  const std::uint64_t seq = ack.broker_seq();
  if (seq <= place.acked || seq > place.delivered) return;
  place.acked = seq;
  auto& cursor = stream.empty() ? node_cursors[s.node_id] : node_stream_cursors[s.node_id][stream];
  if (seq > cursor) {
    cursor = seq;
    commits->cursor_moved(s.node_id, stream);
  }
}

void Broker::Impl::on_publish(Session& s, v1::Publish& pub) {
  // A partner's node publishes nothing here: refused before any work, and
  // before the broker's own state (halted, busy) is told to it.
  if (trust.current()->is_partner_node(s.node_id)) {
    reject_publish_early(
        s, pub.request_id(),
        Status::fail(Code::NOT_AUTHORIZED, s.node_id + " is a partner agency's node: a partner's boundary broker "
                                                       "receives over its peering and does not publish here"));
    return;
  }
  if (store->halted()) {
    reject_publish_early(s, pub.request_id(), Status::fail(Code::STORAGE_HALTED, store->halt_reason()));
    return;
  }
  // Flood control, before any verification work is spent on the node.
  const std::int64_t now = clock.steady_ms();
  FloodControl::Answer admitted = flood.admit(s.node_id, now);
  if (admitted.verdict != FloodControl::Verdict::kAdmit) {
    reject_publish_early(s, pub.request_id(), admitted.status);
    if (admitted.verdict == FloodControl::Verdict::kRateLimited) {
      std::size_t refused = 0;
      Status cut_off = flood.rate_limited(s.node_id, s.ready(), now, &refused);
      if (!cut_off) {
        log->warn("event=session_closed node={} reason=RATE_LIMITED_FLOOD refused={}", s.node_id, refused);
        close_session(s, Code::TOO_MANY_FAILURES, cut_off);
      }
    }
    return;
  }
  IngressJob job;
  job.routing_id = s.routing_id;
  job.node_id = s.node_id;
  job.request_id = pub.request_id();
  job.report.assign(pub.report().begin(), pub.report().end());
  job.received_ms = clock.now_ms();
  if (!pool->submit(std::move(job))) {
    reject_publish_early(s, pub.request_id(), Status::fail(Code::BROKER_BUSY, "verification queue full; retry later"));
    return;
  }
  flood.started(s.node_id);
}

void Broker::Impl::on_admin(Session& s, const v1::Admin& admin) {
  TrustSnapshotPtr snap = trust.current();
  const identity::Credential* cred = snap->directory->node(s.node_id);
  if (cred == nullptr || !cred->has_role(wire::kAdminRole)) {
    reject(s, admin.request_id(), Status::fail(Code::NOT_AUTHORIZED, s.node_id + " lacks the admin role"));
    return;
  }
  // A partner's authority grants roles to its own nodes, never on our broker.
  if (snap->is_partner_node(s.node_id)) {
    reject(s, admin.request_id(),
           Status::fail(Code::NOT_AUTHORIZED, s.node_id + " is a partner agency's node: a role its agency gave it "
                                                          "does not administer this broker"));
    return;
  }
  if (admin.command() == wire::kAdminStatus) {
    answer_status(s, admin.request_id());
    return;
  }
  if (admin.command() != wire::kAdminReload) {
    reject(s, admin.request_id(),
           Status::fail(Code::INVALID_FIELD, "unknown admin command '" + admin.command() + "' (reload or status)"));
    return;
  }
  Status reloaded = reload("admin request from " + s.node_id);
  if (reloaded) {
    send(s, wire::make_accepted(admin.request_id()));
  } else {
    reject(s, admin.request_id(), reloaded);
  }
}

void Broker::Impl::reject_publish(const Refusal& r) {
  if (r.arrival) {
    arrival_settled(*r.arrival, r.report_hex, &r);
    return;
  }
  counters.rejected++;
  metrics.rejected_by_code.add(r.status.code());
  if (live_on) live_events.rejected(r.report_hex, r.node_id, r.status);
  log->info("event=publish_rejected node={} request={} code={} reasons=\"{}\"", r.node_id, r.request_id,
            code_name(r.status.code()), r.status.to_string());
  audit_event("publish", r.node_id, r.report_hex, "rejected", r.status.to_string());
  Session* s = sessions.find(r.routing_id);
  if (s != nullptr && s->ready()) reject(*s, r.request_id, r.status);
}

// Checks replay and stages an accepted report for the next group commit.
void Broker::Impl::on_verified(IngressResult& r) {
  if (r.arrival) {  // a copy from a partner's broker (peer_arrivals.cc)
    on_arrival(r);
    return;
  }
  flood.finished(r.node_id);
  Status status = r.status;
  const std::string report_hex = r.report ? r.report->report_id_hex() : r.report_id_hex;
  if (status) {
    status = replay.check(r.report->header.report_id(), r.node_id, r.report->header.sequence());
    // An exact copy of a report accepted longer ago than ids stay in
    // memory repeats its sequence: REPLAYED_REPORT must still be said, as
    // it tells a publisher that re-sent after a lost answer that the
    // report was accepted. Only this refused path reads the store.
    if (status.has(Code::SEQUENCE_REGRESSION) && !status.has(Code::REPLAYED_REPORT)) {
      auto stored = store->has_report(r.report->header.report_id());
      if (!stored) {
        log->error("event=store_read_failed reason=\"{}\"", stored.status().to_string());
      } else if (*stored) {
        Status both = Status::fail(Code::REPLAYED_REPORT, "report " + report_hex + " was accepted before");
        both.merge(status);
        status = both;
      }
    }
  }
  if (status && store->halted()) status = Status::fail(Code::STORAGE_HALTED, store->halt_reason());
  if (!status) {
    // A copy of a report staged in this very group commit: REPLAYED_REPORT
    // must mean "accepted before", which is true only once the original is
    // committed, so the answer waits for the commit (which may yet fail,
    // or never happen if the broker dies first).
    if (status.has(Code::REPLAYED_REPORT) && commits->holds_original(r)) {
      r.status = status;
      commits->hold_replay(std::move(r));
      return;
    }
    reject_publish(Refusal{r.routing_id, r.node_id, r.request_id, report_hex, status, std::nullopt});
    return;
  }
  const std::uint64_t previous_sequence = replay.last_sequence(r.node_id);
  const std::int64_t recorded_ms = clock.steady_ms();  // replay memory runs on steady time (replay_guard.h)
  replay.record(r.report->header.report_id(), r.node_id, r.report->header.sequence(), recorded_ms);
  // A report that passed every check ends a run of failures now, in
  // request order, not when its batch is written.
  if (Session* s = sessions.find(r.routing_id)) s->failures = 0;
  commits->stage(std::move(r), previous_sequence, recorded_ms);
}

}  // namespace tearline::broker
