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
  const TrustSnapshotPtr snap = trust.current();
  // Only a partner's boundary broker of a peering valid now exchanges
  // checkpoints; anyone else's checkpoint is ignored, and gets none.
  if (snap->peer(s.node_id, clock.now_ms() / 1000) != nullptr) {
    if (ping.has_checkpoint()) record_peer_checkpoint(s.node_id, ping.checkpoint());
    if (auto ours = our_checkpoint()) *pong.mutable_pong()->mutable_checkpoint() = std::move(*ours);
  }
  send(s, pong);
}

void Broker::Impl::record_peer_checkpoint(const std::string& peer, const tearline::v1::AuditCheckpoint& m) {
  std::uint64_t& seen = peer_checkpoint_seen[peer];
  if (m.index() != 0 && m.index() <= seen) return;  // recorded already (or older)
  const TrustSnapshotPtr snap = trust.current();
  auto checked = federation::check_peer_checkpoint(m, peer, *snap->directory);
  if (!checked) {
    // Said once per index; a refused one never moves `seen`, so a forged
    // high index cannot silence the partner's genuine checkpoints.
    std::uint64_t& said = peer_checkpoint_refused[peer];
    if (said == m.index() && said != 0) return;
    said = m.index();
    log->warn("event=peer_checkpoint_refused peer={} index={} reasons=\"{}\"", peer, m.index(),
              checked.status().to_string());
    audit_event("peer_checkpoint", peer, "", "refused", checked.status().to_string());
    return;
  }
  seen = checked->index;
  audit_event("peer_checkpoint", peer, "", "received", audit::anchor_line(*checked));
}

}  // namespace tearline::broker
