// The client's connection layer (client/connection.h) against a real broker:
// pipelined requests matched by id, DELIVERs handed on while a request waits,
// a refused handshake and a broker key that does not match named, and sends
// that cannot block forever; and the Session's directory reloads and
// connection events (issue 15).
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/files.h"
#include "client/connection.h"
#include "crypto/key_file.h"
#include "identity/pki.h"
#include "identity/trust_store.h"
#include "report/verify.h"
#include "support/e2e_helpers.h"
#include "support/partners.h"

namespace tearline {
namespace {

namespace v1 = tearline::v1;
using client::Connection;
using client::ConnectionOptions;

constexpr int kWaitMs = 5000;  // for anything that should arrive

// Readable by the two DEA nodes only.
const policy::Label kDeaOnly = testing::label(v1::SECRET, {"USA"});

std::unique_ptr<Connection> must_open(const testing::BrokerFixture& fx, const std::string& node) {
  auto keys = crypto::read_node_keys(fx.pki().node_key(node));
  REQUIRE(keys);
  auto broker_key = client::read_broker_key(fx.pki().broker_public());
  REQUIRE(broker_key);
  ConnectionOptions options;
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

TEST_CASE("connection: several requests in flight are answered by id, whatever order they are finished in") {
  testing::BrokerFixture fx;
  auto builder = testing::must_connect(fx, "dea-bogota-analyst");  // builds reports with the node's keys
  auto connection = must_open(fx, "dea-bogota-analyst");
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto built =
        client::build(*builder, testing::draft("intel.finance", {{kDeaOnly, "pipelined " + std::to_string(i)}}));
    REQUIRE(built);
    ids.push_back(connection->next_request_id());
    REQUIRE(connection->start(wire::make_publish(ids.back(), built->bytes)));
  }
  CHECK(ids == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(connection->in_flight() == 3);
  // The last first: the answers to 1 and 2 arrive before 3's and are held.
  for (auto id = ids.rbegin(); id != ids.rend(); ++id) {
    auto answer = connection->finish(*id, kWaitMs);
    INFO("request " << *id << ": " << answer.status().to_string());
    REQUIRE(answer);
    REQUIRE(answer->has_accepted());
    CHECK(answer->accepted().request_id() == *id);
  }
  CHECK(connection->in_flight() == 0);
  CHECK_FALSE(connection->take_event());
}

TEST_CASE("connection: a DELIVER that arrives while a request waits is handed on as an event") {
  testing::BrokerFixture fx;
  auto publisher = testing::must_connect(fx, "dea-bogota-analyst");
  auto reader = must_open(fx, "dea-cucuta-agent");
  auto subscribed = reader->request(wire::make_subscribe(reader->next_request_id(), {"intel.>"}), kWaitMs);
  REQUIRE(subscribed);
  REQUIRE(subscribed->has_accepted());

  auto published = publisher->publish(testing::draft("intel.finance", {{kDeaOnly, "to the reader"}}));
  REQUIRE(published);
  REQUIRE(published->accepted);
  // A second request from the reader: its answer is matched by id, and the
  // DELIVER (before or after that answer) is not lost on the way.
  const std::uint64_t id = reader->next_request_id();
  auto answer = reader->request(wire::make_subscribe(id, {"intel.finance"}), kWaitMs);
  REQUIRE(answer);
  CHECK(wire::request_id_of(*answer) == id);
  auto event = reader->next_event(kWaitMs);
  REQUIRE(event);
  REQUIRE(event->is_ok());
  REQUIRE((*event)->has_deliver());
  auto delivered = (*event)->deliver().report();
  auto verified = report::verify_report(as_bytes(delivered), client::directory(*publisher));
  REQUIRE(verified);
  CHECK(verified->report_id_hex() == to_hex(published->report_id));
}

TEST_CASE("connection: a refused transport key is HANDSHAKE_REFUSED, and a send on it returns within its timeout") {
  testing::BrokerFixture fx;
  auto broker_key = client::read_broker_key(fx.pki().broker_public());
  REQUIRE(broker_key);
  const crypto::TransportKey stranger = crypto::TransportKey::generate();
  ConnectionOptions options;
  options.endpoint = fx.endpoint();
  options.node_id = "stranger";
  options.connect_timeout_ms = kWaitMs;
  options.send_timeout_ms = 200;
  auto connection = Connection::open(options, *broker_key, stranger);
  REQUIRE(connection);
  Status hello = (*connection)->hello();
  INFO(hello.to_string());
  CHECK(hello.code() == Code::HANDSHAKE_REFUSED);

  const auto t0 = std::chrono::steady_clock::now();
  Status sent = (*connection)->send(wire::make_ping(1));
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(sent.code() == Code::UNAVAILABLE);
  CHECK(waited >= std::chrono::milliseconds(150));
  CHECK(waited < std::chrono::milliseconds(3000));
  CHECK((*connection)->try_send(wire::make_ping(2)).code() == Code::UNAVAILABLE);
}

TEST_CASE("connection: a broker key that does not match is a handshake failure naming the key file") {
  testing::BrokerFixture fx;
  auto keys = crypto::read_node_keys(fx.pki().node_key("dea-bogota-analyst"));
  REQUIRE(keys);
  const crypto::TransportKey other_broker = crypto::TransportKey::generate();
  ConnectionOptions options;
  options.endpoint = fx.endpoint();
  options.node_id = "dea-bogota-analyst";
  options.broker_key_file = "elsewhere/broker.pub";
  options.connect_timeout_ms = kWaitMs;
  auto connection = Connection::open(options, other_broker.public_key(), keys->transport);
  REQUIRE(connection);
  const auto t0 = std::chrono::steady_clock::now();
  Status hello = (*connection)->hello();
  INFO(hello.to_string());
  CHECK(hello.code() == Code::HANDSHAKE_REFUSED);
  CHECK(hello.to_string().find("the broker's CURVE key does not match elsewhere/broker.pub") != std::string::npos);
  CHECK_FALSE((*connection)->handshake_refused());  // not a refusal of the node's key
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(kWaitMs));
}

}  // namespace
}  // namespace tearline

namespace tearline {
namespace {

// Every event the session has queued, after receive() gave it `ms` to notice.
std::vector<client::ConnectionEvent> events_after(client::Session& session, int ms) {
  (void)session.receive(ms);
  std::vector<client::ConnectionEvent> out;
  while (auto e = session.take_connection_event()) out.push_back(std::move(*e));
  return out;
}

TEST_CASE("session: a node issued after the session started verifies once the broker announces the new directory") {
  testing::BrokerFixture fx;
  auto reader = testing::must_connect(fx, "dea-cucuta-agent");
  REQUIRE(reader->subscribe({"intel.>"}, client::SubscriptionMode::kSessionOnly));
  const std::string before = reader->directory_digest_hex();
  const std::int64_t now = SystemClock::instance().now_seconds();
  auto issued = identity::issue_node(fx.pki(), {"dea-new-agent", "DEA", v1::SECRET, {"agent"}, now - 60, now + 86400});
  REQUIRE(issued);
  fx.reload();  // DIRECTORY_CHANGED to every session
  auto events = events_after(*reader, 1000);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == client::ConnectionEvent::Kind::kDirectoryReloaded);
  CHECK(events[0].status.is_ok());
  CHECK(events[0].old_digest_hex == before);
  CHECK(events[0].new_digest_hex == reader->directory_digest_hex());
  CHECK(events[0].new_digest_hex != before);
  CHECK(events[0].matches_broker);

  auto publisher = testing::must_connect(fx, "dea-new-agent");
  auto published = publisher->publish(testing::draft("intel.finance", {{kDeaOnly, "from the new node"}}));
  REQUIRE(published);
  REQUIRE(published->accepted);
  auto r = reader->receive(kWaitMs);
  REQUIRE(r);
  INFO(r->verification.to_string());
  CHECK(r->verification.is_ok());
  CHECK(r->originator == "dea-new-agent");
}

TEST_CASE("session: a broker restart is told as lost, then regained with the seq delivery resumes after") {
  testing::BrokerFixture fx;
  auto reader = testing::must_connect(fx, "dea-cucuta-agent");
  REQUIRE(reader->subscribe({"intel.>"}, client::SubscriptionMode::kSessionOnly));
  auto publisher = testing::must_connect(fx, "dea-bogota-analyst");
  auto first = publisher->publish(testing::draft("intel.finance", {{kDeaOnly, "before"}}));
  REQUIRE(first);
  REQUIRE(first->accepted);
  REQUIRE(reader->receive(kWaitMs));
  fx.restart();
  std::vector<client::ConnectionEvent> events;
  for (int i = 0; i < 20 && events.size() < 3; ++i) {
    for (auto& e : events_after(*reader, 250)) events.push_back(std::move(e));
  }
  REQUIRE(events.size() == 3);
  CHECK(events[0].kind == client::ConnectionEvent::Kind::kBrokerLost);
  CHECK(events[1].kind == client::ConnectionEvent::Kind::kBrokerRegained);
  CHECK(events[1].resume_after_seq == first->broker_seq);
  CHECK(events[2].kind == client::ConnectionEvent::Kind::kDirectoryReloaded);  // read again on every re-HELLO
  CHECK(events[2].matches_broker);
  // Session-only patterns are subscribed again: a report after the restart arrives.
  auto second = publisher->publish(testing::draft("intel.finance", {{kDeaOnly, "after"}}));
  REQUIRE(second);
  REQUIRE(second->accepted);
  auto r = reader->receive(kWaitMs);
  REQUIRE(r);
  REQUIRE(r->sections.size() == 1);
  CHECK(r->sections[0].text == "after");
}

TEST_CASE("session: a refused handshake says why from the local directory (revoked, with the list)") {
  testing::BrokerFixture fx;
  fx.revoke("DEA", "dea-cucuta-agent");
  auto session = fx.connect("dea-cucuta-agent");
  REQUIRE_FALSE(session);
  INFO(session.status().to_string());
  CHECK(session.status().code() == Code::HANDSHAKE_REFUSED);
  CHECK(session.status().has(Code::REVOKED));
  CHECK(session.status().to_string().find("is revoked by DEA's revocation list") != std::string::npos);
}

TEST_CASE("session: a credential not yet valid or expired: the refused handshake names which, with the date") {
  testing::BrokerFixture fx;
  const std::int64_t now = SystemClock::instance().now_seconds();
  struct Case {
    std::string node;
    std::int64_t not_before, not_after;
    Code code;
    std::string says;
  };
  const std::vector<Case> cases{
      {"dea-later", now + 86400, now + 2 * std::int64_t{86400}, Code::NOT_YET_VALID, "is valid only from "},
      {"dea-earlier", now - 2 * std::int64_t{86400}, now - 86400, Code::EXPIRED, "expired at "},
  };
  for (const auto& c : cases) {
    REQUIRE(identity::issue_node(fx.pki(), {c.node, "DEA", v1::SECRET, {"agent"}, c.not_before, c.not_after}));
  }
  fx.reload();
  for (const auto& c : cases) {
    auto session = fx.connect(c.node);
    REQUIRE_FALSE(session);
    INFO(session.status().to_string());
    CHECK(session.status().code() == Code::HANDSHAKE_REFUSED);
    CHECK(session.status().has(c.code));
    CHECK(session.status().to_string().find(c.says) != std::string::npos);
  }
}

TEST_CASE("session: subscriptions() lists durable and session-only patterns; unsubscribe removes them") {
  testing::BrokerFixture fx;
  auto reader = testing::must_connect(fx, "dea-cucuta-agent");
  REQUIRE(reader->subscribe({"intel.>"}, client::SubscriptionMode::kDurable));
  REQUIRE(reader->subscribe({"intel.finance"}, client::SubscriptionMode::kSessionOnly));
  auto list = reader->subscriptions();
  INFO(list.status().to_string());
  REQUIRE(list);
  CHECK(list->durable == std::vector<std::string>{"intel.>"});
  CHECK(list->session == std::vector<std::string>{"intel.finance"});
  REQUIRE(reader->unsubscribe({"intel.>"}, client::SubscriptionMode::kDurable));
  list = reader->subscriptions();
  REQUIRE(list);
  CHECK(list->durable.empty());
  CHECK(list->session == std::vector<std::string>{"intel.finance"});
}

}  // namespace
}  // namespace tearline

namespace tearline {
namespace {

TEST_CASE(
    "session: publish_batch signs one batch; each report is accepted and delivered; a replayed member is refused") {
  testing::BrokerFixture fx;
  auto publisher = testing::must_connect(fx, "dea-bogota-analyst");
  auto reader = testing::must_connect(fx, "dea-cucuta-agent");
  REQUIRE(reader->subscribe({"intel.>"}));
  std::vector<client::Draft> drafts;
  drafts.reserve(3);
  for (int i = 0; i < 3; ++i) {
    drafts.push_back(testing::draft("intel.finance", {{kDeaOnly, "batch " + std::to_string(i)}}));
  }
  auto outcomes = publisher->publish_batch(drafts);
  INFO(outcomes.status().to_string());
  REQUIRE(outcomes);
  REQUIRE(outcomes->size() == 3);
  for (const auto& o : *outcomes) {
    INFO(o.status.to_string());
    CHECK(o.accepted);
  }
  std::vector<std::string> texts;
  std::vector<v1::Report> received;
  std::vector<std::vector<std::uint8_t>> raw;
  for (int i = 0; i < 3; ++i) {
    auto r = reader->receive(kWaitMs);
    REQUIRE(r);
    INFO(r->verification.to_string());
    REQUIRE(r->verification.is_ok());
    REQUIRE(r->sections.size() == 1);
    texts.push_back(r->sections[0].text);
    raw.push_back(r->raw);
    received.emplace_back();
    REQUIRE(received.back().ParseFromArray(r->raw.data(), static_cast<int>(r->raw.size())));
  }
  CHECK(texts == std::vector<std::string>{"batch 0", "batch 1", "batch 2"});
  // One signature over the three: the same batch and signature, leaves 0, 1, 2.
  for (std::uint32_t i = 0; i < 3; ++i) {
    CHECK(received[i].batch().leaf_count() == 3);
    CHECK(received[i].batch().leaf_index() == i);
    CHECK(received[i].batch().batch_id() == received[0].batch().batch_id());
    CHECK(received[i].signature() == received[0].signature());
  }
  // The middle report again, byte for byte: refused as a replay, delivered to no one.
  auto again = publisher->publish_bytes(raw[1]);
  REQUIRE(again);
  CHECK_FALSE(again->accepted);
  CHECK(again->status.code() == Code::REPLAYED_REPORT);
  auto sentinel = publisher->publish(testing::draft("intel.finance", {{kDeaOnly, "sentinel"}}));
  REQUIRE(sentinel);
  REQUIRE(sentinel->accepted);
  auto next = reader->receive(kWaitMs);
  REQUIRE(next);
  REQUIRE(next->sections.size() == 1);
  CHECK(next->sections[0].text == "sentinel");
}

}  // namespace
}  // namespace tearline

namespace tearline {
namespace {

// Marks `agency` a partner in the fixture's trust store (what `tearline
// certs import` pins) and reloads the broker.
void make_partner(testing::BrokerFixture& fx, const std::string& agency) {
  testing::set_partner_agencies(fx.pki().trust_store(), {agency});
  fx.reload();
}

}  // namespace

TEST_CASE("connection: a partner agency's node is FOREIGN_NODE: closed at the reload, refused at the handshake") {
  testing::BrokerFixture fx;
  auto agent = fx.connect("dea-cucuta-agent");
  REQUIRE(agent);
  make_partner(fx, "DEA");
  std::optional<Status> error;
  const auto reloaded = std::chrono::steady_clock::now();
  while (!error && std::chrono::steady_clock::now() - reloaded < std::chrono::seconds(2)) {
    auto r = (*agent)->receive(50);
    REQUIRE_FALSE(r);
    error = (*agent)->take_session_error();
  }
  REQUIRE(error);
  CHECK(code_name(error->code()) == "SESSION_REVOKED");
  CHECK(error->has(Code::FOREIGN_NODE));
  auto again = fx.connect("dea-bogota-analyst");
  REQUIRE_FALSE(again);
  CHECK(testing::code_names(again.status()) == std::vector<std::string>{"HANDSHAKE_REFUSED", "FOREIGN_NODE"});
  CHECK(again.status().to_string().find("dea-bogota-analyst is a node of DEA, a partner agency") != std::string::npos);
  // The broker's own agencies' nodes are served as before.
  CHECK(fx.connect("diran-bogota-hq"));
}

}  // namespace tearline
