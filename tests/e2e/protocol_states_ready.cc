// The state table's rows for a READY session, for any state, and for CLOSED:
// each client frame, deliveries, the ways a session is closed (failures,
// rate limiting, revocation, a slow consumer, a timeout), and what a CLOSED
// session ignores (protocol_states_checkers.h).
#include "protocol_states_checkers.h"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "protocol_states_wire.h"

namespace tearline::protocol_states {

void ready_hello() {
  BrokerFixture fx;
  auto w = ready_session(fx, kReader);
  CHECK(ask(*w, hello()) == "ERROR PROTOCOL_VIOLATION / 0");
  CHECK(state_of(*w) == "READY");
}

void ready_admin() {
  BrokerFixture fx;
  auto admin = ready_session(fx, "diran-cucuta-commander");  // the demo's one admin role
  auto other = ready_session(fx, kReader);
  CHECK(ask(*admin, wire::make_admin(5, wire::kAdminReload)) == "ACCEPTED / 5");
  auto status = ask(*admin, wire::make_admin(8, wire::kAdminStatus));
  CHECK(status == "BROKER_STATUS");
  CHECK(ask(*admin, wire::make_admin(6, "reboot")) == "REJECTED INVALID_FIELD / 6");
  CHECK(ask(*other, wire::make_admin(7, wire::kAdminReload)) == "REJECTED NOT_AUTHORIZED / 7");
  CHECK(ask(*other, wire::make_admin(9, wire::kAdminStatus)) == "REJECTED NOT_AUTHORIZED / 9");
  CHECK(state_of(*admin) == "READY");
  CHECK(state_of(*other) == "READY");
}

// REJECTED STORAGE_* is not driven: the store would have to fail its commit.
void ready_subscribe() {
  BrokerFixture fx(limits([](Limits& l) { l.max_subscriptions = 1; }));
  auto w = ready_session(fx, kReader);
  CHECK(ask(*w, wire::make_subscribe(1, {"intel..finance"})) == "REJECTED TOPIC_INVALID / 1");
  CHECK(ask(*w, wire::make_subscribe(2, {"intel.finance"})) == "ACCEPTED / 2");
  CHECK(ask(*w, wire::make_subscribe(3, {"intel.routes"})) == "REJECTED TOO_MANY_SUBSCRIPTIONS / 3");
  CHECK(ask(*w, wire::make_subscribe(4, {"ops.>"})) == "REJECTED TOPIC_READ_DENIED / 4");
  CHECK(ask(*w, wire::make_subscribe(5, {"unit.other-unit.>"})) == "REJECTED NOT_UNIT_MEMBER / 5");
  CHECK(ask(*w, wire::make_subscribe(6, {"intel.x"}, true)) == "ACCEPTED / 6");  // session-only: at once
  CHECK(state_of(*w) == "READY");
}

void ready_list_subscriptions() {
  BrokerFixture fx;
  auto w = ready_session(fx, kReader);
  CHECK(ask(*w, wire::make_subscribe(1, {"intel.finance"})) == "ACCEPTED / 1");
  w->send(wire::make_list_subscriptions(2));
  auto list = w->next(kWaitMs);
  REQUIRE(describe(list) == "SUBSCRIPTION_LIST");
  CHECK(list->subscription_list().request_id() == 2);
  CHECK(list->subscription_list().durable_size() == 1);
  CHECK(state_of(*w) == "READY");
}

void ready_directory_changed() {
  BrokerFixture fx;
  auto w = ready_session(fx, kReader);
  fx.revoke("DIRAN", "diran-bogota-hq");  // another node: a new revocation list, a new digest
  CHECK(describe(w->next(kWaitMs)) == "DIRECTORY_CHANGED");
  CHECK(state_of(*w) == "READY");
}

// REJECTED STORAGE_* is not driven: the store would have to fail its commit.
void ready_unsubscribe() {
  BrokerFixture fx;
  auto w = ready_session(fx, kReader);
  CHECK(ask(*w, wire::make_subscribe(1, {"intel.finance"})) == "ACCEPTED / 1");
  CHECK(ask(*w, wire::make_unsubscribe(2, {"intel.finance"})) == "ACCEPTED / 2");
  CHECK(ask(*w, wire::make_unsubscribe(3, {"intel.never"})) == "ACCEPTED / 3");
  CHECK(ask(*w, wire::make_unsubscribe(4, {"intel..x"})) == "REJECTED TOPIC_INVALID / 4");
  CHECK(ask(*w, wire::make_unsubscribe(5, {"intel.x"}, true)) == "ACCEPTED / 5");  // session-only: at once
  CHECK(state_of(*w) == "READY");
}

// Driven: ACCEPTED, REJECTED after the checks, RATE_LIMITED. Not driven:
// STORAGE_HALTED (a failed sync) and BROKER_BUSY (a race with the verifier
// pool; limits_test.cc provokes it statistically).
void ready_publish() {
  BrokerFixture fx(limits([](Limits& l) {
    l.publish_rate = 1;
    l.publish_burst = 2;
  }));
  auto w = ready_session(fx, kPublisher);
  CHECK(ask(*w, wire::make_publish(1, w->report("intel.finance", kShared, "fine"))) == "ACCEPTED / 1");
  CHECK(ask(*w, wire::make_publish(2, kGarbage)) == "REJECTED REPORT_MALFORMED / 2");
  CHECK(ask(*w, wire::make_publish(3, w->report("intel.finance", kShared, "too soon"))) == "REJECTED RATE_LIMITED / 3");
  CHECK(state_of(*w) == "READY");
}

void ready_ping() {
  BrokerFixture fx;
  auto w = ready_session(fx, kReader);
  CHECK(ask(*w, wire::make_ping(0xfeedface)) == "PONG " + std::to_string(0xfeedface));
  CHECK(ask(*w, wire::make_ping(0)) == "PONG 0");
  CHECK(state_of(*w) == "READY");
}

// An ACK whose receipt does not verify (each kind: test_receipts), one
// without a receipt, and one for a copy already acknowledged: each a bad
// frame, the session stays READY; the good ACK after them is taken.
void ready_ack_receipt_invalid() {
  BrokerFixture fx;
  auto publisher = ready_session(fx, kPublisher);
  auto w = ready_session(fx, kReader);
  CHECK(ask(*w, wire::make_subscribe(1, {"intel.>"})) == "ACCEPTED / 1");
  const std::uint64_t seq = publish(*publisher, 1, "acknowledged twice");
  auto one = w->next(kWaitMs);
  REQUIRE(describe(one) == "DELIVER " + std::to_string(seq));
  CHECK(ask(*w, wire::make_ack(seq)) == "ERROR RECEIPT_INVALID / 0");
  CHECK(state_of(*w) == "READY");
  CHECK(ask(*w, w->ack({one->deliver()}), kQuietMs) == "nothing");
  CHECK(ask(*w, w->ack({one->deliver()})) == "ERROR RECEIPT_INVALID / 0");
  CHECK(state_of(*w) == "READY");
}

// An ACK with the node's signed delivery receipt for what it was sent.
void ready_ack() {
  BrokerFixture fx;
  auto publisher = ready_session(fx, kPublisher);
  auto w = ready_session(fx, kReader);
  CHECK(ask(*w, wire::make_subscribe(1, {"intel.>"})) == "ACCEPTED / 1");
  const std::uint64_t first = publish(*publisher, 1, "acknowledged alone");
  auto one = w->next(kWaitMs);
  REQUIRE(describe(one) == "DELIVER " + std::to_string(first));
  CHECK(ask(*w, w->ack({one->deliver()}), kQuietMs) == "nothing");
  const std::uint64_t second = publish(*publisher, 2, "acknowledged together");
  const std::uint64_t third = publish(*publisher, 3, "with this one");
  auto two = w->next(kWaitMs);
  auto three = w->next(kWaitMs);
  REQUIRE(describe(two) == "DELIVER " + std::to_string(second));
  REQUIRE(describe(three) == "DELIVER " + std::to_string(third));
  CHECK(ask(*w, w->ack({two->deliver(), three->deliver()}), kQuietMs) == "nothing");
  CHECK(state_of(*w) == "READY");  // the PONG is the first frame after the ACKs
}

// Live, when the report is committed; and from the store, to a second
// session of the node that attaches behind the report (nothing was ACKed).
void ready_report_judged() {
  BrokerFixture fx;
  auto publisher = ready_session(fx, kPublisher);
  auto live = ready_session(fx, kReader);
  CHECK(ask(*live, wire::make_subscribe(1, {"intel.>"})) == "ACCEPTED / 1");
  const std::uint64_t seq = publish(*publisher, 1, "judged for the reader");
  auto delivered = live->next(kWaitMs);
  CHECK(describe(delivered) == "DELIVER " + std::to_string(seq));
  CHECK(state_of(*live) == "READY");

  auto catching_up = ready_session(fx, kReader);
  catching_up->send(wire::make_subscribe(2, {"intel.>"}));
  // The SUBSCRIBE's ACCEPTED waits for a group commit; the catch-up DELIVER
  // does not: they come in either order.
  auto first = catching_up->next(kWaitMs);
  auto second = catching_up->next(kWaitMs);
  if (first && first->has_accepted()) std::swap(first, second);
  auto from_store = std::move(first);
  CHECK(describe(second) == "ACCEPTED / 2");
  CHECK(describe(from_store) == "DELIVER " + std::to_string(seq));
  if (delivered && from_store) CHECK(delivered->deliver().report() == from_store->deliver().report());
  CHECK(state_of(*catching_up) == "READY");
}

// The frame that reaches max_failures is a REJECTED here (a failure of
// another kind than the first two).
void ready_max_failures() {
  BrokerFixture fx(limits([](Limits& l) { l.max_failures = 3; }));
  auto w = ready_session(fx, kReader);
  CHECK(ask(*w, kGarbage) == "ERROR MALFORMED_FRAME / 0");
  CHECK(ask(*w, wire::make_pong(1)) == "ERROR UNEXPECTED_FRAME / 0");
  CHECK(state_of(*w) == "READY");  // PING neither counts nor resets
  CHECK(ask(*w, wire::make_subscribe(9, {"intel..x"})) == "REJECTED TOPIC_INVALID / 9");
  CHECK(describe(w->next(kWaitMs)) == "ERROR TOO_MANY_FAILURES / 0");
  CHECK(state_of(*w) == "CLOSED");
}

void ready_rate_limited_flood() {
  BrokerFixture fx(limits([](Limits& l) {
    l.publish_rate = 1;
    l.publish_burst = 1;
    l.max_rate_limited = 3;
  }));
  auto w = ready_session(fx, kPublisher);
  CHECK(ask(*w, wire::make_publish(1, w->report("intel.finance", kShared, "the one token"))) == "ACCEPTED / 1");
  // RATE_LIMITED refusals are not verified: the report bytes do not matter.
  for (std::uint64_t id = 2; id <= 4; ++id) {
    CHECK(ask(*w, wire::make_publish(id, kGarbage)) == "REJECTED RATE_LIMITED / " + std::to_string(id));
  }
  CHECK(state_of(*w) == "READY");
  CHECK(ask(*w, wire::make_publish(5, kGarbage)) == "REJECTED RATE_LIMITED / 5");
  CHECK(describe(w->next(kWaitMs)) == "ERROR TOO_MANY_FAILURES / 0");
  CHECK(state_of(*w) == "CLOSED");
}

// Driven through a reload (BrokerFixture::revoke). Not driven: the
// housekeeping pass, which would need a credential that expires during the
// test, and "frames still queued are dropped first" (a client cannot make
// the broker hold frames at a chosen moment without closing the session as
// a slow consumer first).
void ready_credential_invalid() {
  BrokerFixture fx;
  auto w = ready_session(fx, kReader);
  auto other = ready_session(fx, kPublisher);
  fx.revoke("DEA", kReader);  // returns once the broker has reloaded
  CHECK(describe(w->next(kWaitMs)) == "ERROR SESSION_REVOKED / 0");
  CHECK(state_of(*w) == "CLOSED");
  // The new directory is announced to the sessions still READY.
  CHECK(describe(other->next(kWaitMs)) == "DIRECTORY_CHANGED");
  CHECK(state_of(*other) == "READY");
}

// In each state, a Wire that does not read is sent frames that the state
// answers (NEW: a PING, PROTOCOL_VIOLATION; READY: a PING, PONG; CLOSED: a
// HELLO of version 2, UNSUPPORTED_VERSION) until the broker closes the
// session; then it reads the answers that reached its socket, ERROR
// SLOW_CONSUMER, and nothing after it. (That the queued frames were dropped
// is not observable: the client cannot tell how many answers were queued.)
void slow_consumer() {
  BrokerFixture fx(limits([](Limits& l) { l.max_pending_deliveries = 16; }));
  const Bytes ping = wire::encode_frame(wire::make_ping(77));
  struct Case {
    std::string state;
    Bytes frame;
    std::string answer;
  };
  for (const auto& c : {Case{"NEW", ping, "ERROR PROTOCOL_VIOLATION / 0"}, Case{"READY", ping, "PONG 77"},
                        Case{"CLOSED", hello_v2(), "ERROR UNSUPPORTED_VERSION / 0"}}) {
    INFO("in " << c.state);
    auto w = std::make_unique<Wire>(fx, kReader, /*tiny_buffers=*/true);
    if (c.state != "NEW") REQUIRE(ask(*w, hello()) == "WELCOME");
    if (c.state == "CLOSED") close_by_failures(*w);
    flood_until_closed(fx, *w, c.frame);
    CHECK(first_after(*w, c.answer) == "ERROR SLOW_CONSUMER / 0");
    // NEW and READY sessions answer no PING once CLOSED; a CLOSED one goes
    // on answering the HELLOs it read after the ERROR was queued.
    std::string after = describe(w->next(kQuietMs));
    while (c.state == "CLOSED" && (after == c.answer || after == "ERROR SLOW_CONSUMER / 0")) {
      after = describe(w->next(kQuietMs));
    }
    CHECK(after == "nothing");
    CHECK(state_of(*w) == "CLOSED");
  }
}

// READY and CLOSED sessions are forgotten and the next message creates a
// NEW one; the node's subscription and cursor survive. (A NEW session that
// is forgotten is replaced by a NEW one: not observable.)
void session_timeout() {
  constexpr int kTimeoutMs = 1000;  // the lowest the configuration allows
  BrokerFixture fx(limits([](Limits& l) {
    l.session_timeout_ms = kTimeoutMs;
    l.max_failures = 2;
    l.failure_cooldown_ms = 0;
  }));
  auto ready = ready_session(fx, kReader);
  CHECK(ask(*ready, wire::make_subscribe(1, {"intel.>"})) == "ACCEPTED / 1");
  auto closed = closed_session(fx, "fgr-liaison");
  auto publisher = std::make_unique<Wire>(fx, kPublisher);  // its HELLO comes after the timeout
  // Housekeeping runs every 250 ms: gone after at most timeout + 250 ms.
  CHECK(describe(ready->next(kTimeoutMs + 700)) == "nothing");
  CHECK(describe(closed->next(0)) == "nothing");
  CHECK(ask(*ready, wire::make_ping(1)) == "ERROR PROTOCOL_VIOLATION / 0");
  CHECK(ask(*closed, wire::make_ping(1)) == "ERROR PROTOCOL_VIOLATION / 0");
  // The node's subscription stays: a report published now is delivered to
  // its next session once it attaches (SUBSCRIBE of the stored pattern).
  CHECK(ask(*publisher, hello()) == "WELCOME");
  CHECK(ask(*ready, hello()) == "WELCOME");
  CHECK(ask(*ready, wire::make_subscribe(2, {"intel.>"})) == "ACCEPTED / 2");
  const std::uint64_t seq = publish(*publisher, 1, "after the timeout");
  CHECK(describe(ready->next(kWaitMs)) == "DELIVER " + std::to_string(seq));
}

void closed_anything_else() {
  constexpr std::size_t kMaxFrame = 4096;
  BrokerFixture fx(limits([](Limits& l) {
    l.max_frame_bytes = kMaxFrame;
    l.max_failures = 2;
  }));
  auto w = closed_session(fx, kReader);
  const std::vector<Bytes> inputs = {
      wire::encode_frame(wire::make_ping(1)),
      wire::encode_frame(wire::make_subscribe(2, {"intel.>"})),
      wire::encode_frame(wire::make_unsubscribe(3, {"intel.>"})),
      wire::encode_frame(wire::make_publish(4, w->report("intel.finance", kShared, "closed"))),
      wire::encode_frame(wire::make_ack(5)),
      wire::encode_frame(wire::make_admin(6, wire::kAdminReload)),
      wire::encode_frame(wire::make_pong(7)),
      kGarbage,
      Bytes(kMaxFrame + 1, 0x0a),
  };
  for (const auto& bytes : inputs) w->send(bytes);
  w->send_parts({inputs[0], inputs[0]});
  CHECK(describe(w->next(kQuietMs)) == "nothing");
  CHECK(state_of(*w) == "CLOSED");
}

}  // namespace tearline::protocol_states
