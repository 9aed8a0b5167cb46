#include "flood/raw_node.h"

#include <chrono>
#include <stdexcept>
#include <thread>

#include "base/clock.h"
#include "base/files.h"
#include "wire/frame.h"

namespace tearline::flood {
namespace v1 = tearline::v1;

namespace {

std::int64_t monotonic_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Result<std::unique_ptr<RawNode>> RawNode::connect(const std::string& endpoint, const identity::PkiPaths& pki,
                                                  const std::string& node_id, int timeout_ms) {
  std::unique_ptr<RawNode> node(new RawNode());
  node->node_id_ = node_id;
  auto dir = identity::Directory::load(pki.directory(), SystemClock::instance().now_seconds(), nullptr);
  if (!dir) return dir.status();
  node->directory_ = std::move(dir).value();
  auto keys = crypto::read_node_keys(pki.node_key(node_id));
  if (!keys) return keys.status();
  node->keys_ = std::make_unique<crypto::NodeSecrets>(std::move(keys).value());
  auto broker_pub = read_file(pki.broker_public(), 1024);
  if (!broker_pub) return broker_pub.status();
  std::string z85 = to_string(*broker_pub);
  while (!z85.empty() && (z85.back() == '\n' || z85.back() == '\r')) z85.pop_back();
  auto server_key = crypto::transport_key_from_z85(z85);
  if (!server_key) return server_key.status();
  try {
    node->socket_ = zmq::socket_t(node->context_, zmq::socket_type::dealer);
    auto& s = node->socket_;
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::curve_serverkey, zmq::buffer(server_key->bytes.data(), 32));
    s.set(zmq::sockopt::curve_publickey, zmq::buffer(node->keys_->transport.public_key().bytes.data(), 32));
    s.set(zmq::sockopt::curve_secretkey, zmq::buffer(node->keys_->transport.secret().data(), 32));
    s.set(zmq::sockopt::immediate, 1);
    s.set(zmq::sockopt::sndhwm, 100000);
    s.set(zmq::sockopt::rcvhwm, 100000);
    s.set(zmq::sockopt::maxmsgsize, std::int64_t{64} << 20);
    s.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return Status::fail(Code::UNAVAILABLE, "cannot connect to " + endpoint + ": " + e.what());
  }
  // With ZMQ_IMMEDIATE nothing can be queued before the handshake completes:
  // retry HELLO until it is taken and answered.
  const std::int64_t deadline = monotonic_ms() + timeout_ms;
  Status s;
  do {
    s = node->hello(200);
    if (s || s.code() != Code::UNAVAILABLE) break;
  } while (monotonic_ms() < deadline);
  if (!s) return s;
  return node;
}

Status RawNode::hello(int timeout_ms) {
  const std::int64_t deadline = monotonic_ms() + timeout_ms;
  if (!send(wire::encode_frame(wire::make_hello("tearline-flood")))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return Status::fail(Code::UNAVAILABLE, "the connection to the broker is not up");
  }
  while (monotonic_ms() < deadline) {
    auto f = receive(static_cast<int>(deadline - monotonic_ms()));
    if (!f) continue;
    if (f->has_welcome()) return Status::ok();
    if (f->has_error()) return wire::status_of(f->error());
  }
  return Status::fail(Code::UNAVAILABLE, "no WELCOME within " + std::to_string(timeout_ms) + " ms");
}

bool RawNode::send(const Bytes& frame) {
  try {
    return socket_.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

std::optional<v1::Frame> RawNode::receive(int timeout_ms) {
  zmq::message_t m;
  try {
    if (!socket_.recv(m, zmq::recv_flags::dontwait)) {
      if (timeout_ms <= 0) return std::nullopt;
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) <= 0) return std::nullopt;
      if (!socket_.recv(m, zmq::recv_flags::dontwait)) return std::nullopt;
    }
  } catch (const zmq::error_t&) {
    return std::nullopt;
  }
  auto frame = wire::decode_frame(ByteView(static_cast<const std::uint8_t*>(m.data()), m.size()), 64u << 20);
  if (!frame) return std::nullopt;
  return std::move(frame).value();
}

std::unique_ptr<RawNode> connect_or_throw(const std::string& endpoint, const identity::PkiPaths& pki,
                                          const std::string& node_id) {
  constexpr int kConnectTimeoutMs = 10'000;
  auto node = RawNode::connect(endpoint, pki, node_id, kConnectTimeoutMs);
  if (!node) throw std::runtime_error(node_id + " cannot connect: " + node.status().to_string());
  return std::move(node).value();
}

std::string code_text(std::uint32_t number) {
  Code code = Code::OK;
  return code_from_number(number, &code) ? std::string(code_name(code)) : "code " + std::to_string(number);
}

}  // namespace tearline::flood
