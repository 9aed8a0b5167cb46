// The broker's I/O loop and its wiring: create() builds the parts and binds
// the sockets, run() polls and moves data between the parts, receive() and
// on_frame() dispatch each client frame. The parts: SessionTable,
// FloodControl, VerifierPool, GroupCommit (+ StoreWriter), SubscriptionIndex,
// Router, CatchUp (broker_impl.h).
#include "broker/broker.h"

#include <zmq.h>

#include <chrono>

#include <filesystem>
#include <utility>
#include <zmq_addon.hpp>

#include "audit/anchor.h"
#include "broker/broker_identity.h"
#include "broker/broker_impl.h"
#include "crypto/key_file.h"

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
constexpr std::size_t kMaxPendingZapEvents = 4096;

std::shared_ptr<spdlog::logger> broker_logger() {
  auto log = spdlog::get("broker");
  return log ? log : spdlog::default_logger();
}

}  // namespace

Broker::Impl::Impl(Config c, const Clock& clk)
    : config(std::move(c)),
      clock(clk),
      log(broker_logger()),
      trust(config.directory, config.policy),
      replay(config.replay_memory_ms),
      flood(config.limits),
      sessions([this](const std::string& id, const Bytes& bytes) { return try_send(id, bytes); },
               [this](Session& s) {
                 cancel_queued_jobs(s);
                 counters.closed++;
                 if (live_on) live_events.session(s.node_id, false, "SLOW_CONSUMER");
               },
               config.limits.max_pending_deliveries, config.limits.max_pending_bytes, log),
      routing(
          subscriptions, sessions,
          [this](std::string event, std::string node, std::string report, std::string decision, std::string detail) {
            audit_event(std::move(event), std::move(node), std::move(report), std::move(decision), std::move(detail));
          }) {}

void Broker::Impl::send(Session& s, const v1::Frame& frame) { sessions.send(s, wire::encode_frame(frame)); }

// False when the peer's pipe is full (EAGAIN); a vanished peer counts as sent.
bool Broker::Impl::try_send(const std::string& routing_id, const Bytes& bytes) {
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

void Broker::Impl::audit_event(std::string event, std::string node, std::string report, std::string decision,
                               std::string detail) {
  commits->audit(AuditEvent{clock.now_ms(), std::move(event), std::move(node), std::move(report), std::move(decision),
                            std::move(detail)});
}

std::string Broker::Impl::endpoint() const {
  MutexLock lock(endpoint_mu);
  return bound_endpoint;
}

void Broker::Impl::on_frame(Session& s, v1::Frame& frame) {
  if (frame.has_bye()) {  // valid in every state; `s` is forgotten
    on_bye(s, frame.bye());
    return;
  }
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
    case v1::Frame::kAck: on_ack(s, frame.ack()); break;
    case v1::Frame::kPing: on_ping(s, frame.ping()); break;
    case v1::Frame::kAdmin: on_admin(s, frame.admin()); break;
    case v1::Frame::kListSubscriptions: on_list_subscriptions(s, frame.list_subscriptions()); break;
    default: error(s, Code::UNEXPECTED_FRAME, "unexpected frame"); break;
  }
}

void Broker::Impl::receive() {
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
    watch->seen(parts[0].to_string(), zmq_msg_get(parts[1].handle(), ZMQ_SRCFD));  // connection_watch.h
    Session* found = sessions.attach(parts[0].to_string(), user, clock.steady_ms());
    if (found == nullptr) continue;  // the routing id is another node's
    Session& s = *found;
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

Status Broker::Impl::run() {
  std::vector<zmq::pollitem_t> items;
  log->info("event=started endpoint={} verify_threads={} resume_seq={}", endpoint(), pool->threads(), commits->head());
  if (metrics_server) log->info("event=metrics_listening address={}", metrics_server->address());
  bool streams_behind = false;
  while (!stop_requested) {
    const bool backlog = sessions.any_backlog();
    const bool busy = backlog || catch_up->behind(commits->head()) || streams_behind;
    items = {{router.handle(), 0, ZMQ_POLLIN, 0}, {results.handle(), 0, ZMQ_POLLIN, 0}};
    for (auto& link : peer_links) {
      if (void* h = link->socket_handle()) items.push_back({h, 0, ZMQ_POLLIN, 0});
    }
    try {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(busy ? 2 : 50));
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
    drive_peer_links();
    for (const auto& id : watch->take_dropped()) on_disconnected(id);
    commit();
    for (auto& link : peer_links) link->flush_acks(clock.now_ms());
    if (catch_up->behind(commits->head())) {
      counters.delivered += catch_up->run(commits->head(), *trust.current(), clock.now_seconds());
    }
    streams_behind = follow_streams();
    if (backlog) sessions.flush();
    // The next pass is due kHousekeepingMs after this one began, by the
    // steady time read before it: read after it, time that passed during the
    // pass (a test's FixedClock advanced meanwhile) would put the next pass
    // out of reach.
    if (const std::int64_t now = clock.steady_ms(); now >= next_housekeeping_ms || reload_requested) {
      housekeeping();
      next_housekeeping_ms = now + kHousekeepingMs;
    }
  }
  log->info("event=stopping sessions={}", sessions.size());
  take_refusals(true);
  audit_event("broker", "", "", "stopped", "clean shutdown");
  commit_and_wait();
  for (auto& link : peer_links) link->flush_acks(clock.now_ms());  // what that last commit made durable
  return Status::ok();
}

bool Broker::Impl::follow_streams() {
  feed->refresh(clock.steady_ms());
  bool behind = false;
  for (const auto& [stream, head] : feed->heads()) {
    if (!catch_up->behind_in(stream, head)) continue;
    counters.delivered += catch_up->run_stream(stream, head, *trust.current(), clock.now_seconds());
    // A stream that cannot be read now is tried again at the next pass,
    // not at once.
    behind = behind || (catch_up->behind_in(stream, head) && !catch_up->failing(stream));
  }
  return behind;
}

Broker::Broker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Broker::~Broker() {
  if (!impl_) return;
  impl_->metrics_server.reset();
  impl_->pool.reset();
  impl_->peer_links.clear();
  impl_->feed.reset();
  impl_->writer.reset();
  impl_->router.close();
  impl_->results.close();
  impl_->zap.reset();
}

Result<std::unique_ptr<Broker>> Broker::create(const Config& config, const Clock& clock) {
  auto impl = std::make_unique<Impl>(config, clock);
  impl->routing.count_withheld_in(&impl->metrics.withheld_by_reason);
  auto keys = crypto::read_broker_keys(config.key_file);
  if (!keys) return keys.status();
  impl->transport_key = keys->transport.public_key();
  impl->audit_key = std::make_unique<crypto::SigningKey>(std::move(keys->audit));
  identity::LoadReport report;
  Status loaded = impl->trust.reload(clock.now_seconds(), &report, impl->own_identity_check());
  if (!loaded) return loaded;
  impl->broker_id = impl->pending_broker_id;
  for (const auto& issue : report.rejected) {
    impl->log->warn("event=directory_rejected object={} code={} reason=\"{}\"", issue.object,
                    code_name(issue.reason.code), issue.reason.message);
  }
  impl->log_peerings();
  Impl* p = impl.get();
  const std::string notify = "inproc://tearline-verified-" + std::to_string(reinterpret_cast<std::uintptr_t>(p));
  try {
    // The ZAP handler is bound before the ROUTER exists: no handshake can
    // ever complete without it.
    impl->zap = std::make_unique<ZapHandler>(
        impl->context, impl->trust, clock,
        [p](const std::string& who, const std::string& address, bool admitted, const std::string& why) {
          if (!admitted) {  // counted, and logged and audited aggregated (session_churn.cc)
            p->note_refused_handshake(who, address, why);
            return;
          }
          p->log->info("event=connection_admitted node={}", who);
          MutexLock lock(p->zap_events_mu);
          // Bounded: a handshake flood must not grow memory or the log
          // without limit; the excess is counted in one entry.
          if (p->zap_events.size() >= kMaxPendingZapEvents) {
            ++p->zap_events_dropped;
            return;
          }
          p->zap_events.push_back(AuditEvent{p->clock.now_ms(), "connection", who, "", "admitted", why});
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
    impl->watch = std::make_unique<ConnectionWatch>(
        impl->context, r, "tearline-connections-" + std::to_string(reinterpret_cast<std::uintptr_t>(p)));
    r.bind(config.endpoint);
    {
      MutexLock lock(impl->endpoint_mu);
      impl->bound_endpoint = r.get(zmq::sockopt::last_endpoint);
    }

    impl->results = zmq::socket_t(impl->context, zmq::socket_type::pull);
    impl->results.set(zmq::sockopt::linger, 0);
    impl->results.bind(notify);
  } catch (const zmq::error_t& e) {
    return Status::fail(Code::IO_ERROR, "cannot listen on " + config.endpoint + ": " + e.what());
  }
  if (Status metrics = impl->bind_metrics(); !metrics) return metrics;
  impl->transport_secret = std::make_unique<crypto::TransportKey>(std::move(keys->transport));
  for (const PeerEndpoint& peer : config.peers) {
    impl->peer_links.push_back(
        std::make_unique<PeerConnection>(peer, impl->broker_id, impl->context,
                                         PeerConnection::Keys{*impl->transport_secret, *impl->audit_key}, impl->log));
  }
  // The store last: a start that fails for any other reason leaves it
  // untouched, and the lock keeps a second broker off it.
  Status opened = impl->open_store();
  if (!opened) return opened;
  try {
    impl->writer = std::make_unique<StoreWriter>(*impl->store, impl->context, notify,
                                                 audit::anchor_path(config.data_dir), impl->log);
    impl->feed = std::make_unique<StreamFeed>(*impl->store, impl->store_writer, impl->context, notify, impl->log);
    // The heads before the first HELLO: a session's places in the other
    // streams start at them (a stream unknown then is read from its start).
    impl->feed->refresh(clock.steady_ms());
    impl->pool = std::make_unique<VerifierPool>(
        config.verify_threads, kVerifierQueueLimit, impl->context, notify, [p](IngressJob job) {
          TrustSnapshotPtr snap = p->trust.current();
          const auto began = std::chrono::steady_clock::now();
          IngressResult r =
              job.arrival
                  ? check_arrival_job(std::move(job), *snap, p->config.limits, p->clock.now_ms(), &p->roots)
                  : check_publish(std::move(job), *snap, p->sources, p->config.limits, p->clock.now_ms(), &p->roots);
          p->metrics.verify_seconds.observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
          return r;
        });
  } catch (const zmq::error_t& e) {
    return Status::fail(Code::IO_ERROR, std::string("cannot start the store writer and verifiers: ") + e.what());
  }
  if (impl->record_accepted_loss) {
    // --accept-loss: the `lost` entry is committed under a signed checkpoint,
    // and that checkpoint anchored, before anything is served; otherwise the
    // start fails and the old anchor still refuses the next one.
    impl->commit_and_wait();
    if (!impl->commits->idle() || impl->store->halted()) {
      return Status::fail(Code::STORAGE_FAILED,
                          "cannot record the accepted loss in the audit log; the broker did not start (free space "
                          "or restore the store, then start again with --accept-loss)");
    }
  }
  impl->started_at_ms = clock.now_ms();
  if (impl->metrics_server) {
    impl->publish_gauges();
    impl->metrics_server->serve();
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
std::string Broker::endpoint() const { return impl_->endpoint(); }

BrokerStats Broker::stats() const {
  BrokerStats s;
  s.accepted = impl_->counters.accepted;
  s.rejected = impl_->counters.rejected;
  s.delivered = impl_->counters.delivered;
  s.closed_sessions = impl_->counters.closed;
  s.reloads = impl_->counters.reloads;
  s.failed_reloads = impl_->counters.failed_reloads;
  s.damaged_records = impl_->counters.damaged_records;
  s.refused_handshakes = impl_->counters.refused_handshakes;
  s.refused_hellos = impl_->counters.refused_hellos;
  s.wall_clock_steps = impl_->counters.wall_clock_steps;
  return s;
}

}  // namespace tearline::broker
