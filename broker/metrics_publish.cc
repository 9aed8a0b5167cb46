// The metrics endpoint's side of the broker (docs/observability.md): the
// I/O thread publishes its gauges at each housekeeping; the HTTP thread
// renders them with the counters, never touching the I/O thread's state.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/version.h"
#include "broker/broker_impl.h"

namespace tearline::broker {

Status Broker::Impl::bind_metrics() {
  if (config.metrics_listen.empty()) return Status::ok();
  std::string token;
  if (!config.metrics_token_file.empty()) {
    auto read = read_token_file(config.metrics_token_file);
    if (!read) return read.status();
    token = std::move(read).value();
  }
  auto server = MetricsServer::bind(
      config.metrics_listen, [this] { return render_metrics(); }, log, &live_events, std::move(token));
  if (!server) return server.status();
  metrics_server = std::move(server).value();
  live_on = true;
  routing.report_live_to(&live_events);
  return Status::ok();
}

void Broker::Impl::publish_gauges() {
  if (!metrics_server) return;  // nobody to read them
  GaugeSnapshot g;
  g.published_ms = clock.now_ms();
  for (const auto& [id, s] : sessions) {
    if (s.state == SessionState::kReady) {
      ++g.sessions_ready;
    } else if (s.state == SessionState::kNew) {
      ++g.sessions_new;
    }
    g.delivery_backlog += s.backlog.size();
    g.session_backlog_max = std::max<std::uint64_t>(g.session_backlog_max, s.backlog.size());
  }
  g.verify_queue = pool ? pool->queued() : 0;
  g.commit_queue = commits ? commits->waiting() : 0;
  g.store_bytes = store ? store->footprint_bytes() : 0;
  g.head_seq = commits ? commits->head() : 0;
  g.directory_generation = trust.current()->generation;
  g.last_checkpoint_ms = commits ? commits->last_checkpoint_time_ms() : 0;
  g.broker_id = broker_id;
  g.peer_links = peer_links.size();
  g.peer_links_ready = static_cast<std::uint64_t>(
      std::count_if(peer_links.begin(), peer_links.end(), [](const auto& l) { return l->ready(); }));
  metrics.set_gauges(g);
}

std::string Broker::Impl::render_metrics() const {
  CounterSnapshot c;
  c.accepted = counters.accepted;
  c.rejected = counters.rejected;
  c.delivered = counters.delivered;
  c.closed_sessions = counters.closed;
  c.reloads = counters.reloads;
  c.failed_reloads = counters.failed_reloads;
  c.damaged_records = counters.damaged_records;
  c.refused_handshakes = counters.refused_handshakes;
  c.refused_hellos = counters.refused_hellos;
  c.wall_clock_steps = counters.wall_clock_steps;
  return metrics.render(c, version_string(), started_at_ms, clock.now_ms());
}

}  // namespace tearline::broker
