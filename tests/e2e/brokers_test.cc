// Two brokers sharing one PostgreSQL store (issue 17, docs/scale-out.md
// "Several brokers"): real brokers of one PKI on tcp://127.0.0.1:*, a real
// PostgreSQL cluster this process starts (support/pg_cluster.h), real client
// sessions. A report accepted on broker A reaches the subscribers on broker
// B, torn by B's own policy decision, with A's acceptance receipt; a node's
// cursor in A's stream survives its session and B's restart; an
// originator's reports reach every subscriber in its own order whichever
// broker accepted each; a node that moves to the other broker continues
// where it left off; and when two brokers race for one node's mailbox, the
// fencing keeps the loser from writing it.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "protocol_states_wire.h"
#include "support/broker_fixture.h"
#include "support/e2e_helpers.h"
#include "support/pg_cluster.h"
#include "tearline/client.h"

namespace tearline {
namespace {

using client::Received;
using client::SectionStatus;
using testing::BrokerFixture;
using testing::draft;
using testing::kEveryone;
using testing::label;
using testing::must_connect;

constexpr int kWaitMs = 10000;                   // for anything that should arrive
const std::string kBrokerA = "tearline-broker";  // the PKI's first broker (certs/roster.toml)
const std::string kBrokerB = "tearline-broker-2";

// The case's database, made empty.
std::string fresh_database(const std::string& name) {
  testing::PgCluster::shared().create_database(name);
  return name;
}

BrokerFixture::Configure on_postgresql(const std::string& database) {
  return [database](broker::Config& c) {
    c.storage.backend = broker::StoreBackend::kPostgresql;
    c.storage.conninfo = testing::PgCluster::shared().conninfo(database);
  };
}

// Broker A (DIRAN's) and broker B (DEA's) on one store.
struct TwoBrokers {
  explicit TwoBrokers(const std::string& name)
      : database(fresh_database(name)), a(on_postgresql(database)), b(a, kBrokerB, "DEA", on_postgresql(database)) {}
  std::string database;
  BrokerFixture a;
  BrokerFixture b;
};

// One value of `sql` in `database`, as text ("" when no row).
std::string value_of(const std::string& database, const std::string& sql) {
  pqxx::connection conn(testing::PgCluster::shared().conninfo(database));
  pqxx::nontransaction tx(conn);
  const pqxx::result r = tx.exec(sql);
  return r.empty() || r[0][0].is_null() ? std::string() : r[0][0].c_str();
}

// The stored cursor of `node` in `writer`'s stream.
std::string stored_cursor(const std::string& database, const std::string& node, const std::string& writer) {
  return value_of(database, "SELECT c.acked FROM cursors c JOIN writers w USING (writer_id) WHERE c.node = '" + node +
                                "' AND w.broker_id = '" + writer + "'");
}

// Waits (up to 10 s) until `probe` returns `want`; what it returned last.
std::string eventually(const std::function<std::string()>& probe, const std::string& want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string got = probe();
  while (got != want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    got = probe();
  }
  return got;
}

// The next report (not a gap) within kWaitMs; fails the test when none came.
Received next_report(client::Session& s) {
  auto got = s.receive(kWaitMs);
  REQUIRE(got);
  INFO("gap: " << got->gap.to_string());
  REQUIRE(got->kind == client::ReceivedKind::kReport);
  return std::move(*got);
}

std::string published_id(client::Session& s, const client::Draft& d) {
  auto out = s.publish(d);
  INFO(out.status().to_string());
  REQUIRE(out);
  INFO(out->status.to_string());
  REQUIRE(out->accepted);
  return to_hex(ByteView(out->report_id.data(), out->report_id.size()));
}

// The tear line of docs/README.md's story: the informant's details stay with
// the Colombian unit, the actionable part reaches the embedded DEA agent.
client::Draft cucuta_seizure(const std::string& n) {
  return draft("unit.cucuta-jtf.seizures", {{label(v1::SECRET, {"COL"}), "informant " + n},
                                            {label(v1::CONFIDENTIAL, {"COL", "USA"}, {"cucuta-jtf"}), "lab " + n}});
}

TEST_CASE("two brokers: a report accepted on A reaches B's subscribers, torn by B, with A's receipt") {
  TwoBrokers world("brokers_route");
  auto agent = must_connect(world.b, "dea-cucuta-agent");  // durable, on B
  REQUIRE(agent->subscribe({"unit.cucuta-jtf.>"}));
  auto analyst = must_connect(world.b, "dea-bogota-analyst");  // session-only, on B
  REQUIRE(analyst->subscribe({"intel.>"}, client::SubscriptionMode::kSessionOnly));
  auto commander = must_connect(world.a, "diran-cucuta-commander");

  const std::string seizure = published_id(*commander, cucuta_seizure("1"));
  const std::string bulletin = published_id(*commander, draft("intel.bulletins", {{kEveryone, "route via Tibu"}}));

  Received r = next_report(*agent);
  INFO(r.verification.to_string());
  CHECK(r.verification.is_ok());
  CHECK(r.report_id_hex == seizure);
  CHECK(r.writer == kBrokerA);  // in A's stream, its receipt A's
  CHECK(r.broker_seq == 1);
  REQUIRE(r.sections.size() == 2);
  CHECK(r.sections[0].status == SectionStatus::kWithheld);
  CHECK(r.sections[1].status == SectionStatus::kOpened);
  CHECK(r.sections[1].text == "lab 1");

  Received b = next_report(*analyst);
  CHECK(b.verification.is_ok());
  CHECK(b.report_id_hex == bulletin);
  CHECK(b.writer == kBrokerA);
  CHECK(b.broker_seq == 2);
  CHECK_FALSE(analyst->receive(300));  // the seizure's topic is not its pattern's
}

TEST_CASE("two brokers: a node's cursor in A's stream survives its session and B's restart") {
  TwoBrokers world("brokers_cursor");
  auto commander = must_connect(world.a, "diran-cucuta-commander");
  std::vector<std::string> ids;
  {
    auto agent = must_connect(world.b, "dea-cucuta-agent");
    REQUIRE(agent->subscribe({"unit.cucuta-jtf.>"}));
    for (int i = 1; i <= 3; ++i) ids.push_back(published_id(*commander, cucuta_seizure(std::to_string(i))));
    for (int i = 0; i < 3; ++i) CHECK(next_report(*agent).report_id_hex == ids[static_cast<std::size_t>(i)]);
    // Its ACK (sent once the session drained) moves its cursor in A's stream.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::map<std::string, std::uint64_t> streams;
    while (std::chrono::steady_clock::now() < deadline) {
      auto list = agent->subscriptions();
      REQUIRE(list);
      streams = list->streams;
      if (streams[kBrokerA] == 3) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(streams == std::map<std::string, std::uint64_t>{{kBrokerA, 3}});
  }
  for (int i = 4; i <= 5; ++i) ids.push_back(published_id(*commander, cucuta_seizure(std::to_string(i))));
  world.b.restart();  // the cursor comes back from the store

  auto agent = must_connect(world.b, "dea-cucuta-agent");
  REQUIRE(agent->subscribe({"unit.cucuta-jtf.>"}));
  Received four = next_report(*agent);
  CHECK(four.report_id_hex == ids[3]);
  CHECK(four.broker_seq == 4);
  CHECK(next_report(*agent).report_id_hex == ids[4]);
  CHECK_FALSE(agent->receive(300));
}

TEST_CASE("two brokers: an originator's reports arrive in its order, whichever broker accepted each") {
  TwoBrokers world("brokers_order");
  auto on_a = must_connect(world.a, "dea-cucuta-agent");
  auto on_b = must_connect(world.b, "diran-cucuta-analyst");
  REQUIRE(on_a->subscribe({"unit.cucuta-jtf.>"}));
  REQUIRE(on_b->subscribe({"unit.cucuta-jtf.>"}));
  auto via_a = must_connect(world.a, "diran-cucuta-commander");
  auto via_b = must_connect(world.b, "diran-cucuta-commander");

  constexpr int kReports = 40;
  std::vector<std::string> sent;
  sent.reserve(kReports);
  for (int i = 0; i < kReports; ++i) {
    sent.push_back(published_id(i % 2 == 0 ? *via_a : *via_b, cucuta_seizure(std::to_string(i))));
  }
  for (auto* s : {on_a.get(), on_b.get()}) {
    std::vector<std::string> got;
    std::map<std::string, int> streams;
    for (int i = 0; i < kReports; ++i) {
      Received r = next_report(*s);
      CHECK(r.verification.is_ok());
      got.push_back(r.report_id_hex);
      ++streams[r.writer];
    }
    CHECK(got == sent);
    CHECK(streams.size() == 2);  // half from its own broker, half from the other's stream
    CHECK_FALSE(s->receive(300));
  }
}

TEST_CASE("two brokers: a node that moves to the other broker continues where it left off") {
  TwoBrokers world("brokers_move");
  auto commander = must_connect(world.a, "diran-cucuta-commander");
  std::vector<std::string> ids;
  {
    auto agent = must_connect(world.a, "dea-cucuta-agent");
    REQUIRE(agent->subscribe({"unit.cucuta-jtf.>", "intel.>"}));
    for (int i = 1; i <= 3; ++i) ids.push_back(published_id(*commander, cucuta_seizure(std::to_string(i))));
    for (int i = 0; i < 3; ++i) CHECK(next_report(*agent).report_id_hex == ids[static_cast<std::size_t>(i)]);
    CHECK(eventually([&] { return stored_cursor(world.database, "dea-cucuta-agent", kBrokerA); }, "3") == "3");
  }
  for (int i = 4; i <= 5; ++i) ids.push_back(published_id(*commander, cucuta_seizure(std::to_string(i))));

  // B, running since before the node subscribed, takes its mailbox from the store.
  auto agent = must_connect(world.b, "dea-cucuta-agent");
  REQUIRE(agent->subscribe({"intel.bulletins"}));
  auto list = agent->subscriptions();
  REQUIRE(list);
  CHECK(list->durable == std::vector<std::string>{"intel.>", "intel.bulletins", "unit.cucuta-jtf.>"});
  CHECK(list->streams == std::map<std::string, std::uint64_t>{{kBrokerA, 3}});
  Received four = next_report(*agent);
  CHECK(four.report_id_hex == ids[3]);
  CHECK(four.writer == kBrokerA);
  CHECK(next_report(*agent).report_id_hex == ids[4]);
  CHECK_FALSE(agent->receive(300));
  CHECK(value_of(world.database,
                 "SELECT w.broker_id || ' ' || c.fence FROM node_claims c JOIN writers w"
                 " ON w.writer_id = c.holder WHERE c.node = 'dea-cucuta-agent'") == kBrokerB + " 2");
}

TEST_CASE("two brokers: when both serve one node, the fencing keeps the older claim from writing its cursor") {
  namespace ps = protocol_states;
  TwoBrokers world("brokers_race");
  // The node attached on A (claim 1), by raw frames, then on B (claim 2).
  auto on_a = ps::ready_session(world.a, "dea-cucuta-agent");
  CHECK(ps::ask(*on_a, wire::make_subscribe(1, {"unit.cucuta-jtf.>"})) == "ACCEPTED / 1");
  auto on_b = must_connect(world.b, "dea-cucuta-agent");
  REQUIRE(on_b->subscribe({"unit.cucuta-jtf.>"}));
  CHECK(stored_cursor(world.database, "dea-cucuta-agent", kBrokerA) == "0");

  auto commander = must_connect(world.a, "diran-cucuta-commander");
  const std::string id = published_id(*commander, cucuta_seizure("1"));
  auto delivered = on_a->next(kWaitMs);
  REQUIRE(delivered);
  REQUIRE(delivered->has_deliver());
  // A's ACK moves nothing: A's batch is fenced out, and A closes its session.
  on_a->send(on_a->ack({delivered->deliver()}));
  CHECK(ps::describe(on_a->next(kWaitMs)) == "ERROR SESSION_REPLACED / 0");
  CHECK(stored_cursor(world.database, "dea-cucuta-agent", kBrokerA) == "0");
  // B's session, the claim's holder, moves it.
  Received r = next_report(*on_b);
  CHECK(r.report_id_hex == id);
  CHECK(eventually([&] { return stored_cursor(world.database, "dea-cucuta-agent", kBrokerA); }, "1") == "1");
  CHECK_FALSE(on_b->take_session_error());
}

}  // namespace
}  // namespace tearline
