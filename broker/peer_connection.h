// PeerConnection: this broker's link to one partner agency's broker, the
// receiving side of a boundary (docs/federation.md, "The receiving boundary
// broker"). Owned and driven by the broker's I/O thread alone.
//
// It is a client of the partner's broker on the wire the nodes use (broker/
// never links the client library): a DEALER socket with CURVE (this
// broker's transport key; the server key the peering names for the
// partner's broker), HELLO, then a durable SUBSCRIBE to the topics the
// peering lets cross towards us, then DELIVERs. The partner's broker keeps
// the durable cursor, so each new session resumes after what we
// acknowledged.
//
// Copies. Each DELIVER becomes an IngressJob (arrival set) that the broker
// checks (federation::check_arrival) and, when taken, stores in its own
// group commit. The broker then says how each copy settled (settle()):
//  - kDone: stored durably, refused for good (its reasons audited), or a
//    duplicate of a report stored already; acknowledged;
//  - kRetry: not stored for a reason that may pass (the store failed or
//    halted): never acknowledged. The session is closed, so that the
//    partner sends it again, and everything after it, to the next one.
// ACKs are cumulative per stream (Deliver.writer), so an ACK covers the
// longest run of settled copies at the front of the stream's queue, with a
// delivery receipt signed by this broker naming each (receipt/delivery.h),
// and says which of them were refused, and why (Ack.refused), so that the
// partner's audit log holds the refusal too.
//
// Sessions. A session ends when the partner answers an ERROR that closes
// it or PROTOCOL_VIOLATION (it restarted and lost the session: our next
// PING, within kPingMs, finds out), sends BYE, is silent for kSilentMs (PINGs every kPingMs keep a
// healthy one talking) or has not answered HELLO and every SUBSCRIBE
// (at most 64 patterns each) within kSilentMs, when a copy settles kRetry, or when no peering
// with it is in effect any more. The next session starts only once every
// copy of the last one has settled (so a copy still in the group commit is
// never acknowledged twice, nor a redelivery of it taken for a duplicate
// before it is durable), and no sooner than kRetryMs after the last began.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "broker/config.h"
#include "broker/ingress.h"
#include "broker/trust_state.h"
#include "crypto/keys.h"
#include "receipt/delivery.h"
#include "tearline/v1/wire.pb.h"

namespace spdlog {
class logger;
}

namespace tearline::broker {

// The prefix of every routing id an arrival carries through the broker
// (IngressResult::routing_id): no ZeroMQ routing id starts with it.
inline constexpr std::string_view kPeerRoutingPrefix = std::string_view("\0peer:", 6);

class PeerConnection {
 public:
  static constexpr std::int64_t kPingMs = 5'000;
  static constexpr std::int64_t kSilentMs = 20'000;
  static constexpr std::int64_t kRetryMs = 2'000;

  enum class Settled { kDone, kRetry };

  struct Keys {
    const crypto::TransportKey& transport;  // this broker's CURVE key pair
    const crypto::SigningKey& signing;      // this broker's credential key: signs the receipts
  };

  // `our_id`: this broker's node id, read at each use (a reload may change
  // it). `our_id`, `context` and `keys` must outlive it.
  PeerConnection(PeerEndpoint where, const std::string& our_id, zmq::context_t& context, Keys keys,
                 std::shared_ptr<spdlog::logger> log);
  ~PeerConnection();
  PeerConnection(const PeerConnection&) = delete;
  PeerConnection& operator=(const PeerConnection&) = delete;

  const std::string& broker() const { return where_.broker; }
  // The routing id its arrivals carry (kPeerRoutingPrefix + broker id).
  const std::string& routing_id() const { return routing_id_; }
  // Numbers the sessions; an arrival names the one it came on.
  std::uint64_t session() const { return session_; }
  // Whether `session` is the one open now: a copy of an ended session is
  // never staged (the partner sends it again to the next).
  bool live(std::uint64_t session) const { return socket_ != nullptr && session == session_; }
  // Whether a session is open and its SUBSCRIBE answered.
  bool ready() const { return socket_ != nullptr && state_ == State::kReady; }
  // The socket to poll for input, or nullptr while no session is open.
  void* socket_handle();

  // Opens a session when none is open, the last one's copies have all
  // settled, `link` (the peering in effect with this partner now; null:
  // none) is set and lets some topic cross towards us, and the retry delay
  // has passed; ends one whose partner is silent or whose peering ended or
  // no longer lets anything cross; PINGs. `steady_ms`: monotonic time.
  void tick(const PeerLink* link, std::int64_t steady_ms);

  // Reads every frame waiting; returns a job per DELIVER, in order.
  std::vector<IngressJob> receive(std::int64_t steady_ms, std::int64_t now_ms);

  // How the copy `broker_seq` of `writer`, which arrived on `session`,
  // settled; `refused`: why a kDone copy was refused (OK: taken, or a
  // duplicate). A copy of an ended session is only counted off.
  void settle(std::uint64_t session, const std::string& writer, std::uint64_t broker_seq, Settled how,
              const Status& refused = Status::ok());

  // Sends the ACKs that settled copies allow (wall time `now_ms` in the receipts).
  void flush_acks(std::int64_t now_ms);

  // Audit checkpoints (docs/federation.md, "Audit checkpoints"): our newest,
  // sent in each PING; the partner's, from its PONG, taken once.
  void set_checkpoint(std::optional<tearline::v1::AuditCheckpoint> ours) { our_checkpoint_ = std::move(ours); }
  std::optional<tearline::v1::AuditCheckpoint> take_partner_checkpoint() { return std::exchange(theirs_, {}); }

 private:
  enum class State { kIdle, kHello, kSubscribing, kReady };
  struct Copy {
    receipt::DeliveredCopy entry;
    std::optional<Settled> settled;
    Status refused;  // why it was refused, told to the partner with its ACK
  };

  void open(const PeerLink& link, std::int64_t steady_ms);
  void close(const std::string& why, bool say_bye);
  void send(const tearline::v1::Frame& frame);
  void on_frame(tearline::v1::Frame& frame, std::int64_t now_ms, std::vector<IngressJob>* jobs);

  PeerEndpoint where_;
  const std::string& our_id_;
  std::string routing_id_;
  zmq::context_t& context_;
  Keys keys_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::optional<tearline::v1::AuditCheckpoint> our_checkpoint_, theirs_;
  State state_ = State::kIdle;
  std::uint64_t session_ = 0;
  std::int64_t opened_ms_ = 0, heard_ms_ = 0, pinged_ms_ = 0;
  std::int64_t retry_ms_ = kRetryMs;  // doubles while the partner refuses us, up to 30 s
  std::uint64_t next_request_ = 1;
  std::vector<std::uint64_t> subscribes_;  // SUBSCRIBE requests not yet answered
  std::vector<std::string> patterns_;      // subscribed in this session
  // Copies of the current session by stream, in arrival order; and the
  // count of a past session's that have not settled.
  std::map<std::string, std::deque<Copy>> copies_;
  std::size_t past_unsettled_ = 0;
};

}  // namespace tearline::broker
