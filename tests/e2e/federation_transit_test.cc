// Transit across agencies' brokers (docs/federation.md, "Transit"): a chain
// DIRAN > DEA > FGR with and without transit on diran-dea, and a triangle of
// the three with transit everywhere, where nothing may go round.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_db.h"
#include "base/bytes.h"
#include "federation_world.h"

namespace tearline {
using namespace federation_world;
using testing::label;

namespace {

// Three agencies in a chain (docs/federation.md, "Transit"): DIRAN's broker,
// DEA's pulling from it (peering diran-dea: intel.finance.> up to SECRET,
// releasable to USA, `transit` as given), FGR's pulling from DEA's (peering
// dea-fgr: intel.finance.> up to SECRET, releasable to MEX). DIRAN and FGR
// have no peering: DIRAN's reports reach FGR only through DEA, and only
// when diran-dea lets DEA pass them on.
struct Chain {
  BrokerFixture diran;
  std::filesystem::path dea_directory = diran.root() / "dea-view";
  std::filesystem::path fgr_directory = diran.root() / "fgr-view";
  std::unique_ptr<BrokerFixture> dea, fgr;

  explicit Chain(bool transit) {
    const identity::PkiPaths& pki = diran.pki();
    dea = std::make_unique<BrokerFixture>(diran, "dea-broker", "DEA", [&](broker::Config& c) {
      federation::PeeringDraft d;
      d.peering_id = "diran-dea";
      d.first_agency = "DIRAN";
      d.first_broker = "tearline-broker";
      d.second_agency = "DEA";
      d.second_broker = "dea-broker";
      d.first_to_second.add_topics("intel.finance.>");
      d.first_to_second.set_ceiling(v1::SECRET);
      d.first_to_second.add_releasable_to("USA");
      d.first_to_second.set_transit(transit);
      d.second_to_first.set_ceiling(v1::UNCLASSIFIED);
      sign_peering(pki, d);
      directory_view(pki.directory(), dea_directory, {"DIRAN", "FGR"});
      c.directory = dea_directory;
      c.peers = {broker::PeerEndpoint{"tearline-broker", diran.endpoint()}};
    });
    fgr = std::make_unique<BrokerFixture>(diran, "fgr-broker", "FGR", [&](broker::Config& c) {
      federation::PeeringDraft d;
      d.peering_id = "dea-fgr";
      d.first_agency = "DEA";
      d.first_broker = "dea-broker";
      d.second_agency = "FGR";
      d.second_broker = "fgr-broker";
      d.first_to_second.add_topics("intel.finance.>");
      d.first_to_second.set_ceiling(v1::SECRET);
      d.first_to_second.add_releasable_to("MEX");
      d.second_to_first.set_ceiling(v1::UNCLASSIFIED);
      sign_peering(pki, d);
      directory_view(pki.directory(), fgr_directory, {"DIRAN", "DEA"});
      c.directory = fgr_directory;
      c.peers = {broker::PeerEndpoint{"dea-broker", dea->endpoint()}};
    });
    // DEA's view takes FGR's broker and the dea-fgr peering (as its operator's
    // `certs import` of FGR's folder would); DIRAN's marks both partners.
    directory_view(pki.directory(), dea_directory, {"DIRAN", "FGR"});
    dea->reload();
    testing::set_partner_agencies(pki.trust_store(), {"DEA", "FGR"});
    diran.reload();
  }
};

// Reads `reader` until a report on `topic` arrives (within 20 s); the others read are returned.
std::vector<client::Received> read_until(client::Session& reader, const std::string& topic) {
  std::vector<client::Received> before;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = reader.receive(500);
    if (!r) continue;
    if (r->topic == topic) return before;
    before.push_back(std::move(*r));
  }
  FAIL("no report on " << topic << " within 20 s");
  return before;
}

}  // namespace

TEST_CASE("federation: transit: DIRAN's report reaches FGR through DEA only where diran-dea lets DEA pass it on",
          "[e2e][federation]") {
  for (const bool transit : {true, false}) {
    INFO("transit " << transit);
    Chain c(transit);
    auto liaison = node_at(*c.fgr, c.fgr_directory, "fgr-liaison");
    REQUIRE(liaison->subscribe({"intel.finance.>"}));
    auto analyst = node_at(*c.dea, c.dea_directory, kAnalyst);
    REQUIRE(analyst->subscribe({"intel.finance.>"}));
    // Both links up: a DEA report reaches FGR's liaison.
    for (int i = 0;; ++i) {
      auto sent = analyst->publish(testing::draft("intel.finance.dea", {{testing::kEveryone, "DEA lead"}}));
      REQUIRE(sent);
      REQUIRE(sent->accepted);
      if (auto got = liaison->receive(500); got && got->topic == "intel.finance.dea") break;
      REQUIRE(i < 40);
    }
    while (liaison->receive(300)) {
    }
    while (analyst->receive(300)) {
    }

    auto hq = testing::must_connect(c.diran, kHq);
    auto sent = hq->publish(testing::draft("intel.finance.cartel", {{testing::kEveryone, "the accountant's bank"}}));
    REQUIRE(sent);
    REQUIRE(sent->accepted);
    // DEA's analyst has it: it is in DEA's store, before the sentinel below.
    const auto at_dea = read_until(*analyst, "intel.finance.cartel");
    auto sentinel = analyst->publish(testing::draft("intel.finance.end", {{testing::kEveryone, "end"}}));
    REQUIRE(sentinel);
    REQUIRE(sentinel->accepted);
    const auto at_fgr = read_until(*liaison, "intel.finance.end");
    if (transit) {
      REQUIRE(at_fgr.size() == 1);
      const client::Received& got = at_fgr.front();
      INFO(got.verification.to_string());
      CHECK(got.verification);  // DIRAN's signature and both hops, verified by FGR's node
      CHECK(got.report_id_hex == to_hex(sent->report_id));
      CHECK(got.sections.front().text == "the accountant's bank");
      REQUIRE(got.path.size() == 2);
      CHECK(got.path[0].broker_id == "tearline-broker");
      CHECK(got.path[0].broker_seq == sent->broker_seq);
      CHECK(got.path[1].broker_id == "dea-broker");
      CHECK(got.path[0].accepted_ms <= got.path[1].accepted_ms);
    } else {
      CHECK(at_fgr.empty());  // DEA keeps it: diran-dea has no transit
    }
    liaison.reset();
    analyst.reset();
    hq.reset();
    c.dea->stop();
    c.fgr->stop();
    // DEA's audit log says why it kept it.
    auto entries = audit::read_entries(c.dea->database());
    REQUIRE(entries);
    const std::string id = to_hex(sent->report_id);
    const bool kept = std::any_of(entries->begin(), entries->end(), [&](const audit::AuditEntry& e) {
      return e.report == id && e.detail.find(
                                   "fgr-broker withheld all sections: NO_PEERING: it is DIRAN's report, "
                                   "crossed to DEA from DIRAN over a peering that does not let it be "
                                   "passed on (transit no)") != std::string::npos;
    });
    CHECK(kept == !transit);
    const auto taken = crossings(c.fgr->database());
    CHECK(std::none_of(taken.begin(), taken.end(), [](const auto& e) { return e.first == "refused"; }));
  }
}

namespace {

// Three agencies' brokers in a triangle, every direction with transit:
// DIRAN's, DEA's and FGR's, each pair peered (intel.finance.> up to
// SECRET, releasable to the receiving agency), each broker pulling from
// both others. A report may then reach a broker by two ways and would go
// round if nothing stopped it.
struct Triangle {
  BrokerFixture diran;
  std::filesystem::path dea_directory = diran.root() / "dea-view";
  std::filesystem::path fgr_directory = diran.root() / "fgr-view";
  std::unique_ptr<BrokerFixture> dea, fgr;

  static federation::PeeringDraft draft(const std::string& id, const std::string& a, const std::string& a_broker,
                                        const std::string& a_country, const std::string& b, const std::string& b_broker,
                                        const std::string& b_country) {
    federation::PeeringDraft d;
    d.peering_id = id;
    d.first_agency = a;
    d.first_broker = a_broker;
    d.second_agency = b;
    d.second_broker = b_broker;
    for (auto [way, country] : {std::pair{&d.first_to_second, b_country}, std::pair{&d.second_to_first, a_country}}) {
      way->add_topics("intel.finance.>");
      way->set_ceiling(v1::SECRET);
      way->add_releasable_to(country);
      way->set_transit(true);
    }
    return d;
  }

  Triangle() {
    const identity::PkiPaths& pki = diran.pki();
    dea = std::make_unique<BrokerFixture>(diran, "dea-broker", "DEA", [&](broker::Config& c) {
      sign_peering(pki, draft("diran-dea", "DIRAN", "tearline-broker", "COL", "DEA", "dea-broker", "USA"));
      directory_view(pki.directory(), dea_directory, {"DIRAN", "FGR"});
      c.directory = dea_directory;
      c.peers = {broker::PeerEndpoint{"tearline-broker", diran.endpoint()}};
    });
    fgr = std::make_unique<BrokerFixture>(diran, "fgr-broker", "FGR", [&](broker::Config& c) {
      sign_peering(pki, draft("dea-fgr", "DEA", "dea-broker", "USA", "FGR", "fgr-broker", "MEX"));
      sign_peering(pki, draft("diran-fgr", "DIRAN", "tearline-broker", "COL", "FGR", "fgr-broker", "MEX"));
      directory_view(pki.directory(), fgr_directory, {"DIRAN", "DEA"});
      c.directory = fgr_directory;
      c.peers = {broker::PeerEndpoint{"tearline-broker", diran.endpoint()},
                 broker::PeerEndpoint{"dea-broker", dea->endpoint()}};
    });
    directory_view(pki.directory(), dea_directory, {"DIRAN", "FGR"});
    dea->set_peers({broker::PeerEndpoint{"tearline-broker", diran.endpoint()},
                    broker::PeerEndpoint{"fgr-broker", fgr->endpoint()}});
    testing::set_partner_agencies(pki.trust_store(), {"DEA", "FGR"});
    diran.set_peers(
        {broker::PeerEndpoint{"dea-broker", dea->endpoint()}, broker::PeerEndpoint{"fgr-broker", fgr->endpoint()}});
  }
};

// The decisions of the "crossing" entries about `report_hex`.
Strings crossing_decisions(const std::filesystem::path& database, const std::string& report_hex) {
  auto entries = audit::read_entries(database);
  REQUIRE(entries);
  Strings out;
  for (const auto& e : *entries) {
    if (e.event == "crossing" && e.report == report_hex) out.push_back(e.decision);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Whether the log withheld `report_hex` from `broker` for coming back to its agency.
bool kept_from_going_back(const std::filesystem::path& database, const std::string& report_hex,
                          const std::string& broker) {
  auto entries = audit::read_entries(database);
  REQUIRE(entries);
  return std::any_of(entries->begin(), entries->end(), [&](const audit::AuditEntry& e) {
    return e.report == report_hex &&
           e.detail.find(broker + " withheld all sections: CROSSING_LOOP") != std::string::npos;
  });
}

}  // namespace

TEST_CASE("federation: a triangle of three brokers with transit everywhere: each copy taken once, none goes round",
          "[e2e][federation]") {
  Triangle t;
  auto connect_at = [](const BrokerFixture& at, const std::filesystem::path& directory, const std::string& id) {
    auto session = node_at(at, directory, id);
    REQUIRE(session->subscribe({"intel.finance.>"}));
    return session;
  };
  auto liaison = connect_at(*t.fgr, t.fgr_directory, "fgr-liaison");
  auto analyst = connect_at(*t.dea, t.dea_directory, kAnalyst);
  auto hq = testing::must_connect(t.diran, kHq);
  // Every link up: a sentinel of DIRAN's reaches DEA's analyst and FGR's liaison.
  for (int i = 0;; ++i) {
    auto sent = hq->publish(testing::draft("intel.finance.sentinel", {{testing::kEveryone, "sentinel"}}));
    REQUIRE(sent);
    REQUIRE(sent->accepted);
    auto a = analyst->receive(500);
    auto l = liaison->receive(500);
    if (a && l) break;
    REQUIRE(i < 40);
  }
  while (analyst->receive(300) || liaison->receive(300)) {
  }

  auto sent = hq->publish(testing::draft("intel.finance.cartel", {{testing::kEveryone, "the accountant's bank"}}));
  REQUIRE(sent);
  REQUIRE(sent->accepted);
  const std::string id = to_hex(sent->report_id);
  // DEA's and FGR's brokers each take it once, straight from DIRAN's or in
  // transit through the third, whichever came first.
  auto taken = [&](const BrokerFixture& b) {
    const Strings d = crossing_decisions(b.database(), id);
    return std::find(d.begin(), d.end(), "taken") != d.end();
  };
  bool both = false;
  for (int i = 0; i < 100 && !both; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    both = taken(*t.dea) && taken(*t.fgr);
  }
  CHECK(both);
  // Each node got it once.
  for (client::Session* reader : {analyst.get(), liaison.get()}) {
    INFO(reader->node_id());
    int copies = 0;
    while (auto r = reader->receive(1000)) {
      if (r->report_id_hex != id) continue;
      ++copies;
      CHECK(r->verification);
      REQUIRE_FALSE(r->path.empty());
      CHECK(r->path.front().broker_id == "tearline-broker");
    }
    CHECK(copies == 1);
  }
  liaison.reset();
  analyst.reset();
  hq.reset();
  t.fgr->stop();
  t.dea->stop();
  t.diran.stop();
  // A copy that came the other way too was a duplicate: one taken, at most
  // one more, none refused.
  for (const BrokerFixture* b : {t.dea.get(), t.fgr.get()}) {
    const Strings d = crossing_decisions(b->database(), id);
    INFO(d.size() << " crossing entries");
    CHECK((d == Strings{"taken"} || d == Strings{"duplicate", "taken"}));
  }
  // Nothing went round: DEA's and FGR's brokers kept it from DIRAN's
  // (CROSSING_LOOP at the sender), and DIRAN's took no copy of its own report.
  CHECK(kept_from_going_back(t.dea->database(), id, "tearline-broker"));
  CHECK(kept_from_going_back(t.fgr->database(), id, "tearline-broker"));
  CHECK(crossing_decisions(t.diran.database(), id).empty());
}

}  // namespace tearline
