// The receiving side of a boundary, on the I/O thread (docs/federation.md,
// "The receiving boundary broker"): each PeerConnection's copies go to the
// verifiers (check_arrival_job), then through the replay guard into the
// group commit like a PUBLISH; each copy is acknowledged to the partner once
// it is durable here, refused for good, or known already.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker/broker_impl.h"

namespace tearline::broker {

void Broker::Impl::drive_peer_links() {
  if (peer_links.empty()) return;
  const TrustSnapshotPtr snap = trust.current();
  const std::int64_t steady = clock.steady_ms(), now_ms = clock.now_ms();
  const std::optional<v1::AuditCheckpoint> ours = our_checkpoint();
  for (auto& link : peer_links) {
    link->set_checkpoint(ours);
    link->tick(snap->peer(link->broker(), now_ms / 1000), steady);
    bool refused = false;  // the pool is full: this copy and every later one come again
    for (IngressJob& job : link->receive(steady, now_ms)) {
      const ArrivalTag tag = *job.arrival;
      refused = refused || !pool->submit(std::move(job));
      if (refused) settle_arrival(tag, PeerConnection::Settled::kRetry);
    }
    if (auto theirs = link->take_partner_checkpoint(); theirs && snap->peer(link->broker(), now_ms / 1000) != nullptr) {
      record_peer_checkpoint(link->broker(), *theirs);
    }
  }
}

void Broker::Impl::settle_arrival(const ArrivalTag& tag, PeerConnection::Settled how, const Status& refused) {
  for (auto& link : peer_links) {
    if (link->broker() == tag.peer) link->settle(tag.link_session, tag.writer, tag.broker_seq, how, refused);
  }
}

void Broker::Impl::on_arrival(IngressResult& r) {
  const ArrivalTag tag = *r.arrival;
  // A copy of a session that ended (an earlier copy could not be stored,
  // or the link dropped) is not taken: the partner sends it again, in
  // order, to the next session.
  const bool live = std::any_of(peer_links.begin(), peer_links.end(), [&](const auto& link) {
    return link->broker() == tag.peer && link->live(tag.link_session);
  });
  if (!live) {
    settle_arrival(tag, PeerConnection::Settled::kRetry);
    return;
  }
  auto refuse = [&](const Status& why) {
    metrics.crossings_refused.add(why.code());
    log->warn("event=crossing_refused peer={} seq={} report={} code={} reasons=\"{}\"", tag.peer, tag.broker_seq,
              r.report_id_hex, code_name(why.code()), why.to_string());
    audit_event("crossing", tag.peer, r.report_id_hex, "refused", arrival_place(tag) + ": " + why.to_string());
    settle_arrival(tag, PeerConnection::Settled::kDone, why);
  };
  if (!r.status) {
    refuse(r.status);
    return;
  }
  // A duplicate is a report id stored here already. The replay guard's
  // memory only says when to ask the store; an originator's sequence is not
  // judged again (the partner's broker kept each originator's order when it
  // accepted, and sends in that order).
  const std::string& id = r.report->header.report_id();
  if (!replay.check(id, r.node_id, r.report->header.sequence())) {
    if (commits->holds_original(r)) {  // in the group commit: acknowledged once durable, by a later session
      settle_arrival(tag, PeerConnection::Settled::kRetry);
      return;
    }
    auto stored = store->has_report(id);
    if (!stored) {
      log->error("event=store_read_failed reason=\"{}\"", stored.status().to_string());
      settle_arrival(tag, PeerConnection::Settled::kRetry);
      return;
    }
    if (*stored) {
      metrics.crossings_duplicate++;
      audit_event("crossing", tag.peer, r.report_id_hex, "duplicate",
                  arrival_place(tag) + ": report " + r.report_id_hex + " is stored here already");
      settle_arrival(tag, PeerConnection::Settled::kDone);
      return;
    }
  }
  if (store->halted()) {
    settle_arrival(tag, PeerConnection::Settled::kRetry);
    return;
  }
  const std::uint64_t previous_sequence = replay.last_sequence(r.node_id);
  const std::int64_t recorded_ms = clock.steady_ms();
  replay.record(id, r.node_id, r.report->header.sequence(), recorded_ms);
  commits->stage(std::move(r), previous_sequence, recorded_ms);
}

void Broker::Impl::arrival_settled(const ArrivalTag& tag, const std::string& report_hex, const Refusal* refusal) {
  if (refusal == nullptr) {  // its "crossing taken" entry was written with it (GroupCommit)
    metrics.crossings_taken++;
    settle_arrival(tag, PeerConnection::Settled::kDone);
    return;
  }
  // The store has the id already: a duplicate. A store several brokers
  // share holds a later report of the originator from another of them
  // (SEQUENCE_REGRESSION): refused for good, as sending it again cannot
  // change that. Anything else (the store failed or halted) may pass: sent
  // again.
  if (refusal->status.has(Code::REPLAYED_REPORT)) {
    metrics.crossings_duplicate++;
    audit_event("crossing", tag.peer, report_hex, "duplicate", arrival_place(tag) + ": " + refusal->status.to_string());
    settle_arrival(tag, PeerConnection::Settled::kDone);
    return;
  }
  if (refusal->status.has(Code::SEQUENCE_REGRESSION)) {
    metrics.crossings_refused.add(Code::SEQUENCE_REGRESSION);
    audit_event("crossing", tag.peer, report_hex, "refused", arrival_place(tag) + ": " + refusal->status.to_string());
    settle_arrival(tag, PeerConnection::Settled::kDone, refusal->status);
    return;
  }
  log->warn("event=crossing_not_stored peer={} seq={} report={} reasons=\"{}\"", tag.peer, tag.broker_seq, report_hex,
            refusal->status.to_string());
  settle_arrival(tag, PeerConnection::Settled::kRetry);
}

}  // namespace tearline::broker
