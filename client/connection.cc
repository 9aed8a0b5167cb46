#include "client/connection.h"
#include "base/clock.h"

#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

#include "base/files.h"
#include "wire/frame.h"

namespace tearline::client {
namespace v1 = tearline::v1;

namespace {

// The largest message a client takes from the broker (ZMQ_MAXMSGSIZE and the
// decoder's limit): above any broker's max_frame_bytes plus a DELIVER's
// envelope. Not a protocol limit; it only keeps a broken peer from making
// the client allocate without bound.
constexpr std::size_t kMaxIncomingFrameBytes = std::size_t{64} << 20;
// Reconnect back-off after the broker went away (ZMQ_RECONNECT_IVL, _MAX).
constexpr int kReconnectIntervalMs = 100;
constexpr int kReconnectIntervalMaxMs = 1000;
// say_hello(): the pause after a HELLO that could not be queued.
constexpr int kHelloRetryMs = 20;
constexpr std::size_t kMaxBrokerKeyFileBytes = 1024;

int remaining_ms(std::int64_t deadline) {
  return static_cast<int>(std::max<std::int64_t>(1, deadline - steady_now_ms()));
}

bool is_answer(const v1::Frame& f) {
  return f.has_accepted() || f.has_rejected() || f.has_error() || f.has_subscription_list() || f.has_broker_status();
}

// The monitor events a Connection follows: the handshake's outcome, drops,
// and connection attempts refused (nothing listens).
constexpr int kMonitoredEvents = ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                 ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED;

// ERROR PROTOCOL_VIOLATION: what a broker that restarted (or forgot an idle
// session) answers to any frame, whatever request id it carries.
bool forgets_session(const Connection::Event& e) {
  return e.is_ok() && e->has_error() && e->error().code() == static_cast<std::uint32_t>(Code::PROTOCOL_VIOLATION);
}

}  // namespace

struct Connection::Socket {
  zmq::context_t context{1};
  zmq::socket_t dealer;
  zmq::socket_t monitor;  // kMonitoredEvents of `dealer`
};

Result<crypto::TransportPublicKey> read_broker_key(const std::filesystem::path& file) {
  auto bytes = read_file(file, kMaxBrokerKeyFileBytes);
  if (!bytes) return bytes.status();
  std::string text = to_string(*bytes);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return crypto::transport_key_from_z85(text);
}

Status error_status(const v1::Error& error) {
  Status reasons = wire::status_of(error);
  Code code = Code::OK;
  if (!code_from_number(error.code(), &code) || code == Code::OK || reasons.code() == code) return reasons;
  Status out = Status::fail(code, std::string(code_meaning(code)));
  out.merge(reasons);
  return out;
}

Connection::Connection(ConnectionOptions options, std::unique_ptr<Socket> socket)
    : options_(std::move(options)), socket_(std::move(socket)) {}

Connection::~Connection() = default;

Result<std::unique_ptr<Connection>> Connection::open(const ConnectionOptions& options,
                                                     const crypto::TransportPublicKey& broker_key,
                                                     const crypto::TransportKey& transport) {
  static std::atomic<std::uint64_t> monitors{0};
  auto socket = std::make_unique<Socket>();
  try {
    socket->dealer = zmq::socket_t(socket->context, zmq::socket_type::dealer);
    auto& s = socket->dealer;
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::curve_serverkey, zmq::buffer(broker_key.bytes.data(), broker_key.bytes.size()));
    s.set(zmq::sockopt::curve_publickey,
          zmq::buffer(transport.public_key().bytes.data(), transport.public_key().bytes.size()));
    s.set(zmq::sockopt::curve_secretkey, zmq::buffer(transport.secret().data(), transport.secret().size()));
    if (options.immediate) s.set(zmq::sockopt::immediate, 1);
    if (options.high_water_mark) {
      s.set(zmq::sockopt::sndhwm, *options.high_water_mark);
      s.set(zmq::sockopt::rcvhwm, *options.high_water_mark);
    }
    if (options.receive_high_water_mark) s.set(zmq::sockopt::rcvhwm, *options.receive_high_water_mark);
    if (options.receive_buffer_bytes) s.set(zmq::sockopt::rcvbuf, *options.receive_buffer_bytes);
    s.set(zmq::sockopt::reconnect_ivl, kReconnectIntervalMs);
    s.set(zmq::sockopt::reconnect_ivl_max, kReconnectIntervalMaxMs);
    s.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(kMaxIncomingFrameBytes));
    s.set(zmq::sockopt::sndtimeo, options.send_timeout_ms);
    const std::string monitor = "inproc://tearline-monitor-" + std::to_string(monitors.fetch_add(1));
    if (zmq_socket_monitor(s.handle(), monitor.c_str(), kMonitoredEvents) != 0) {
      return Status::fail(Code::UNAVAILABLE, "cannot monitor the connection");
    }
    socket->monitor = zmq::socket_t(socket->context, zmq::socket_type::pair);
    socket->monitor.set(zmq::sockopt::linger, 0);
    socket->monitor.connect(monitor);
    s.connect(options.endpoint);
  } catch (const zmq::error_t& e) {
    return Status::fail(Code::UNAVAILABLE, "cannot connect to " + options.endpoint + ": " + e.what());
  }
  return std::unique_ptr<Connection>(new Connection(options, std::move(socket)));
}

void Connection::read_monitor() {
  try {
    for (;;) {
      zmq::message_t event;
      if (!socket_->monitor.recv(event, zmq::recv_flags::dontwait)) return;
      zmq::message_t address;
      (void)socket_->monitor.recv(address, zmq::recv_flags::dontwait);
      if (event.size() < sizeof(std::uint16_t)) continue;
      std::uint16_t id = 0;
      std::memcpy(&id, event.data(), sizeof id);
      switch (id) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
          handshake_failure_event_ = 0;
          link_changes_.push_back(true);
          break;
        case ZMQ_EVENT_DISCONNECTED: link_changes_.push_back(false); break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: handshake_failure_event_ = id; break;
        case ZMQ_EVENT_CONNECTED: retried_since_connected_ = false; break;
        case ZMQ_EVENT_CONNECT_RETRIED:
          // A retry follows every ended connection; two in a row mean an
          // attempt in between found nothing listening. A handshake that
          // failed without a word before that was the broker going away
          // (killed mid-handshake), not a refusal; a refusal (AUTH) stands.
          if (retried_since_connected_ && handshake_failure_event_ != ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            handshake_failure_event_ = 0;
          }
          retried_since_connected_ = true;
          break;
        default:  // _NO_DETAIL, _PROTOCOL: keep a refusal (AUTH) seen before it
          if (handshake_failure_event_ != ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) handshake_failure_event_ = id;
          break;
      }
    }
  } catch (const zmq::error_t&) {
    // Ignored: the monitor socket closes with the connection; no event is pending then.
  }
}

bool Connection::handshake_refused() {
  read_monitor();
  return handshake_failure_event_ == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
}

Status Connection::handshake_failure() {
  read_monitor();
  const std::string node = options_.node_id.empty() ? "this node" : options_.node_id;
  if (handshake_failure_event_ == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
    return Status::fail(Code::HANDSHAKE_REFUSED, "the broker at " + options_.endpoint + " refused " + node +
                                                     "'s transport key (a credential the broker has not loaded, "
                                                     "expired or revoked; reload the broker after issuing)");
  }
  if (handshake_failure_event_ != 0) {
    const std::string file = options_.broker_key_file.empty() ? "the broker key given" : options_.broker_key_file;
    // The broker closes the handshake without a word both when its key is
    // not the one given and when it refuses past an address's budget of
    // ERRORs (broker/refusal_notice.h): the client cannot tell them apart.
    return Status::fail(Code::HANDSHAKE_REFUSED,
                        "the broker's CURVE key does not match " + file + " (the CURVE handshake with " +
                            options_.endpoint +
                            " failed; use the directory of this broker's PKI), or the broker refused " + node +
                            "'s transport key without saying why, as it does after many refusals from one address");
  }
  return Status::ok();
}

std::vector<bool> Connection::link_changes() {
  read_monitor();
  return std::exchange(link_changes_, {});
}

Status Connection::hello() {
  // With ZMQ_IMMEDIATE the HELLO cannot be queued until the handshake has
  // succeeded, which a refused key never does: retry until it is taken.
  const std::int64_t deadline = steady_now_ms() + options_.connect_timeout_ms;
  for (;;) {
    if (Status failed = handshake_failure(); !failed) return failed;
    Status s = say_hello(options_.connect_timeout_ms);
    if (s || s.code() != Code::UNAVAILABLE || steady_now_ms() >= deadline) {
      if (!s && s.code() == Code::UNAVAILABLE) {
        if (Status failed = handshake_failure(); !failed) return failed;
      }
      return s;
    }
  }
}

Status Connection::say_hello(int timeout_ms) {
  Status s = try_send(wire::make_hello(options_.client_name));
  if (!s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kHelloRetryMs));  // callers retry in a loop
    return s;
  }
  const std::int64_t deadline = steady_now_ms() + timeout_ms;
  while (steady_now_ms() < deadline) {
    auto event = read(remaining_ms(deadline));
    if (!event) continue;
    if (event->is_ok() && (*event)->has_welcome()) {
      welcome_ = (*event)->welcome();
      return Status::ok();
    }
    if (event->is_ok() && (*event)->has_error()) return error_status((*event)->error());
    file(std::move(*event));
  }
  return Status::fail(Code::UNAVAILABLE, "broker at " + options_.endpoint + " did not answer HELLO within " +
                                             std::to_string(timeout_ms) + " ms");
}

Status Connection::start(const v1::Frame& request) {
  const std::uint64_t id = wire::request_id_of(request);
  Status s = try_send(request);
  if (!s) return s;
  in_flight_.insert(id);
  return Status::ok();
}

Result<v1::Frame> Connection::finish(std::uint64_t id, int timeout_ms) {
  const std::int64_t deadline = steady_now_ms() + timeout_ms;
  for (;;) {
    auto held = answers_.find(id);
    if (held != answers_.end()) {
      v1::Frame answer = std::move(held->second);
      answers_.erase(held);
      in_flight_.erase(id);
      return answer;
    }
    if (steady_now_ms() >= deadline) break;
    auto event = read(remaining_ms(deadline));
    if (!event) continue;
    if (forgets_session(*event)) {
      in_flight_.erase(id);
      return std::move(*event).value();
    }
    file(std::move(*event));
  }
  in_flight_.erase(id);
  return Status::fail(Code::UNAVAILABLE, "broker did not answer request " + std::to_string(id) + " within " +
                                             std::to_string(timeout_ms) + " ms");
}

Result<v1::Frame> Connection::request(const v1::Frame& request, int timeout_ms) {
  Status s = start(request);
  if (!s) return s;
  return finish(wire::request_id_of(request), timeout_ms);
}

std::optional<Connection::Event> Connection::take_event() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::optional<Connection::Event> Connection::next_event(int timeout_ms) {
  const std::int64_t deadline = steady_now_ms() + timeout_ms;
  for (;;) {
    if (auto e = take_event()) return e;
    const std::int64_t now = steady_now_ms();
    if (timeout_ms > 0 && now >= deadline) return std::nullopt;
    auto event = read(timeout_ms > 0 ? static_cast<int>(deadline - now) : 0);
    if (!event) return std::nullopt;
    file(std::move(*event));
  }
}

void Connection::file(Event event) {
  if (event.is_ok() && is_answer(*event)) {
    const std::uint64_t id = wire::request_id_of(*event);
    if (id != wire::kNoRequestId && in_flight_.count(id) != 0) {
      answers_[id] = std::move(event).value();
      return;
    }
  }
  events_.push_back(std::move(event));
}

std::optional<Connection::Event> Connection::read(int timeout_ms) {
  std::optional<Event> out;
  (void)receive_bytes(timeout_ms,
                      [&](ByteView bytes) { out.emplace(wire::decode_frame(bytes, kMaxIncomingFrameBytes)); });
  return out;
}

Status Connection::send(ByteView bytes) {
  try {
    if (!socket_->dealer.send(zmq::buffer(bytes.data(), bytes.size()), zmq::send_flags::none)) {
      return Status::fail(Code::UNAVAILABLE, "broker at " + options_.endpoint + " took no frame within " +
                                                 std::to_string(options_.send_timeout_ms) + " ms");
    }
  } catch (const zmq::error_t& e) {
    return Status::fail(Code::UNAVAILABLE, std::string("send failed: ") + e.what());
  }
  return Status::ok();
}

Status Connection::send(const v1::Frame& frame) {
  Bytes b = wire::encode_frame(frame);
  return send(b);
}

Status Connection::try_send(ByteView bytes) {
  try {
    if (!socket_->dealer.send(zmq::buffer(bytes.data(), bytes.size()), zmq::send_flags::dontwait)) {
      return Status::fail(Code::UNAVAILABLE, "broker at " + options_.endpoint + " is not reachable");
    }
  } catch (const zmq::error_t& e) {
    return Status::fail(Code::UNAVAILABLE, std::string("send failed: ") + e.what());
  }
  return Status::ok();
}

Status Connection::try_send_parts(const std::vector<Bytes>& parts) {
  try {
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto flags =
          i + 1 < parts.size() ? zmq::send_flags::sndmore | zmq::send_flags::dontwait : zmq::send_flags::dontwait;
      if (!socket_->dealer.send(zmq::buffer(parts[i].data(), parts[i].size()), flags)) {
        return Status::fail(Code::UNAVAILABLE, "broker at " + options_.endpoint + " is not reachable");
      }
    }
  } catch (const zmq::error_t& e) {
    return Status::fail(Code::UNAVAILABLE, std::string("send failed: ") + e.what());
  }
  return Status::ok();
}

Status Connection::try_send(const v1::Frame& frame) {
  Bytes b = wire::encode_frame(frame);
  return try_send(b);
}

void Connection::send_last(const v1::Frame& last, int linger_ms) {
  try {
    socket_->dealer.set(zmq::sockopt::linger, linger_ms);
  } catch (const zmq::error_t&) {
    return;
  }
  (void)try_send(last);
}

std::optional<v1::Frame> Connection::receive(int timeout_ms) {
  while (auto e = take_event()) {
    if (e->is_ok()) return std::move(*e).value();
  }
  auto event = read(timeout_ms);
  if (!event || !event->is_ok()) return std::nullopt;
  return std::move(*event).value();
}

bool Connection::receive_bytes(int timeout_ms, const std::function<void(ByteView)>& take) {
  zmq::message_t m;
  try {
    if (!socket_->dealer.recv(m, zmq::recv_flags::dontwait)) {
      if (timeout_ms <= 0) return false;
      zmq::pollitem_t item{socket_->dealer.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) <= 0) return false;
      if (!socket_->dealer.recv(m, zmq::recv_flags::dontwait)) return false;
    }
  } catch (const zmq::error_t&) {
    return false;
  }
  take(ByteView(static_cast<const std::uint8_t*>(m.data()), m.size()));
  return true;
}

int Connection::fd() {
  try {
    return socket_->dealer.get(zmq::sockopt::fd);
  } catch (const zmq::error_t&) {
    return -1;
  }
}

bool Connection::readable() {
  try {
    return (socket_->dealer.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0;
  } catch (const zmq::error_t&) {
    return false;
  }
}

}  // namespace tearline::client
