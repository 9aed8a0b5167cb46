// Audit checkpoints exchanged over a peering, on the I/O thread
// (docs/federation.md, "Audit checkpoints"): a partner broker's session
// sends its newest checkpoint in PING and gets ours in PONG; our own
// PeerConnections do the same the other way (drive_peer_links). Each side
// records the other's, checked, in its own audit log.
#include <spdlog/spdlog.h>

#include "audit/anchor.h"
#include "broker/broker_impl.h"
#include "federation/checkpoints.h"
#include "wire/frame.h"

namespace tearline::broker {

std::optional<tearline::v1::AuditCheckpoint> Broker::Impl::our_checkpoint() const {
  const auto& c = commits->newest_checkpoint();
  if (!c) return std::nullopt;
  return federation::checkpoint_message(commits->broker_id(), *c);
}

void Broker::Impl::on_ping(Session& s, const tearline::v1::Ping& ping) {
  tearline::v1::Frame pong = wire::make_pong(ping.nonce());
  // Only a partner's boundary broker of a peering valid now exchanges
  // checkpoints, and only once it sent one: a PONG never carries a field a
  // client did not show it knows (frames are parsed strictly). Anyone
  // else's checkpoint is ignored.
  if (ping.has_checkpoint() && trust.current()->peer(s.node_id, clock.now_ms() / 1000) != nullptr) {
    record_peer_checkpoint(s.node_id, ping.checkpoint());
    if (auto ours = our_checkpoint()) *pong.mutable_pong()->mutable_checkpoint() = std::move(*ours);
  }
  send(s, pong);
}

void Broker::Impl::record_peer_checkpoint(const std::string& peer, const tearline::v1::AuditCheckpoint& m) {
  // At most one entry per partner per audit_checkpoint_seconds, whatever it
  // sends: a partner cannot grow our log faster than our own checkpoints do.
  const std::int64_t steady = clock.steady_ms();
  PeerCheckpoints& p = peer_checkpoints[peer];
  if (p.last_entry_steady != 0 && steady - p.last_entry_steady < config.storage.audit_checkpoint_seconds * 1000) {
    return;
  }
  const TrustSnapshotPtr snap = trust.current();
  auto checked = federation::check_peer_checkpoint(m, peer, *snap->directory);
  if (!checked) {
    log->warn("event=peer_checkpoint_refused peer={} index={} reasons=\"{}\"", peer, m.index(),
              checked.status().to_string());
    audit_event("peer_checkpoint", peer, "", "refused", checked.status().to_string());
    p.last_entry_steady = steady;
    return;
  }
  // Recorded when its log moved by more than the one entry in which it
  // recorded ours: two idle partners do not record each other's
  // checkpoints for ever. An index lower than the last recorded (its store
  // replaced or restored) is recorded too, and logged.
  if (p.index != 0 && checked->index < p.index) {
    log->warn("event=peer_checkpoint_back peer={} index={} recorded={}", peer, checked->index, p.index);
  } else if (p.index != 0 && checked->index <= p.index + 1) {
    return;
  }
  p.index = checked->index;
  p.last_entry_steady = steady;
  audit_event("peer_checkpoint", peer, "", "received", audit::anchor_line(*checked));
}

}  // namespace tearline::broker
