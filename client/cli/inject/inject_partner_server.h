// The runner as a partner agency's boundary broker that the broker under
// test pulls from (docs/injection.md, "Copies from a partner broker").
//
// `tearline inject --serve dea-broker=ENDPOINT` binds a ROUTER at ENDPOINT
// with dea-broker's CURVE key from the PKI (PKI/keys/brokers/dea-broker.key).
// The broker under test, whose [[peer]] names dea-broker at that endpoint,
// connects, says HELLO and subscribes, as to the real dea-broker; the
// runner then sends it copies as dea-broker would: a DELIVER with the
// report's bytes, dea-broker's acceptance receipt (signed here with its key)
// and a path. Each copy waits for the ACK that covers it: taken, or refused
// with the reasons the broker under test gives in Ack.refused (docs/
// protocol.md 6.8). As a real partner keeps its cursor, copies not yet
// acknowledged are sent again, in order, to the next session.
//
// The broker PINGs every 5 s and drops a partner silent for 20 s: the
// runner calls serve() between its steps to answer. Anyone holding the
// server key may connect (there is no ZAP handler: a test tool); an ACK is
// taken only when its receipt verifies, signed by `broker_under_test`, for
// copies sent with the very bytes sent. One thread; owned by the Runner.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "base/bytes.h"
#include "base/result.h"
#include "cli/inject/inject_verdict.h"
#include "crypto/hash.h"
#include "crypto/key_file.h"
#include "identity/directory.h"

namespace tearline::cli::inject {

class PartnerServer {
 public:
  // How long a copy waits for the broker under test to hold a session: its
  // first HELLO may wait for its retry delay (up to 30 s after refusals).
  static constexpr int kLinkWaitMs = 35'000;

  // `directory` (the runner's, reloaded in place) verifies the broker's
  // delivery receipts; it must outlive the server. `broker_under_test`: the
  // node id that must sign them.
  PartnerServer(std::string broker_id, std::string endpoint, crypto::BrokerSecrets keys,
                const identity::DirectoryPtr& directory, std::string broker_under_test, int timeout_ms);
  ~PartnerServer();
  PartnerServer(const PartnerServer&) = delete;
  PartnerServer& operator=(const PartnerServer&) = delete;

  const std::string& broker() const { return broker_id_; }

  // Binds the endpoint. IO_ERROR when it cannot (in use, malformed).
  Status bind();
  // Answers every frame waiting (HELLO, SUBSCRIBE, PING, ACK, BYE); never blocks.
  void serve();

  struct Copy {
    Bytes report;  // the report's bytes, as the partner stored it
    Bytes path;    // a serialized CrossingPath; empty: published at the partner
    // Replaces the receipt signed for the copy (a forged or replayed hop stamp); null: sent as signed.
    std::function<Bytes(const Bytes& signed_receipt)> alter_receipt;
    // Cut the link once the broker has acknowledged the copy, before that
    // ACK is read (the partner's broker crashing: the socket closed, no
    // BYE), bind again and send the copy again to the next session, which
    // must take it as the duplicate it is.
    bool cut = false;
  };
  // Sends `copy` as the next seq of this broker's stream, with its
  // acceptance receipt (signed now; `*receipt_signed`, when not null, gets
  // it as signed, before alter_receipt) and waits for the ACK that covers
  // it. The verdict: accepted, or the broker's refusal. An ACK the runner
  // cannot take (its receipt does not verify, or names other copies than
  // were sent) is a line in `problems`. A failed Result (UNAVAILABLE): no
  // session within kLinkWaitMs, or no ACK within the timeout.
  Result<Verdict> send(const Copy& copy, Bytes* receipt_signed, std::vector<std::string>* problems);

 private:
  void on_frame(const std::string& peer, const tearline::v1::Frame& frame);
  void on_ack(const tearline::v1::Ack& ack);
  void to(const std::string& peer, const tearline::v1::Frame& frame);
  Status wait_for_session(std::int64_t deadline);

  std::string broker_id_, endpoint_;
  crypto::BrokerSecrets keys_;
  const identity::DirectoryPtr& directory_;
  std::string broker_under_test_;
  int timeout_ms_;
  zmq::context_t context_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::string session_;  // the routing id of the session that said HELLO; empty: none
  bool subscribed_ = false;
  std::uint64_t next_seq_ = 0, acked_ = 0;
  std::map<std::uint64_t, Bytes> unacked_;  // seq -> DELIVER frame, sent again to each new session
  std::map<std::uint64_t, std::pair<crypto::Digest, std::string>> sent_;  // seq -> copy hash, report id
  std::map<std::uint64_t, Status> refused_;                               // seq -> the broker's reasons (Ack.refused)
  std::vector<std::string> receipt_problems_;                             // ACKs not taken, since the last send() began
  bool ignore_acks_ = false;                                              // link_cut: an ACK is seen, not taken
  std::uint64_t ignored_up_to_ = 0;                                       // the highest seq an ignored ACK covered
};

}  // namespace tearline::cli::inject
