#include "broker/session_table.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "wire/frame.h"

namespace tearline::broker {

SessionTable::SessionTable(TrySend try_send, OnClosed on_slow_consumer, std::size_t max_pending_deliveries,
                           std::size_t max_pending_bytes, std::shared_ptr<spdlog::logger> log)
    : try_send_(std::move(try_send)),
      on_slow_consumer_(std::move(on_slow_consumer)),
      max_pending_deliveries_(max_pending_deliveries),
      max_pending_bytes_(max_pending_bytes),
      log_(log ? std::move(log) : spdlog::default_logger()) {}

Session* SessionTable::find(const std::string& routing_id) {
  auto it = sessions_.find(routing_id);
  return it == sessions_.end() ? nullptr : &it->second;
}

Session* SessionTable::attach(const std::string& routing_id, const std::string& node, std::int64_t now_ms) {
  auto [it, fresh] = sessions_.try_emplace(routing_id);
  Session& s = it->second;
  if (fresh) {
    s.routing_id = routing_id;
    s.node_id = node;
  }
  if (s.node_id != node) return nullptr;
  s.last_seen_ms = now_ms;
  return &s;
}

SessionTable::Sent SessionTable::send(Session& s, Bytes frame) {
  if (s.backlog.empty() && try_send_(s.routing_id, frame)) return Sent::kSent;
  s.backlog_bytes += frame.size();
  s.backlog.push_back(std::move(frame));
  if (s.backlog.size() <= max_pending_deliveries_ && s.backlog_bytes <= max_pending_bytes_) return Sent::kQueued;
  log_->warn("event=slow_consumer node={} pending={} bytes={}", s.node_id, s.backlog.size(), s.backlog_bytes);
  const std::string which = s.backlog.size() > max_pending_deliveries_
                                ? "more than " + std::to_string(max_pending_deliveries_) + " frames"
                                : "more than " + std::to_string(max_pending_bytes_) + " bytes";
  close(s);
  if (on_slow_consumer_) on_slow_consumer_(s);
  s.backlog.push_back(wire::encode_frame(
      wire::make_error(Code::SLOW_CONSUMER, which + " pending; session closed, reconnect to resume")));
  return Sent::kClosedSlowConsumer;
}

void SessionTable::remember_delivery(Session& s, std::string_view writer, std::uint64_t seq, const crypto::Digest& hash,
                                     std::string_view report_id) const {
  auto& unacked = s.place(writer).unacked;
  StreamPlace::SentCopy& sent = unacked[seq];
  sent.hash = hash;
  sent.report_id = {};
  if (report_id.size() == sent.report_id.size()) std::copy(report_id.begin(), report_id.end(), sent.report_id.begin());
  while (unacked.size() > max_pending_deliveries_ + kUnackedSlack) unacked.erase(unacked.begin());
}

void SessionTable::flush() {
  for (auto& [id, s] : sessions_) {
    while (!s.backlog.empty() && try_send_(s.routing_id, s.backlog.front())) {
      s.backlog_bytes -= std::min(s.backlog_bytes, s.backlog.front().size());
      s.backlog.pop_front();
    }
  }
}

bool SessionTable::any_backlog() const {
  return std::any_of(sessions_.begin(), sessions_.end(), [](const auto& kv) { return !kv.second.backlog.empty(); });
}

void SessionTable::close(Session& s) {
  s.backlog.clear();
  s.backlog_bytes = 0;
  s.unacked.clear();
  s.attached = false;
  s.session_patterns.clear();
  s.sent_unattached.clear();
  for (auto& [writer, place] : s.streams) {
    place.unacked.clear();
    place.sent_unattached.clear();
  }
  s.state = SessionState::kClosed;
}

bool SessionTable::count_outcome(Session& s, const Status& outcome, int max_failures) {
  if (outcome.is_ok()) {
    s.failures = 0;
    return false;
  }
  if (!wire::counts_toward_failure_limit(outcome.code())) return false;
  return ++s.failures >= max_failures && s.state == SessionState::kReady;
}

bool SessionTable::may_answer_cooldown(Session& s, std::int64_t now_ms) {
  if (s.hello_refused_ms >= 0 && now_ms - s.hello_refused_ms < kCooldownAnswerIntervalMs) return false;
  s.hello_refused_ms = now_ms;
  return true;
}

std::size_t SessionTable::ready_count() const {
  std::size_t ready = 0;
  for (const auto& [id, s] : sessions_) ready += s.state == SessionState::kReady ? 1 : 0;
  return ready;
}

HelloAdmission SessionTable::admit_hello(const Session& s, const SessionBound& bound) {
  HelloAdmission out;
  std::size_t all = 0, own = 0;
  for (auto& [id, other] : sessions_) {
    if (!other.ready() || &other == &s) continue;
    ++all;
    if (other.node_id != s.node_id) continue;
    ++own;
    if (out.replaced == nullptr || other.ready_serial < out.replaced->ready_serial) out.replaced = &other;
  }
  if (own >= bound.per_node) {
    // No net change in the sessions held: allowed however full the broker is.
    out.verdict = HelloAdmission::Verdict::kReplaceOldest;
    return out;
  }
  out.replaced = nullptr;
  if (all >= bound.max_sessions) {
    out.verdict = HelloAdmission::Verdict::kBusy;
  } else if (own > 0 && all >= bound.max_sessions - bound.effective_reserve()) {
    out.verdict = HelloAdmission::Verdict::kReserved;
  }
  return out;
}

void SessionTable::mark_ready(Session& s) {
  s.state = SessionState::kReady;
  s.ready_serial = next_ready_serial_++;
}

bool SessionTable::forget(const std::string& routing_id) { return sessions_.erase(routing_id) > 0; }

std::size_t SessionTable::ready_count_of(const std::string& node) const {
  std::size_t ready = 0;
  for (const auto& [id, s] : sessions_) ready += s.state == SessionState::kReady && s.node_id == node ? 1 : 0;
  return ready;
}

std::vector<Session> SessionTable::take_timed_out(std::int64_t now_ms, std::int64_t timeout_ms) {
  std::vector<Session> out;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (now_ms - it->second.last_seen_ms > timeout_ms) {
      out.push_back(std::move(it->second));
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace tearline::broker
