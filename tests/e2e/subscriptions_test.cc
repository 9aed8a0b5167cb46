// Issue 15, broker side, on a real broker over raw frames (the Wire of the
// protocol state tests): the directory version (WELCOME.directory_digest,
// DIRECTORY_CHANGED), the subscription model (attaching, session-only
// patterns, UNSUBSCRIBE of either set, LIST_SUBSCRIPTIONS, a pattern denied
// entirely), ADMIN "status", and the audit row of a rejected PUBLISH.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <string>

#include "audit/audit_db.h"
#include "base/version.h"
#include "identity/directory.h"
#include "protocol_states_wire.h"

namespace tearline::protocol_states {
namespace {

std::string digest_hex(const std::string& raw) { return to_hex(as_bytes(raw)); }

std::string directory_digest_hex(const BrokerFixture& fx) {
  auto dir = identity::Directory::load(fx.pki().directory(), SystemClock::instance().now_seconds(), nullptr);
  REQUIRE(dir);
  const auto& d = (*dir)->digest();
  return to_hex(ByteView(d.data(), d.size()));
}

// HELLO, and the WELCOME it is answered with.
v1::Welcome welcome_of(Wire& w) {
  w.send(hello());
  auto f = w.next(kWaitMs);
  REQUIRE(f);
  REQUIRE(f->has_welcome());
  return f->welcome();
}

v1::SubscriptionList list_of(Wire& w, std::uint64_t request_id) {
  w.send(wire::make_list_subscriptions(request_id));
  auto f = w.next(kWaitMs);
  REQUIRE(f);
  INFO(describe(f));
  REQUIRE(f->has_subscription_list());
  CHECK(f->subscription_list().request_id() == request_id);
  return f->subscription_list();
}

std::vector<std::string> strings(const google::protobuf::RepeatedPtrField<std::string>& field) {
  return {field.begin(), field.end()};
}

// Publishes one report of `publisher` on `topic` readable by the DEA and
// DIRAN nodes; returns its broker_seq.
std::uint64_t publish_on(Wire& publisher, std::uint64_t request_id, const std::string& topic) {
  publisher.send(wire::make_publish(request_id, publisher.report(topic, kShared, "on " + topic)));
  auto f = publisher.next(kWaitMs);
  INFO(describe(f));
  REQUIRE(f);
  REQUIRE(f->has_accepted());
  return f->accepted().broker_seq();
}

}  // namespace

TEST_CASE("issue 15: WELCOME carries the directory's digest; a reload that changes it is announced once",
          "[e2e][issue15]") {
  BrokerFixture fx;
  Wire reader(fx, kReader);
  const v1::Welcome welcome = welcome_of(reader);
  CHECK(welcome.directory_digest().size() == 32);
  CHECK(digest_hex(welcome.directory_digest()) == directory_digest_hex(fx));

  INFO("a reload of the same files: nothing announced (the PONG comes first)");
  fx.reload();
  CHECK(ask(reader, wire::make_ping(7)) == "PONG 7");

  INFO("a reload with a new revocation list: DIRECTORY_CHANGED, generation 3 (the third load)");
  fx.revoke("DIRAN", "diran-bogota-hq");
  auto changed = reader.next(kWaitMs);
  REQUIRE(describe(changed) == "DIRECTORY_CHANGED");
  CHECK(changed->directory_changed().generation() == 3);
  CHECK(digest_hex(changed->directory_changed().directory_digest()) == directory_digest_hex(fx));
  CHECK(changed->directory_changed().directory_digest() != welcome.directory_digest());
  CHECK(ask(reader, wire::make_ping(8)) == "PONG 8");

  INFO("a new session's WELCOME carries the new digest");
  Wire later(fx, kPublisher);
  CHECK(welcome_of(later).directory_digest() == changed->directory_changed().directory_digest());
}

TEST_CASE("issue 15: a session attaches with a durable SUBSCRIBE; session-only patterns are live and never twice",
          "[e2e][issue15]") {
  BrokerFixture fx;
  auto publisher = ready_session(fx, kPublisher);
  std::uint64_t acked = 0;
  {
    auto first = ready_session(fx, kReader);
    CHECK(ask(*first, wire::make_subscribe(1, {"intel.>"})) == "ACCEPTED / 1");
    acked = publish_on(*publisher, 1, "intel.finance");
    auto d = first->next(kWaitMs);
    REQUIRE(describe(d) == "DELIVER " + std::to_string(acked));
    first->send(first->ack({d->deliver()}));
    CHECK(list_of(*first, 2).acked_seq() == acked);
  }
  const std::uint64_t missed = publish_on(*publisher, 2, "intel.routes");

  auto reader = ready_session(fx, kReader);
  INFO("not attached: nothing from the store");
  CHECK(ask(*reader, wire::make_ping(1)) == "PONG 1");

  INFO("a session-only pattern: answered at once; live reports only");
  CHECK(ask(*reader, wire::make_subscribe(2, {"intel.finance"}, true)) == "ACCEPTED / 2");
  const std::uint64_t live = publish_on(*publisher, 3, "intel.finance");
  auto d = reader->next(kWaitMs);
  REQUIRE(describe(d) == "DELIVER " + std::to_string(live));
  reader->send(reader->ack({d->deliver()}));  // a receipt; the node's cursor stays
  v1::SubscriptionList list = list_of(*reader, 3);
  CHECK(strings(list.durable()) == std::vector<std::string>{"intel.>"});
  CHECK(strings(list.session()) == std::vector<std::string>{"intel.finance"});
  CHECK(list.acked_seq() == acked);

  INFO("attaching (a durable SUBSCRIBE of a stored pattern): catch-up from the cursor, the live copy not again");
  reader->send(wire::make_subscribe(4, {"intel.>"}));
  std::set<std::string> got{describe(reader->next(kWaitMs)), describe(reader->next(kWaitMs))};
  CHECK(got == std::set<std::string>{"ACCEPTED / 4", "DELIVER " + std::to_string(missed)});
  const std::uint64_t both = publish_on(*publisher, 4, "intel.finance");  // durable and session patterns match
  CHECK(describe(reader->next(kWaitMs)) == "DELIVER " + std::to_string(both));
  CHECK(ask(*reader, wire::make_ping(5)) == "PONG 5");  // once

  INFO("UNSUBSCRIBE of each set; then nothing is delivered");
  CHECK(ask(*reader, wire::make_unsubscribe(5, {"intel.finance"}, true)) == "ACCEPTED / 5");
  list = list_of(*reader, 6);
  CHECK(list.session().empty());
  CHECK(strings(list.durable()) == std::vector<std::string>{"intel.>"});
  CHECK(ask(*reader, wire::make_subscribe(7, {"intel.routes", "intel.b"})) == "ACCEPTED / 7");
  CHECK(strings(list_of(*reader, 8).durable()) == std::vector<std::string>{"intel.>", "intel.b", "intel.routes"});
  CHECK(ask(*reader, wire::make_unsubscribe(9, {"intel.>", "intel.b", "intel.routes"})) == "ACCEPTED / 9");
  CHECK(list_of(*reader, 10).durable().empty());
  publish_on(*publisher, 5, "intel.finance");
  CHECK(ask(*reader, wire::make_ping(6)) == "PONG 6");
}

TEST_CASE("issue 15: a SUBSCRIBE to a pattern the topic policy denies the node entirely is REJECTED with its reasons",
          "[e2e][issue15]") {
  BrokerFixture fx;
  auto w = ready_session(fx, kPublisher);  // dea-bogota-analyst: reads intel.>, no unit
  w->send(wire::make_subscribe(1, {"ops.>"}));
  auto f = w->next(kWaitMs);
  REQUIRE(describe(f) == "REJECTED TOPIC_READ_DENIED / 1");
  REQUIRE(f->rejected().reasons_size() == 1);
  CHECK(f->rejected().reasons(0).message() ==
        "node 'dea-bogota-analyst' may not subscribe to 'ops.>': no grant that applies to the node allows it in "
        "subscribe");
  CHECK(ask(*w, wire::make_subscribe(2, {"ops.flush"})) == "REJECTED TOPIC_READ_DENIED / 2");
  w->send(wire::make_subscribe(3, {"unit.cucuta-jtf.>"}));
  f = w->next(kWaitMs);
  REQUIRE(describe(f) == "REJECTED NOT_UNIT_MEMBER / 3");
  CHECK(f->rejected().reasons(0).message().find("'unit.cucuta-jtf.>'") != std::string::npos);
  INFO("all or nothing: a denied pattern beside an allowed one changes nothing");
  CHECK(ask(*w, wire::make_subscribe(4, {"intel.>", "ops.>"})) == "REJECTED TOPIC_READ_DENIED / 4");
  CHECK(list_of(*w, 5).durable().empty());
  INFO("partly allowed patterns are accepted");
  CHECK(ask(*w, wire::make_subscribe(6, {">", "*.finance", "intel.*"})) == "ACCEPTED / 6");
  CHECK(ask(*w, wire::make_subscribe(7, {"ops.>"}, true)) == "REJECTED TOPIC_READ_DENIED / 7");
}

TEST_CASE("issue 15: ADMIN status answers BROKER_STATUS to an admin, NOT_AUTHORIZED to others", "[e2e][issue15]") {
  BrokerFixture fx;
  auto publisher = ready_session(fx, kPublisher);
  const std::uint64_t seq = publish_on(*publisher, 1, "intel.finance");
  fx.restart();  // the clean stop writes a checkpoint; the new broker recovers it
  CHECK(ask(*publisher, hello()) == "WELCOME");
  CHECK(ask(*publisher, wire::make_admin(2, "status")) == "REJECTED NOT_AUTHORIZED / 2");

  Wire admin(fx, "diran-cucuta-commander");
  const v1::Welcome welcome = welcome_of(admin);
  const std::int64_t before = SystemClock::instance().now_ms();
  admin.send(wire::make_admin(1, "status"));
  auto f = admin.next(kWaitMs);
  INFO(describe(f));
  REQUIRE(f);
  REQUIRE(f->has_broker_status());
  const v1::BrokerStatus& st = f->broker_status();
  CHECK(st.request_id() == 1);
  CHECK(st.version() == std::string(version_string()));
  CHECK(st.broker_id() == kBrokerId);
  CHECK(st.started_at_ms() > 0);
  CHECK(st.started_at_ms() <= st.broker_time_ms());
  CHECK(st.broker_time_ms() >= before);
  CHECK(st.sessions() == 2);
  CHECK(st.head_seq() == seq);
  CHECK(st.verify_queue() == 0);
  CHECK(st.commit_queue() == 0);
  CHECK(st.delivery_backlog() == 0);
  CHECK(st.store_bytes() >= std::filesystem::file_size(fx.database()));
  CHECK(st.last_checkpoint_ms() > 0);
  CHECK(st.last_checkpoint_ms() <= st.broker_time_ms());
  CHECK(st.directory_digest() == welcome.directory_digest());
  CHECK(st.directory_generation() == 1);
  CHECK(st.accepted() == 0);  // since this start
  CHECK(st.rejected() == 0);
  CHECK(ask(admin, wire::make_admin(2, "statuses")) == "REJECTED INVALID_FIELD / 2");
}

TEST_CASE("issue 15: the audit row of a rejected PUBLISH names the report whenever its header parsed",
          "[e2e][issue15]") {
  BrokerFixture fx;
  auto publisher = ready_session(fx, kPublisher);
  const Bytes refused = publisher->report("unit.cucuta-jtf.ops", kShared, "not a member");
  v1::Report parsed;
  REQUIRE(parsed.ParseFromArray(refused.data(), static_cast<int>(refused.size())));
  v1::ReportHeader header;
  REQUIRE(header.ParseFromString(parsed.header()));
  const std::string id = to_hex(as_bytes(header.report_id()));
  CHECK(ask(*publisher, wire::make_publish(1, refused)) == "REJECTED NOT_UNIT_MEMBER / 1");
  fx.stop();
  auto entries = audit::read_entries(fx.database());
  REQUIRE(entries);
  std::vector<std::string> rejected;
  for (const auto& e : *entries) {
    if (e.event == "publish" && e.decision == "rejected") rejected.push_back(e.report);
  }
  CHECK(rejected == std::vector<std::string>{id});
}

}  // namespace tearline::protocol_states
