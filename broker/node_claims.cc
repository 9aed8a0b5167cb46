// Broker::Impl: a node's durable state in a store several brokers share
// (docs/scale-out.md, "Claims"). The broker that serves a node's mailbox
// holds the node's claim; its batches write the node's patterns and
// cursors under the claim's fencing number, and a broker whose claim was
// taken over writes nothing more of the node's.
#include "broker/broker_impl.h"

namespace tearline::broker {

Status Broker::Impl::claim_node_of(const Session& s) {
  // Another attached session of the node here: this broker holds its claim,
  // and its memory of the node is what it wrote.
  for (const auto& [id, other] : sessions) {
    if (&other != &s && other.ready() && other.attached && other.node_id == s.node_id) return Status::ok();
  }
  auto claimed = store->claim_node(s.node_id);
  if (!claimed) {
    log->error("event=node_claim_failed node={} reason=\"{}\"", s.node_id, claimed.status().to_string());
    return Status::fail(Code::STORAGE_FAILED, "cannot take " + s.node_id + "'s mailbox from the store (" +
                                                  claimed.status().to_string() + "); try again");
  }
  if (!claimed->has_value()) return Status::ok();  // one writer: nothing to claim
  NodeClaim& claim = **claimed;
  // The same fence: this broker held the claim all along, and its memory
  // (with changes not yet written) is newer than the store.
  if (auto held = node_fences.find(s.node_id); held != node_fences.end() && held->second == claim.fence) {
    return Status::ok();
  }
  // Else the stored state replaces what this broker remembered (another
  // broker served the node since, or this one restarted), and changes of
  // the node still pending here are dropped: they were made under a claim
  // that ended, and would overwrite the newer state.
  commits->drop_pending(s.node_id);
  node_fences[s.node_id] = claim.fence;
  subscriptions.set(s.node_id, claim.patterns);
  if (claim.cursor) {
    node_cursors[s.node_id] = *claim.cursor;
  } else {
    node_cursors.erase(s.node_id);
  }
  if (claim.stream_cursors.empty()) {
    node_stream_cursors.erase(s.node_id);
  } else {
    node_stream_cursors[s.node_id] = std::move(claim.stream_cursors);
  }
  log->info("event=node_claimed node={} fence={} patterns={}", s.node_id, claim.fence, claim.patterns.size());
  return Status::ok();
}

void Broker::Impl::lost_claim(const std::string& node, std::uint64_t fence) {
  auto held = node_fences.find(node);
  if (held == node_fences.end() || held->second != fence) return;  // a claim of this broker's superseded it
  // The fence stays: whatever of the node is still pending is kept out too.
  log->warn("event=node_claim_lost node={} fence={}", node, fence);
  audit_event("session", node, "", "moved", "another broker claimed the node after fence " + std::to_string(fence));
  for (auto& [id, s] : sessions) {
    if (!s.ready() || !s.attached || s.node_id != node) continue;
    close_session(s, Code::SESSION_REPLACED,
                  Status::fail(Code::SESSION_REPLACED,
                               node + "'s mailbox is now served by another broker sharing the store (a session of "
                                      "it subscribed or unsubscribed there); this session is closed, and subscribing "
                                      "here again takes the mailbox back"));
  }
}

}  // namespace tearline::broker
