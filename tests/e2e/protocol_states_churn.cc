// The state table's BYE row (docs/protocol.md section 5 and 6.12), checked
// against a real broker in each state (protocol_states_test.cc pairs it with
// its row).
#include <string>

#include "protocol_states_checkers.h"
#include "protocol_states_wire.h"

namespace tearline::protocol_states {

void bye_in_any_state() {
  BrokerFixture fx(limits([](Limits& l) {
    l.max_failures = 2;
    l.failure_cooldown_ms = 0;
  }));
  auto subscriber = ready_session(fx, kReader);
  CHECK(ask(*subscriber, wire::make_subscribe(1, {"intel.>"})) == "ACCEPTED / 1");
  for (const std::string state : {"NEW", "READY", "CLOSED"}) {
    INFO("in " << state);
    auto w = session_in(state, fx, kPublisher);
    CHECK(ask(*w, wire::make_bye("checking the state table"), kQuietMs) == "nothing");
    CHECK(state_of(*w) == "NEW");  // forgotten: the probe made a NEW session
  }
  // The node's subscription and cursor stay: its next session, attaching,
  // is delivered what was published meanwhile.
  CHECK(ask(*subscriber, wire::make_bye("leaving"), kQuietMs) == "nothing");
  auto publisher = ready_session(fx, kPublisher);
  const std::uint64_t seq = publish(*publisher, 1, "after the BYE");
  CHECK(ask(*subscriber, hello()) == "WELCOME");
  CHECK(ask(*subscriber, wire::make_subscribe(2, {"intel.>"})) == "DELIVER " + std::to_string(seq));
}

}  // namespace tearline::protocol_states
