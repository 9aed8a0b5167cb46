// A step of the broker's wall clock (issue 16 point 6), with a FixedClock:
// set_ms() steps only the wall clock, advance_ms() is time passing. Timers
// (session timeouts, housekeeping) follow the steady clock, so a +2 h step
// leaves a session that spoke recently alone; the step itself is logged,
// counted (wall_clock_steps) and audited (event "clock", decision "stepped").
// The same with the real clock under libfaketime: tests/cli/clock_step_test.sh.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "audit/audit_db.h"
#include "base/clock.h"
#include "client/connection.h"
#include "crypto/key_file.h"
#include "support/e2e_helpers.h"

namespace tearline {
namespace {

namespace v1 = tearline::v1;
using client::Connection;

constexpr int kWaitMs = 5000;
constexpr std::int64_t kTwoHoursMs = std::int64_t{2} * 3600 * 1000;
constexpr std::int64_t kSessionTimeoutMs = 5000;

std::unique_ptr<Connection> must_open(const testing::BrokerFixture& fx, const std::string& node) {
  auto keys = crypto::read_node_keys(fx.pki().node_key(node));
  REQUIRE(keys);
  auto broker_key = client::read_broker_key(fx.pki().broker_public());
  REQUIRE(broker_key);
  client::ConnectionOptions options;
  options.endpoint = fx.endpoint();
  options.node_id = node;
  options.connect_timeout_ms = kWaitMs;
  auto connection = Connection::open(options, *broker_key, keys->transport);
  INFO(connection.status().to_string());
  REQUIRE(connection);
  Status hello = (*connection)->hello();
  INFO(hello.to_string());
  REQUIRE(hello);
  return std::move(connection).value();
}

// LIST_SUBSCRIPTIONS on the connection: true when the broker answered it as
// a READY session does, false when it answered PROTOCOL_VIOLATION (it had
// forgotten the session).
bool session_answers(Connection& c) {
  auto answer = c.request(wire::make_list_subscriptions(c.next_request_id()), kWaitMs);
  if (answer && answer->has_subscription_list()) return true;
  const bool forgotten =
      answer ? (answer->has_error() && answer->error().code() == static_cast<std::uint32_t>(Code::PROTOCOL_VIOLATION))
             : answer.status().has(Code::PROTOCOL_VIOLATION);
  INFO((answer ? answer->DebugString() : answer.status().to_string()));
  REQUIRE(forgotten);
  return false;
}

void wait_for_steps(const testing::BrokerFixture& fx, std::uint64_t steps) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
  while (fx.stats().wall_clock_steps < steps && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(fx.stats().wall_clock_steps == steps);
}

TEST_CASE("clock: a session that spoke recently survives a +2 h wall-clock step; the step is counted and audited") {
  FixedClock clock(SystemClock::instance().now_ms());
  testing::BrokerFixture fx([](broker::Config& c) { c.limits.session_timeout_ms = kSessionTimeoutMs; }, clock);
  auto reader = must_open(fx, "dea-cucuta-agent");
  auto other = must_open(fx, "dea-bogota-analyst");
  REQUIRE(session_answers(*reader));

  // The wall clock jumps 2 h ahead while 300 ms pass: housekeeping (due
  // every 250 ms of steady time) runs without any frame from the nodes.
  clock.set_ms(clock.now_ms() + kTwoHoursMs);
  clock.advance_ms(300);
  wait_for_steps(fx, 1);
  CHECK(session_answers(*reader));
  CHECK(session_answers(*other));
  CHECK(fx.stats().closed_sessions == 0);

  // Time passing (steady time) still ends an idle session: `reader` stays
  // silent, `other` speaks half-way; the step is not counted again.
  clock.advance_ms(3000);
  REQUIRE(session_answers(*other));
  REQUIRE(session_answers(*other));  // the second answer comes after a housekeeping pass
  clock.advance_ms(3000);
  REQUIRE(session_answers(*other));
  REQUIRE(session_answers(*other));
  CHECK_FALSE(session_answers(*reader));
  CHECK(fx.stats().wall_clock_steps == 1);

  fx.stop();
  auto entries = audit::read_entries(fx.database());
  REQUIRE(entries);
  const auto stepped = std::count_if(entries->begin(), entries->end(), [](const audit::AuditEntry& e) {
    return e.event == "clock" && e.decision == "stepped" && e.detail.find("delta_ms=7200000") != std::string::npos;
  });
  CHECK(stepped == 1);
}

TEST_CASE("clock: a backward wall-clock step is also seen, and steps under 2 s are not") {
  FixedClock clock(SystemClock::instance().now_ms());
  testing::BrokerFixture fx([](broker::Config&) {}, clock);
  auto node = must_open(fx, "dea-cucuta-agent");
  clock.set_ms(clock.now_ms() + 1500);  // NTP slewing or a small correction: not a step
  clock.advance_ms(300);
  REQUIRE(session_answers(*node));
  REQUIRE(session_answers(*node));
  CHECK(fx.stats().wall_clock_steps == 0);
  clock.set_ms(clock.now_ms() - 60'000);
  clock.advance_ms(300);
  wait_for_steps(fx, 1);
  CHECK(session_answers(*node));
}

}  // namespace
}  // namespace tearline
