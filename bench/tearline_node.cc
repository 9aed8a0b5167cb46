#include "bench/tearline_node.h"

#include "base/clock.h"
#include "base/files.h"
#include "bench/control.h"
#include "identity/pki.h"
#include "wire/frame.h"

namespace tearline::bench {

Result<std::unique_ptr<TearlineNode>> TearlineNode::load(const std::filesystem::path& pki, const std::string& node_id) {
  identity::PkiPaths paths(pki);
  auto node = std::make_unique<TearlineNode>();
  node->node_id = node_id;
  node->pki = pki;
  auto dir = identity::Directory::load(paths.directory(), SystemClock::instance().now_seconds(), nullptr);
  if (!dir) return dir.status();
  node->directory = std::move(dir).value();
  auto keys = crypto::read_node_keys(paths.node_key(node_id));
  if (!keys) return keys.status();
  node->keys = std::make_unique<crypto::NodeSecrets>(std::move(keys).value());
  return node;
}

Status TearlineNode::open_socket(const std::string& endpoint) {
  auto pub = read_file(identity::PkiPaths(pki).broker_public(), 1024);
  if (!pub) return pub.status();
  std::string text = to_string(*pub);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  auto server_key = crypto::transport_key_from_z85(text);
  if (!server_key) return server_key.status();
  try {
    socket = zmq::socket_t(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::curve_serverkey, zmq::buffer(server_key->bytes.data(), 32));
    socket.set(zmq::sockopt::curve_publickey, zmq::buffer(keys->transport.public_key().bytes.data(), 32));
    socket.set(zmq::sockopt::curve_secretkey, zmq::buffer(keys->transport.secret().data(), 32));
    socket.set(zmq::sockopt::maxmsgsize, std::int64_t{64} << 20);
    socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return Status::fail(Code::UNAVAILABLE, std::string("connect ") + endpoint + ": " + e.what());
  }
  return Status::ok();
}

Status TearlineNode::connect(const std::string& endpoint, int timeout_ms) {
  Status opened = open_socket(endpoint);
  if (!opened) return opened;
  const std::int64_t deadline = mono_ns() + std::int64_t{timeout_ms} * 1'000'000;
  Status s = send(wire::make_hello("tearline-bench"));
  if (!s) return s;
  while (mono_ns() < deadline) {
    auto f = receive(100);
    if (!f) continue;
    if (f->has_welcome()) return Status::ok();
    if (f->has_error()) return wire::status_of(f->error());
  }
  return Status::fail(Code::UNAVAILABLE, node_id + ": no WELCOME from " + endpoint);
}

Status TearlineNode::send(const tearline::v1::Frame& frame) { return send_bytes(wire::encode_frame(frame)); }

Status TearlineNode::send_bytes(const Bytes& bytes) {
  try {
    socket.send(zmq::buffer(bytes.data(), bytes.size()), zmq::send_flags::none);
  } catch (const zmq::error_t& e) {
    return Status::fail(Code::UNAVAILABLE, std::string("send: ") + e.what());
  }
  return Status::ok();
}

std::optional<tearline::v1::Frame> TearlineNode::receive(int timeout_ms) {
  if (timeout_ms > 0) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) <= 0) return std::nullopt;
  }
  zmq::message_t m;
  if (!socket.recv(m, zmq::recv_flags::dontwait)) return std::nullopt;
  auto frame = wire::decode_frame(ByteView(static_cast<const std::uint8_t*>(m.data()), m.size()), std::size_t{64} << 20);
  if (!frame) return std::nullopt;
  return std::move(frame).value();
}

Status TearlineNode::request(const tearline::v1::Frame& frame, int timeout_ms) {
  const std::uint64_t id = wire::request_id_of(frame);
  Status s = send(frame);
  if (!s) return s;
  const std::int64_t deadline = mono_ns() + std::int64_t{timeout_ms} * 1'000'000;
  while (mono_ns() < deadline) {
    auto f = receive(100);
    if (!f || wire::request_id_of(*f) != id) continue;
    if (f->has_accepted()) return Status::ok();
    if (f->has_rejected()) return wire::status_of(f->rejected());
    if (f->has_error()) return wire::status_of(f->error());
  }
  return Status::fail(Code::UNAVAILABLE, node_id + ": request " + std::to_string(id) + " not answered");
}

bool TearlineNode::readable() { return (socket.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0; }

int TearlineNode::fd() { return socket.get(zmq::sockopt::fd); }

}  // namespace tearline::bench
