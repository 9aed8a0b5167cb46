// The receiving side of a boundary, on the I/O thread (docs/federation.md,
// "The receiving boundary broker"): each PeerConnection's copies go to the
// verifiers (check_arrival_job), then through the replay guard into the
// group commit like a PUBLISH; each copy is acknowledged to the partner once
// it is durable here, refused for good, or known already.
#include <spdlog/spdlog.h>

#include "broker/broker_impl.h"

namespace tearline::broker {

namespace {

std::string arrival_place(const ArrivalTag& tag) {
  return "from " + tag.peer + " " + place_label(tag.writer, tag.broker_seq);
}

}  // namespace

void Broker::Impl::drive_peer_links() {
  if (peer_links.empty()) return;
  const TrustSnapshotPtr snap = trust.current();
  const std::int64_t steady = clock.steady_ms(), now_ms = clock.now_ms();
  for (auto& link : peer_links) {
    link->tick(snap->peer(link->broker(), now_ms / 1000), steady);
    for (IngressJob& job : link->receive(steady, now_ms)) {
      const ArrivalTag tag = *job.arrival;
      if (!pool->submit(std::move(job))) settle_arrival(tag, PeerConnection::Settled::kRetry);
    }
  }
}

void Broker::Impl::settle_arrival(const ArrivalTag& tag, PeerConnection::Settled how) {
  for (auto& link : peer_links) {
    if (link->broker() == tag.peer) link->settle(tag.link_session, tag.writer, tag.broker_seq, how);
  }
}

void Broker::Impl::on_arrival(IngressResult& r) {
  const ArrivalTag tag = *r.arrival;
  auto refuse = [&](const Status& why) {
    log->warn("event=crossing_refused peer={} seq={} report={} code={} reasons=\"{}\"", tag.peer, tag.broker_seq,
              r.report_id_hex, code_name(why.code()), why.to_string());
    audit_event("crossing", tag.peer, r.report_id_hex, "refused", arrival_place(tag) + ": " + why.to_string());
    settle_arrival(tag, PeerConnection::Settled::kDone);
  };
  if (!r.status) {
    refuse(r.status);
    return;
  }
  const std::string& id = r.report->header.report_id();
  Status status = replay.check(id, r.node_id, r.report->header.sequence());
  bool known = status.has(Code::REPLAYED_REPORT);
  if (!status && !known) {
    // An id older than the replay guard's memory repeats its sequence:
    // the store answers whether the report is here already.
    auto stored = store->has_report(id);
    if (!stored) {
      log->error("event=store_read_failed reason=\"{}\"", stored.status().to_string());
      settle_arrival(tag, PeerConnection::Settled::kRetry);
      return;
    }
    known = *stored;
  }
  if (known) {
    // Still in the group commit: acknowledged only once it is durable,
    // by a session after this one.
    if (commits->holds_original(r)) {
      settle_arrival(tag, PeerConnection::Settled::kRetry);
      return;
    }
    audit_event("crossing", tag.peer, r.report_id_hex, "duplicate",
                arrival_place(tag) + ": report " + r.report_id_hex + " is here already");
    settle_arrival(tag, PeerConnection::Settled::kDone);
    return;
  }
  if (!status) {
    refuse(status);
    return;
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

void Broker::Impl::arrival_settled(const ArrivalTag& tag, const std::string& report_hex, const Refusal* refusal,
                                   std::uint64_t seq) {
  if (refusal == nullptr) {
    audit_event("crossing", tag.peer, report_hex, "taken",
                arrival_place(tag) + " stored as seq " + std::to_string(seq));
    settle_arrival(tag, PeerConnection::Settled::kDone);
    return;
  }
  // The store has the id already: a duplicate. Anything else (the store
  // failed or halted, a clash in a shared store) may pass: sent again.
  if (refusal->status.has(Code::REPLAYED_REPORT)) {
    audit_event("crossing", tag.peer, report_hex, "duplicate", arrival_place(tag) + ": " + refusal->status.to_string());
    settle_arrival(tag, PeerConnection::Settled::kDone);
    return;
  }
  log->warn("event=crossing_not_stored peer={} seq={} report={} reasons=\"{}\"", tag.peer, tag.broker_seq, report_hex,
            refusal->status.to_string());
  settle_arrival(tag, PeerConnection::Settled::kRetry);
}

}  // namespace tearline::broker
