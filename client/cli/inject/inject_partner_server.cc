#include "cli/inject/inject_partner_server.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "base/clock.h"
#include "receipt/acceptance.h"
#include "receipt/delivery.h"
#include "report/verify.h"
#include "wire/frame.h"
#include "wire/limits.h"

namespace tearline::cli::inject {
namespace v1 = tearline::v1;

namespace {

constexpr int kPollMs = 20;
constexpr int kBindTries = 50;  // 100 ms apart: the endpoint of a socket just closed may take a moment to free
constexpr std::size_t kMaxIncomingFrameBytes = std::size_t{1} << 20;

}  // namespace

PartnerServer::PartnerServer(std::string broker_id, std::string endpoint, crypto::BrokerSecrets keys,
                             const identity::DirectoryPtr& directory, std::string broker_under_test, int timeout_ms)
    : broker_id_(std::move(broker_id)),
      endpoint_(std::move(endpoint)),
      keys_(std::move(keys)),
      directory_(directory),
      broker_under_test_(std::move(broker_under_test)),
      timeout_ms_(timeout_ms) {}

PartnerServer::~PartnerServer() = default;

Status PartnerServer::bind() {
  std::string last_error;
  for (int i = 0; i < kBindTries; ++i) {
    try {
      auto s = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
      s->set(zmq::sockopt::linger, 0);
      s->set(zmq::sockopt::curve_server, 1);
      s->set(zmq::sockopt::curve_secretkey,
             zmq::buffer(keys_.transport.secret().data(), keys_.transport.secret().size()));
      s->set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(kMaxIncomingFrameBytes));
      s->bind(endpoint_);
      socket_ = std::move(s);
      return Status::ok();
    } catch (const zmq::error_t& e) {
      last_error = e.what();
      if (e.num() != EADDRINUSE) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return Status::fail(Code::IO_ERROR, "cannot serve as partner broker " + broker_id_ + " at " + endpoint_ + ": " +
                                          last_error + " (give --serve a free endpoint, the one the broker's " +
                                          "[[peer]] names)");
}

void PartnerServer::to(const std::string& peer, const v1::Frame& frame) {
  if (!socket_) return;
  const Bytes bytes = wire::encode_frame(frame);
  try {
    (void)socket_->send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    (void)socket_->send(zmq::buffer(bytes.data(), bytes.size()), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // Ignored: a peer gone; its next session gets what is not acknowledged.
  }
}

void PartnerServer::serve() {
  while (socket_) {
    zmq::message_t id, body;
    if (!socket_->recv(id, zmq::recv_flags::dontwait)) return;
    if (!id.more() || !socket_->recv(body, zmq::recv_flags::dontwait)) continue;
    for (bool more = body.more(); more;) {  // a DEALER sends one frame per message: the rest is dropped
      zmq::message_t extra;
      more = socket_->recv(extra, zmq::recv_flags::dontwait) && extra.more();
    }
    const std::string peer(static_cast<const char*>(id.data()), id.size());
    auto frame = wire::decode_frame(ByteView(static_cast<const std::uint8_t*>(body.data()), body.size()),
                                    kMaxIncomingFrameBytes);
    if (!frame) {
      to(peer, wire::make_error(Code::MALFORMED_FRAME, frame.status()));
      continue;
    }
    on_frame(peer, *frame);
  }
}

void PartnerServer::on_frame(const std::string& peer, const v1::Frame& frame) {
  if (frame.has_hello()) {  // a new session; an older one of the broker is over
    session_ = peer;
    subscribed_ = false;
    const std::int64_t now = SystemClock::instance().now_ms();
    to(peer, wire::make_welcome("", now, static_cast<std::uint32_t>(wire::kDefaultMaxFrameBytes),
                                static_cast<std::uint32_t>(wire::kDefaultMaxSubscriptions), broker_id_));
    return;
  }
  if (peer != session_) {  // as a broker that restarted and lost the session: the peer opens a new one
    to(peer, wire::make_error(Code::PROTOCOL_VIOLATION, "no session: HELLO first", wire::request_id_of(frame)));
    return;
  }
  switch (frame.body_case()) {
    case v1::Frame::kSubscribe:
      to(peer, wire::make_accepted(frame.subscribe().request_id()));
      if (!subscribed_) {  // what it has not acknowledged, again, in order
        subscribed_ = true;
        for (const auto& [seq, bytes] : unacked_) {
          auto deliver = wire::decode_frame(bytes, std::size_t{64} << 20);
          if (deliver) to(peer, *deliver);
        }
      }
      break;
    case v1::Frame::kPing: to(peer, wire::make_pong(frame.ping().nonce())); break;
    case v1::Frame::kAck: on_ack(frame.ack()); break;
    case v1::Frame::kBye:
      session_.clear();
      subscribed_ = false;
      break;
    default:
      to(peer, wire::make_error(Code::PROTOCOL_VIOLATION,
                                std::string(wire::frame_type_name(frame)) + " is not for a partner broker",
                                wire::request_id_of(frame)));
      break;
  }
}

// An ACK is taken only when it is what the broker under test owes: its
// signed receipt, for copies sent with the bytes sent, the last one the
// ACK's seq, and refusals of those copies only.
void PartnerServer::on_ack(const v1::Ack& ack) {
  if (ignore_acks_) {  // link_cut: the broker acknowledged; the runner "crashes" before reading it
    ignored_up_to_ = std::max(ignored_up_to_, ack.broker_seq());
    return;
  }
  auto receipt = receipt::parse_delivery(as_bytes(ack.receipt()));
  Status good =
      receipt ? receipt::verify_delivery(*receipt, *directory_, SystemClock::instance().now_ms()) : receipt.status();
  if (good) {
    if (receipt->broker_id() != broker_id_) good.add(Code::RECEIPT_INVALID, "it names broker " + receipt->broker_id());
    if (receipt->node_id() != broker_under_test_) {
      good.add(Code::RECEIPT_INVALID, "it is signed by " + receipt->node_id() + ", not " + broker_under_test_);
    }
    if (receipt->entries(receipt->entries_size() - 1).broker_seq() != ack.broker_seq()) {
      good.add(Code::RECEIPT_INVALID, "its last entry is not the ACK's seq");
    }
    for (const auto& e : receipt->entries()) {
      auto sent = sent_.find(e.broker_seq());
      if (sent == sent_.end() || !crypto::equal_ct(sent->second.first, as_bytes(e.copy_hash())) ||
          sent->second.second != e.report_id()) {
        good.add(Code::RECEIPT_INVALID,
                 "its entry for seq " + std::to_string(e.broker_seq()) + " is not the copy sent (hash and report id)");
      }
    }
    for (const auto& r : ack.refused()) {
      const bool named = std::any_of(receipt->entries().begin(), receipt->entries().end(), [&](const auto& e) {
        return e.broker_seq() == r.broker_seq() && e.report_id() == r.report_id();
      });
      if (!named) good.add(Code::RECEIPT_INVALID, "it refuses seq " + std::to_string(r.broker_seq()) + ", no entry");
    }
  }
  if (!good) {
    receipt_problems_.push_back(broker_id_ + " (served by the runner): the broker's ACK of seq " +
                                std::to_string(ack.broker_seq()) + " is not taken: " + good.to_string());
    return;
  }
  for (const auto& r : ack.refused()) refused_[r.broker_seq()] = wire::status_from_proto(r.reasons());
  acked_ = std::max(acked_, ack.broker_seq());
  unacked_.erase(unacked_.begin(), unacked_.upper_bound(acked_));
}

Status PartnerServer::wait_for_session(std::int64_t deadline) {
  for (;;) {
    serve();
    if (!session_.empty() && subscribed_) return Status::ok();
    if (steady_ms() >= deadline) break;
    zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
    (void)zmq::poll(&item, 1, std::chrono::milliseconds(kPollMs));
  }
  return Status::fail(Code::UNAVAILABLE, "the broker under test held no session with the runner as " + broker_id_ +
                                             " at " + endpoint_ + " within " + std::to_string(kLinkWaitMs / 1000) +
                                             " s: does its [[peer]] name " + broker_id_ + " at " + endpoint_ +
                                             ", and does a peering in effect let a topic cross towards it?");
}

Result<Verdict> PartnerServer::send(const Copy& copy, Bytes* receipt_signed, std::vector<std::string>* problems) {
  if (!socket_) return Status::fail(Code::UNAVAILABLE, "not serving as " + broker_id_);
  receipt_problems_.clear();
  if (Status s = wait_for_session(steady_ms() + kLinkWaitMs); !s) return s;
  auto parsed = report::parse_report_structure(copy.report);
  if (!parsed) return parsed.status();
  const std::uint64_t seq = ++next_seq_;
  const std::int64_t now = SystemClock::instance().now_ms();
  Bytes receipt =
      receipt::sign_acceptance(broker_id_, keys_.audit, seq, {receipt::report_digest(parsed->report)}, now).front();
  if (receipt_signed != nullptr) *receipt_signed = receipt;
  if (copy.alter_receipt) receipt = copy.alter_receipt(receipt);
  const v1::Frame deliver = wire::make_deliver(seq, copy.report, receipt, {}, copy.path);
  unacked_[seq] = wire::encode_frame(deliver);
  sent_[seq] = {receipt::copy_hash(copy.report), parsed->header.report_id()};
  to(session_, deliver);
  if (copy.cut) {
    // The broker takes the copy and acknowledges it; the runner "crashes"
    // before it reads that ACK (the socket closed, no BYE; the broker's
    // DEALER reconnects by itself), so the copy goes again to the next
    // session, where it is a duplicate.
    ignore_acks_ = true;
    const std::int64_t until = steady_ms() + timeout_ms_;
    while (ignored_up_to_ < seq && steady_ms() < until) {
      zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
      (void)zmq::poll(&item, 1, std::chrono::milliseconds(kPollMs));
      serve();
    }
    ignore_acks_ = false;
    if (ignored_up_to_ < seq) {
      return Status::fail(Code::UNAVAILABLE, "the broker under test did not acknowledge seq " + std::to_string(seq) +
                                                 " before the cut within " + std::to_string(timeout_ms_) + " ms");
    }
    socket_.reset();
    session_.clear();
    subscribed_ = false;
    if (Status bound = bind(); !bound) return bound;
    if (Status s = wait_for_session(steady_ms() + kLinkWaitMs); !s) return s;
  }
  const std::int64_t deadline = steady_ms() + timeout_ms_;
  while (acked_ < seq && steady_ms() < deadline) {
    zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
    (void)zmq::poll(&item, 1, std::chrono::milliseconds(kPollMs));
    serve();
  }
  const bool not_taken = !receipt_problems_.empty();
  if (not_taken) {
    problems->insert(problems->end(), receipt_problems_.begin(), receipt_problems_.end());
    receipt_problems_.clear();
  }
  if (acked_ < seq && not_taken) {  // the case fails on its problems, whatever it expected
    return Verdict{"(no ACK taken)", Status::fail(Code::RECEIPT_INVALID, problems->back())};
  }
  if (acked_ < seq) {
    return Status::fail(Code::UNAVAILABLE, "the broker under test did not acknowledge seq " + std::to_string(seq) +
                                               " from " + broker_id_ + " within " + std::to_string(timeout_ms_) +
                                               " ms");
  }
  auto why = refused_.find(seq);
  return why == refused_.end() ? accepted() : failed(why->second);
}

}  // namespace tearline::cli::inject
