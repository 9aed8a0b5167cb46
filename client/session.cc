#include "tearline/client.h"

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <chrono>
#include <deque>
#include <set>
#include <thread>

#include "base/clock.h"
#include "base/files.h"
#include "crypto/key_file.h"
#include "wire/frame.h"

namespace tearline::client {
namespace v1 = tearline::v1;

namespace {

constexpr int kPingIntervalMs = 1000;  // while waiting: detects a restarted broker quickly
constexpr std::size_t kDedupeWindow = 65536;
constexpr std::int64_t kRetryMs = 500;  // between HELLO attempts while the broker refuses

std::int64_t monotonic_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// An ERROR as a Status that leads with Error.code: for the codes that close
// the session the broker's reasons give the underlying causes instead (code
// SESSION_REVOKED, reason REVOKED), and callers act on the code.
Status error_status(const v1::Error& error) {
  Status reasons = wire::status_of(error);
  Code code = Code::OK;
  if (!code_from_number(error.code(), &code) || code == Code::OK || reasons.code() == code) return reasons;
  Status out = Status::fail(code, std::string(code_meaning(code)));
  out.merge(reasons);
  return out;
}

}  // namespace

Received open_delivered(ByteView bytes, std::uint64_t broker_seq, const identity::Directory& directory,
                        std::string_view node_id, const crypto::SealingKey& key) {
  Received r;
  r.broker_seq = broker_seq;
  r.raw.assign(bytes.begin(), bytes.end());
  auto verified = report::verify_report(bytes, directory);
  if (!verified) {
    r.verification = verified.status();
    return r;
  }
  r.report_id_hex = verified->report_id_hex();
  r.originator = verified->header.originator();
  r.topic = verified->header.topic();
  r.created_at_ms = verified->header.created_at_ms();
  for (auto& o : report::open_sections(*verified, node_id, key)) {
    ReceivedSection s;
    s.status = o.status;
    s.label = o.label;
    s.text = to_string(o.plaintext);
    r.sections.push_back(std::move(s));
  }
  return r;
}

struct Session::Impl {
  SessionOptions options;
  identity::DirectoryPtr directory;
  std::unique_ptr<crypto::NodeSecrets> keys;
  zmq::context_t context{1};
  zmq::socket_t socket;
  std::uint64_t next_request = 1;
  std::uint64_t last_sequence = 0;
  std::vector<std::string> patterns;
  std::deque<v1::Deliver> deliveries;
  std::optional<Status> session_error;
  std::set<std::string> seen_ids;
  std::deque<std::string> seen_order;
  bool ready = false;
  // Time spent waiting in receive() with nothing arriving since the last
  // PING, summed over calls: a caller polling with short timeouts must ping
  // too, or it never learns that a restarted broker forgot its session.
  std::int64_t idle_ms = 0;
  std::uint64_t last_ping_nonce = 0;  // PONGs to the library's own PINGs are not shown to send_raw()
  zmq::socket_t monitor;

  // True once the CURVE handshake failed authentication (ZAP said no).
  bool handshake_refused() {
    zmq::message_t event;
    if (!monitor.recv(event, zmq::recv_flags::dontwait)) return false;
    zmq::message_t address;
    (void)monitor.recv(address, zmq::recv_flags::dontwait);
    return true;
  }

  Status send(const v1::Frame& frame) {
    Bytes b = wire::encode_frame(frame);
    try {
      auto sent = socket.send(zmq::buffer(b.data(), b.size()), zmq::send_flags::dontwait);
      if (!sent) return Status::fail(Code::UNAVAILABLE, "broker at " + options.endpoint + " is not reachable");
    } catch (const zmq::error_t& e) {
      return Status::fail(Code::UNAVAILABLE, std::string("send failed: ") + e.what());
    }
    return Status::ok();
  }

  // Receives one frame within `timeout_ms`; nullopt on timeout.
  std::optional<v1::Frame> recv_frame(int timeout_ms) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) <= 0) return std::nullopt;
    zmq::message_t m;
    if (!socket.recv(m, zmq::recv_flags::dontwait)) return std::nullopt;
    auto frame = wire::decode_frame(ByteView(static_cast<const std::uint8_t*>(m.data()), m.size()), 64u << 20);
    if (!frame) {
      session_error = frame.status();
      return std::nullopt;
    }
    return std::move(frame).value();
  }

  // Handles a frame that is not the answer being waited for.
  void stash(v1::Frame& f) {
    if (f.has_deliver()) {
      deliveries.push_back(std::move(*f.mutable_deliver()));
    } else if (f.has_error()) {
      Status st = error_status(f.error());
      // A broker that restarted no longer knows this session.
      if (f.error().code() == static_cast<std::uint32_t>(Code::PROTOCOL_VIOLATION)) ready = false;
      if (wire::closes_session(static_cast<Code>(f.error().code()))) ready = false;
      session_error = st;
    }
  }

  Status hello(int timeout_ms = -1) {
    Status s = send(wire::make_hello(options.client_name));
    if (!s) return s;
    const std::int64_t deadline = monotonic_ms() + (timeout_ms < 0 ? options.connect_timeout_ms : timeout_ms);
    while (monotonic_ms() < deadline) {
      auto f = recv_frame(static_cast<int>(std::max<std::int64_t>(1, deadline - monotonic_ms())));
      if (!f) continue;
      if (f->has_welcome()) {
        ready = true;
        return Status::ok();
      }
      if (f->has_error()) return error_status(f->error());
      stash(*f);
    }
    return Status::fail(Code::UNAVAILABLE, "broker at " + options.endpoint + " did not answer HELLO within " +
                                               std::to_string(options.connect_timeout_ms) + " ms");
  }

  // Re-establishes the session after a broker restart and re-subscribes.
  Status ensure_ready() {
    if (ready) return Status::ok();
    Status s = hello();
    if (!s) return s;
    if (!patterns.empty()) {
      auto answer = request(wire::make_subscribe(next_request++, patterns));
      if (!answer) return answer.status();
    }
    return Status::ok();
  }

  // Sends a request and waits for its ACCEPTED/REJECTED/ERROR.
  Result<v1::Frame> request(v1::Frame frame) {
    const std::uint64_t id = wire::request_id_of(frame);
    Status s = send(frame);
    if (!s) return s;
    const std::int64_t deadline = monotonic_ms() + options.request_timeout_ms;
    while (monotonic_ms() < deadline) {
      auto f = recv_frame(static_cast<int>(std::max<std::int64_t>(1, deadline - monotonic_ms())));
      if (!f) continue;
      if (f->has_error() && f->error().code() == static_cast<std::uint32_t>(Code::PROTOCOL_VIOLATION) &&
          !frame.has_hello()) {
        // The broker restarted and forgot us: say HELLO again and retry once.
        ready = false;
        Status again = ensure_ready();
        if (!again) return again;
        s = send(frame);
        if (!s) return s;
        continue;
      }
      if ((f->has_accepted() || f->has_rejected() || f->has_error()) && wire::request_id_of(*f) == id) return *f;
      stash(*f);
    }
    return Status::fail(Code::UNAVAILABLE, "broker did not answer " + std::string(wire::frame_type_name(frame)) +
                                               " within " + std::to_string(options.request_timeout_ms) + " ms");
  }

  bool remember(const std::string& id) {
    if (!seen_ids.insert(id).second) return false;
    seen_order.push_back(id);
    if (seen_order.size() > kDedupeWindow) {
      seen_ids.erase(seen_order.front());
      seen_order.pop_front();
    }
    return true;
  }
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

const std::string& Session::node_id() const { return impl_->options.node_id; }
const identity::Directory& Session::directory() const { return *impl_->directory; }

Result<std::unique_ptr<Session>> Session::connect(const SessionOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto dir = identity::Directory::load(options.directory, SystemClock::instance().now_seconds(), nullptr);
  if (!dir) return dir.status();
  impl->directory = std::move(dir).value();
  if (impl->directory->node(options.node_id) == nullptr) {
    return Status::fail(Code::UNKNOWN_NODE, "node " + options.node_id + " is not in the directory " +
                                                options.directory.string());
  }
  auto keys = crypto::read_node_keys(options.key_file);
  if (!keys) return keys.status();
  impl->keys = std::make_unique<crypto::NodeSecrets>(std::move(keys).value());
  if (!(impl->keys->signing.public_key() == impl->directory->node(options.node_id)->signing_key)) {
    return Status::fail(Code::KEY_FILE, "key file " + options.key_file.string() + " does not hold " +
                                            options.node_id + "'s keys");
  }
  auto broker_pub = read_file(options.directory / "broker.pub", 1024);
  if (!broker_pub) return broker_pub.status();
  std::string pub_text = to_string(*broker_pub);
  while (!pub_text.empty() && (pub_text.back() == '\n' || pub_text.back() == '\r')) pub_text.pop_back();
  auto server_key = crypto::transport_key_from_z85(pub_text);
  if (!server_key) return server_key.status();
  try {
    impl->socket = zmq::socket_t(impl->context, zmq::socket_type::dealer);
    auto& s = impl->socket;
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::curve_serverkey, zmq::buffer(server_key->bytes.data(), 32));
    s.set(zmq::sockopt::curve_publickey, zmq::buffer(impl->keys->transport.public_key().bytes.data(), 32));
    s.set(zmq::sockopt::curve_secretkey, zmq::buffer(impl->keys->transport.secret().data(), 32));
    s.set(zmq::sockopt::immediate, 1);
    s.set(zmq::sockopt::reconnect_ivl, 100);
    s.set(zmq::sockopt::reconnect_ivl_max, 1000);
    s.set(zmq::sockopt::maxmsgsize, std::int64_t{64} << 20);
    s.set(zmq::sockopt::sndtimeo, options.connect_timeout_ms);
    const std::string monitor = "inproc://tearline-monitor-" + std::to_string(reinterpret_cast<std::uintptr_t>(impl.get()));
    if (zmq_socket_monitor(s.handle(), monitor.c_str(), ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0) {
      return Status::fail(Code::UNAVAILABLE, "cannot monitor the connection");
    }
    impl->monitor = zmq::socket_t(impl->context, zmq::socket_type::pair);
    impl->monitor.connect(monitor);
    s.connect(options.endpoint);
  } catch (const zmq::error_t& e) {
    return Status::fail(Code::UNAVAILABLE, "cannot connect to " + options.endpoint + ": " + e.what());
  }
  // With ZMQ_IMMEDIATE the HELLO waits until the handshake succeeds, which a
  // refused key never does: wait for the pipe, then send.
  const std::int64_t deadline = monotonic_ms() + options.connect_timeout_ms;
  Status s;
  for (;;) {
    if (impl->handshake_refused()) {
      return Status::fail(Code::HANDSHAKE_REFUSED, "the broker refused " + options.node_id +
                                                       "'s transport key (unknown, expired or revoked credential)");
    }
    s = impl->hello();
    if (s || s.code() != Code::UNAVAILABLE || monotonic_ms() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!s) return s;
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Result<report::BuiltReport> Session::build(report::ReportDraft draft) {
  const std::int64_t now = SystemClock::instance().now_ms();
  if (draft.created_at_ms == 0) draft.created_at_ms = now;
  if (draft.sequence == 0) {
    // Microseconds since the epoch keep sequences increasing across restarts.
    const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    draft.sequence = std::max<std::uint64_t>(impl_->last_sequence + 1, static_cast<std::uint64_t>(now_us));
    impl_->last_sequence = draft.sequence;
  }
  return report::build_report(draft, impl_->options.node_id, impl_->keys->signing, *impl_->directory);
}

Result<PublishOutcome> Session::publish(report::ReportDraft draft) {
  auto built = build(std::move(draft));
  if (!built) return built.status();
  return publish_bytes(built->bytes);
}

Result<PublishOutcome> Session::publish_bytes(ByteView bytes) {
  Status ready = impl_->ensure_ready();
  if (!ready) return ready;
  auto answer = impl_->request(wire::make_publish(impl_->next_request++, bytes));
  if (!answer) return answer.status();
  PublishOutcome out;
  if (answer->has_accepted()) {
    out.accepted = true;
    out.report_id = to_bytes(answer->accepted().report_id());
    out.broker_seq = answer->accepted().broker_seq();
  } else if (answer->has_rejected()) {
    out.status = wire::status_of(answer->rejected());
  } else {
    out.status = wire::status_of(answer->error());
  }
  return out;
}

Status Session::subscribe(const std::vector<std::string>& patterns) {
  Status ready = impl_->ensure_ready();
  if (!ready) return ready;
  auto answer = impl_->request(wire::make_subscribe(impl_->next_request++, patterns));
  if (!answer) return answer.status();
  if (answer->has_rejected()) return wire::status_of(answer->rejected());
  if (answer->has_error()) return wire::status_of(answer->error());
  for (const auto& p : patterns) {
    if (std::find(impl_->patterns.begin(), impl_->patterns.end(), p) == impl_->patterns.end()) impl_->patterns.push_back(p);
  }
  return Status::ok();
}

Status Session::unsubscribe(const std::vector<std::string>& patterns) {
  auto answer = impl_->request(wire::make_unsubscribe(impl_->next_request++, patterns));
  if (!answer) return answer.status();
  for (const auto& p : patterns) {
    impl_->patterns.erase(std::remove(impl_->patterns.begin(), impl_->patterns.end(), p), impl_->patterns.end());
  }
  return Status::ok();
}

Status Session::admin_reload() {
  auto answer = impl_->request(wire::make_admin(impl_->next_request++, wire::kAdminReload));
  if (!answer) return answer.status();
  if (answer->has_rejected()) return wire::status_of(answer->rejected());
  if (answer->has_error()) return wire::status_of(answer->error());
  return Status::ok();
}

std::optional<Received> Session::receive(int timeout_ms) {
  const std::int64_t deadline = monotonic_ms() + timeout_ms;
  for (;;) {
    while (!impl_->deliveries.empty()) {
      v1::Deliver d = std::move(impl_->deliveries.front());
      impl_->deliveries.pop_front();
      (void)impl_->send(wire::make_ack(d.broker_seq()));
      Received r = open_delivered(as_bytes(d.report()), d.broker_seq(), *impl_->directory, impl_->options.node_id,
                                  impl_->keys->sealing);
      if (r.verification.is_ok() && !impl_->remember(r.report_id_hex)) continue;  // duplicate
      return r;
    }
    const std::int64_t now = monotonic_ms();
    if (now >= deadline) return std::nullopt;
    if (!impl_->ready) {
      if (!impl_->ensure_ready()) {
        // Refused or unreachable: retry at most every kRetryMs, not in a loop.
        auto f = impl_->recv_frame(static_cast<int>(std::max<std::int64_t>(1, std::min(deadline - now, kRetryMs))));
        if (f && !f->has_pong()) impl_->stash(*f);
        continue;
      }
    } else if (impl_->idle_ms >= kPingIntervalMs) {
      impl_->last_ping_nonce = static_cast<std::uint64_t>(now);
      (void)impl_->send(wire::make_ping(impl_->last_ping_nonce));
      impl_->idle_ms = 0;
    }
    const std::int64_t wait = std::max<std::int64_t>(1, std::min(deadline - now, kPingIntervalMs - impl_->idle_ms));
    auto f = impl_->recv_frame(static_cast<int>(wait));
    if (f) {
      impl_->idle_ms = 0;
    } else {
      impl_->idle_ms += monotonic_ms() - now;
    }
    if (f && !f->has_pong()) impl_->stash(*f);
  }
}

std::optional<v1::Frame> Session::send_raw(ByteView frame_bytes, int timeout_ms) {
  try {
    if (!impl_->socket.send(zmq::buffer(frame_bytes.data(), frame_bytes.size()), zmq::send_flags::dontwait)) {
      return std::nullopt;
    }
  } catch (const zmq::error_t&) {
    return std::nullopt;
  }
  const std::int64_t deadline = monotonic_ms() + timeout_ms;
  while (monotonic_ms() < deadline) {
    auto f = impl_->recv_frame(static_cast<int>(std::max<std::int64_t>(1, deadline - monotonic_ms())));
    if (!f) continue;
    if (f->has_deliver()) {
      impl_->deliveries.push_back(std::move(*f->mutable_deliver()));
      continue;
    }
    if (f->has_pong() && impl_->last_ping_nonce != 0 && f->pong().nonce() == impl_->last_ping_nonce) continue;
    return f;
  }
  return std::nullopt;
}

std::optional<Status> Session::take_session_error() {
  auto e = std::move(impl_->session_error);
  impl_->session_error.reset();
  return e;
}

}  // namespace tearline::client
