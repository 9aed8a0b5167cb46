// A bench node's connection to the tearline broker over the wire protocol
// directly (docs/protocol.md): a DEALER with CURVE (the node's transport key,
// the broker's public key from the PKI directory), HELLO/WELCOME, and frame
// helpers. The client library's Session waits for each verdict; the bench
// needs a window of requests in flight, so it speaks the protocol itself.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "base/result.h"
#include "crypto/key_file.h"
#include "identity/directory.h"
#include "tearline/v1/wire.pb.h"

namespace tearline::bench {

struct TearlineNode {
  std::string node_id;
  std::filesystem::path pki;
  identity::DirectoryPtr directory;
  std::unique_ptr<crypto::NodeSecrets> keys;
  zmq::context_t context{1};
  zmq::socket_t socket;

  // Loads the node's keys and the directory from the PKI folder.
  static Result<std::unique_ptr<TearlineNode>> load(const std::filesystem::path& pki, const std::string& node_id);
  // A CURVE DEALER connected to `endpoint` with the node's transport key
  // and the broker's public key; nothing sent yet.
  Status open_socket(const std::string& endpoint);
  // open_socket, then HELLO/WELCOME within timeout_ms.
  Status connect(const std::string& endpoint, int timeout_ms = 10000);

  Status send(const tearline::v1::Frame& frame);
  Status send_bytes(const Bytes& frame_bytes);
  // The next frame, without blocking when timeout_ms == 0.
  std::optional<tearline::v1::Frame> receive(int timeout_ms);
  // Sends a request and waits for its ACCEPTED (OK) or REJECTED/ERROR.
  Status request(const tearline::v1::Frame& frame, int timeout_ms = 10000);
  // ZMQ_EVENTS & ZMQ_POLLIN: a frame is ready now.
  bool readable();
  int fd();
};

}  // namespace tearline::bench
