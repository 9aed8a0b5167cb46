// broker/catch_up across streams (issue 17): broker B routes what broker A
// accepted into the store they share (a real PostgreSQL, two writers), and
// an originator's reports reach a session in that originator's order, each
// held back until the session passed its previous report in the other
// stream (Router::passed_prev), however the rounds interleave.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "broker/catch_up.h"
#include "broker/pg_store.h"
#include "broker_test_reports.h"
#include "store_postgresql_support.h"
#include "wire/frame.h"

namespace tearline::broker::store_contract {
namespace {

namespace v1 = tearline::v1;
using Place = std::pair<std::string, std::uint64_t>;  // (writer, seq) as the session was sent it

// One report of "diran-bogota-hq" with `sequence`, stored at `seq` of the
// writer that commits it.
StoredReport seizure(std::uint64_t seq, std::uint64_t sequence) {
  const auto rep = test_reports::make_report("intel.seizures", "diran-bogota-hq", sequence,
                                             {test_reports::label(v1::SECRET, {"COL", "USA"})});
  StoredReport r;
  r.seq = seq;
  r.report_id = rep.parsed->header.report_id();
  r.originator = "diran-bogota-hq";
  r.topic = "intel.seizures";
  r.accepted_ms = testing::kDemoNow * 1000;
  r.sequence = sequence;
  r.source = SourceRecord{"diran-bogota-hq", "DIRAN", "COL", {}};
  r.bytes = rep.bytes;
  return r;
}

Status commit_one(Store& store, StoredReport r) {
  Batch b;
  b.reports.push_back(std::move(r));
  return store.commit(b);
}

StoreOptions stream_writer(const std::string& name) {
  StoreOptions o;
  o.writer = name;
  return o;
}

// Broker B's side: its sessions, router and catch-up over its store.
struct BrokerB {
  explicit BrokerB(Store& store) {
    sessions = std::make_unique<SessionTable>(
        [this](const std::string& id, const Bytes& b) {
          auto f = wire::decode_frame(b, 1 << 24);
          REQUIRE(f);
          if (f->has_deliver()) sent[id].emplace_back(f->deliver().writer(), f->deliver().broker_seq());
          return true;
        },
        nullptr, limits.max_pending_deliveries, limits.max_pending_bytes, nullptr);
    router = std::make_unique<Router>(index, *sessions, [](auto&&...) {});
    catch_up = std::make_unique<CatchUp>(store, *router, *sessions, limits, nullptr);
    catch_up->set_own_writer("broker-b");
    trust = test_reports::demo_trust();
    REQUIRE(index.insert("dea-cucuta-agent", "intel.>"));
    Session& s = *sessions->attach("r-agent", "dea-cucuta-agent", 0);
    s.state = SessionState::kReady;
    s.attached = true;
    agent = &s;
  }
  Limits limits;
  SubscriptionIndex index;
  std::unique_ptr<SessionTable> sessions;
  std::unique_ptr<Router> router;
  std::unique_ptr<CatchUp> catch_up;
  TrustSnapshot trust;
  Session* agent = nullptr;
  std::map<std::string, std::vector<Place>> sent;
};

}  // namespace

TEST_CASE("catch-up streams: another broker's reports are routed in its stream, held for their prev") {
  StorePlace place;
  Opened a = place.open(stream_writer("broker-a"));
  Opened b = place.open(stream_writer("broker-b"));
  // The originator's reports, alternately through A and B: A1 (seq 1),
  // B1 (prev A1), A2 (prev B1), B2 (prev A2).
  REQUIRE(commit_one(*a.store, seizure(1, 1)));
  REQUIRE(commit_one(*b.store, seizure(1, 2)));
  REQUIRE(commit_one(*a.store, seizure(2, 3)));
  REQUIRE(commit_one(*b.store, seizure(2, 4)));

  BrokerB broker(*b.store);
  Session& agent = *broker.agent;
  // B's own stream first: B1 waits for A1, which the session has not passed.
  CHECK(broker.catch_up->run(2, broker.trust, testing::kDemoNow) == 0);
  CHECK(agent.delivered == 0);
  CHECK(agent.waits_writer == "broker-a");
  CHECK(agent.waits_seq == 1);
  CHECK_FALSE(broker.catch_up->behind(2));  // held: later rounds skip it
  // A's stream: A1 goes, A2 waits for B1.
  CHECK(broker.catch_up->behind_in("broker-a", 2));
  CHECK(broker.catch_up->run_stream("broker-a", 2, broker.trust, testing::kDemoNow) == 1);
  CHECK(agent.delivered_in("broker-a") == 1);
  CHECK_FALSE(broker.catch_up->behind_in("broker-a", 2));
  // Each round moves one stream as far as the other allows.
  CHECK(broker.catch_up->behind(2));
  CHECK(broker.catch_up->run(2, broker.trust, testing::kDemoNow) == 1);                     // B1; B2 waits for A2
  CHECK(broker.catch_up->run_stream("broker-a", 2, broker.trust, testing::kDemoNow) == 1);  // A2
  CHECK(broker.catch_up->run(2, broker.trust, testing::kDemoNow) == 1);                     // B2
  CHECK(broker.sent["r-agent"] == std::vector<Place>{{"broker-a", 1}, {"", 1}, {"broker-a", 2}, {"", 2}});
  CHECK_FALSE(broker.catch_up->behind(2));
  CHECK_FALSE(broker.catch_up->behind_in("broker-a", 2));
}

TEST_CASE("catch-up streams: a session past the prev at its HELLO is not held; one without a place starts at 0") {
  StorePlace place;
  Opened a = place.open(stream_writer("broker-a"));
  Opened b = place.open(stream_writer("broker-b"));
  REQUIRE(commit_one(*a.store, seizure(1, 1)));
  REQUIRE(commit_one(*b.store, seizure(1, 2)));

  BrokerB broker(*b.store);
  Session& agent = *broker.agent;
  agent.place("broker-a").delivered = 1;  // A's head when it said HELLO
  CHECK(broker.catch_up->run(1, broker.trust, testing::kDemoNow) == 1);
  CHECK(broker.sent["r-agent"] == std::vector<Place>{{"", 1}});
  CHECK_FALSE(broker.catch_up->behind_in("broker-a", 1));

  // A new session of the node with no place in A's stream reads it from its start.
  Session& second = *broker.sessions->attach("r-second", "dea-cucuta-agent", 0);
  second.state = SessionState::kReady;
  second.attached = true;
  CHECK(broker.catch_up->behind_in("broker-a", 1));
  CHECK(broker.catch_up->run_stream("broker-a", 1, broker.trust, testing::kDemoNow) == 1);
  CHECK(broker.catch_up->run(1, broker.trust, testing::kDemoNow) == 1);
  CHECK(broker.sent["r-second"] == std::vector<Place>{{"broker-a", 1}, {"", 1}});
}

TEST_CASE("catch-up streams: a prev that retention deleted is passed with the rows around it") {
  StorePlace place;
  Opened a = place.open(stream_writer("broker-a"));
  Opened b = place.open(stream_writer("broker-b"));
  REQUIRE(commit_one(*a.store, seizure(1, 1)));
  REQUIRE(commit_one(*a.store, seizure(2, 2)));                            // prev: broker-a 1
  REQUIRE(commit_one(*b.store, seizure(1, 3)));                            // prev: broker-a 2
  REQUIRE(commit_one(*a.store, seizure(3, 4)));                            // prev: broker-b 1
  Db(place).exec("DELETE FROM reports WHERE writer_id = 1 AND seq <= 2");  // as retention would

  BrokerB broker(*b.store);
  // A's stream from its start: rows 1 and 2 are gone, so 3's prev (B1) is
  // what holds it; B1's prev (A2) is passed with the gap.
  CHECK(broker.catch_up->run_stream("broker-a", 3, broker.trust, testing::kDemoNow) == 0);
  CHECK(broker.agent->delivered_in("broker-a") == 2);
  CHECK(broker.catch_up->run(1, broker.trust, testing::kDemoNow) == 1);
  CHECK(broker.catch_up->run_stream("broker-a", 3, broker.trust, testing::kDemoNow) == 1);
  CHECK(broker.sent["r-agent"] == std::vector<Place>{{"", 1}, {"broker-a", 3}});
}

}  // namespace tearline::broker::store_contract
