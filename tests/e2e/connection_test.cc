// The client's connection layer (client/connection.h) against a real broker:
// pipelined requests matched by id, DELIVERs handed on while a request waits,
// a refused handshake named, and sends that cannot block forever.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "client/connection.h"
#include "crypto/key_file.h"
#include "report/verify.h"
#include "support/e2e_helpers.h"

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
