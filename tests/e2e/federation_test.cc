// Two agencies' brokers, each its own (docs/federation.md, "The receiving
// boundary broker"): DIRAN's broker (the demo PKI's first, tearline-broker)
// and DEA's (dea-broker, with a directory folder of its own in which DIRAN
// is the partner agency, as DEA's operator would hold it after `certs
// import`). A peering signed by both lets intel.finance.> cross from DIRAN
// to DEA up to SECRET, releasable to USA. DEA's broker connects to DIRAN's
// ([[peer]]), takes each copy into its own store after checking it again,
// and serves DEA's own nodes from there, with its own policy and receipts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "audit/anchor.h"
#include "audit/audit_db.h"
#include "audit/audit_reader.h"
#include "base/clock.h"
#include "base/files.h"
#include "client/connection.h"
#include "crypto/key_file.h"
#include "federation/peering_files.h"
#include "identity/pki.h"
#include "support/e2e_helpers.h"
#include "support/partners.h"
#include "wire/frame.h"

namespace tearline {
namespace {

namespace v1 = tearline::v1;
using testing::BrokerFixture;
using testing::label;
using Strings = std::vector<std::string>;

constexpr int kWaitMs = 5000;
const std::string kAnalyst = "dea-bogota-analyst";
const std::string kHq = "diran-bogota-hq";

std::int64_t now() { return SystemClock::instance().now_seconds(); }

// DEA's broker beside DIRAN's `diran`: the peering, both views of the
// directory, and [[peer]] towards DIRAN's broker.
struct Federation {
  BrokerFixture diran;
  std::filesystem::path dea_directory = diran.root() / "dea-view";
  std::unique_ptr<BrokerFixture> dea;

  // `storage`: DIRAN's broker's, which DEA's takes too (e.g. a shorter
  // audit_checkpoint_seconds); `checkpoints`: DEA's [[peer]] exchanges them.
  explicit Federation(const broker::StorageLimits& storage = {}, bool checkpoints = false) : diran(storage) {
    dea = std::make_unique<BrokerFixture>(diran, "dea-broker", "DEA", [this, checkpoints](broker::Config& c) {
      const identity::PkiPaths& pki = diran.pki();
      federation::PeeringDraft d;
      d.peering_id = "diran-dea";
      d.first_agency = "DIRAN";
      d.first_broker = "tearline-broker";
      d.second_agency = "DEA";
      d.second_broker = "dea-broker";
      d.first_to_second.add_topics("intel.finance.>");
      d.first_to_second.set_ceiling(v1::SECRET);
      d.first_to_second.add_releasable_to("USA");
      d.second_to_first.set_ceiling(v1::UNCLASSIFIED);
      d.not_before = now() - 60;
      d.not_after = now() + 86400;
      auto version = federation::create_peering_file(pki, d, now());
      INFO(version.status().to_string());
      REQUIRE(version);
      REQUIRE(federation::cosign_peering_file(pki, "diran-dea", *version, "DIRAN", now()));
      REQUIRE(federation::cosign_peering_file(pki, "diran-dea", *version, "DEA", now()));
      // DEA's view: the same objects, with DIRAN the partner.
      std::filesystem::copy(pki.directory(), dea_directory, std::filesystem::copy_options::recursive);
      testing::set_partner_agencies(dea_directory / "trust.toml", {"DIRAN"});
      testing::set_partner_agencies(pki.trust_store(), {"DEA"});
      c.directory = dea_directory;
      c.peers = {broker::PeerEndpoint{"tearline-broker", diran.endpoint(), checkpoints}};
    });
  }

  client::SessionOptions dea_options(const std::string& node) const {
    client::SessionOptions o = dea->options(node);
    o.directory = dea_directory;
    return o;
  }
  std::unique_ptr<client::Session> dea_node(const std::string& node) const {
    auto s = client::Session::connect(dea_options(node));
    INFO(node << ": " << s.status().to_string());
    REQUIRE(s);
    return std::move(s).value();
  }
  // DEA's analyst with its durable subscription to what crosses.
  std::unique_ptr<client::Session> subscribed_analyst() const {
    auto analyst = dea_node(kAnalyst);
    REQUIRE(analyst->subscribe({"intel.finance.>"}));
    return analyst;
  }

  // Publishes sentinels at DIRAN's broker until one reaches `reader` through
  // DEA's: the link is up and subscribed. Each sentinel the reader does not
  // see in time is taken off its queue later by `drain`.
  void wait_for_link(client::Session& publisher, client::Session& reader) const {
    for (int i = 0; i < 40; ++i) {
      auto sent = publisher.publish(testing::draft("intel.finance.sentinel", {{testing::kEveryone, "sentinel"}}));
      REQUIRE(sent);
      REQUIRE(sent->accepted);
      if (auto got = reader.receive(500); got && got->topic == "intel.finance.sentinel") {
        while (reader.receive(300)) {
        }
        return;
      }
    }
    FAIL("DEA's broker never relayed a sentinel from DIRAN's");
  }
};

Strings statuses(const client::Received& r) {
  Strings out;
  for (const auto& s : r.sections) out.emplace_back(client::section_status_name(s.status));
  return out;
}

// The (decision, detail) of every "crossing" audit entry of the database.
std::vector<std::pair<std::string, std::string>> crossings(const std::filesystem::path& database) {
  auto entries = audit::read_entries(database);
  REQUIRE(entries);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : *entries) {
    if (e.event == "crossing") out.emplace_back(e.decision, e.detail);
  }
  return out;
}

}  // namespace

TEST_CASE("federation: DEA's broker takes what crosses into its own store and serves its own nodes from it",
          "[e2e][federation]") {
  Federation f;
  auto hq = testing::must_connect(f.diran, kHq);
  auto analyst = f.subscribed_analyst();
  f.wait_for_link(*hq, *analyst);

  const testing::Section crosses{label(v1::SECRET, {"COL", "USA"}), "the cartel's accountant banks in Panama"};
  const testing::Section colombia_only{label(v1::SECRET, {"COL"}), "informant: the accountant's driver"};
  auto sent = hq->publish(testing::draft("intel.finance.cartel", {crosses, colombia_only}));
  REQUIRE(sent);
  REQUIRE(sent->accepted);
  auto got = analyst->receive(kWaitMs);
  REQUIRE(got);
  INFO(got->verification.to_string());
  CHECK(got->verification);  // DIRAN's originator signature, verified by DEA's node over the torn copy
  CHECK(got->report_id_hex == to_hex(sent->report_id));
  CHECK(got->originator == kHq);
  CHECK(got->writer.empty());  // DEA's broker's own stream: its own acceptance receipt
  CHECK(statuses(*got) == Strings{"opened", "withheld"});
  // The path: DIRAN's broker's signed acceptance, then DEA's own receipt.
  REQUIRE(got->path.size() == 1);
  CHECK(got->path[0].broker_id == "tearline-broker");
  CHECK(got->path[0].broker_seq == sent->broker_seq);
  CHECK(got->path[0].accepted_ms == sent->accepted_ms);
  CHECK(got->accepted_ms >= got->path[0].accepted_ms);
  CHECK(got->sections.front().text == crosses.text);
  {
    INFO("a topic the peering does not carry stays home");
    auto routes = hq->publish(testing::draft("intel.routes.north", {{testing::kEveryone, "route"}}));
    REQUIRE(routes);
    REQUIRE(routes->accepted);
    auto finance = hq->publish(testing::draft("intel.finance.second", {crosses}));
    REQUIRE(finance);
    auto next = analyst->receive(kWaitMs);
    REQUIRE(next);
    CHECK(next->report_id_hex == to_hex(finance->report_id));  // not the routes report
  }
  {
    INFO("DEA's broker acknowledged the copies while running: DIRAN's broker holds its signed receipts");
    bool acknowledged = false;
    for (int i = 0; i < 50 && !acknowledged; ++i) {
      auto entries = audit::read_entries(f.diran.database());
      REQUIRE(entries);
      acknowledged = std::any_of(entries->begin(), entries->end(), [&](const audit::AuditEntry& e) {
        return e.event == "receipt" && e.node == "dea-broker" && e.decision == "received";
      });
      if (!acknowledged) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(acknowledged);
  }
  analyst.reset();
  hq.reset();
  f.dea->stop();
  const auto audit = crossings(f.dea->database());
  const auto taken = std::count_if(audit.begin(), audit.end(), [](const auto& e) { return e.first == "taken"; });
  CHECK(taken >= 3);  // sentinel(s), the cartel report, the second
  CHECK(std::none_of(audit.begin(), audit.end(), [](const auto& e) { return e.first == "refused"; }));
  CHECK(std::any_of(audit.begin(), audit.end(), [](const auto& e) {
    return e.first == "taken" && e.second.find("from tearline-broker seq ") == 0;
  }));
}

TEST_CASE("federation: a copy is acknowledged once durable: DEA's broker restarted loses nothing, takes nothing twice",
          "[e2e][federation]") {
  Federation f;
  auto hq = testing::must_connect(f.diran, kHq);
  { f.wait_for_link(*hq, *f.subscribed_analyst()); }
  f.dea->stop();
  Strings sent_ids;
  for (int i = 0; i < 3; ++i) {
    auto sent =
        hq->publish(testing::draft("intel.finance.batch", {{testing::kEveryone, "while DEA's broker is down"}}));
    REQUIRE(sent);
    REQUIRE(sent->accepted);
    sent_ids.push_back(to_hex(sent->report_id));
  }
  f.dea->start();
  auto analyst = f.subscribed_analyst();
  Strings got_ids;
  while (got_ids.size() < sent_ids.size()) {
    auto got = analyst->receive(kWaitMs);
    REQUIRE(got);
    CHECK(got->verification);
    if (got->topic == "intel.finance.batch") got_ids.push_back(got->report_id_hex);
  }
  CHECK(got_ids == sent_ids);  // the backlog, in order
  // Restarted again: DIRAN's broker sends nothing again, as every copy was acknowledged.
  f.dea->restart();
  CHECK_FALSE(analyst->receive(2500));
  analyst.reset();
  f.dea->stop();
  const auto audit = crossings(f.dea->database());
  CHECK(std::none_of(audit.begin(), audit.end(), [](const auto& e) { return e.first == "duplicate"; }));
  CHECK(std::none_of(audit.begin(), audit.end(), [](const auto& e) { return e.first == "refused"; }));
}

TEST_CASE(
    "federation: a report accepted at home before its originator's compromise reaches the partner's nodes "
    "after a link outage, judged at its home acceptance",
    "[e2e][federation]") {
  Federation f;
  auto hq = testing::must_connect(f.diran, kHq);
  { f.wait_for_link(*hq, *f.subscribed_analyst()); }
  f.dea->stop();
  auto sent = hq->publish(testing::draft("intel.finance.before", {{testing::kEveryone, "written before the theft"}}));
  REQUIRE(sent);
  REQUIRE(sent->accepted);
  hq.reset();
  // The key of DIRAN's HQ node is compromised a second after that
  // acceptance; DIRAN's list reaches DEA's directory before its broker
  // starts again, so DEA's broker takes the copy after the compromise.
  const std::int64_t compromised_at = sent->accepted_ms / 1000 + 1;
  while (now() <= compromised_at) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  f.diran.revoke("DIRAN", kHq, identity::RevocationReason::kCompromised, compromised_at);
  const auto list = f.diran.pki().revocation_list("DIRAN");
  std::filesystem::copy_file(list, f.dea_directory / std::filesystem::relative(list, f.diran.pki().directory()),
                             std::filesystem::copy_options::overwrite_existing);
  f.dea->start();
  auto analyst = f.subscribed_analyst();
  auto got = analyst->receive(kWaitMs);
  REQUIRE(got);
  INFO(got->verification.to_string());
  CHECK(got->verification);
  CHECK(got->report_id_hex == to_hex(sent->report_id));
  REQUIRE(got->path.size() == 1);
  CHECK(got->path[0].accepted_ms < compromised_at * 1000);
  CHECK(got->accepted_ms >= compromised_at * 1000);  // DEA's own acceptance came after the compromise
}

TEST_CASE("federation: the link cut under load, from either side, loses no report and keeps each originator's order",
          "[e2e][federation]") {
  Federation f;
  auto analyst = f.subscribed_analyst();
  std::vector<std::unique_ptr<client::Session>> publishers;
  publishers.push_back(testing::must_connect(f.diran, kHq));
  publishers.push_back(testing::must_connect(f.diran, "diran-cucuta-commander"));
  f.wait_for_link(*publishers[0], *analyst);

  // Reports alternate between the two originators; DEA's broker restarts a
  // third of the way in, DIRAN's two thirds of the way in.
  constexpr int kReports = 90;
  std::map<std::string, Strings> sent;  // originator -> report ids, in publish order
  for (int i = 0; i < kReports; ++i) {
    if (i == kReports / 3) f.dea->restart();
    if (i == 2 * kReports / 3) f.diran.restart();
    client::Session& p = *publishers[static_cast<std::size_t>(i % 2)];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      auto outcome =
          p.publish(testing::draft("intel.finance.load", {{testing::kEveryone, "load " + std::to_string(i)}}));
      if (outcome) {
        INFO(outcome->status.to_string());
        REQUIRE(outcome->accepted);
        sent[p.node_id()].push_back(to_hex(outcome->report_id));
        break;
      }
      INFO(outcome.status().to_string());
      REQUIRE(outcome.code() == Code::UNAVAILABLE);  // DIRAN's broker restarting: the PUBLISH never reached it
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  std::map<std::string, Strings> got;
  std::size_t received = 0;
  while (received < static_cast<std::size_t>(kReports)) {
    auto r = analyst->receive(15000);
    INFO("received " << received << " of " << kReports);
    REQUIRE(r);
    INFO(r->verification.to_string());
    REQUIRE(r->verification);
    if (r->topic != "intel.finance.load") continue;
    got[r->originator].push_back(r->report_id_hex);
    ++received;
  }
  CHECK(got == sent);  // every report once, each originator's in its order
  CHECK_FALSE(analyst->receive(1500));
}

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

  static void sign(const identity::PkiPaths& pki, federation::PeeringDraft d) {
    d.not_before = now() - 60;
    d.not_after = now() + 86400;
    auto version = federation::create_peering_file(pki, d, now());
    INFO(version.status().to_string());
    REQUIRE(version);
    REQUIRE(federation::cosign_peering_file(pki, d.peering_id, *version, d.first_agency, now()));
    REQUIRE(federation::cosign_peering_file(pki, d.peering_id, *version, d.second_agency, now()));
  }

  static void view(const std::filesystem::path& from, const std::filesystem::path& to,
                   const std::vector<std::string>& partners) {
    std::filesystem::remove_all(to);
    std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
    testing::set_partner_agencies(to / "trust.toml", partners);
  }

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
      sign(pki, d);
      view(pki.directory(), dea_directory, {"DIRAN", "FGR"});
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
      sign(pki, d);
      view(pki.directory(), fgr_directory, {"DIRAN", "DEA"});
      c.directory = fgr_directory;
      c.peers = {broker::PeerEndpoint{"dea-broker", dea->endpoint()}};
    });
    // DEA's view takes FGR's broker and the dea-fgr peering (as its operator's
    // `certs import` of FGR's folder would); DIRAN's marks both partners.
    view(pki.directory(), dea_directory, {"DIRAN", "FGR"});
    dea->reload();
    testing::set_partner_agencies(pki.trust_store(), {"DEA", "FGR"});
    diran.reload();
  }

  std::unique_ptr<client::Session> node(const BrokerFixture& at, const std::filesystem::path& directory,
                                        const std::string& id) const {
    client::SessionOptions o = at.options(id);
    o.directory = directory;
    auto s = client::Session::connect(o);
    INFO(id << ": " << s.status().to_string());
    REQUIRE(s);
    return std::move(s).value();
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
    auto liaison = c.node(*c.fgr, c.fgr_directory, "fgr-liaison");
    REQUIRE(liaison->subscribe({"intel.finance.>"}));
    auto analyst = c.node(*c.dea, c.dea_directory, kAnalyst);
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

// The "peer_checkpoint received" entries of a log: (the broker, its checkpoint).
std::vector<std::pair<std::string, audit::Checkpoint>> peer_checkpoints(const std::filesystem::path& database) {
  auto entries = audit::read_entries(database);
  REQUIRE(entries);
  std::vector<std::pair<std::string, audit::Checkpoint>> out;
  for (const auto& e : *entries) {
    if (e.event != "peer_checkpoint") continue;
    INFO(e.decision << " " << e.detail);
    REQUIRE(e.decision == "received");
    auto c = audit::parse_anchor_line(e.detail);
    REQUIRE(c);
    out.emplace_back(e.node, *c);
  }
  return out;
}

// The index of the log's "crossing taken" entry of `report_hex`; 0 when none.
std::uint64_t taken_at(const std::filesystem::path& database, const std::string& report_hex) {
  auto entries = audit::read_entries(database);
  REQUIRE(entries);
  for (const auto& e : *entries) {
    if (e.event == "crossing" && e.decision == "taken" && e.report == report_hex) return e.index;
  }
  return 0;
}

}  // namespace

TEST_CASE(
    "federation: the boundary brokers exchange signed audit checkpoints; each holds what the other's log "
    "held, the crossings it took included",
    "[e2e][federation]") {
  broker::StorageLimits storage;
  storage.audit_checkpoint_seconds = 1;
  Federation f(storage, true);
  auto hq = testing::must_connect(f.diran, kHq);
  auto analyst = f.subscribed_analyst();
  f.wait_for_link(*hq, *analyst);
  auto sent = hq->publish(testing::draft("intel.finance.cartel", {{testing::kEveryone, "the accountant's bank"}}));
  REQUIRE(sent);
  REQUIRE(sent->accepted);
  const std::string id = to_hex(sent->report_id);
  auto got = analyst->receive(kWaitMs);
  REQUIRE(got);
  CHECK(got->report_id_hex == id);
  // Within a few PINGs (every 5 s), DIRAN's broker holds a checkpoint of
  // DEA's that covers DEA's "crossing taken" entry of the report.
  std::uint64_t taken = 0;
  bool covered = false;
  for (int i = 0; i < 150 && !covered; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (taken == 0) taken = taken_at(f.dea->database(), id);
    for (const auto& [broker, c] : peer_checkpoints(f.diran.database())) {
      covered = covered || (broker == "dea-broker" && taken != 0 && c.index >= taken);
    }
  }
  CHECK(covered);
  analyst.reset();
  hq.reset();
  f.dea->stop();
  f.diran.stop();
  // Each side's record of the other's checkpoint matches the other's log,
  // entry for entry: the partner could not now deny what it held.
  const std::pair<BrokerFixture*, const char*> sides[2] = {{&f.diran, "dea-broker"}, {f.dea.get(), "tearline-broker"}};
  for (const auto& [recorder, partner] : sides) {
    INFO(partner);
    const auto records = peer_checkpoints(recorder->database());
    CHECK_FALSE(records.empty());
    BrokerFixture& other = recorder == &f.diran ? *f.dea : f.diran;
    auto log = audit::sqlite_audit_reader(other.database());
    auto entries = log->entries({});
    REQUIRE(entries);
    for (const auto& [broker, c] : records) {
      CHECK(broker == partner);
      REQUIRE(c.index <= entries->size());
      CHECK((*entries)[c.index - 1].hash == c.hash);
      auto check = audit::compare_with_anchor(*log, c);
      REQUIRE(check);
      CHECK_FALSE(check->truncated);
    }
  }
}

TEST_CASE(
    "federation: audit checkpoints are exchanged only where the receiving side's [[peer]] asks, and never "
    "with a node",
    "[e2e][federation]") {
  broker::StorageLimits storage;
  storage.audit_checkpoint_seconds = 1;
  Federation f(storage);  // checkpoints = false: a partner broker from before would refuse them
  auto hq = testing::must_connect(f.diran, kHq);
  auto analyst = f.subscribed_analyst();
  f.wait_for_link(*hq, *analyst);
  // A node's PING with a checkpoint (its own "signature"): ignored, and the
  // PONG carries none of the broker's.
  auto keys = crypto::read_node_keys(f.diran.pki().node_key(kHq));
  REQUIRE(keys);
  auto broker_key = client::read_broker_key(f.diran.pki().broker_public());
  REQUIRE(broker_key);
  client::ConnectionOptions options;
  options.endpoint = f.diran.endpoint();
  options.node_id = kHq;
  options.connect_timeout_ms = kWaitMs;
  auto conn = client::Connection::open(options, *broker_key, keys->transport);
  REQUIRE(conn);
  REQUIRE((*conn)->hello());
  v1::Frame ping = wire::make_ping(7);
  v1::AuditCheckpoint* c = ping.mutable_ping()->mutable_checkpoint();
  c->set_broker_id(kHq);
  c->set_index(1);
  c->set_hash(std::string(32, 'h'));
  c->set_signature(std::string(64, 's'));
  REQUIRE((*conn)->send(ping));
  std::optional<v1::Frame> pong;
  for (int i = 0; i < 50 && !pong; ++i) {
    auto event = (*conn)->next_event(100);
    if (event && event->is_ok() && event->value().has_pong()) pong = event->value();
  }
  REQUIRE(pong);
  CHECK(pong->pong().nonce() == 7);
  CHECK_FALSE(pong->pong().has_checkpoint());
  // Past a PING of DEA's link (every 5 s) and several checkpoints of each
  // broker: neither recorded the other's, as DEA's [[peer]] did not ask.
  std::this_thread::sleep_for(std::chrono::milliseconds(6000));
  analyst.reset();
  hq.reset();
  f.dea->stop();
  f.diran.stop();
  CHECK(peer_checkpoints(f.diran.database()).empty());
  CHECK(peer_checkpoints(f.dea->database()).empty());
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
      Chain::sign(pki, draft("diran-dea", "DIRAN", "tearline-broker", "COL", "DEA", "dea-broker", "USA"));
      Chain::view(pki.directory(), dea_directory, {"DIRAN", "FGR"});
      c.directory = dea_directory;
      c.peers = {broker::PeerEndpoint{"tearline-broker", diran.endpoint()}};
    });
    fgr = std::make_unique<BrokerFixture>(diran, "fgr-broker", "FGR", [&](broker::Config& c) {
      Chain::sign(pki, draft("dea-fgr", "DEA", "dea-broker", "USA", "FGR", "fgr-broker", "MEX"));
      Chain::sign(pki, draft("diran-fgr", "DIRAN", "tearline-broker", "COL", "FGR", "fgr-broker", "MEX"));
      Chain::view(pki.directory(), fgr_directory, {"DIRAN", "DEA"});
      c.directory = fgr_directory;
      c.peers = {broker::PeerEndpoint{"tearline-broker", diran.endpoint()},
                 broker::PeerEndpoint{"dea-broker", dea->endpoint()}};
    });
    Chain::view(pki.directory(), dea_directory, {"DIRAN", "FGR"});
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
    client::SessionOptions o = at.options(id);
    o.directory = directory;
    auto s = client::Session::connect(o);
    INFO(id << ": " << s.status().to_string());
    REQUIRE(s);
    auto session = std::move(s).value();
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
