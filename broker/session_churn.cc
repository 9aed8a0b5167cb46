// Broker::Impl: what keeps session churn and handshake floods harmless
// (issue 16, points 7 and 9; docs/reliability.md, "Floods and session
// churn"): the session bound a HELLO is admitted under (SessionTable::
// admit_hello), BYE, dropped connections (ConnectionWatch), and the
// refusal tallies: refused handshakes and HELLOs are counted one by one
// (counters.refused_handshakes, counters.refused_hellos) but logged and
// audited as one entry per source and reason per interval.
//
// Threads: note_refused_handshake() runs on the ZAP thread (under
// zap_events_mu); everything else on the I/O thread.
#include <malloc.h>

#include <algorithm>

#include "broker/broker_impl.h"

namespace tearline::broker {

namespace {

// Free text from a client, made safe for a log line: printable ASCII, cut.
std::string printable(const std::string& text) {
  std::string out = text.substr(0, wire::kMaxByeReasonBytes);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c < 0x20 || c > 0x7e || c == '"'; }, '?');
  return out;
}

// A handshake flood allocates and frees many small blocks on the ZAP and
// libzmq threads; glibc keeps freed memory in their arenas. After an
// interval with at least this many refusals the broker gives it back
// (malloc_trim), so that RSS returns near its baseline.
constexpr std::uint64_t kTrimAfterRefusals = 1000;

}  // namespace

SessionBound Broker::Impl::session_bound() const {
  return SessionBound{config.limits.max_connections, config.limits.max_sessions_per_node,
                      config.limits.reserved_sessions};
}

void Broker::Impl::forget_session(Session& s) {
  if (live_on && s.ready()) live_events.session(s.node_id, false, "gone");
  cancel_queued_jobs(s);
  const std::string id = s.routing_id;
  sessions.forget(id);
}

// BYE is valid in every state; nothing is sent back. A durable session's
// unacknowledged copies stay after the node's cursor and go to its next
// attached session, as after a disconnect.
void Broker::Impl::on_bye(Session& s, const v1::Bye& bye) {
  log->info("event=session_bye node={} state={} reason=\"{}\"", s.node_id, s.ready() ? "READY" : "not ready",
            printable(bye.reason()));
  forget_session(s);
}

void Broker::Impl::on_disconnected(const std::string& routing_id) {
  Session* s = sessions.find(routing_id);
  if (s == nullptr) return;
  log->debug("event=session_disconnected node={}", s->node_id);
  forget_session(*s);
}

void Broker::Impl::refuse_hello(Session& s, Code code, const Status& why, bool answer) {
  counters.refused_hellos++;
  hello_refusals.note(s.node_id, std::string(code_name(code)), why.to_string(), clock.steady_ms());
  if (answer) send(s, wire::make_error(code, why));
}

void Broker::Impl::note_refused_handshake(const std::string& who, const std::string& address,
                                          const std::string& reason) {
  counters.refused_handshakes++;
  MutexLock lock(zap_events_mu);
  handshake_refusals.note(address, reason, who, clock.steady_ms());
}

// The tallies' intervals run on the steady clock; the entries carry the wall
// time at which they are written.
void Broker::Impl::take_refusals(bool force) {
  const std::int64_t steady = clock.steady_ms();
  const std::int64_t now = clock.now_ms();
  std::optional<RefusalTally::Interval> handshakes;
  {
    MutexLock lock(zap_events_mu);
    handshakes = handshake_refusals.take(steady, force);
  }
  if (handshakes) {
    const std::int64_t within = handshakes->to_ms - handshakes->from_ms;
    for (const auto& e : handshakes->entries) {
      log->warn("event=handshakes_refused address={} count={} within_ms={} reason=\"{}\" last=\"{}\"", e.source,
                e.count, within, e.reason, e.example);
      commits->audit(AuditEvent{now, "connection", "", "", "refused",
                                std::to_string(e.count) + " handshakes from " + e.source + " refused within " +
                                    std::to_string(within) + " ms: " + e.reason + " (last: " + e.example + ")"});
    }
    if (handshakes->overflow > 0) {
      log->warn("event=handshakes_refused address=others count={} within_ms={}", handshakes->overflow, within);
      commits->audit(AuditEvent{now, "connection", "", "", "refused",
                                std::to_string(handshakes->overflow) +
                                    " handshakes from further addresses refused within " + std::to_string(within) +
                                    " ms"});
    }
    if (handshakes->total() >= kTrimAfterRefusals) (void)malloc_trim(0);
  }
  if (auto hellos = hello_refusals.take(steady, force)) {
    const std::int64_t within = hellos->to_ms - hellos->from_ms;
    for (const auto& e : hellos->entries) {
      log->warn("event=hellos_refused node={} code={} count={} within_ms={} reasons=\"{}\"", e.source, e.reason,
                e.count, within, e.example);
      audit_event("session", e.source, "", "refused",
                  std::to_string(e.count) + " HELLOs refused within " + std::to_string(within) + " ms: " + e.example);
    }
    if (hellos->overflow > 0) {
      log->warn("event=hellos_refused node=others count={} within_ms={}", hellos->overflow, within);
      audit_event("session", "", "", "refused",
                  std::to_string(hellos->overflow) + " HELLOs of further nodes refused within " +
                      std::to_string(within) + " ms");
    }
  }
}

}  // namespace tearline::broker
