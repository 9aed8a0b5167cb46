// Runner::State's sends that act as someone else: copies from a partner
// broker (the runner as its boundary broker, PartnerServer) and the ACK
// faults (a raw session answering its DELIVER with a crafted receipt).
#include "cli/inject/inject_runner_state.h"

namespace tearline::cli::inject {

// ---- copies from a partner broker -------------------------------------------

// The case's report, of `originator`, sent by the runner as the partner
// broker `as` to the broker under test (PartnerServer), as the fault says.
Result<Verdict> Runner::State::send_from_partner(const Case& c, std::size_t index) {
  auto server = servers.find(c.as);
  if (server == servers.end()) {
    return failed(Status::fail(Code::INVALID_FIELD, "the runner does not serve as " + c.as + ": run with --serve " +
                                                        c.as + "=ENDPOINT, the endpoint the broker's [[peer]] " +
                                                        "names for it"));
  }
  report::ReportDraft draft = c.draft;
  draft.created_at_ms = now_ms();
  draft.sequence = next_sequence(c.originator);
  auto built = build(draft, c.originator, c.originator);
  if (!built) return failed(built.status());
  Sent s{c.name, built->report_id, to_hex(built->report_id), built->bytes, {}};
  for (const auto& section : c.draft.sections) s.texts.push_back(to_string(section.content));
  names[s.report_id_hex] = c.name;
  sent[index] = std::move(s);

  PartnerServer::Copy copy{built->bytes, {}, nullptr, c.fault == Fault::kLinkCut};
  switch (c.fault) {
    case Fault::kForgedHopStamp: copy.alter_receipt = flip_acceptance_signature; break;
    case Fault::kReplayedHopStamp: {
      auto earlier = c.replay_of ? hop_stamps.find(*c.replay_of) : hop_stamps.end();
      if (earlier == hop_stamps.end()) {
        return failed(Status::fail(Code::INVALID_FIELD, "replay_of: that case sent no copy from a partner broker"));
      }
      copy.alter_receipt = [stamp = earlier->second](const Bytes&) { return stamp; };
      break;
    }
    case Fault::kLoopedCopy: {  // published here first: the copy comes back with our broker's stamp on its path
      std::optional<Verdict> refused;
      Case as_originator = c;
      as_originator.as = c.originator;
      auto session = sender(as_originator, &refused);
      if (!session) return session.status();
      if (refused) return *refused;
      auto published = (*session)->publish_bytes(built->bytes);
      if (!published) return published.status();
      if (!published->accepted) return failed(published->status);
      last_accepted[c.originator] = std::max(last_accepted[c.originator], draft.sequence);
      copy.path = crossing_path({Bytes(published->receipt.begin(), published->receipt.end())});
      break;
    }
    default: break;
  }
  Bytes stamp;
  auto v = server->second->send(copy, &stamp, &pending_problems);
  if (!v) return v.status();
  hop_stamps[index] = std::move(stamp);
  if (v->got == kExpectAccepted) last_accepted[c.originator] = std::max(last_accepted[c.originator], draft.sequence);
  return v;
}

// ---- ACK faults ------------------------------------------------------------

// The next frame within the timeout that `want` accepts; others are dropped.
std::optional<v1::Frame> Runner::State::await(client::Connection& conn,
                                              const std::function<bool(const v1::Frame&)>& want) const {
  const std::int64_t deadline = steady_ms() + timeout();
  while (steady_ms() < deadline) {
    auto event = conn.next_event(static_cast<int>(std::max<std::int64_t>(1, deadline - steady_ms())));
    if (event && event->is_ok() && want(event->value())) return std::move(event->value());
  }
  return std::nullopt;
}

// On a raw connection of the sender (no library session, so nothing ACKs
// for it): subscribe to the case's topic, publish the case's report,
// receive its DELIVER, answer with the ACK the fault crafts. The verdict is
// the broker's answer to that ACK; then a PING must still be answered (a
// bad ACK is a bad frame: the session stays), else a problem is reported
// with the deliveries.
Result<Verdict> Runner::State::send_ack_fault(const Case& c, std::size_t index) {
  report::ReportDraft draft = c.draft;
  draft.created_at_ms = now_ms();
  draft.sequence = next_sequence(c.as);
  auto built = build(draft, c.as, c.as);
  if (!built) return failed(built.status());
  Sent sent_report{c.name, built->report_id, to_hex(built->report_id), built->bytes, {}};
  for (const auto& section : c.draft.sections) sent_report.texts.push_back(to_string(section.content));
  names[sent_report.report_id_hex] = c.name;
  sent[index] = sent_report;

  auto own = secrets(c.as);
  if (!own) return failed(own.status());
  const std::string other = c.other.empty() ? other_than(c.as) : c.other;
  auto other_key = secrets(other);
  if (!other_key) return failed(other_key.status());
  auto broker_key = client::read_broker_key(options.directory_path() / "broker.pub");
  if (!broker_key) return failed(broker_key.status());
  client::ConnectionOptions o;
  o.endpoint = options.broker;
  o.client_name = std::string(kClientName);
  o.node_id = c.as;
  o.connect_timeout_ms = timeout();
  o.send_timeout_ms = timeout();
  auto conn = client::Connection::open(o, *broker_key, (*own)->transport);
  if (!conn) return conn.status();
  if (Status hello = (*conn)->hello(); !hello) {
    if (hello.code() == Code::UNAVAILABLE) return hello;
    return failed(hello);
  }
  auto subscribed = (*conn)->request(wire::make_subscribe((*conn)->next_request_id(), {draft.topic}), timeout());
  if (!subscribed) return subscribed.status();
  if (!subscribed->has_accepted()) return verdict_of(std::optional<v1::Frame>(*subscribed), timeout());
  auto published = (*conn)->request(wire::make_publish((*conn)->next_request_id(), built->bytes), timeout());
  if (!published) return published.status();
  if (!published->has_accepted()) return verdict_of(std::optional<v1::Frame>(*published), timeout());
  last_accepted[c.as] = std::max(last_accepted[c.as], draft.sequence);

  // Deliveries from before (the node's durable subscriptions) may come first.
  const std::string id = sent_report.report_id_hex;
  auto deliver = await(**conn, [&](const v1::Frame& f) {
    if (!f.has_deliver()) return false;
    auto parsed = report::parse_report_structure(as_bytes(f.deliver().report()));
    return parsed && parsed->report_id_hex() == id;
  });
  if (!deliver) {
    return failed(Status::fail(Code::UNAVAILABLE, c.as + " did not receive the case's report within " +
                                                      std::to_string(timeout()) + " ms, so no ACK was sent"));
  }
  const v1::Deliver& d = deliver->deliver();
  const receipt::DeliveredCopy copy = receipt::describe_copy(d.broker_seq(), as_bytes(d.report()));
  const std::string& broker = (*conn)->welcome().broker_id();
  Bytes ack_receipt;
  switch (c.fault) {
    case Fault::kForgedAckReceipt:
      ack_receipt = flip_receipt_signature(receipt::sign_delivery(c.as, broker, (*own)->signing, now_ms(), {copy}));
      break;
    case Fault::kAckReceiptOtherBroker:
      ack_receipt = receipt::sign_delivery(c.as, other_broker_id(broker), (*own)->signing, now_ms(), {copy});
      break;
    default: ack_receipt = receipt::sign_delivery(c.as, broker, (*other_key)->signing, now_ms(), {copy}); break;
  }
  if (Status s = (*conn)->send(ack_frame(d.broker_seq(), ack_receipt)); !s) return s;
  const auto answer = await(**conn, [](const v1::Frame& f) { return !f.has_deliver() && !f.has_pong(); });
  const Verdict v = verdict_of(answer, timeout());

  // Still served: the broker answers this session's PING with a PONG.
  constexpr std::uint64_t kNonce = 0x7ea1;
  bool ponged = false;
  if ((*conn)->try_send(wire::make_ping(kNonce))) {
    const std::int64_t deadline = steady_ms() + timeout();
    while (!ponged && steady_ms() < deadline) {
      auto event = (*conn)->next_event(static_cast<int>(std::max<std::int64_t>(1, deadline - steady_ms())));
      ponged = event && event->is_ok() && event->value().has_pong() && event->value().pong().nonce() == kNonce;
    }
  }
  if (!ponged) pending_problems.push_back(c.as + ": its session no longer answered PING after the faulty ACK");
  return v;
}

}  // namespace tearline::cli::inject
