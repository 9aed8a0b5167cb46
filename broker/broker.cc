#include "broker/broker.h"

#include <spdlog/spdlog.h>
#include <zmq.h>

#include <deque>
#include <filesystem>
#include <mutex>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "broker/ingress.h"
#include "broker/replay_guard.h"
#include "broker/source_index.h"
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
  std::deque<Bytes> backlog;  // frames the socket could not take yet
};

std::string short_hex(const std::string& raw) { return to_hex(as_bytes(raw)).substr(0, 12); }

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
  std::uint64_t broker_seq = 0;
  std::int64_t next_housekeeping_ms = 0;

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
        replay(config.limits.clock_window_seconds * 1000) {}

  // ---- sending -------------------------------------------------------------

  void send(Session& s, const v1::Frame& frame) { send_bytes(s, wire::encode_frame(frame)); }

  void send_bytes(Session& s, Bytes bytes) {
    if (!s.backlog.empty() || !try_send(s.routing_id, bytes)) {
      s.backlog.push_back(std::move(bytes));
      if (s.backlog.size() > config.limits.max_pending_deliveries) {
        log->warn("event=slow_consumer node={} pending={}", s.node_id, s.backlog.size());
        s.backlog.clear();
        s.state = SessionState::kClosed;
        counters.closed++;
        s.backlog.push_back(wire::encode_frame(
            wire::make_error(Code::SLOW_CONSUMER, "more than " + std::to_string(config.limits.max_pending_deliveries) +
                                                      " frames pending; session closed, reconnect to resume")));
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
      while (!s.backlog.empty() && try_send(s.routing_id, s.backlog.front())) s.backlog.pop_front();
    }
  }

  // ---- failures --------------------------------------------------------------

  void note_outcome(Session& s, const Status& status) {
    if (status.is_ok()) {
      s.failures = 0;
      return;
    }
    if (!wire::counts_toward_failure_limit(status.code())) return;
    if (++s.failures >= config.limits.max_failures && s.state == SessionState::kReady) {
      log->warn("event=session_closed node={} reason=TOO_MANY_FAILURES failures={}", s.node_id, s.failures);
      send(s, wire::make_error(Code::TOO_MANY_FAILURES, std::to_string(s.failures) +
                                                            " consecutive failed requests; session closed"));
      s.state = SessionState::kClosed;
      counters.closed++;
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
    TrustSnapshotPtr snap = trust.current();
    Status valid = snap->directory->check_node(s.node_id, clock.now_seconds());
    if (!valid) {
      log->info("event=hello_refused node={} reasons=\"{}\"", s.node_id, valid.to_string());
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
    s.patterns.clear();
    log->info("event=session_ready node={} client=\"{}\"", s.node_id, hello.client());
    send(s, wire::make_welcome(s.node_id, clock.now_ms(), static_cast<std::uint32_t>(config.limits.max_frame_bytes),
                               static_cast<std::uint32_t>(config.limits.max_subscriptions)));
  }

  // ---- requests --------------------------------------------------------------

  void on_subscribe(Session& s, const v1::Subscribe& sub) {
    Status problems;
    if (static_cast<std::size_t>(sub.patterns_size()) > wire::kMaxPatternsPerRequest || sub.patterns_size() == 0) {
      problems.add(Code::TOPIC_INVALID, "a SUBSCRIBE carries 1.." + std::to_string(wire::kMaxPatternsPerRequest) + " patterns");
    }
    std::vector<std::string> added;
    for (const auto& p : sub.patterns()) {
      Status valid = policy::validate_pattern(p);
      if (!valid) {
        problems.merge(valid);
        continue;
      }
      if (std::find(s.patterns.begin(), s.patterns.end(), p) == s.patterns.end() &&
          std::find(added.begin(), added.end(), p) == added.end()) {
        added.push_back(p);
      }
    }
    if (problems.is_ok() && s.patterns.size() + added.size() > config.limits.max_subscriptions) {
      problems.add(Code::TOO_MANY_SUBSCRIPTIONS, "at most " + std::to_string(config.limits.max_subscriptions) +
                                                     " patterns per session");
    }
    if (!problems) {
      reject(s, sub.request_id(), problems);
      return;
    }
    s.patterns.insert(s.patterns.end(), added.begin(), added.end());
    log->debug("event=subscribed node={} patterns={}", s.node_id, s.patterns.size());
    send(s, wire::make_accepted(sub.request_id()));
    note_outcome(s, Status::ok());
  }

  void on_unsubscribe(Session& s, const v1::Unsubscribe& unsub) {
    for (const auto& p : unsub.patterns()) {
      s.patterns.erase(std::remove(s.patterns.begin(), s.patterns.end(), p), s.patterns.end());
    }
    send(s, wire::make_accepted(unsub.request_id()));
  }

  void on_publish(Session& s, v1::Publish& pub) {
    IngressJob job;
    job.routing_id = s.routing_id;
    job.node_id = s.node_id;
    job.request_id = pub.request_id();
    job.report.assign(pub.report().begin(), pub.report().end());
    job.received_ms = clock.now_ms();
    if (!pool->submit(std::move(job))) {
      reject(s, pub.request_id(), Status::fail(Code::BROKER_BUSY, "verification queue full; retry later"));
    }
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
      return;  // a closed session ignores everything but HELLO
    }
    switch (frame.body_case()) {
      case v1::Frame::kHello: error(s, Code::PROTOCOL_VIOLATION, "HELLO after WELCOME"); break;
      case v1::Frame::kSubscribe: on_subscribe(s, frame.subscribe()); break;
      case v1::Frame::kUnsubscribe: on_unsubscribe(s, frame.unsubscribe()); break;
      case v1::Frame::kPublish: on_publish(s, *frame.mutable_publish()); break;
      case v1::Frame::kAck: s.acked = std::max(s.acked, frame.ack().broker_seq()); break;
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

  // ---- verified publishes ------------------------------------------------------

  void on_verified(IngressResult& r) {
    auto it = sessions.find(r.routing_id);
    Session* s = it == sessions.end() ? nullptr : &it->second;
    Status status = r.status;
    if (status) status = replay.check(r.report->header.report_id(), r.node_id, r.report->header.sequence());
    if (!status) {
      counters.rejected++;
      log->info("event=publish_rejected node={} request={} code={} reasons=\"{}\"", r.node_id, r.request_id,
                code_name(status.code()), status.to_string());
      if (s != nullptr && s->state == SessionState::kReady) reject(*s, r.request_id, status);
      return;
    }
    const auto& rep = *r.report;
    const std::uint64_t seq = ++broker_seq;
    replay.record(rep.header.report_id(), r.node_id, rep.header.sequence(), clock.now_ms());
    SourceRecord record{rep.originator.node_id, rep.originator.agency, rep.originator.country, {}};
    for (const auto& sec : rep.sections) record.labels.push_back(*sec.label);
    sources.add(rep.header.report_id(), std::move(record));
    counters.accepted++;
    log->info("event=publish_accepted node={} report={} topic={} seq={} sections={}", r.node_id,
              short_hex(rep.header.report_id()), rep.header.topic(), seq, rep.sections.size());
    if (s != nullptr && s->state == SessionState::kReady) {
      send(*s, wire::make_accepted(r.request_id, as_bytes(rep.header.report_id()), seq));
      note_outcome(*s, Status::ok());
    }
    route(rep, r.raw, seq);
  }

  // Sends each entitled subscriber its torn-down copy.
  void route(const report::VerifiedReport& rep, const Bytes& raw, std::uint64_t seq) {
    TrustSnapshotPtr snap = trust.current();
    const auto& dir = *snap->directory;
    const std::int64_t now = clock.now_seconds();
    const std::string& topic = rep.header.topic();
    for (auto& [id, s] : sessions) {
      if (s.state != SessionState::kReady) continue;
      bool wanted = false;
      for (const auto& p : s.patterns) {
        if (policy::topic_matches(p, topic)) {
          wanted = true;
          break;
        }
      }
      if (!wanted) continue;
      if (!dir.check_node(s.node_id, now)) continue;
      if (!snap->topics.check(dir, s.node_id, topic, policy::Access::kRead, now)) {
        log->debug("event=withheld node={} report={} reason=TOPIC_READ_DENIED", s.node_id,
                   short_hex(rep.header.report_id()));
        continue;
      }
      std::vector<bool> keep(rep.sections.size(), false);
      bool any = false, all = true;
      for (std::size_t i = 0; i < rep.sections.size(); ++i) {
        const auto& sec = rep.sections[i];
        const bool sealed_to = std::binary_search(sec.recipients.begin(), sec.recipients.end(), s.node_id);
        policy::Decision d = policy::label_admits(dir, s.node_id, *sec.label, rep.originator.country, now);
        keep[i] = sealed_to && d.allowed();
        any = any || keep[i];
        all = all && keep[i];
        if (!keep[i]) {
          log->debug("event=withheld node={} report={} section={} reason=\"{}\"", s.node_id,
                     short_hex(rep.header.report_id()), i + 1,
                     d.allowed() ? std::string("NOT_ADDRESSED: not sealed to the node") : d.denials.to_string());
        }
      }
      if (!any) continue;
      Bytes copy;
      if (all) {
        copy = raw;
      } else {
        std::string torn = report::redact(rep.report, keep).SerializeAsString();
        copy.assign(torn.begin(), torn.end());
      }
      send(s, wire::make_deliver(seq, copy));
      counters.delivered++;
    }
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
      return s;
    }
    counters.reloads++;
    log->info("event=reloaded why=\"{}\" generation={} nodes={}", why, trust.current()->generation,
              trust.current()->directory->nodes().size());
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
      s.backlog.clear();
      s.state = SessionState::kClosed;
      s.patterns.clear();
      counters.closed++;
      send(s, wire::make_error(Code::SESSION_REVOKED, valid));
    }
  }

  void housekeeping() {
    const std::int64_t now = clock.now_ms();
    if (reload_requested.exchange(false)) (void)reload("SIGHUP");
    enforce_validity();
    replay.expire(now);
    for (auto it = sessions.begin(); it != sessions.end();) {
      if (now - it->second.last_seen_ms > config.limits.session_timeout_ms) {
        log->info("event=session_timeout node={}", it->second.node_id);
        it = sessions.erase(it);
      } else {
        ++it;
      }
    }
  }

  Status run() {
    zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0}, {results.handle(), 0, ZMQ_POLLIN, 0}};
    log->info("event=started endpoint={} verify_threads={}", bound_endpoint, pool->threads());
    while (!stop_requested) {
      bool backlog = false;
      for (const auto& [id, s] : sessions) backlog = backlog || !s.backlog.empty();
      try {
        zmq::poll(items, 2, std::chrono::milliseconds(backlog ? 2 : 50));
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
      if (backlog) flush_backlogs();
      if (clock.now_ms() >= next_housekeeping_ms || reload_requested) {
        housekeeping();
        next_housekeeping_ms = clock.now_ms() + kHousekeepingMs;
      }
    }
    log->info("event=stopping sessions={}", sessions.size());
    return Status::ok();
  }
};

Broker::Broker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Broker::~Broker() {
  if (!impl_) return;
  impl_->pool.reset();
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
