#include "broker/peer_connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "base/bytes.h"
#include "wire/frame.h"
#include "wire/limits.h"

namespace tearline::broker {
namespace v1 = tearline::v1;

namespace {

// A partner that refuses us is asked again no faster than this.
constexpr std::int64_t kMaxRetryMs = 30'000;
constexpr int kReceiveBatch = 256;
constexpr std::size_t kMaxAckEntries = receipt::kMaxDeliveryEntries;
// What a DELIVER may weigh, as the client library takes it: a report of the
// partner's largest frame plus its receipt, whatever the partner's limits.
constexpr std::size_t kMaxIncomingFrameBytes = std::size_t{64} << 20;
// Refused copies named per ACK: each at most 16 reasons of 256 bytes, so an
// ACK stays well under the partner's 1 MiB frame limit.
constexpr std::size_t kMaxRefusalsPerAck = 128;
// Patterns per SUBSCRIBE (docs/protocol.md 6.5).
constexpr std::size_t kPatternsPerSubscribe = 64;

}  // namespace

PeerConnection::PeerConnection(PeerEndpoint where, const std::string& our_id, zmq::context_t& context, Keys keys,
                               std::shared_ptr<spdlog::logger> log)
    : where_(std::move(where)),
      our_id_(our_id),
      routing_id_(std::string(kPeerRoutingPrefix) + where_.broker),
      context_(context),
      keys_(keys),
      log_(std::move(log)) {}

PeerConnection::~PeerConnection() {
  if (socket_) close("the broker is stopping", true);
}

void* PeerConnection::socket_handle() { return socket_ ? socket_->handle() : nullptr; }

void PeerConnection::tick(const PeerLink* link, std::int64_t steady_ms) {
  if (socket_) {
    if (link == nullptr || link->to_us().topics.empty()) {
      close("no peering in effect now lets anything cross from " + where_.broker + " to us", true);
    } else if (steady_ms - heard_ms_ > kSilentMs) {
      close(where_.broker + " said nothing for " + std::to_string(kSilentMs / 1000) + " s", false);
    } else if (state_ != State::kReady && steady_ms - opened_ms_ > kSilentMs) {
      close(where_.broker + " did not answer our HELLO and SUBSCRIBE within " + std::to_string(kSilentMs / 1000) + " s",
            true);
    } else if (state_ != State::kHello && steady_ms - pinged_ms_ >= kPingMs) {
      pinged_ms_ = steady_ms;
      v1::Frame ping = wire::make_ping(static_cast<std::uint64_t>(steady_ms));
      if (where_.checkpoints && our_checkpoint_) *ping.mutable_ping()->mutable_checkpoint() = *our_checkpoint_;
      send(ping);
    }
    return;
  }
  // A peering that lets nothing cross towards us needs no session.
  if (link == nullptr || link->to_us().topics.empty() || past_unsettled_ > 0) return;
  // Doubles while the partner keeps refusing us, from kRetryMs to kMaxRetryMs.
  if (opened_ms_ != 0 && steady_ms - opened_ms_ < retry_ms_) return;
  open(*link, steady_ms);
}

void PeerConnection::open(const PeerLink& link, std::int64_t steady_ms) {
  ++session_;
  opened_ms_ = heard_ms_ = pinged_ms_ = steady_ms;
  patterns_ = link.to_us().topics;
  const crypto::TransportPublicKey& server = link.them().transport_key;
  try {
    auto s = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
    s->set(zmq::sockopt::linger, 200);  // the ACKs of a clean stop still leave
    s->set(zmq::sockopt::curve_serverkey, zmq::buffer(server.bytes.data(), server.bytes.size()));
    s->set(zmq::sockopt::curve_publickey,
           zmq::buffer(keys_.transport.public_key().bytes.data(), keys_.transport.public_key().bytes.size()));
    s->set(zmq::sockopt::curve_secretkey,
           zmq::buffer(keys_.transport.secret().data(), keys_.transport.secret().size()));
    s->set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(kMaxIncomingFrameBytes));
    s->set(zmq::sockopt::rcvhwm, 10000);
    s->connect(where_.endpoint);
    socket_ = std::move(s);
  } catch (const zmq::error_t& e) {
    log_->error("event=peer_link_failed peer={} endpoint={} reason=\"{}\"", where_.broker, where_.endpoint, e.what());
    socket_.reset();
    return;
  }
  state_ = State::kHello;
  log_->info("event=peer_link_connecting peer={} endpoint={} session={}", where_.broker, where_.endpoint, session_);
  send(wire::make_hello("tearline-broker " + our_id_));
}

void PeerConnection::close(const std::string& why, bool say_bye) {
  if (!socket_) return;
  if (say_bye) send(wire::make_bye(why));
  log_->warn("event=peer_link_closed peer={} session={} reason=\"{}\"", where_.broker, session_, why);
  socket_.reset();
  retry_ms_ = state_ == State::kReady ? kRetryMs : std::min(kMaxRetryMs, retry_ms_ * 2);
  state_ = State::kIdle;
  // What was not settled is counted off as it settles; nothing of this
  // session is acknowledged any more (the partner sends it again).
  for (const auto& [writer, q] : copies_) {
    past_unsettled_ +=
        static_cast<std::size_t>(std::count_if(q.begin(), q.end(), [](const Copy& c) { return !c.settled; }));
  }
  copies_.clear();
}

void PeerConnection::send(const v1::Frame& frame) {
  if (!socket_) return;
  const Bytes bytes = wire::encode_frame(frame);
  try {
    (void)socket_->send(zmq::buffer(bytes.data(), bytes.size()), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    log_->warn("event=peer_link_send_failed peer={} reason=\"{}\"", where_.broker, e.what());
  }
}

std::vector<IngressJob> PeerConnection::receive(std::int64_t steady_ms, std::int64_t now_ms) {
  std::vector<IngressJob> jobs;
  for (int i = 0; i < kReceiveBatch && socket_; ++i) {
    zmq::message_t m;
    if (!socket_->recv(m, zmq::recv_flags::dontwait)) break;
    heard_ms_ = steady_ms;
    auto frame =
        wire::decode_frame(ByteView(static_cast<const std::uint8_t*>(m.data()), m.size()), kMaxIncomingFrameBytes);
    if (!frame) {
      close(where_.broker + " sent a frame that does not decode: " + frame.status().to_string(), true);
      break;
    }
    on_frame(*frame, now_ms, &jobs);
  }
  return jobs;
}

void PeerConnection::on_frame(v1::Frame& frame, std::int64_t now_ms, std::vector<IngressJob>* jobs) {
  switch (frame.body_case()) {
    case v1::Frame::kWelcome: {
      if (state_ != State::kHello) break;
      const v1::Welcome& w = frame.welcome();
      if (w.broker_id() != where_.broker) {
        close("the broker at " + where_.endpoint + " is " + w.broker_id() + ", not " + where_.broker, true);
        break;
      }
      state_ = State::kSubscribing;
      subscribes_.clear();
      for (std::size_t i = 0; i < patterns_.size(); i += kPatternsPerSubscribe) {
        const auto from = patterns_.begin() + static_cast<std::ptrdiff_t>(i);
        const auto to =
            patterns_.begin() + static_cast<std::ptrdiff_t>(std::min(patterns_.size(), i + kPatternsPerSubscribe));
        subscribes_.push_back(next_request_++);
        send(wire::make_subscribe(subscribes_.back(), std::vector<std::string>(from, to), false));
      }
      break;
    }
    case v1::Frame::kPong:
      if (frame.pong().has_checkpoint()) theirs_ = frame.pong().checkpoint();
      break;
    case v1::Frame::kAccepted:
      subscribes_.erase(std::remove(subscribes_.begin(), subscribes_.end(), frame.accepted().request_id()),
                        subscribes_.end());
      if (state_ == State::kSubscribing && subscribes_.empty()) {
        state_ = State::kReady;
        retry_ms_ = kRetryMs;
        std::string list;
        for (const auto& p : patterns_) list += (list.empty() ? "" : ",") + p;
        log_->info("event=peer_link_ready peer={} session={} patterns={}", where_.broker, session_, list);
      }
      break;
    case v1::Frame::kRejected:
      close(where_.broker + " refused our durable SUBSCRIBE: " + wire::status_of(frame.rejected()).to_string(), true);
      break;
    case v1::Frame::kError: {
      const Status why = wire::status_of(frame.error());
      const Code code = static_cast<Code>(frame.error().code());
      log_->warn("event=peer_link_error peer={} session={} code={} reasons=\"{}\"", where_.broker, session_,
                 code_name(code), why.to_string());
      // An answer to our HELLO, or to one of our SUBSCRIBEs, ends the
      // session as a closing code does, and so does PROTOCOL_VIOLATION
      // (a PING "before HELLO": the partner restarted and lost our
      // session; the connection came back by itself); one about an ACK
      // (RECEIPT_INVALID) does not: the next ACK taken moves the cursor
      // past them.
      const bool about_subscribe =
          std::find(subscribes_.begin(), subscribes_.end(), frame.error().request_id()) != subscribes_.end();
      if (state_ == State::kHello || about_subscribe || code == Code::PROTOCOL_VIOLATION ||
          wire::closes_session(code)) {
        close("ERROR " + std::string(code_name(code)), false);
      }
      break;
    }
    case v1::Frame::kDeliver: {
      // The backlog may come before the SUBSCRIBE's answer: the partner
      // answers it once its group commit has written our cursor, and starts
      // catching us up as soon as the session attached.
      if (state_ != State::kReady && state_ != State::kSubscribing) break;
      v1::Deliver& d = *frame.mutable_deliver();
      std::deque<Copy>& q = copies_[d.writer()];
      if (!q.empty() && d.broker_seq() <= q.back().entry.broker_seq) {
        close(where_.broker + " sent seq " + std::to_string(d.broker_seq()) + " after " +
                  std::to_string(q.back().entry.broker_seq),
              true);
        break;
      }
      q.push_back(Copy{receipt::describe_copy(d.broker_seq(), as_bytes(d.report())), std::nullopt, Status::ok()});
      IngressJob job;
      job.routing_id = routing_id_;
      job.node_id = routing_id_;  // the verifier pool keeps one partner's copies in order
      job.report = to_bytes(d.report());
      job.received_ms = now_ms;
      job.arrival =
          ArrivalTag{where_.broker, session_, d.writer(), d.broker_seq(), to_bytes(d.receipt()), to_bytes(d.path())};
      jobs->push_back(std::move(job));
      break;
    }
    case v1::Frame::kBye: close(where_.broker + " said BYE: " + frame.bye().reason(), false); break;
    default: break;  // PONG, GAP, DIRECTORY_CHANGED: hearing them is enough
  }
}

void PeerConnection::settle(std::uint64_t session, const std::string& writer, std::uint64_t broker_seq, Settled how,
                            const Status& refused) {
  if (session != session_ || !socket_) {
    if (past_unsettled_ > 0) --past_unsettled_;
    return;
  }
  auto it = copies_.find(writer);
  if (it == copies_.end()) return;
  for (Copy& c : it->second) {
    if (c.entry.broker_seq != broker_seq) continue;
    c.settled = how;
    c.refused = refused;
    break;
  }
  if (how == Settled::kRetry) {
    close("a copy from " + where_.broker + " could not be stored; it and what follows come again next session", true);
  }
}

void PeerConnection::flush_acks(std::int64_t now_ms) {
  // The partner's session is READY from WELCOME on: ACKs may precede the
  // answers to our SUBSCRIBEs, as the backlog may.
  if (!socket_ || state_ == State::kHello) return;
  for (auto& [writer, q] : copies_) {
    std::vector<receipt::DeliveredCopy> entries;
    std::vector<v1::CopyRefusal> refused;
    while (!q.empty() && q.front().settled == Settled::kDone && entries.size() < kMaxAckEntries) {
      Copy& c = q.front();
      if (!c.refused.is_ok() && where_.refusals) {
        if (refused.size() == kMaxRefusalsPerAck) break;  // the next ACK names it
        refused.push_back(wire::make_copy_refusal(c.entry.broker_seq, c.entry.report_id, c.refused));
      }
      entries.push_back(std::move(c.entry));
      q.pop_front();
    }
    if (entries.empty()) continue;
    const std::uint64_t last = entries.back().broker_seq;
    const Bytes receipt = receipt::sign_delivery(our_id_, where_.broker, keys_.signing, now_ms, entries, writer);
    v1::Frame ack = wire::make_ack(last, receipt, writer);
    for (auto& r : refused) *ack.mutable_ack()->add_refused() = std::move(r);
    send(ack);
  }
}

}  // namespace tearline::broker
