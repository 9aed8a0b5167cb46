#include "flood/raw_node.h"

#include <stdexcept>

#include "base/clock.h"
#include "wire/frame.h"

namespace tearline::flood {
namespace v1 = tearline::v1;

namespace {

// Frames in each direction a node's socket may queue: an attacker's whole
// window, and everything the broker answers to it, without dropping.
constexpr int kHighWaterMark = 100000;

}  // namespace

Result<std::unique_ptr<RawNode>> RawNode::connect(const std::string& endpoint, const identity::PkiPaths& pki,
                                                  const std::string& node_id, int timeout_ms) {
  auto material = identity::load_node_material(pki, node_id, SystemClock::instance().now_seconds());
  if (!material) return material.status();
  std::unique_ptr<RawNode> node(new RawNode());
  node->material_ = std::move(material).value();
  auto broker_key = client::read_broker_key(pki.broker_public());
  if (!broker_key) return broker_key.status();
  client::ConnectionOptions options;
  options.endpoint = endpoint;
  options.client_name = "tearline-flood";
  options.node_id = node_id;
  options.connect_timeout_ms = timeout_ms;
  options.high_water_mark = kHighWaterMark;
  auto connection = client::Connection::open(options, *broker_key, node->material_.keys->transport);
  if (!connection) return connection.status();
  node->connection_ = std::move(connection).value();
  Status s = node->connection_->hello();
  if (!s) return s;
  return node;
}

Status RawNode::hello(int timeout_ms) { return connection_->say_hello(timeout_ms); }

bool RawNode::send(const Bytes& frame) { return connection_->try_send(frame).is_ok(); }

std::optional<v1::Frame> RawNode::receive(int timeout_ms) { return connection_->receive(timeout_ms); }

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
