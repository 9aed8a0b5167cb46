// broker/trust_state: which partner brokers a reload links (TrustSnapshot::
// peers). One PKI folder holds DIRAN (this broker's agency, its broker
// diran-broker) and DEA (made a partner once the peerings are signed, its
// boundary broker dea-broker); each case writes peerings and asks a real
// TrustState reload what it linked and why it left the rest unused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "base/canonical_proto.h"
#include "base/clock.h"
#include "base/files.h"
#include "broker/trust_state.h"
#include "crypto/key_file.h"
#include "federation/peering_files.h"
#include "identity/pki.h"
#include "identity/trust_store.h"
#include "support/partners.h"
#include "support/temp_dir.h"

namespace tearline::broker {
namespace {

namespace v1 = tearline::v1;
constexpr std::int64_t kDay = 86400;

std::int64_t now() { return SystemClock::instance().now_seconds(); }

struct World {
  testing::TempDir dir;
  identity::PkiPaths pki{dir.path()};

  World() {
    REQUIRE(identity::init_authority(pki, "DIRAN", "COL"));
    REQUIRE(identity::init_authority(pki, "DEA", "USA"));
    REQUIRE(identity::init_broker(pki, {"diran-broker", "DIRAN", now() - 60, now() + 30 * kDay}));
    REQUIRE(identity::issue_node(
        pki, {"dea-broker", "DEA", v1::UNCLASSIFIED, {"broker"}, now() - 60, now() + 30 * kDay, 0}));
    const std::string policy = "[[grant]]\nto = [\"any\"]\nsubscribe = [\"intel.>\"]\n";
    REQUIRE(write_file_atomic(dir.path() / "policy.toml", as_bytes(policy), 0644));
  }

  // Peering `id` v`version` DIRAN -> DEA over [from, until), signed by both
  // (while DEA is still one of this PKI's agencies).
  void peering(const std::string& id, std::int64_t from, std::int64_t until, std::uint64_t version = 1) {
    federation::PeeringDraft d;
    d.peering_id = id;
    d.first_agency = "DIRAN";
    d.first_broker = "diran-broker";
    d.second_agency = "DEA";
    d.second_broker = "dea-broker";
    d.first_to_second.add_topics("intel.>");
    d.first_to_second.set_ceiling(v1::SECRET);
    d.second_to_first.set_ceiling(v1::UNCLASSIFIED);
    d.not_before = from;
    d.not_after = until;
    d.version = version;
    auto v = federation::create_peering_file(pki, d, now());
    INFO(v.status().to_string());
    REQUIRE(v);
    REQUIRE(federation::cosign_peering_file(pki, id, version, "DIRAN", now()));
    REQUIRE(federation::cosign_peering_file(pki, id, version, "DEA", now()));
  }

  void partners(const std::vector<std::string>& agencies) {
    testing::set_partner_agencies(pki.trust_store(), agencies);
  }

  TrustSnapshotPtr reload() {
    TrustState state(pki.directory(), dir.path() / "policy.toml");
    identity::LoadReport report;
    Status s = state.reload(
        now(), &report, [](const identity::Directory&) -> Result<std::string> { return std::string("diran-broker"); });
    INFO(s.to_string());
    REQUIRE(s);
    return state.current();
  }
};

bool mentions(const std::vector<std::string>& issues, const std::string& needle) {
  for (const auto& i : issues) {
    if (i.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("peer links: a peering in effect links its partner broker while its window is open") {
  World w;
  w.peering("diran-dea", now() - 60, now() + kDay);
  w.partners({"DEA"});
  const TrustSnapshotPtr snap = w.reload();
  CHECK(snap->broker_id == "diran-broker");
  REQUIRE(snap->peers.count("dea-broker") == 1);
  const PeerLink* link = snap->peer("dea-broker", now());
  REQUIRE(link != nullptr);
  CHECK(link->we_are_first);
  CHECK(link->partner_country == "USA");
  CHECK(link->to_them().topics == std::vector<std::string>{"intel.>"});
  CHECK(snap->peer("dea-broker", now() + 2 * kDay) == nullptr);
  CHECK(snap->check_session_node("dea-broker", now()));
  CHECK(snap->check_session_node("dea-broker", now() + 2 * kDay).code() == Code::FOREIGN_NODE);
  CHECK(snap->peering_issues.empty());

  // A party's revocation list ends it at the next reload.
  REQUIRE(identity::revoke(w.pki, "DIRAN", {}, {}, now(), {{"diran-dea", 1}}));
  const TrustSnapshotPtr revoked = w.reload();
  CHECK(revoked->peers.empty());
  CHECK(revoked->check_session_node("dea-broker", now()).code() == Code::FOREIGN_NODE);
}

TEST_CASE("peer links: two peerings naming one partner broker apply one after the other, never at once") {
  const std::int64_t t0 = now();
  SECTION("windows that do not overlap: each in its time") {
    World w;
    w.peering("old", t0 - 60, t0 + kDay);
    w.peering("renewed", t0 + kDay, t0 + 2 * kDay);
    w.partners({"DEA"});
    const TrustSnapshotPtr snap = w.reload();
    REQUIRE(snap->peer("dea-broker", now()) != nullptr);
    CHECK(snap->peer("dea-broker", now())->peering.peering_id == "old");
    REQUIRE(snap->peer("dea-broker", now() + kDay + 60) != nullptr);
    CHECK(snap->peer("dea-broker", now() + kDay + 60)->peering.peering_id == "renewed");
  }
  SECTION("windows that overlap: neither, each said") {
    World w;
    w.peering("one", now() - 60, now() + kDay);
    w.peering("two", now() + 3600, now() + 2 * kDay);
    w.partners({"DEA"});
    const TrustSnapshotPtr snap = w.reload();
    CHECK(snap->peers.empty());
    CHECK(snap->peer("dea-broker", now()) == nullptr);
    CHECK(mentions(snap->peering_issues, "peering one v1: not used: another peering in effect names dea-broker"));
    CHECK(mentions(snap->peering_issues, "peering two v1: not used: another peering in effect names dea-broker"));
    // The partner broker is told why, and what to do.
    const Status refused = snap->check_session_node("dea-broker", now());
    CHECK(refused.code() == Code::FOREIGN_NODE);
    CHECK(refused.to_string().find("is named by a peering this broker does not use: peering one v1: another "
                                   "peering in effect names dea-broker for an overlapping time: end one "
                                   "(tearline certs revoke --peering ID:VERSION)") != std::string::npos);
  }
  SECTION("a peering whose window has ended overlaps nothing: its successor is used") {
    World w;
    w.peering("ended", t0 - 2 * kDay, t0 - kDay);
    w.peering("current", t0 - 3 * kDay, t0 + kDay);
    w.partners({"DEA"});
    const TrustSnapshotPtr snap = w.reload();
    REQUIRE(snap->peer("dea-broker", now()) != nullptr);
    CHECK(snap->peer("dea-broker", now())->peering.peering_id == "current");
    CHECK(snap->peering_issues.empty());
  }
}

TEST_CASE("peer links: what a peering names must be what the directory holds") {
  SECTION("the partner broker's credential now carries other keys") {
    World w;
    w.peering("diran-dea", now() - 60, now() + kDay);
    REQUIRE(identity::issue_node(
        w.pki, {"dea-broker", "DEA", v1::UNCLASSIFIED, {"broker"}, now() - 60, now() + 30 * kDay, 0}));
    w.partners({"DEA"});
    const TrustSnapshotPtr snap = w.reload();
    CHECK(snap->peers.empty());
    CHECK(mentions(snap->peering_issues, "carries other keys than the peering names"));
  }
  SECTION("the other agency is not a partner") {
    World w;
    w.peering("diran-dea", now() - 60, now() + kDay);
    const TrustSnapshotPtr snap = w.reload();
    CHECK(snap->peers.empty());
    CHECK(mentions(snap->peering_issues, "DEA is not a partner agency here"));
    CHECK(snap->check_session_node("dea-broker", now()));  // one of this PKI's own nodes
  }
  SECTION("our own agency is marked a partner") {
    World w;
    w.peering("diran-dea", now() - 60, now() + kDay);
    w.partners({"DEA", "DIRAN"});
    const TrustSnapshotPtr snap = w.reload();
    CHECK(snap->peers.empty());
    CHECK(mentions(snap->peering_issues, "DIRAN, this broker's side, is marked partner = true in trust.toml"));
  }
  SECTION("a peering of another broker of ours is not this broker's") {
    World w;
    REQUIRE(identity::init_broker(w.pki, {"diran-broker-2", "DIRAN", now() - 60, now() + 30 * kDay}, false));
    w.peering("diran-dea", now() - 60, now() + kDay);
    w.partners({"DEA"});
    TrustState state(w.pki.directory(), w.dir.path() / "policy.toml");
    REQUIRE(state.reload(now(), nullptr, [](const identity::Directory&) -> Result<std::string> {
      return std::string("diran-broker-2");
    }));
    CHECK(state.current()->peers.empty());
    CHECK(state.current()->peering_issues.empty());
    CHECK(state.current()->check_session_node("dea-broker", now()).code() == Code::FOREIGN_NODE);
  }
}

}  // namespace tearline::broker
