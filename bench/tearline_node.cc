#include "bench/tearline_node.h"

#include "base/clock.h"
#include "identity/pki.h"
#include "wire/frame.h"

namespace tearline::bench {
namespace {

// The longest a send waits for room in the socket's queue (ZMQ_SNDTIMEO),
// as long as the publisher loop's stall timeout: a broker that takes nothing
// for that long has stalled the run anyway.
constexpr int kSendTimeoutMs = 10'000;

}  // namespace

Result<std::unique_ptr<TearlineNode>> TearlineNode::load(const std::filesystem::path& pki, const std::string& node_id) {
  auto material = identity::load_node_material(identity::PkiPaths(pki), node_id, SystemClock::instance().now_seconds());
  if (!material) return material.status();
  auto node = std::make_unique<TearlineNode>();
  node->node_id = node_id;
  node->pki = pki;
  node->directory = std::move(material->directory);
  node->keys = std::move(material->keys);
  return node;
}

Status TearlineNode::open_socket(const std::string& endpoint) {
  Result<crypto::TransportPublicKey> broker_key = Status::fail(Code::UNKNOWN_NODE, "no broker " + broker_id);
  if (broker_id.empty()) {
    broker_key = client::read_broker_key(identity::PkiPaths(pki).broker_public());
  } else if (const identity::Credential* broker = directory->node(broker_id); broker != nullptr) {
    broker_key = broker->transport_key;
  }
  if (!broker_key) return broker_key.status();
  client::ConnectionOptions options;
  options.endpoint = endpoint;
  options.client_name = "tearline-bench";
  options.node_id = node_id;
  options.immediate = false;
  options.send_timeout_ms = kSendTimeoutMs;
  auto opened = client::Connection::open(options, *broker_key, keys->transport);
  if (!opened) return opened.status();
  connection = std::move(opened).value();
  return Status::ok();
}

Status TearlineNode::connect(const std::string& endpoint, int timeout_ms) {
  Status opened = open_socket(endpoint);
  if (!opened) return opened;
  Status s = connection->say_hello(timeout_ms);
  if (!s && s.code() == Code::UNAVAILABLE)
    return Status::fail(Code::UNAVAILABLE, node_id + ": no WELCOME from " + endpoint);
  return s;
}

Status TearlineNode::send(const tearline::v1::Frame& frame) { return connection->send(frame); }

Status TearlineNode::send_bytes(const Bytes& bytes) { return connection->send(bytes); }

std::optional<tearline::v1::Frame> TearlineNode::receive(int timeout_ms) { return connection->receive(timeout_ms); }

Status TearlineNode::request(const tearline::v1::Frame& frame, int timeout_ms) {
  auto answer = connection->request(frame, timeout_ms);
  if (!answer) return Status::fail(Code::UNAVAILABLE, node_id + ": " + answer.status().to_string());
  if (answer->has_accepted()) return Status::ok();
  if (answer->has_rejected()) return wire::status_of(answer->rejected());
  return wire::status_of(answer->error());
}

bool TearlineNode::readable() { return connection->readable(); }

int TearlineNode::fd() { return connection->fd(); }

}  // namespace tearline::bench
