#include "protocol_states_wire.h"

#include <chrono>
#include <thread>

#include "wire/frame.h"

namespace tearline::protocol_states {
namespace {

std::uint64_t fresh_nonce() {
  static std::uint64_t nonce = 1000;
  return ++nonce;
}

}  // namespace

std::string code_text(std::uint32_t number) {
  Code code = Code::OK;
  return code_from_number(number, &code) ? std::string(code_name(code)) : "code " + std::to_string(number);
}

// "ERROR MALFORMED_FRAME / 0", "REJECTED TOPIC_INVALID / 3", "ACCEPTED / 3",
// "PONG 7", "DELIVER 12", "WELCOME", or "nothing".
std::string describe(const std::optional<v1::Frame>& f) {
  if (!f) return "nothing";
  switch (f->body_case()) {
    case v1::Frame::kError:
      return "ERROR " + code_text(f->error().code()) + " / " + std::to_string(f->error().request_id());
    case v1::Frame::kRejected:
      return "REJECTED " + code_text(f->rejected().code()) + " / " + std::to_string(f->rejected().request_id());
    case v1::Frame::kAccepted: return "ACCEPTED / " + std::to_string(f->accepted().request_id());
    case v1::Frame::kPong: return "PONG " + std::to_string(f->pong().nonce());
    case v1::Frame::kDeliver: return "DELIVER " + std::to_string(f->deliver().broker_seq());
    default: return std::string(wire::frame_type_name(*f));
  }
}

// Sends `frame` and describes the next frame the broker sends (within
// kWaitMs, or kQuietMs when nothing is expected).
std::string ask(Wire& w, const Bytes& frame, int wait_ms) {
  w.send(frame);
  return describe(w.next(wait_ms));
}
std::string ask(Wire& w, const v1::Frame& frame, int wait_ms) { return ask(w, wire::encode_frame(frame), wait_ms); }

const Bytes kGarbage = to_bytes("\xff\xff\xff\xff garbage");

Bytes hello() { return wire::encode_frame(wire::make_hello("protocol-states-test")); }

// A HELLO of protocol version 2: answered ERROR UNSUPPORTED_VERSION in NEW
// and CLOSED, without a change of state.
Bytes hello_v2() {
  v1::Frame f = wire::make_hello("protocol-states-test");
  f.mutable_hello()->set_version(2);
  return wire::encode_frame(f);
}

// The state of w's session, by a probe: a PING answered PONG is READY,
// answered ERROR PROTOCOL_VIOLATION is NEW, not answered is CLOSED. "Not
// answered" is proven with a sentinel: a HELLO of version 2, which a CLOSED
// session answers (UNSUPPORTED_VERSION) without leaving CLOSED; its answer
// comes after any answer to the PING. DELIVERs on the way are skipped.
// Anything else is returned as "unexpected ...".
std::string state_of(Wire& w) {
  auto next_not_deliver = [&w](int timeout_ms) {
    for (;;) {
      auto f = w.next(timeout_ms);
      if (!f || !f->has_deliver()) return f;
    }
  };
  const std::uint64_t nonce = fresh_nonce();
  w.send(wire::make_ping(nonce));
  auto answer = next_not_deliver(kQuietMs);
  if (!answer) {
    w.send(hello_v2());
    answer = next_not_deliver(kWaitMs);
    if (describe(answer) == "ERROR UNSUPPORTED_VERSION / 0") return "CLOSED";
    (void)next_not_deliver(kWaitMs);  // a slow answer to the PING came first; this answers the sentinel
  }
  if (answer && answer->has_pong() && answer->pong().nonce() == nonce) return "READY";
  if (describe(answer) == "ERROR PROTOCOL_VIOLATION / 0") return "NEW";
  return "unexpected " + describe(answer);
}

// A session in NEW (the probe's PING made the broker create it; the ZAP
// handshake is over when it answers).
std::unique_ptr<Wire> new_session(const BrokerFixture& fx, const std::string& node) {
  auto w = std::make_unique<Wire>(fx, node);
  REQUIRE(state_of(*w) == "NEW");
  return w;
}

std::unique_ptr<Wire> ready_session(const BrokerFixture& fx, const std::string& node, bool tiny_buffers) {
  auto w = std::make_unique<Wire>(fx, node, tiny_buffers);
  REQUIRE(ask(*w, hello()) == "WELCOME");
  return w;
}

// Closes a READY session with TOO_MANY_FAILURES: bytes that do not decode
// until the broker gives up (max_failures of them). The closing ERROR comes
// after the last MALFORMED_FRAME: one more garbage frame, which the CLOSED
// session ignores, reads it.
void close_by_failures(Wire& w) {
  for (int i = 0; i < 100; ++i) {
    const std::string answer = ask(w, kGarbage);
    if (answer == "ERROR TOO_MANY_FAILURES / 0") return;
    REQUIRE(answer == "ERROR MALFORMED_FRAME / 0");
  }
  FAIL("the session was not closed after 100 failures");
}

std::unique_ptr<Wire> closed_session(const BrokerFixture& fx, const std::string& node) {
  auto w = ready_session(fx, node);
  close_by_failures(*w);
  REQUIRE(state_of(*w) == "CLOSED");
  return w;
}

BrokerFixture::Configure limits(void (*edit)(Limits&)) {
  return [edit](broker::Config& c) { edit(c.limits); };
}

// A session in `state` ("NEW", "READY" or "CLOSED"). CLOSED is reached by
// failures: lower max_failures, and set failure_cooldown_ms to 0 where a
// HELLO must pass afterwards.
std::unique_ptr<Wire> session_in(const std::string& state, const BrokerFixture& fx, const std::string& node) {
  if (state == "NEW") return new_session(fx, node);
  if (state == "READY") return ready_session(fx, node);
  REQUIRE(state == "CLOSED");
  return closed_session(fx, node);
}

// Readable by the DEA and DIRAN nodes of the demo (SECRET, COL and USA);
// dea-bogota-analyst may publish on intel.>, everyone may subscribe to it.
const policy::Label kShared = testing::label(v1::SECRET, {"COL", "USA"});
const std::string kPublisher = "dea-bogota-analyst";
const std::string kReader = "dea-cucuta-agent";

// Publishes one report on intel.finance and returns its broker_seq.
std::uint64_t publish(Wire& publisher, std::uint64_t request_id, const std::string& text) {
  publisher.send(wire::make_publish(request_id, publisher.report("intel.finance", kShared, text)));
  auto answer = publisher.next(kWaitMs);
  INFO(describe(answer));
  REQUIRE((answer && answer->has_accepted() && answer->accepted().request_id() == request_id));
  return answer->accepted().broker_seq();
}

// Sends `frame` on `w`, which does not read, until the broker closes the
// session as a slow consumer (its closed-session count moves; a CLOSED
// session that goes on answering may be closed so more than once before the
// count is read). Returns how many were sent.
std::size_t flood_until_closed(const BrokerFixture& fx, Wire& w, const Bytes& frame) {
  const auto closed_before = fx.stats().closed_sessions;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::size_t sent = 0;
  while (fx.stats().closed_sessions == closed_before && std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 500; ++i) sent += w.try_send(frame) ? 1 : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  INFO(sent << " frames sent");
  REQUIRE(fx.stats().closed_sessions > closed_before);
  return sent;
}

// Reads what the broker sent to a Wire that did not read: as long as it is
// `answer`, then the first other frame (or "nothing").
std::string first_after(Wire& w, const std::string& answer) {
  for (auto f = w.next(kWaitMs); f; f = w.next(kWaitMs)) {
    if (describe(f) != answer) return describe(f);
  }
  return "nothing";
}

// Rows whose State cell is "NEW, READY": the input in each of those states.
void in_new_and_ready(const BrokerFixture::Configure& configure,
                      const std::function<void(Wire&, const std::string& state)>& check) {
  BrokerFixture fx(configure);
  for (const std::string state : {"NEW", "READY"}) {
    INFO("in " << state);
    auto w = session_in(state, fx, kReader);
    check(*w, state);
  }
}

}  // namespace tearline::protocol_states
