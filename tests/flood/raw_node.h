// A node's connection to the broker without the client library's
// one-request-at-a-time Session: the client's Connection (CURVE with the
// node's transport key, HELLO/WELCOME), then frames sent and received as they
// are, so that a caller can keep many requests in flight (the canary's
// window, an attacker's flood), plus the node's directory and keys.
//
// Each RawNode has its own ZeroMQ context (its Connection's), hence its own
// libzmq I/O thread, created on the thread that calls connect() (it inherits
// that thread's scheduling priority).
//
// Threading: one thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "client/connection.h"
#include "identity/pki.h"
#include "tearline/v1/wire.pb.h"

namespace tearline::flood {

class RawNode {
 public:
  // Loads the directory and the node's key file from `pki`, connects to
  // `endpoint` and says HELLO. Fails with the broker's ERROR, or UNAVAILABLE
  // when no WELCOME arrives within timeout_ms.
  static Result<std::unique_ptr<RawNode>> connect(const std::string& endpoint, const identity::PkiPaths& pki,
                                                  const std::string& node_id, int timeout_ms);

  const std::string& node_id() const { return material_.node_id; }
  const identity::Directory& directory() const { return *material_.directory; }
  const crypto::NodeSecrets& keys() const { return *material_.keys; }
  // The broker's node id, from its WELCOME.
  const std::string& broker_id() const { return connection_->welcome().broker_id(); }

  // HELLO again on the same connection (after the broker closed the session):
  // OK on WELCOME, the ERROR's status, or UNAVAILABLE after timeout_ms.
  Status hello(int timeout_ms);
  // Queues one frame without blocking; false when the socket would block.
  bool send(const Bytes& frame);
  // The next frame within timeout_ms (0: only what has already arrived);
  // nullopt on timeout or on bytes that do not decode.
  std::optional<tearline::v1::Frame> receive(int timeout_ms);

 private:
  RawNode() = default;
  identity::NodeMaterial material_;
  std::unique_ptr<client::Connection> connection_;
};

// RawNode::connect within 10 s, or std::runtime_error naming the node.
std::unique_ptr<RawNode> connect_or_throw(const std::string& endpoint, const identity::PkiPaths& pki,
                                          const std::string& node_id);

// The name of a code number from the wire ("RATE_LIMITED"), or "code N".
std::string code_text(std::uint32_t number);

}  // namespace tearline::flood
