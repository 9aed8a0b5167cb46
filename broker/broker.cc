#include "broker/broker.h"

#include <spdlog/spdlog.h>
#include <zmq.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "broker/ingress.h"
#include "broker/replay_guard.h"
#include "broker/source_index.h"
#include "broker/sqlite_store.h"
#include "broker/store_writer.h"
#include "audit/audit.h"
#include "broker/trust_state.h"
#include "broker/verifier_pool.h"
#include "broker/zap_handler.h"
#include "crypto/key_file.h"
#include "policy/decisions.h"
#include "policy/topic.h"
#include "report/verify.h"
#include "wire/frame.h"

namespace tearline::broker {
namespace v1 = tearline::v1;

namespace {

// ZMQ_ZAP_ENFORCE_DOMAIN: stable in libzmq 4.3's behaviour but declared only
// under ZMQ_BUILD_DRAFT_API in its header. With it, a handshake whose ZAP
// domain is not ours is refused instead of being let through.
constexpr int kZmqZapEnforceDomain = 93;
constexpr std::int64_t kHousekeepingMs = 250;
constexpr std::size_t kVerifierQueueLimit = 4096;
constexpr int kReceiveBatch = 512;

enum class SessionState { kNew, kReady, kClosed };

struct Session {
  std::string routing_id;
  std::string node_id;
  SessionState state = SessionState::kNew;
  std::vector<std::string> patterns;
  int failures = 0;
  std::int64_t last_seen_ms = 0;
  std::uint64_t acked = 0;
  std::uint64_t delivered = 0;  // highest broker seq routed to this session (sent or judged)
  std::deque<Bytes> backlog;    // frames the socket could not take yet
  std::size_t backlog_bytes = 0;
  std::int64_t hello_refused_ms = -1;  // last HELLO answered with the cooldown refusal
};

// During a cooldown, HELLOs on one connection are answered at most this often
// (a refused node that retries at once would otherwise make the broker answer
// as fast as it can send).
constexpr std::int64_t kCooldownAnswerIntervalMs = 1000;

// Flood control per node, across its sessions.
struct NodeLimits {
  double tokens = -1;  // publish token bucket (-1: not started)
  std::int64_t refilled_ms = 0;
  std::size_t inflight = 0;  // PUBLISH being verified
  std::int64_t cooldown_until_ms = 0;
  std::int64_t limited_since_ms = 0;  // start of the current one-second window
  std::size_t limited = 0;            // RATE_LIMITED answers in it
};

// A report ready to route: from a fresh verification or from the store.
struct Routable {
  std::uint64_t seq = 0;
  const report::VerifiedReport* report = nullptr;
  std::string originator_country;
  const Bytes* raw = nullptr;
};

// An accepted publish waiting for its group commit. Its broker seq is
// assigned when its batch is built.
struct Staged {
  IngressResult result;
  std::uint64_t seq = 0;
  std::uint64_t previous_sequence = 0;
  std::int64_t recorded_ms = 0;  // when the ReplayGuard recorded its id
};

// A request answer that must wait for the group commit (durable state).
struct PendingReply {
  std::string routing_id;
  std::uint64_t request_id = 0;
};

// An audit event not yet chained (chained at commit time).
struct AuditEvent {
  std::int64_t time_ms;
  std::string event, node, report, decision, detail;
};

// A batch being written by the StoreWriter, and what waits on its outcome.
struct InFlightCommit {
  std::vector<Staged> staged;
  std::vector<IngressResult> replays;    // copies of staged reports, answered after
  std::vector<PendingReply> replies;     // SUBSCRIBE/UNSUBSCRIBE answers
  std::vector<AuditEvent> events;        // chained into batch.audit
  std::set<std::string> cursor_nodes;    // cursors written
  std::map<std::string, std::vector<std::string>> subscriptions;
  audit::ChainWriter next;               // the chain once the batch is written
  std::int64_t now_ms = 0;
};

constexpr std::size_t kCatchUpBatch = 256;
constexpr std::size_t kMaxPendingZapEvents = 4096;
constexpr std::int64_t kLazyCommitMs = 100;
constexpr std::size_t kLazyCommitEntries = 4096;
constexpr std::size_t kCatchUpBacklogLimit = 64;

std::string short_hex(const std::string& raw) { return to_hex(as_bytes(raw)).substr(0, 12); }

// Whether `list` holds the report that `copy` is a copy of (same report id).
bool holds_original(const std::vector<Staged>& list, const IngressResult& copy) {
  const std::string& id = copy.report->header.report_id();
  return std::any_of(list.begin(), list.end(),
                     [&](const Staged& st) { return st.result.report->header.report_id() == id; });
}

}  // namespace

struct Broker::Impl {
  Config config;
  const Clock& clock;
  std::shared_ptr<spdlog::logger> log;
  TrustState trust;
  zmq::context_t context{1};
  std::unique_ptr<ZapHandler> zap;
  zmq::socket_t router;
  zmq::socket_t results;
  std::unique_ptr<VerifierPool> pool;
  SourceIndex sources;
  ReplayGuard replay;
  std::map<std::string, Session> sessions;  // by routing id
  std::map<std::string, NodeLimits> node_limits;
  std::uint64_t broker_seq = 0;             // last committed report
  std::int64_t next_housekeeping_ms = 0;
  std::int64_t next_retention_ms = 0;

  // Durable state (docs/reliability.md).
  std::unique_ptr<Store> store;
  std::unique_ptr<StoreWriter> writer;
  std::optional<InFlightCommit> inflight;  // the batch the writer holds
  std::map<std::string, std::vector<std::string>> node_patterns;  // durable subscriptions
  std::map<std::string, std::uint64_t> node_cursors;              // acked broker seq per node
  std::set<std::string> dirty_cursors;
  std::map<std::string, std::vector<std::string>> dirty_subscriptions;
  std::vector<Staged> staged;
  std::vector<IngressResult> replays_of_staged;  // answered after the commit of the original
  std::vector<PendingReply> pending_replies;
  std::vector<AuditEvent> audit_events;
  audit::ChainWriter chain;
  std::uint64_t last_checkpoint_index = 0;
  std::int64_t last_checkpoint_ms = 0;
  std::unique_ptr<crypto::SigningKey> audit_key;
  std::int64_t last_commit_ms = 0;
  std::int64_t last_store_error_log_ms = 0;
  bool force_commit = false;
  std::mutex zap_events_mu;
  std::vector<AuditEvent> zap_events;  // from the ZAP thread
  std::uint64_t zap_events_dropped = 0;  // guarded by zap_events_mu

  std::atomic<bool> stop_requested{false};
  std::atomic<bool> reload_requested{false};
  mutable std::mutex endpoint_mu;
  std::string bound_endpoint;
  struct Counters {
    std::atomic<std::uint64_t> accepted{0}, rejected{0}, delivered{0}, closed{0}, reloads{0}, failed_reloads{0};
  } counters;

  Impl(Config c, const Clock& clk)
      : config(std::move(c)),
        clock(clk),
        trust(config.directory, config.policy),
        replay(config.replay_memory_ms) {}

  // ---- sending -------------------------------------------------------------

  void send(Session& s, const v1::Frame& frame) { send_bytes(s, wire::encode_frame(frame)); }

  void send_bytes(Session& s, Bytes bytes) {
    if (!s.backlog.empty() || !try_send(s.routing_id, bytes)) {
      s.backlog_bytes += bytes.size();
      s.backlog.push_back(std::move(bytes));
      if (s.backlog.size() > config.limits.max_pending_deliveries ||
          s.backlog_bytes > config.limits.max_pending_bytes) {
        log->warn("event=slow_consumer node={} pending={} bytes={}", s.node_id, s.backlog.size(), s.backlog_bytes);
        const std::string which = s.backlog.size() > config.limits.max_pending_deliveries
                                      ? "more than " + std::to_string(config.limits.max_pending_deliveries) + " frames"
                                      : "more than " + std::to_string(config.limits.max_pending_bytes) + " bytes";
        s.backlog.clear();
        s.backlog_bytes = 0;
        s.state = SessionState::kClosed;
        cancel_queued_jobs(s);
        counters.closed++;
        s.backlog.push_back(wire::encode_frame(
            wire::make_error(Code::SLOW_CONSUMER, which + " pending; session closed, reconnect to resume")));
      }
    }
  }

  // False when the peer's pipe is full (EAGAIN); a vanished peer counts as sent.
  bool try_send(const std::string& routing_id, const Bytes& bytes) {
    try {
      auto r1 = router.send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      if (!r1) return false;
      router.send(zmq::buffer(bytes.data(), bytes.size()), zmq::send_flags::dontwait);
      return true;
    } catch (const zmq::error_t& e) {
      if (e.num() == EHOSTUNREACH) return true;
      throw;
    }
  }

  void flush_backlogs() {
    for (auto& [id, s] : sessions) {
      while (!s.backlog.empty() && try_send(s.routing_id, s.backlog.front())) {
        s.backlog_bytes -= std::min(s.backlog_bytes, s.backlog.front().size());
        s.backlog.pop_front();
      }
    }
  }

  // ---- audit -----------------------------------------------------------------

  void audit_event(std::string event, std::string node, std::string report, std::string decision,
                   std::string detail) {
    audit_events.push_back(AuditEvent{clock.now_ms(), std::move(event), std::move(node), std::move(report),
                                      std::move(decision), std::move(detail)});
  }

  // ---- failures --------------------------------------------------------------

  // A closed session's PUBLISHes still queued for verification are dropped:
  // nobody would be answered, and verifying them is work for nothing.
  void cancel_queued_jobs(const Session& s) {
    for (const auto& job : pool->cancel(s.routing_id)) {
      NodeLimits& nl = node_limits[job.node_id];
      if (nl.inflight > 0) --nl.inflight;
    }
  }

  void close_session(Session& s, Code code, const Status& reasons) {
    s.backlog.clear();
    s.backlog_bytes = 0;
    s.state = SessionState::kClosed;
    cancel_queued_jobs(s);
    counters.closed++;
    audit_event("session", s.node_id, "", "closed", std::string(code_name(code)) + ": " + reasons.to_string());
    send(s, wire::make_error(code, reasons));
  }

  void note_outcome(Session& s, const Status& status) {
    if (status.is_ok()) {
      s.failures = 0;
      return;
    }
    if (!wire::counts_toward_failure_limit(status.code())) return;
    if (++s.failures >= config.limits.max_failures && s.state == SessionState::kReady) {
      log->warn("event=session_closed node={} reason=TOO_MANY_FAILURES failures={}", s.node_id, s.failures);
      node_limits[s.node_id].cooldown_until_ms = clock.now_ms() + config.limits.failure_cooldown_ms;
      close_session(s, Code::TOO_MANY_FAILURES,
                    Status::fail(Code::TOO_MANY_FAILURES,
                                 std::to_string(s.failures) + " consecutive failed requests; session closed"));
    }
  }

  void error(Session& s, Code code, const std::string& message, std::uint64_t request_id = 0) {
    send(s, wire::make_error(code, message, request_id));
    note_outcome(s, Status::fail(code, message));
  }

  void reject(Session& s, std::uint64_t request_id, const Status& status) {
    send(s, wire::make_rejected(request_id, status));
    note_outcome(s, status);
  }

  // ---- admission -----------------------------------------------------------

  void on_hello(Session& s, const v1::Hello& hello) {
    Status version = wire::check_hello(hello);
    if (!version) {
      send(s, wire::make_error(Code::UNSUPPORTED_VERSION, version));
      return;
    }
    const std::int64_t cooldown = node_limits[s.node_id].cooldown_until_ms - clock.now_ms();
    if (cooldown > 0) {
      if (s.hello_refused_ms >= 0 && clock.now_ms() - s.hello_refused_ms < kCooldownAnswerIntervalMs) return;
      s.hello_refused_ms = clock.now_ms();
      send(s, wire::make_error(Code::TOO_MANY_FAILURES, s.node_id + " failed too often; HELLO is refused for " +
                                                            std::to_string(cooldown) + " ms more"));
      return;
    }
    TrustSnapshotPtr snap = trust.current();
    Status valid = snap->directory->check_node(s.node_id, clock.now_seconds());
    if (!valid) {
      log->info("event=hello_refused node={} reasons=\"{}\"", s.node_id, valid.to_string());
      audit_event("session", s.node_id, "", "refused", valid.to_string());
      send(s, wire::make_error(Code::SESSION_REVOKED, valid));
      s.state = SessionState::kClosed;
      return;
    }
    std::size_t ready = 0;
    for (const auto& [id, other] : sessions) ready += other.state == SessionState::kReady ? 1 : 0;
    if (ready >= config.limits.max_connections) {
      send(s, wire::make_error(Code::BROKER_BUSY, "the broker serves its maximum of " +
                                                      std::to_string(config.limits.max_connections) + " sessions"));
      return;
    }
    s.state = SessionState::kReady;
    s.failures = 0;
    s.backlog.clear();
    s.backlog_bytes = 0;
    // Durable: the node resumes after what it acknowledged; a node never seen
    // starts now.
    auto cursor = node_cursors.find(s.node_id);
    s.delivered = cursor == node_cursors.end() ? broker_seq : cursor->second;
    s.acked = s.delivered;
    log->info("event=session_ready node={} client=\"{}\" resume_after={}", s.node_id, hello.client(), s.delivered);
    audit_event("session", s.node_id, "", "admitted", "resume after " + std::to_string(s.delivered));
    send(s, wire::make_welcome(s.node_id, clock.now_ms(), static_cast<std::uint32_t>(config.limits.max_frame_bytes),
                               static_cast<std::uint32_t>(config.limits.max_subscriptions)));
  }

  // ---- requests --------------------------------------------------------------

  const std::vector<std::string>& patterns_of(const std::string& node) {
    static const std::vector<std::string> kNone;
    auto it = node_patterns.find(node);
    return it == node_patterns.end() ? kNone : it->second;
  }

  void on_subscribe(Session& s, const v1::Subscribe& sub) {
    Status problems;
    if (static_cast<std::size_t>(sub.patterns_size()) > wire::kMaxPatternsPerRequest || sub.patterns_size() == 0) {
      problems.add(Code::TOPIC_INVALID, "a SUBSCRIBE carries 1.." + std::to_string(wire::kMaxPatternsPerRequest) + " patterns");
    }
    std::vector<std::string> patterns = patterns_of(s.node_id);
    const std::size_t before = patterns.size();
    for (const auto& p : sub.patterns()) {
      Status valid = policy::validate_pattern(p);
      if (valid) valid = check_topic_limits(p, config.limits);
      if (!valid) {
        problems.merge(valid);
        continue;
      }
      if (std::find(patterns.begin(), patterns.end(), p) == patterns.end()) patterns.push_back(p);
    }
    if (problems.is_ok() && patterns.size() > config.limits.max_subscriptions) {
      problems.add(Code::TOO_MANY_SUBSCRIPTIONS, "at most " + std::to_string(config.limits.max_subscriptions) +
                                                     " patterns per node");
    }
    if (!problems) {
      reject(s, sub.request_id(), problems);
      return;
    }
    if (patterns.size() != before || node_cursors.count(s.node_id) == 0) {
      node_patterns[s.node_id] = patterns;
      dirty_subscriptions[s.node_id] = patterns;
      if (node_cursors.count(s.node_id) == 0) {
        node_cursors[s.node_id] = s.delivered;
        dirty_cursors.insert(s.node_id);
      }
    }
    log->debug("event=subscribed node={} patterns={}", s.node_id, patterns.size());
    // Answered after the group commit: the subscription is durable by then.
    pending_replies.push_back(PendingReply{s.routing_id, sub.request_id()});
  }

  void on_unsubscribe(Session& s, const v1::Unsubscribe& unsub) {
    std::vector<std::string> patterns = patterns_of(s.node_id);
    for (const auto& p : unsub.patterns()) patterns.erase(std::remove(patterns.begin(), patterns.end(), p), patterns.end());
    node_patterns[s.node_id] = patterns;
    dirty_subscriptions[s.node_id] = patterns;
    pending_replies.push_back(PendingReply{s.routing_id, unsub.request_id()});
  }

  void on_ack(Session& s, std::uint64_t seq) {
    if (seq <= s.acked || seq > s.delivered) return;
    s.acked = seq;
    auto& cursor = node_cursors[s.node_id];
    if (seq > cursor) {
      cursor = seq;
      dirty_cursors.insert(s.node_id);
    }
  }

  void on_publish(Session& s, v1::Publish& pub) {
    if (store->halted()) {
      reject(s, pub.request_id(), Status::fail(Code::STORAGE_HALTED, "the broker stopped accepting after a failed sync"));
      return;
    }
    // Flood control, before any verification work is spent on the node.
    NodeLimits& nl = node_limits[s.node_id];
    const std::int64_t now = clock.now_ms();
    if (nl.tokens < 0) {
      nl.tokens = config.limits.publish_burst;
      nl.refilled_ms = now;
    }
    if (now > nl.refilled_ms) {  // (refilled_ms may lie ahead: the end of a cooldown)
      nl.tokens = std::min(config.limits.publish_burst,
                           nl.tokens + static_cast<double>(now - nl.refilled_ms) * config.limits.publish_rate / 1000.0);
      nl.refilled_ms = now;
    }
    if (nl.tokens < 1) {
      reject(s, pub.request_id(), Status::fail(Code::RATE_LIMITED, s.node_id + " exceeds " +
                                                                      std::to_string(static_cast<int>(config.limits.publish_rate)) +
                                                                      " PUBLISH per second; slow down"));
      // A node that keeps sending into RATE_LIMITED is flooding, not
      // bursting: it is cut off, and its HELLOs wait out the cooldown.
      if (now - nl.limited_since_ms >= 1000) {
        nl.limited_since_ms = now;
        nl.limited = 0;
      }
      if (++nl.limited > config.limits.max_rate_limited && config.limits.max_rate_limited > 0 &&
          s.state == SessionState::kReady) {
        log->warn("event=session_closed node={} reason=RATE_LIMITED_FLOOD refused={}", s.node_id, nl.limited);
        nl.cooldown_until_ms = now + config.limits.failure_cooldown_ms;
        // No burst credit on return: the bucket refills from the end of the
        // cooldown.
        nl.tokens = 0;
        nl.refilled_ms = nl.cooldown_until_ms;
        close_session(s, Code::TOO_MANY_FAILURES,
                      Status::fail(Code::TOO_MANY_FAILURES,
                                   "more than " + std::to_string(config.limits.max_rate_limited) +
                                       " PUBLISH refused RATE_LIMITED within one second; session closed, HELLO refused for " +
                                       std::to_string(config.limits.failure_cooldown_ms) + " ms"));
      }
      return;
    }
    if (nl.inflight >= config.limits.max_inflight_per_node) {
      reject(s, pub.request_id(), Status::fail(Code::BROKER_BUSY, s.node_id + " already has " +
                                                                     std::to_string(nl.inflight) + " reports being verified"));
      return;
    }
    nl.tokens -= 1;
    IngressJob job;
    job.routing_id = s.routing_id;
    job.node_id = s.node_id;
    job.request_id = pub.request_id();
    job.report.assign(pub.report().begin(), pub.report().end());
    job.received_ms = clock.now_ms();
    if (!pool->submit(std::move(job))) {
      reject(s, pub.request_id(), Status::fail(Code::BROKER_BUSY, "verification queue full; retry later"));
      return;
    }
    ++nl.inflight;
  }

  void on_admin(Session& s, const v1::Admin& admin) {
    TrustSnapshotPtr snap = trust.current();
    const identity::Credential* cred = snap->directory->node(s.node_id);
    if (cred == nullptr || !cred->has_role(wire::kAdminRole)) {
      reject(s, admin.request_id(), Status::fail(Code::NOT_AUTHORIZED, s.node_id + " lacks the admin role"));
      return;
    }
    if (admin.command() != wire::kAdminReload) {
      reject(s, admin.request_id(), Status::fail(Code::INVALID_FIELD, "unknown admin command '" + admin.command() + "'"));
      return;
    }
    Status reloaded = reload("admin request from " + s.node_id);
    if (reloaded) {
      send(s, wire::make_accepted(admin.request_id()));
    } else {
      reject(s, admin.request_id(), reloaded);
    }
  }

  void on_frame(Session& s, v1::Frame& frame) {
    if (s.state == SessionState::kClosed && !frame.has_hello()) return;  // closed: only HELLO matters
    if (!wire::is_client_frame(frame)) {
      error(s, Code::UNEXPECTED_FRAME, std::string(wire::frame_type_name(frame)) + " is a broker-to-client frame");
      return;
    }
    if (s.state != SessionState::kReady) {
      if (frame.has_hello()) {
        on_hello(s, frame.hello());
      } else if (s.state == SessionState::kNew) {
        error(s, Code::PROTOCOL_VIOLATION, std::string(wire::frame_type_name(frame)) + " before HELLO",
              wire::request_id_of(frame));
      }
      return;
    }
    switch (frame.body_case()) {
      case v1::Frame::kHello: error(s, Code::PROTOCOL_VIOLATION, "HELLO after WELCOME"); break;
      case v1::Frame::kSubscribe: on_subscribe(s, frame.subscribe()); break;
      case v1::Frame::kUnsubscribe: on_unsubscribe(s, frame.unsubscribe()); break;
      case v1::Frame::kPublish: on_publish(s, *frame.mutable_publish()); break;
      case v1::Frame::kAck: on_ack(s, frame.ack().broker_seq()); break;
      case v1::Frame::kPing: send(s, wire::make_pong(frame.ping().nonce())); break;
      case v1::Frame::kAdmin: on_admin(s, frame.admin()); break;
      default: error(s, Code::UNEXPECTED_FRAME, "unexpected frame"); break;
    }
  }

  void receive() {
    for (int i = 0; i < kReceiveBatch; ++i) {
      std::vector<zmq::message_t> parts;
      auto got = zmq::recv_multipart(router, std::back_inserter(parts), zmq::recv_flags::dontwait);
      if (!got) return;
      if (parts.size() < 2) continue;
      const char* user = nullptr;
      try {
        user = parts[1].gets("User-Id");
      } catch (const zmq::error_t&) {
        user = nullptr;
      }
      if (user == nullptr || *user == '\0') continue;  // cannot happen with ZAP; never trust it anyway
      std::string routing_id = parts[0].to_string();
      auto [it, fresh] = sessions.try_emplace(routing_id);
      Session& s = it->second;
      if (fresh) {
        s.routing_id = routing_id;
        s.node_id = user;
      }
      if (s.node_id != user) continue;
      s.last_seen_ms = clock.now_ms();
      if (s.state == SessionState::kClosed && parts.size() != 2) continue;  // closed: only HELLO matters
      if (parts.size() != 2) {
        error(s, Code::MALFORMED_FRAME, "a message carries exactly one frame, not " + std::to_string(parts.size() - 1));
        continue;
      }
      auto frame = wire::decode_frame(ByteView(static_cast<const std::uint8_t*>(parts[1].data()), parts[1].size()),
                                      config.limits.max_frame_bytes);
      if (!frame) {
        if (s.state != SessionState::kClosed) {
          send(s, wire::make_error(frame.code(), frame.status()));
          note_outcome(s, frame.status());
        }
        continue;
      }
      on_frame(s, *frame);
    }
  }

  // ---- verified publishes and the group commit --------------------------------

  void reject_publish(const std::string& routing_id, const std::string& node, std::uint64_t request_id,
                      const std::string& report_hex, const Status& status) {
    counters.rejected++;
    log->info("event=publish_rejected node={} request={} code={} reasons=\"{}\"", node, request_id,
              code_name(status.code()), status.to_string());
    audit_event("publish", node, report_hex, "rejected", status.to_string());
    auto it = sessions.find(routing_id);
    if (it != sessions.end() && it->second.state == SessionState::kReady) reject(it->second, request_id, status);
  }

  // Checks replay and stages an accepted report for the next group commit.
  void on_verified(IngressResult& r) {
    NodeLimits& nl = node_limits[r.node_id];
    if (nl.inflight > 0) --nl.inflight;
    Status status = r.status;
    const std::string report_hex = r.report ? r.report->report_id_hex() : std::string();
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
    if (status && store->halted()) status = Status::fail(Code::STORAGE_HALTED, "the broker stopped accepting after a failed sync");
    if (!status) {
      // A copy of a report staged in this very group commit: REPLAYED_REPORT
      // must mean "accepted before", which is true only once the original is
      // committed, so the answer waits for the commit (which may yet fail,
      // or never happen if the broker dies first).
      const bool original_staged = status.has(Code::REPLAYED_REPORT) && r.report &&
                                   (holds_original(staged, r) || (inflight && holds_original(inflight->staged, r)));
      if (original_staged) {
        r.status = status;
        replays_of_staged.push_back(std::move(r));
        return;
      }
      reject_publish(r.routing_id, r.node_id, r.request_id, report_hex, status);
      return;
    }
    Staged st;
    st.previous_sequence = replay.last_sequence(r.node_id);
    st.recorded_ms = clock.now_ms();
    replay.record(r.report->header.report_id(), r.node_id, r.report->header.sequence(), st.recorded_ms);
    // A report that passed every check ends a run of failures now, in
    // request order, not when its batch is written.
    auto session = sessions.find(r.routing_id);
    if (session != sessions.end()) session->second.failures = 0;
    st.result = std::move(r);
    staged.push_back(std::move(st));
  }

  // ---- the group commit ------------------------------------------------------
  //
  // One batch at a time is written by the StoreWriter thread. While it is in
  // flight the I/O thread keeps receiving, verifying and staging; the next
  // batch is built from what accumulated as soon as the previous one is
  // written. Nothing is answered ACCEPTED, and nothing routed, before its
  // batch is synced.

  // Collects the writer's result, if any, then starts the next batch if due.
  void commit() {
    if (inflight) {
      auto written = writer->take();
      if (!written) return;
      finish_commit(std::move(*written));
    }
    // Between two batches the write connection is free: retention runs
    // here when due, so that steady load cannot starve it.
    apply_retention_if_due();
    start_commit();
  }

  // Deletes what retention allows, at most once a minute, only while no
  // batch is in flight (the write connection is the writer's then).
  void apply_retention_if_due() {
    const std::int64_t now = clock.now_ms();
    if (now < next_retention_ms || writer->busy()) return;
    next_retention_ms = now + 60'000;
    std::vector<std::string> removed_ids;
    auto removed = store->apply_retention(now, &removed_ids);
    sources.remove(removed_ids);
    if (!removed) {
      log->error("event=retention_failed reason=\"{}\"", removed.status().to_string());
    } else if (*removed > 0) {
      log->info("event=retention removed={}", *removed);
    }
  }

  // Blocks until everything pending is written (clean shutdown).
  // Finishing a batch routes its reports, which adds audit events; so this
  // writes batches until nothing is left (a few rounds), each with a signed
  // checkpoint over everything written so far.
  void commit_and_wait() {
    if (inflight) finish_commit(writer->wait());
    for (int round = 0; round < 4; ++round) {
      last_checkpoint_ms = 0;  // a checkpoint with the last entries
      force_commit = true;
      start_commit();
      if (!inflight) return;
      const Finished finished = finish_commit(writer->wait());
      if (finished == Finished::kFailed) return;
      if (finished == Finished::kWritten && staged.empty() && audit_events.empty() && dirty_cursors.empty() &&
          pending_replies.empty() && replays_of_staged.empty() && dirty_subscriptions.empty()) {
        return;
      }
    }
  }

  void start_commit() {
    const std::int64_t now = clock.now_ms();
    const bool have_checkpoint_due =
        chain.last_index() > last_checkpoint_index &&
        (chain.last_index() - last_checkpoint_index >= config.storage.audit_checkpoint_entries ||
         now - last_checkpoint_ms >= config.storage.audit_checkpoint_seconds * 1000);
    {
      std::lock_guard lock(zap_events_mu);
      for (auto& e : zap_events) audit_events.push_back(std::move(e));
      zap_events.clear();
      if (zap_events_dropped > 0) {
        audit_events.push_back(AuditEvent{now, "connection", "", "", "refused",
                                          std::to_string(zap_events_dropped) + " more handshakes not recorded one by one"});
        zap_events_dropped = 0;
      }
    }
    // Reports and request answers are committed at once (the publisher waits);
    // audit entries of deliveries and cursor moves ride along with them, or
    // are flushed on their own after kLazyCommitMs.
    const bool urgent = !staged.empty() || !replays_of_staged.empty() || !pending_replies.empty() ||
                        !dirty_subscriptions.empty() || force_commit;
    const bool lazy_due = (!audit_events.empty() || !dirty_cursors.empty()) &&
                          (audit_events.size() >= kLazyCommitEntries || now - last_commit_ms >= kLazyCommitMs);
    if (!urgent && !lazy_due && !have_checkpoint_due) return;
    force_commit = false;
    last_commit_ms = now;

    InFlightCommit f;
    f.now_ms = now;
    f.staged = std::exchange(staged, {});
    f.replays = std::exchange(replays_of_staged, {});
    f.replies = std::exchange(pending_replies, {});
    f.subscriptions = std::exchange(dirty_subscriptions, {});
    f.cursor_nodes = std::exchange(dirty_cursors, {});
    Batch batch;
    for (std::size_t i = 0; i < f.staged.size(); ++i) {
      Staged& st = f.staged[i];
      st.seq = broker_seq + i + 1;
      const auto& rep = *st.result.report;
      StoredReport sr;
      sr.seq = st.seq;
      sr.report_id = rep.header.report_id();
      sr.originator = rep.originator.node_id;
      sr.topic = rep.header.topic();
      sr.accepted_ms = now;
      sr.sequence = rep.header.sequence();
      sr.source = SourceRecord{rep.originator.node_id, rep.originator.agency, rep.originator.country, {}};
      for (const auto& sec : rep.sections) sr.source.labels.push_back(*sec.label);
      sr.bytes = st.result.raw;
      batch.reports.push_back(std::move(sr));
      audit_event("publish", st.result.node_id, rep.report_id_hex(), "accepted",
                  "seq " + std::to_string(st.seq) + " topic " + rep.header.topic() + " sections " +
                      std::to_string(rep.sections.size()));
    }
    batch.subscriptions = f.subscriptions;
    for (const auto& node : f.cursor_nodes) batch.cursors[node] = node_cursors[node];
    f.events = std::exchange(audit_events, {});
    f.next = chain;
    for (const auto& e : f.events) {
      batch.audit.push_back(f.next.append(e.time_ms, e.event, e.node, e.report, e.decision, e.detail));
    }
    const bool checkpoint_due = f.next.last_index() > last_checkpoint_index &&
                                (f.next.last_index() - last_checkpoint_index >= config.storage.audit_checkpoint_entries ||
                                 now - last_checkpoint_ms >= config.storage.audit_checkpoint_seconds * 1000);
    if (checkpoint_due) {
      audit::AuditEntry head;
      head.index = f.next.last_index();
      head.hash = f.next.last_hash();
      batch.checkpoints.push_back(audit::sign_checkpoint(head, now, *audit_key));
    }
    inflight = std::move(f);
    writer->submit(std::move(batch));
  }

  enum class Finished { kWritten, kRebuilt, kFailed };

  Finished finish_commit(StoreWriter::Written written) {
    InFlightCommit f = std::move(*inflight);
    inflight.reset();
    if (!written.clashing_id.empty()) {
      unbuild_without(std::move(f), written.clashing_id);
      return Finished::kRebuilt;
    }
    if (!written.status) {
      fail_commit(std::move(f), written.status);
      return Finished::kFailed;
    }
    const Batch& batch = written.batch;
    chain = f.next;
    if (!batch.checkpoints.empty()) {
      const auto& c = batch.checkpoints.back();
      last_checkpoint_index = c.index;
      last_checkpoint_ms = f.now_ms;
      log->info("event=audit_checkpoint index={} hash={} signature={}", c.index, to_hex(c.hash),
                to_hex(ByteView(c.signature.data(), c.signature.size())));
    }
    for (const auto& p : f.replies) {
      auto it = sessions.find(p.routing_id);
      if (it != sessions.end() && it->second.state == SessionState::kReady) {
        send(it->second, wire::make_accepted(p.request_id));
        note_outcome(it->second, Status::ok());
      }
    }
    // Sessions already at the head before this batch receive it live; the
    // others are catching up from the store and will read it there.
    const std::uint64_t head_before = broker_seq;
    for (auto& st : f.staged) {
      const auto& rep = *st.result.report;
      broker_seq = st.seq;
      sources.add(rep.header.report_id(), batch.reports[static_cast<std::size_t>(st.seq - head_before - 1)].source);
      counters.accepted++;
      log->debug("event=publish_accepted node={} report={} topic={} seq={} sections={}", st.result.node_id,
                 short_hex(rep.header.report_id()), rep.header.topic(), st.seq, rep.sections.size());
      auto it = sessions.find(st.result.routing_id);
      if (it != sessions.end() && it->second.state == SessionState::kReady) {
        send(it->second, wire::make_accepted(st.result.request_id, as_bytes(rep.header.report_id()), st.seq));
      }
      Routable r{st.seq, &rep, rep.originator.country, &st.result.raw};
      for (auto& [id, s] : sessions) {
        if (s.state == SessionState::kReady && s.delivered == st.seq - 1) route_to(s, r);
      }
    }
    for (auto& r : f.replays) {
      reject_publish(r.routing_id, r.node_id, r.request_id, r.report->report_id_hex(), r.status);
    }
    // Copies that arrived while their original was in this batch: it is
    // written now, so REPLAYED_REPORT is true.
    std::vector<IngressResult> still_held;
    for (auto& r : replays_of_staged) {
      if (holds_original(f.staged, r)) {
        reject_publish(r.routing_id, r.node_id, r.request_id, r.report->report_id_hex(), r.status);
      } else {
        still_held.push_back(std::move(r));
      }
    }
    replays_of_staged = std::move(still_held);
    return Finished::kWritten;
  }

  // Nothing of the batch was written because some of its reports reuse the
  // id of a stored report (accepted longer ago than the ReplayGuard keeps
  // ids in memory). Those are refused REPLAYED_REPORT; everything else of
  // the batch goes back, in order, ahead of what arrived since, and is
  // written with the next batch.
  void unbuild_without(InFlightCommit f, const std::string& clashing_id) {
    std::vector<Staged> keep;
    for (auto& st : f.staged) {
      const std::string& id = st.result.report->header.report_id();
      if (id != clashing_id) {
        keep.push_back(std::move(st));
        continue;
      }
      // Its id stays remembered (it is a used id) and its sequence counts.
      reject_publish(st.result.routing_id, st.result.node_id, st.result.request_id, st.result.report->report_id_hex(),
                     Status::fail(Code::REPLAYED_REPORT, "report " + st.result.report->report_id_hex() +
                                                             " was accepted before"));
    }
    for (auto& st : staged) keep.push_back(std::move(st));
    staged = std::move(keep);
    // The "accepted" audit entries are made again when the batch is rebuilt.
    std::vector<AuditEvent> events;
    for (auto& e : f.events) {
      if (!(e.event == "publish" && e.decision == "accepted")) events.push_back(std::move(e));
    }
    for (auto& e : audit_events) events.push_back(std::move(e));
    audit_events = std::move(events);
    for (auto& r : replays_of_staged) f.replays.push_back(std::move(r));
    replays_of_staged = std::move(f.replays);
    for (auto& p : pending_replies) f.replies.push_back(std::move(p));
    pending_replies = std::move(f.replies);
    for (auto& [node, patterns] : f.subscriptions) dirty_subscriptions.try_emplace(node, std::move(patterns));
    dirty_cursors.insert(f.cursor_nodes.begin(), f.cursor_nodes.end());
  }

  // Nothing of the batch happened. Everything that waited on it is refused
  // with the store's answer, and so is everything staged since (its replay
  // records were made on top of the failed batch's); the other audit events
  // and the subscription and cursor changes are kept for the next batch.
  void fail_commit(InFlightCommit f, const Status& why) {
    if (clock.now_ms() - last_store_error_log_ms >= 1000) {  // at most one line a second while it lasts
      last_store_error_log_ms = clock.now_ms();
      log->error("event=store_failed code={} reason=\"{}\" staged={}", code_name(why.code()), why.to_string(),
                 f.staged.size() + staged.size());
    }
    std::vector<AuditEvent> keep;
    for (auto& e : f.events) {
      if (!(e.event == "publish" && e.decision == "accepted")) keep.push_back(std::move(e));
    }
    for (auto& e : audit_events) keep.push_back(std::move(e));
    audit_events = std::move(keep);
    for (auto& [node, patterns] : f.subscriptions) dirty_subscriptions.try_emplace(node, std::move(patterns));
    dirty_cursors.insert(f.cursor_nodes.begin(), f.cursor_nodes.end());

    auto later = std::exchange(staged, {});
    for (auto it = later.rbegin(); it != later.rend(); ++it) {
      replay.unrecord(it->result.report->header.report_id(), it->result.node_id, it->previous_sequence);
    }
    for (auto it = f.staged.rbegin(); it != f.staged.rend(); ++it) {
      replay.unrecord(it->result.report->header.report_id(), it->result.node_id, it->previous_sequence);
    }
    for (auto* list : {&f.staged, &later}) {
      for (auto& st : *list) {
        reject_publish(st.result.routing_id, st.result.node_id, st.result.request_id,
                       st.result.report->report_id_hex(), why);
      }
    }
    // Their originals were not accepted after all: the same answer. A copy
    // whose original is in neither list (it was refused because its id is
    // stored) keeps its own answer: REPLAYED_REPORT is true.
    for (auto* list : {&f.replays, &replays_of_staged}) {
      for (auto& r : *list) {
        const bool original_failed = holds_original(f.staged, r) || holds_original(later, r);
        reject_publish(r.routing_id, r.node_id, r.request_id, r.report->report_id_hex(), original_failed ? why : r.status);
      }
    }
    replays_of_staged.clear();
    for (const auto& p : f.replies) {
      auto it = sessions.find(p.routing_id);
      if (it != sessions.end()) reject(it->second, p.request_id, why);
    }
  }

  // Judges one report for one session, sends its torn-down copy or nothing,
  // and records each decision in the audit log.
  void route_to(Session& s, const Routable& r) {
    s.delivered = r.seq;
    const auto& rep = *r.report;
    const std::string& topic = rep.header.topic();
    const auto& patterns = patterns_of(s.node_id);
    if (std::none_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return policy::topic_matches(p, topic); })) {
      return;
    }
    TrustSnapshotPtr snap = trust.current();
    const auto& dir = *snap->directory;
    const std::int64_t now = clock.now_seconds();
    const std::string report_hex = rep.report_id_hex();
    Status valid = dir.check_node(s.node_id, now);
    if (!valid) return;  // the session is closed at the next housekeeping
    Status topic_ok = snap->topics.check(dir, s.node_id, topic, policy::Access::kRead, now);
    if (!topic_ok) {
      audit_event("withheld", s.node_id, report_hex, "withheld", "all sections: " + topic_ok.to_string());
      return;
    }
    std::vector<bool> keep(rep.sections.size(), false);
    bool any = false, all = true;
    std::string opened;
    for (std::size_t i = 0; i < rep.sections.size(); ++i) {
      const auto& sec = rep.sections[i];
      const bool sealed_to = std::binary_search(sec.recipients.begin(), sec.recipients.end(), s.node_id);
      policy::Decision d = policy::label_admits(dir, s.node_id, *sec.label, r.originator_country, now);
      keep[i] = sealed_to && d.allowed();
      any = any || keep[i];
      all = all && keep[i];
      if (keep[i]) {
        opened += (opened.empty() ? "" : ",") + std::to_string(i + 1);
      } else {
        const std::string why = d.allowed() ? std::string("NOT_ADDRESSED: not sealed to the node") : d.denials.to_string();
        audit_event("withheld", s.node_id, report_hex, "withheld", "section " + std::to_string(i + 1) + ": " + why);
      }
    }
    if (!any) return;
    Bytes copy;
    if (all) {
      copy = *r.raw;
    } else {
      std::string torn = report::redact(rep.report, keep).SerializeAsString();
      copy.assign(torn.begin(), torn.end());
    }
    send(s, wire::make_deliver(r.seq, copy));
    counters.delivered++;
    audit_event("delivery", s.node_id, report_hex, "delivered", "seq " + std::to_string(r.seq) + " sections " + opened);
  }

  // Sessions behind the head read from the store, a batch at a time, while
  // their backlog is short.
  void catch_up() {
    for (auto& [id, s] : sessions) {
      if (s.state != SessionState::kReady || s.delivered >= broker_seq || s.backlog.size() > kCatchUpBacklogLimit ||
          s.backlog_bytes > config.limits.max_pending_bytes / 4) {
        continue;
      }
      // At most as many as the session's queue still has room for, so that
      // catching up cannot itself make a reading subscriber SLOW_CONSUMER.
      const std::size_t room = config.limits.max_pending_deliveries > s.backlog.size()
                                   ? config.limits.max_pending_deliveries - s.backlog.size()
                                   : 0;
      if (room == 0) continue;
      auto rows = store->read_after(s.delivered, std::min(kCatchUpBatch, room));
      if (!rows) {
        log->error("event=catch_up_failed node={} reason=\"{}\"", s.node_id, rows.status().to_string());
        continue;
      }
      if (rows->empty()) {
        s.delivered = broker_seq;  // retention removed what was left
        continue;
      }
      for (const auto& row : *rows) {
        if (row.seq > broker_seq) break;
        auto parsed = report::parse_report_structure(row.bytes);
        if (!parsed) {
          s.delivered = row.seq;
          continue;
        }
        Routable r{row.seq, &parsed.value(), row.source.country, &row.bytes};
        route_to(s, r);
        if (s.state != SessionState::kReady || s.backlog_bytes > config.limits.max_pending_bytes / 4) break;
      }
    }
  }

  bool catching_up() const {
    for (const auto& [id, s] : sessions) {
      if (s.state == SessionState::kReady && s.delivered < broker_seq) return true;
    }
    return false;
  }

  // ---- housekeeping --------------------------------------------------------

  Status reload(const std::string& why) {
    identity::LoadReport report;
    Status s = trust.reload(clock.now_seconds(), &report);
    for (const auto& issue : report.rejected) {
      log->warn("event=directory_rejected object={} code={} reason=\"{}\"", issue.object, code_name(issue.reason.code),
                issue.reason.message);
    }
    if (!s) {
      counters.failed_reloads++;
      log->error("event=reload_failed why=\"{}\" reasons=\"{}\" (keeping the last good state)", why, s.to_string());
      audit_event("reload", "", "", "failed", why + ": " + s.to_string());
      return s;
    }
    counters.reloads++;
    log->info("event=reloaded why=\"{}\" generation={} nodes={}", why, trust.current()->generation,
              trust.current()->directory->nodes().size());
    audit_event("reload", "", "", "ok", why + ": generation " + std::to_string(trust.current()->generation));
    enforce_validity();
    return s;
  }

  // Closes the sessions of nodes no longer valid; they receive nothing more.
  void enforce_validity() {
    TrustSnapshotPtr snap = trust.current();
    const std::int64_t now = clock.now_seconds();
    for (auto& [id, s] : sessions) {
      if (s.state != SessionState::kReady) continue;
      Status valid = snap->directory->check_node(s.node_id, now);
      if (valid) continue;
      log->warn("event=session_revoked node={} reasons=\"{}\"", s.node_id, valid.to_string());
      close_session(s, Code::SESSION_REVOKED, valid);
    }
  }

  void housekeeping() {
    const std::int64_t now = clock.now_ms();
    if (reload_requested.exchange(false)) (void)reload("SIGHUP");
    enforce_validity();
    // Ids of reports not yet written stay remembered however long the write
    // takes: the store cannot answer for them yet.
    std::int64_t oldest_pending = now;
    if (inflight && !inflight->staged.empty()) {
      oldest_pending = inflight->staged.front().recorded_ms;
    } else if (!staged.empty()) {
      oldest_pending = staged.front().recorded_ms;
    }
    replay.expire(std::min(now, oldest_pending));
    for (auto it = sessions.begin(); it != sessions.end();) {
      if (now - it->second.last_seen_ms > config.limits.session_timeout_ms) {
        log->info("event=session_timeout node={}", it->second.node_id);
        cancel_queued_jobs(it->second);
        it = sessions.erase(it);
      } else {
        ++it;
      }
    }
    apply_retention_if_due();
  }

  Status run() {
    zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0}, {results.handle(), 0, ZMQ_POLLIN, 0}};
    log->info("event=started endpoint={} verify_threads={} resume_seq={}", bound_endpoint, pool->threads(), broker_seq);
    while (!stop_requested) {
      bool backlog = false;
      for (const auto& [id, s] : sessions) backlog = backlog || !s.backlog.empty();
      const bool busy = backlog || catching_up();
      try {
        zmq::poll(items, 2, std::chrono::milliseconds(busy ? 2 : 50));
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        throw;
      }
      if (items[1].revents & ZMQ_POLLIN) {
        zmq::message_t m;
        while (results.recv(m, zmq::recv_flags::dontwait)) {
        }
      }
      for (auto& r : pool->drain()) on_verified(r);
      if (items[0].revents & ZMQ_POLLIN) receive();
      commit();
      catch_up();
      if (backlog) flush_backlogs();
      if (clock.now_ms() >= next_housekeeping_ms || reload_requested) {
        housekeeping();
        next_housekeeping_ms = clock.now_ms() + kHousekeepingMs;
      }
    }
    log->info("event=stopping sessions={}", sessions.size());
    audit_event("broker", "", "", "stopped", "clean shutdown");
    commit_and_wait();
    return Status::ok();
  }
};

Broker::Broker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Broker::~Broker() {
  if (!impl_) return;
  impl_->pool.reset();
  impl_->writer.reset();
  impl_->router.close();
  impl_->results.close();
  impl_->zap.reset();
}

Result<std::unique_ptr<Broker>> Broker::create(const Config& config, const Clock& clock) {
  auto impl = std::make_unique<Impl>(config, clock);
  impl->log = spdlog::get("broker");
  if (!impl->log) impl->log = spdlog::default_logger();

  auto keys = crypto::read_broker_keys(config.key_file);
  if (!keys) return keys.status();
  identity::LoadReport report;
  Status loaded = impl->trust.reload(clock.now_seconds(), &report);
  if (!loaded) return loaded;
  for (const auto& issue : report.rejected) {
    impl->log->warn("event=directory_rejected object={} code={} reason=\"{}\"", issue.object,
                    code_name(issue.reason.code), issue.reason.message);
  }
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return Status::fail(Code::IO_ERROR, "cannot create data_dir " + config.data_dir.string() + ": " + ec.message());
  {
    StoreOptions so;
    so.path = config.data_dir / "tearline.db";
    so.retention_seconds = config.storage.retention_seconds;
    so.retention_bytes = config.storage.retention_bytes;
    so.max_bytes = config.storage.max_bytes;
    RecoveredState state;
    auto store = SqliteStore::open(so, clock.now_ms(), config.replay_memory_ms, &state);
    if (!store) return store.status();
    impl->store = std::move(store).value();
    impl->broker_seq = state.last_seq;
    for (const auto& [originator, seq] : state.sequences) impl->replay.restore_sequence(originator, seq);
    for (const auto& [id, when] : state.recent_ids) impl->replay.restore_id(id, when);
    for (auto& [id, record] : state.sources) impl->sources.add(id, std::move(record));
    Store* st = impl->store.get();
    impl->sources.set_fallback([st](const std::string& id) { return st->find_source(id); });
    impl->node_patterns = std::move(state.subscriptions);
    impl->node_cursors = std::move(state.cursors);
    impl->chain = audit::ChainWriter(state.last_audit.index, state.last_audit.hash);
    impl->last_checkpoint_index = state.last_checkpoint;
    impl->last_checkpoint_ms = clock.now_ms();
    impl->audit_key = std::make_unique<crypto::SigningKey>(std::move(keys->audit));
    impl->log->info("event=store_recovered seq={} originators={} durable_nodes={} audit_entries={}", state.last_seq,
                    state.sequences.size(), impl->node_cursors.size(), state.last_audit.index);
  }

  Impl* p = impl.get();
  try {
    // The ZAP handler is bound before the ROUTER exists: no handshake can
    // ever complete without it.
    impl->zap = std::make_unique<ZapHandler>(impl->context, impl->trust, clock,
                                             [p](const std::string& who, bool admitted, const std::string& why) {
                                               if (admitted) {
                                                 p->log->info("event=connection_admitted node={}", who);
                                               } else {
                                                 p->log->warn("event=connection_refused who=\"{}\" reason=\"{}\"", who, why);
                                               }
                                               std::lock_guard lock(p->zap_events_mu);
                                               // Bounded: a handshake flood must not grow memory or the log
                                               // without limit; the excess is counted in one entry.
                                               if (p->zap_events.size() >= kMaxPendingZapEvents) {
                                                 ++p->zap_events_dropped;
                                                 return;
                                               }
                                               p->zap_events.push_back(AuditEvent{p->clock.now_ms(), "connection", who, "",
                                                                                  admitted ? "admitted" : "refused", why});
                                             });
    impl->router = zmq::socket_t(impl->context, zmq::socket_type::router);
    auto& r = impl->router;
    r.set(zmq::sockopt::linger, 0);
    r.set(zmq::sockopt::curve_server, 1);
    r.set(zmq::sockopt::curve_secretkey, zmq::buffer(keys->transport.secret().data(), 32));
    r.set(zmq::sockopt::zap_domain, std::string(wire::kZapDomain));
    int one = 1;
    if (zmq_setsockopt(r.handle(), kZmqZapEnforceDomain, &one, sizeof one) != 0) {
      return Status::fail(Code::IO_ERROR, "libzmq does not support ZMQ_ZAP_ENFORCE_DOMAIN; refusing to start");
    }
    r.set(zmq::sockopt::maxmsgsize, wire::transport_max_message_bytes(config.limits.max_frame_bytes));
    r.set(zmq::sockopt::handshake_ivl, config.limits.handshake_timeout_ms);
    r.set(zmq::sockopt::router_mandatory, 1);
    r.set(zmq::sockopt::sndhwm, 1000);
    r.set(zmq::sockopt::rcvhwm, 10000);
    r.bind(config.endpoint);
    impl->bound_endpoint = r.get(zmq::sockopt::last_endpoint);

    const std::string notify = "inproc://tearline-verified-" + std::to_string(reinterpret_cast<std::uintptr_t>(p));
    impl->results = zmq::socket_t(impl->context, zmq::socket_type::pull);
    impl->results.set(zmq::sockopt::linger, 0);
    impl->results.bind(notify);
    impl->writer = std::make_unique<StoreWriter>(*impl->store, impl->context, notify);
    impl->pool = std::make_unique<VerifierPool>(
        config.verify_threads, kVerifierQueueLimit, impl->context, notify, [p](IngressJob job) {
          TrustSnapshotPtr snap = p->trust.current();
          return check_publish(std::move(job), *snap, p->sources, p->config.limits, p->clock.now_ms());
        });
  } catch (const zmq::error_t& e) {
    return Status::fail(Code::IO_ERROR, "cannot listen on " + config.endpoint + ": " + e.what());
  }
  return std::unique_ptr<Broker>(new Broker(std::move(impl)));
}

Status Broker::run() {
  try {
    return impl_->run();
  } catch (const zmq::error_t& e) {
    return Status::fail(Code::IO_ERROR, std::string("transport failure: ") + e.what());
  }
}

void Broker::stop() { impl_->stop_requested = true; }
void Broker::request_reload() { impl_->reload_requested = true; }

std::string Broker::endpoint() const {
  std::lock_guard lock(impl_->endpoint_mu);
  return impl_->bound_endpoint;
}

BrokerStats Broker::stats() const {
  BrokerStats s;
  s.accepted = impl_->counters.accepted;
  s.rejected = impl_->counters.rejected;
  s.delivered = impl_->counters.delivered;
  s.closed_sessions = impl_->counters.closed;
  s.reloads = impl_->counters.reloads;
  s.failed_reloads = impl_->counters.failed_reloads;
  return s;
}

}  // namespace tearline::broker
