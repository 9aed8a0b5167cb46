// A bench node's connection to the tearline broker over the wire protocol
// directly (docs/protocol.md): the client's Connection (CURVE with the node's
// transport key and the broker's public key from the PKI directory,
// HELLO/WELCOME), plus the node's keys and directory for building and
// opening reports. The client library's Session waits for each verdict; the
// bench needs a window of requests in flight, so it sends frames itself and
// matches the verdicts by request id.
//
// Threading: one thread at a time (the role process's).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "client/connection.h"
#include "crypto/key_file.h"
#include "identity/directory.h"
#include "tearline/v1/wire.pb.h"

namespace tearline::bench {

struct TearlineNode {
  std::string node_id;
  std::filesystem::path pki;
  identity::DirectoryPtr directory;
  std::unique_ptr<crypto::NodeSecrets> keys;
  std::unique_ptr<client::Connection> connection;  // after open_socket()
  std::string broker_id;  // the broker spoken to, when not the PKI's first: its key from its credential

  // Loads the node's keys and the directory from the PKI folder.
  static Result<std::unique_ptr<TearlineNode>> load(const std::filesystem::path& pki, const std::string& node_id);
  // A Connection to `endpoint` (frames queue before the handshake: no
  // ZMQ_IMMEDIATE); nothing sent yet. Also used for the raw relay baseline,
  // which speaks its own messages over the same CURVE socket.
  Status open_socket(const std::string& endpoint);
  // open_socket, then HELLO/WELCOME within timeout_ms.
  Status connect(const std::string& endpoint, int timeout_ms = 10000);

  // Sends, waiting for room at most the Connection's send timeout.
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
