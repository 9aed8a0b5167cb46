// A node's connection to a tearline broker: the one place where a client
// opens a socket (the Session, the bench and the flood test all sit on it).
//
// A Connection is a ZeroMQ DEALER with CURVE (the node's transport key, the
// broker's public key) plus the protocol's session layer: HELLO/WELCOME with
// refused-handshake detection, request ids, pipelined requests whose answers
// are matched by id, and a queue of everything else the broker sends (DELIVERs,
// ERRORs about no request in flight, PONGs, answers to abandoned requests).
// It neither verifies reports nor remembers subscriptions: that is the
// Session's job (client/include/tearline/client.h), or a tool's.
//
// Errors: ZeroMQ exceptions are caught here and never leave a Connection.
// Every failure is a Status: UNAVAILABLE when the broker cannot be reached or
// does not answer in time, HANDSHAKE_REFUSED when the CURVE handshake failed
// (the broker's ZAP handler refused the node's transport key, or the broker's
// key is not the one the client holds), or the broker's own ERROR (see hello()).
//
// The link: a socket monitor reports the handshake's outcome and every drop
// of the TCP connection (link_changes()); after a drop ZeroMQ reconnects by
// itself, but the broker sees a new peer, so the session must say HELLO again.
//
// Timeouts: every call that waits takes its bound (or uses the options); a
// send never blocks beyond send_timeout_ms (ZMQ_SNDTIMEO), and try_send()
// never blocks at all. Linger is 0: closing drops what was not sent.
//
// Ownership and threads: a Connection owns its ZeroMQ context, hence its own
// libzmq I/O thread, created on the thread that calls open() (and inheriting
// that thread's scheduling priority; the flood test relies on it). It is used
// from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/keys.h"
#include "tearline/v1/wire.pb.h"

namespace tearline::client {

struct ConnectionOptions {
  // Names the broker key's file in handshake failures ("<pki>/directory/broker.pub").
  std::string broker_key_file;
  std::string endpoint;                         // e.g. tcp://127.0.0.1:7801
  std::string client_name = "tearline-client";  // Hello.client_name
  std::string node_id;                          // named in error messages only
  int connect_timeout_ms = 5000;                // hello(): WELCOME within this, or UNAVAILABLE
  int send_timeout_ms = 5000;                   // ZMQ_SNDTIMEO: the longest a send() waits for room
  // ZMQ_IMMEDIATE: queue nothing before the CURVE handshake has succeeded (a
  // send then fails at once instead of waiting in a queue that a refused key
  // never drains).
  bool immediate = true;
  // ZMQ_SNDHWM and ZMQ_RCVHWM; nullopt keeps libzmq's default (1000 frames).
  std::optional<int> high_water_mark;
  // For testers who want the broker to queue frames for them soon (a slow
  // consumer): ZMQ_RCVHWM and ZMQ_RCVBUF, overriding high_water_mark.
  std::optional<int> receive_high_water_mark;
  std::optional<int> receive_buffer_bytes;
};

// Reads the broker's CURVE public key (Z85 text, e.g. <pki>/broker.pub).
Result<crypto::TransportPublicKey> read_broker_key(const std::filesystem::path& file);

// An ERROR frame as a Status that leads with Error.code: for the codes that
// close a session the broker's reasons name the underlying causes (code
// SESSION_REVOKED, reason REVOKED), and callers act on the code.
Status error_status(const tearline::v1::Error& error);

class Connection {
 public:
  // Creates the socket with `transport` (copied into the socket; the key
  // need not outlive the call) and connects to options.endpoint. Nothing is
  // sent. UNAVAILABLE when ZeroMQ refuses the endpoint or the options.
  static Result<std::unique_ptr<Connection>> open(const ConnectionOptions& options,
                                                  const crypto::TransportPublicKey& broker_key,
                                                  const crypto::TransportKey& transport);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const ConnectionOptions& options() const { return options_; }

  // ---- Session establishment ------------------------------------------------

  // Says HELLO until WELCOME, for at most options.connect_timeout_ms: OK; the
  // broker's ERROR (error_status()); HANDSHAKE_REFUSED once the handshake
  // failed (handshake_failure()); or UNAVAILABLE. Other frames that arrive
  // are queued.
  Status hello();
  // One HELLO on the connection as it is (e.g. after the broker closed the
  // session): OK on WELCOME, the ERROR's status, UNAVAILABLE after a 20 ms
  // pause when the HELLO cannot be queued (so that a caller retrying in a
  // loop does not spin), or UNAVAILABLE after timeout_ms.
  Status say_hello(int timeout_ms);
  // True once the broker refused the CURVE handshake (its ZAP handler said
  // no). Such a connection never carries a frame.
  bool handshake_refused();
  // HANDSHAKE_REFUSED with what failed, once the last handshake failed: the
  // broker refused this node's transport key (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH),
  // or the broker closed the handshake, which a CURVE server does when the
  // client encrypted to another key than its own: the broker's key does not
  // match options.broker_key_file (_NO_DETAIL, _PROTOCOL). OK otherwise,
  // and again after a handshake that succeeded.
  Status handshake_failure();
  // The link's changes since the last call, oldest first: true when a CURVE
  // handshake succeeded (the first one, or after a drop), false when the
  // connection dropped. Never blocks.
  std::vector<bool> link_changes();
  // The last WELCOME received (default-constructed before the first): its
  // broker_id names the broker whose receipts this session must see.
  const tearline::v1::Welcome& welcome() const { return welcome_; }

  // ---- Requests, pipelined ---------------------------------------------------

  // A fresh request id (1, 2, ...; never kNoRequestId).
  std::uint64_t next_request_id() { return next_request_id_++; }
  // Sends a request frame (one with a request id) without waiting for room
  // (try_send) and marks its id in flight. Several may be in flight at once.
  Status start(const tearline::v1::Frame& request);
  // Waits up to timeout_ms for the answer (ACCEPTED, REJECTED or ERROR) to
  // request `id` in flight; frames that arrive meanwhile are kept: answers to
  // other requests in flight for their finish(), the rest queued as events.
  // Any ERROR PROTOCOL_VIOLATION that arrives meanwhile, whatever its id,
  // ends the wait and is returned: the broker has forgotten the session (it
  // restarted), so no answer will come; say HELLO and start again.
  // UNAVAILABLE on timeout; the request is then abandoned (a late answer is
  // queued as an event).
  Result<tearline::v1::Frame> finish(std::uint64_t id, int timeout_ms);
  // start() then finish().
  Result<tearline::v1::Frame> request(const tearline::v1::Frame& request, int timeout_ms);
  std::size_t in_flight() const { return in_flight_.size(); }

  // ---- Everything else the broker sends --------------------------------------

  // A frame, or a Status for bytes that did not decode as a frame
  // (MALFORMED_FRAME, FRAME_TOO_LARGE, ...).
  using Event = Result<tearline::v1::Frame>;
  // The oldest queued event, without reading the socket; nullopt when none.
  std::optional<Event> take_event();
  // The next event within timeout_ms (0: only what has already arrived),
  // queued ones first; answers to requests in flight are kept for finish().
  // nullopt on timeout.
  std::optional<Event> next_event(int timeout_ms);

  // ---- Raw frames, for testers and load generators -----------------------------

  // Sends bytes as one message, waiting at most options.send_timeout_ms for
  // room: OK, or UNAVAILABLE.
  Status send(ByteView frame_bytes);
  Status send(const tearline::v1::Frame& frame);
  // Sends without waiting: OK, or UNAVAILABLE when the message cannot be
  // queued now (no connection yet with `immediate`, or the queue is full).
  Status try_send(ByteView frame_bytes);
  Status try_send(const tearline::v1::Frame& frame);
  // Sends one message of several parts without waiting (the protocol allows
  // one part; testers check that the broker refuses more): OK, or
  // UNAVAILABLE when it cannot be queued now.
  Status try_send_parts(const std::vector<Bytes>& parts);
  // Queues `last` (a BYE) without waiting and lets the socket, when it is
  // destroyed, spend at most linger_ms sending it (ZMQ_LINGER).
  void send_last(const tearline::v1::Frame& last, int linger_ms);
  // The next frame within timeout_ms (0: only what has already arrived),
  // queued events first, with no request matching; nullopt on timeout or on
  // bytes that do not decode. For callers that track their own request ids.
  std::optional<tearline::v1::Frame> receive(int timeout_ms);
  // The next message as bytes, undecoded (for a peer that does not speak the
  // tearline protocol, e.g. the bench's raw relay): calls `take` with the
  // bytes, valid only during the call. False on timeout.
  bool receive_bytes(int timeout_ms, const std::function<void(ByteView)>& take);

  // For an event loop: the socket's ZMQ_FD (edge-triggered; see zmq_getsockopt)
  // and whether a message can be read now.
  int fd();
  bool readable();

  struct Socket;  // the ZeroMQ objects (connection.cc)

 private:
  Connection(ConnectionOptions options, std::unique_ptr<Socket> socket);
  // One message from the socket within timeout_ms, decoded; nullopt on timeout.
  std::optional<Event> read(int timeout_ms);
  // Files a frame: an answer to a request in flight goes to answers_, the rest to events_.
  void file(Event event);
  // Reads every pending monitor event into handshake_failure_ and link_changes_.
  void read_monitor();

  ConnectionOptions options_;
  std::unique_ptr<Socket> socket_;
  std::uint64_t next_request_id_ = 1;
  std::set<std::uint64_t> in_flight_;
  std::unordered_map<std::uint64_t, tearline::v1::Frame> answers_;
  std::deque<Event> events_;
  tearline::v1::Welcome welcome_;
  int handshake_failure_event_ =
      0;  // the ZMQ_EVENT_HANDSHAKE_FAILED_* seen last; 0 after a success, or once nothing listens
  bool retried_since_connected_ = false;  // a ZMQ_EVENT_CONNECT_RETRIED since the last CONNECTED
  std::vector<bool> link_changes_;
};

}  // namespace tearline::client
