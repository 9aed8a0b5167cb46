// Issue 16, points 7 and 9, end to end: session churn and refused
// handshakes do no harm (docs/reliability.md, "Floods and session churn";
// docs/protocol.md 6.12). BYE frees a session's slot at once, and so does a
// dropped connection (ConnectionWatch); a node beyond max_sessions_per_node
// replaces its oldest session (ERROR SESSION_REPLACED); refused HELLOs and
// handshakes are counted one by one and audited as one entry per source and
// reason per interval; and one node churning HELLO and close as fast as it
// can never delays another node's HELLO beyond 1 s.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_db.h"
#include "broker/refusal_notice.h"
#include "protocol_states_wire.h"
#include "support/raw_curve_peer.h"

namespace tearline::protocol_states {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

std::vector<audit::AuditEntry> audit_entries(const BrokerFixture& fx, const std::string& event,
                                             const std::string& decision) {
  auto entries = audit::read_entries(fx.database());
  REQUIRE(entries);
  std::vector<audit::AuditEntry> out;
  for (const auto& e : *entries) {
    if (e.event == event && e.decision == decision) out.push_back(e);
  }
  return out;
}

TEST_CASE("issue 16: BYE forgets the session at once and frees its slot", "[e2e][issue16]") {
  BrokerFixture fx(limits([](Limits& l) { l.max_connections = 1; }));
  auto leaving = ready_session(fx, kPublisher);
  auto waiting = new_session(fx, kReader);
  CHECK(ask(*waiting, hello()) == "ERROR BROKER_BUSY / 0");
  // BYE is not answered ...
  CHECK(ask(*leaving, wire::make_bye("done for today"), kQuietMs) == "nothing");
  // ... and the slot is free at once; the connection that said BYE is NEW.
  CHECK(ask(*waiting, hello()) == "WELCOME");
  CHECK(state_of(*leaving) == "NEW");
  // BYE is valid in NEW too (nothing to forget but the NEW session).
  CHECK(ask(*leaving, wire::make_bye(""), kQuietMs) == "nothing");
  CHECK(state_of(*waiting) == "READY");
}

TEST_CASE("issue 16: the client library says BYE when a session is closed cleanly", "[e2e][issue16]") {
  BrokerFixture fx(limits([](Limits& l) { l.max_connections = 1; }));
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    { auto s = testing::must_connect(fx, round % 2 == 0 ? kPublisher : kReader); }  // destroyed: BYE
    const auto started = Clock::now();
    auto next = fx.connect(round % 2 == 0 ? kReader : kPublisher);
    INFO(next.status().to_string());
    CHECK(next);
    CHECK(ms_since(started) < 1000);
  }
}

TEST_CASE("issue 16: a dropped connection's session is forgotten without waiting for its timeout", "[e2e][issue16]") {
  BrokerFixture fx(limits([](Limits& l) { l.max_connections = 1; }));
  auto dropped = ready_session(fx, kPublisher);
  dropped.reset();  // no BYE: the TCP connection closes
  auto waiting = new_session(fx, kReader);
  // The broker learns of the drop asynchronously: a HELLO is refused
  // BROKER_BUSY until then, which must be well within 2 s (the session
  // timeout is 60 s).
  std::string answer;
  const auto started = Clock::now();
  while ((answer = ask(*waiting, hello())) == "ERROR BROKER_BUSY / 0" && ms_since(started) < 2000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(answer == "WELCOME");
}

TEST_CASE("issue 16: a HELLO beyond max_sessions_per_node replaces the node's oldest session", "[e2e][issue16]") {
  BrokerFixture fx(limits([](Limits& l) { l.max_sessions_per_node = 2; }));
  auto first = ready_session(fx, kPublisher);
  auto second = ready_session(fx, kPublisher);
  auto other = ready_session(fx, kReader);
  auto third = new_session(fx, kPublisher);
  CHECK(ask(*third, hello()) == "WELCOME");
  CHECK(describe(first->next(kWaitMs)) == "ERROR SESSION_REPLACED / 0");
  CHECK(state_of(*first) == "NEW");  // forgotten: its next frame makes a NEW session
  CHECK(state_of(*second) == "READY");
  CHECK(state_of(*third) == "READY");
  CHECK(state_of(*other) == "READY");
  // The replaced connection may say HELLO again: it replaces `second` now.
  CHECK(ask(*first, hello()) == "WELCOME");
  CHECK(describe(second->next(kWaitMs)) == "ERROR SESSION_REPLACED / 0");
  CHECK(state_of(*third) == "READY");
}

TEST_CASE("issue 16: a node holding a session may not take the reserved slots", "[e2e][issue16]") {
  // max_connections 8: a reserve of at most 8 / 4 = 2.
  BrokerFixture fx(limits([](Limits& l) {
    l.max_connections = 8;
    l.reserved_sessions = 2;
  }));
  std::vector<std::unique_ptr<Wire>> held;
  held.reserve(6);
  for (int i = 0; i < 6; ++i) held.push_back(ready_session(fx, kPublisher));
  auto greedy = new_session(fx, kPublisher);
  CHECK(ask(*greedy, hello()) == "ERROR BROKER_BUSY / 0");
  auto newcomer = new_session(fx, kReader);
  CHECK(ask(*newcomer, hello()) == "WELCOME");
  CHECK(fx.stats().refused_hellos == 1);
}

TEST_CASE("issue 16: refused HELLOs are counted one by one and audited per node per interval", "[e2e][issue16]") {
  BrokerFixture fx(limits([](Limits& l) { l.max_connections = 1; }));
  auto holder = ready_session(fx, kPublisher);
  auto refused = new_session(fx, kReader);
  for (int i = 0; i < 5; ++i) CHECK(ask(*refused, hello()) == "ERROR BROKER_BUSY / 0");
  CHECK(fx.stats().refused_hellos == 5);
  fx.stop();
  const auto entries = audit_entries(fx, "session", "refused");
  REQUIRE(entries.size() == 1);  // one interval (10 s) of one node
  CHECK(entries[0].node == kReader);
  CHECK(entries[0].detail.rfind("5 HELLOs refused within ", 0) == 0);
  CHECK(entries[0].detail.find("BROKER_BUSY") != std::string::npos);
}

TEST_CASE("issue 16: refused handshakes are counted one by one and audited per address per interval",
          "[e2e][issue16]") {
  constexpr int kBadConnections = 10;  // within the address's budget of ERRORs (refusal_notice.h)
  BrokerFixture fx;
  auto broker_key = client::read_broker_key(fx.pki().broker_public());
  REQUIRE(broker_key);
  for (int i = 0; i < kBadConnections; ++i) {
    client::ConnectionOptions options;
    options.endpoint = fx.endpoint();
    options.node_id = "nobody";
    const crypto::TransportKey unknown = crypto::TransportKey::generate();
    auto connection = client::Connection::open(options, *broker_key, unknown);
    REQUIRE(connection);
    const auto started = Clock::now();
    while (!(*connection)->handshake_refused() && ms_since(started) < kWaitMs) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    REQUIRE((*connection)->handshake_refused());
  }
  // libzmq may try a refused connection again before it is closed: at least
  // one refusal each, all counted.
  const std::uint64_t refusals = fx.stats().refused_handshakes;
  CHECK(refusals >= kBadConnections);
  auto admitted = ready_session(fx, kReader);  // the flood refused nobody else
  fx.stop();
  const auto entries = audit_entries(fx, "connection", "refused");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].detail.rfind(std::to_string(refusals) + " handshakes from 127.0.0.1 refused within ", 0) == 0);
  CHECK(entries[0].detail.find("transport key is not in any credential") != std::string::npos);
}

// A peer that ignores the broker's ERROR and keeps its end open: libzmq
// 4.3.4 would keep each such refused connection, and its descriptor, until
// handshake_timeout_ms (5 s). Past the address's budget of ERRORs the broker
// answers `000`, and libzmq closes the connection at once without an ERROR.
TEST_CASE(
    "issue 16: refused handshakes past an address's budget are closed at once, even by a peer that "
    "ignores ERROR",
    "[e2e][issue16]") {
  constexpr int kPeers = 64;
  // Far below the 5 s a held connection lasts, and enough for a broker
  // slowed by a sanitizer on a loaded machine to answer every INITIATE.
  constexpr int kCloseWithinMs = 3000;
  BrokerFixture fx;
  auto broker_key = client::read_broker_key(fx.pki().broker_public());
  REQUIRE(broker_key);
  const std::string endpoint = fx.endpoint();
  const auto port = static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));

  std::vector<std::unique_ptr<testing::RawCurvePeer>> peers;
  std::vector<Clock::time_point> initiated;
  const auto started = Clock::now();
  for (int i = 0; i < kPeers; ++i) {
    auto peer = std::make_unique<testing::RawCurvePeer>();
    const bool opened = peer->open(port, broker_key->bytes, kWaitMs);
    INFO("peer " << i << ": " << peer->why());
    REQUIRE(opened);
    initiated.push_back(Clock::now());
    peers.push_back(std::move(peer));
  }
  const double opening_s = static_cast<double>(ms_since(started)) / 1000.0;
  // Peers are refused in the order they were opened. Within the budget a
  // refusal is a ZAP 400: libzmq sends the ERROR when the reply is read
  // while INITIATE is processed, and otherwise sends nothing (its engine
  // does not restart output for a reply read later) and holds the connection
  // until handshake_timeout_ms: "told or held". Past the budget the
  // connection is closed at once, without an ERROR.
  const auto budget = static_cast<int>(broker::RefusalNotices::kBurst +
                                       broker::RefusalNotices::kPerSecond * (opening_s + kCloseWithinMs / 1000.0));
  int told = 0, closed_silently = 0;
  std::vector<std::string> wrong;
  for (int i = 0; i < kPeers; ++i) {
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - initiated[i]).count();
    const bool closed =
        peers[i]->closed_by_broker(static_cast<int>(std::max<std::int64_t>(1, kCloseWithinMs - waited)));
    const bool silent = closed && !peers[i]->got_error();
    told += peers[i]->got_error() ? 1 : 0;
    closed_silently += silent ? 1 : 0;
    if (i < static_cast<int>(broker::RefusalNotices::kBurst) && silent) {
      wrong.push_back("peer " + std::to_string(i) + " (within the burst) closed without an ERROR");
    }
    if (i >= budget && !silent) {
      wrong.push_back("peer " + std::to_string(i) + " (past the budget) not closed at once");
    }
  }
  INFO("opening took " << opening_s << " s; told " << told << ", closed silently " << closed_silently);
  CHECK(wrong == std::vector<std::string>{});
  CHECK(closed_silently >= kPeers - budget);
  CHECK(closed_silently <= kPeers - static_cast<int>(broker::RefusalNotices::kBurst));
  CHECK(told > 0);                                 // the ERROR that names the reason does reach some
  CHECK(fx.stats().refused_handshakes == kPeers);  // all counted, told or not
  auto admitted = ready_session(fx, kReader);      // nobody else is refused
}

// One node opens connections, says HELLO and drops them (never BYE) as fast
// as it can, with its own sessions filling the broker in a few hundred ms
// under the old rules (a global bound only, and sessions kept until their
// 60 s timeout); another node connects and closes again and again meanwhile:
// each of its HELLOs is answered WELCOME within 1 s.
TEST_CASE("issue 16: one node churning sessions never delays another node's HELLO beyond 1 s", "[e2e][issue16]") {
  constexpr int kChurnMs = 4000;
  BrokerFixture fx(limits([](Limits& l) { l.max_connections = 16; }));
  auto material = identity::load_node_material(fx.pki(), kPublisher, SystemClock::instance().now_seconds());
  REQUIRE(material);
  auto broker_key = client::read_broker_key(fx.pki().broker_public());
  REQUIRE(broker_key);

  std::atomic<bool> stop{false};
  std::atomic<int> churned{0}, welcomed{0};
  std::thread churner([&] {
    const Bytes hello_bytes = hello();
    while (!stop) {
      client::ConnectionOptions options;
      options.endpoint = fx.endpoint();
      options.node_id = kPublisher;
      options.immediate = false;
      auto connection = client::Connection::open(options, *broker_key, material->keys->transport);
      if (!connection) continue;
      (void)(*connection)->try_send(hello_bytes);
      auto answer = (*connection)->receive(1000);
      churned++;
      if (answer && answer->has_welcome()) welcomed++;
    }  // dropped without BYE
  });
  std::vector<std::int64_t> waits;
  std::vector<std::string> failures;
  const auto started = Clock::now();
  while (ms_since(started) < kChurnMs) {
    const auto asked = Clock::now();
    auto s = fx.connect(kReader);
    waits.push_back(ms_since(asked));
    if (!s) failures.push_back(s.status().to_string());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  churner.join();
  INFO("churn cycles " << churned << ", welcomed " << welcomed << "; the other node's HELLOs " << waits.size());
  CHECK(churned > 16);  // more than max_connections: the old rules would have locked the broker
  CHECK(welcomed > 16);
  CHECK(failures.empty());
  for (const auto& f : failures) INFO(f);
  REQUIRE_FALSE(waits.empty());
  const std::int64_t worst = *std::max_element(waits.begin(), waits.end());
  INFO("slowest HELLO " << worst << " ms");
  CHECK(worst < 1000);
}

}  // namespace
}  // namespace tearline::protocol_states
