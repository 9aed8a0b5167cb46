// Broker::Impl::answer_status: ADMIN "status", answered BROKER_STATUS with
// the broker's health (docs/protocol.md, "Admin commands").
#include <algorithm>

#include "base/version.h"
#include "broker/broker_impl.h"

namespace tearline::broker {

void Broker::Impl::answer_status(Session& s, std::uint64_t request_id) {
  TrustSnapshotPtr snap = trust.current();
  const auto& digest = snap->directory->digest();
  v1::Frame frame;
  auto* st = frame.mutable_broker_status();
  st->set_request_id(request_id);
  st->set_version(std::string(version_string()));
  st->set_broker_id(broker_id);
  st->set_started_at_ms(started_at_ms);
  st->set_broker_time_ms(clock.now_ms());
  st->set_sessions(static_cast<std::uint32_t>(sessions.ready_count()));
  st->set_head_seq(commits->head());
  st->set_verify_queue(static_cast<std::uint32_t>(pool->queued()));
  st->set_commit_queue(static_cast<std::uint32_t>(commits->waiting()));
  std::uint64_t backlog = 0;
  for (const auto& [id, session] : sessions) backlog += session.backlog.size();
  st->set_delivery_backlog(backlog);
  st->set_store_bytes(store->footprint_bytes());
  st->set_last_checkpoint_ms(commits->last_checkpoint_time_ms());
  st->set_directory_digest(std::string(reinterpret_cast<const char*>(digest.data()), digest.size()));
  st->set_directory_generation(snap->generation);
  st->set_accepted(counters.accepted);
  st->set_rejected(counters.rejected);
  st->set_delivered(counters.delivered);
  st->set_damaged_records(counters.damaged_records);
  st->set_refused_handshakes(counters.refused_handshakes);
  st->set_refused_hellos(counters.refused_hellos);
  st->set_wall_clock_steps(counters.wall_clock_steps);
  for (const auto& [code, n] : metrics.rejected_by_code.snapshot()) {
    auto* c = st->add_rejected_by_code();
    c->set_code(std::string(code_name(code)));
    c->set_count(n);
  }
  for (const auto& [code, n] : metrics.withheld_by_reason.snapshot()) {
    auto* c = st->add_withheld_by_reason();
    c->set_code(std::string(code_name(code)));
    c->set_count(n);
  }
  st->set_peer_links(static_cast<std::uint32_t>(peer_links.size()));
  st->set_peer_links_ready(static_cast<std::uint32_t>(
      std::count_if(peer_links.begin(), peer_links.end(), [](const auto& l) { return l->ready(); })));
  st->set_crossings_taken(metrics.crossings_taken);
  std::uint64_t refused = 0;
  for (const auto& [code, n] : metrics.crossings_refused.snapshot()) refused += n;
  st->set_crossings_refused(refused);
  send(s, frame);
}

}  // namespace tearline::broker
