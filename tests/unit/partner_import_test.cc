// lib/federation: peering files and directories across agencies. Two PKIs,
// one per agency (DIRAN's and DEA's), made here at the current time: each
// imports the other's published directory (pinned only with the key told
// out of band), a peering is created on one side, each agency signs its own
// copy, and the copies meet. Each refusal is asserted with its exact code.
#include <catch2/catch.hpp>

#include <algorithm>

#include "base/clock.h"
#include "federation/partner_import.h"
#include "federation/peering_files.h"
#include "identity_test_helpers.h"

namespace tearline::identity_test {
namespace {

using federation::ImportRequest;
using federation::PeeringDraft;
using Strings = std::vector<std::string>;

std::int64_t now() { return SystemClock::instance().now_seconds(); }

// One agency's PKI: its authority, a node, its boundary broker.
struct AgencyPki {
  TempDir dir;
  PkiPaths pki;
  std::string agency;

  AgencyPki(const std::string& agency_id, const std::string& country, const std::string& node,
            const std::string& broker)
      : pki(dir.path()), agency(agency_id) {
    REQUIRE(identity::init_authority(pki, agency, country));
    REQUIRE(identity::issue_node(pki, {node, agency, v1::SECRET, {"agent"}, now() - 60, now() + 30 * kDay, 0}));
    REQUIRE(identity::init_broker(pki, {broker, agency, now() - 60, now() + 30 * kDay}));
  }
  crypto::VerifyKey authority_key() const {
    auto trust = identity::TrustStore::load(pki.trust_store());
    REQUIRE(trust);
    return trust->authority(agency)->verify_key;
  }
  std::string country() const {
    auto trust = identity::TrustStore::load(pki.trust_store());
    REQUIRE(trust);
    return trust->authority(agency)->country;
  }
  // What the operator was told out of band: the partner's key and country.
  ImportRequest told(const AgencyPki& partner) const {
    return ImportRequest{partner.pki.directory(), partner.agency, partner.authority_key(), partner.country()};
  }
  Result<federation::ImportSummary> import(const AgencyPki& partner, bool with_key = true) const {
    ImportRequest r = told(partner);
    if (!with_key) r.verify_key.reset();
    return federation::import_partner(pki, r, now());
  }
  federation::PeeringSet peerings() const {
    auto d = Directory::load(pki.directory(), now(), nullptr);
    REQUIRE(d);
    return federation::load_peerings(pki.directory(), **d);
  }
};

PeeringDraft draft(std::uint64_t version = 0) {
  PeeringDraft d;
  d.peering_id = "diran-dea";
  d.first_agency = "DIRAN";
  d.first_broker = "diran-broker";
  d.second_agency = "DEA";
  d.second_broker = "dea-broker";
  d.first_to_second.add_topics("intel.>");
  d.first_to_second.set_ceiling(v1::SECRET);
  d.first_to_second.add_releasable_to("USA");
  d.second_to_first.add_topics("intel.routes.>");
  d.second_to_first.set_ceiling(v1::CONFIDENTIAL);
  d.not_before = now() - 60;
  d.not_after = now() + 10 * kDay;
  d.version = version;
  return d;
}

Strings reason_codes(const Status& s) {
  Strings out;
  for (const auto& r : s.reasons()) out.emplace_back(code_name(r.code));
  return out;
}

Strings refused_codes(const federation::ImportSummary& sum) {
  Strings out;
  for (const auto& i : sum.refused) out.push_back(i.object + " " + std::string(code_name(i.reason.code)));
  return out;
}

struct TwoAgencies {
  AgencyPki diran{"DIRAN", "COL", "diran-analyst", "diran-broker"};
  AgencyPki dea{"DEA", "USA", "dea-agent", "dea-broker"};
};

}  // namespace

TEST_CASE("federation: two agencies meet: pinned with the key told, a peering signed on each side, copies merged") {
  TwoAgencies w;
  const Bytes trust_before = read_bytes(w.diran.pki.trust_store());
  {
    INFO("a first import without the key told out of band pins nothing, and names the key to check");
    auto r = w.diran.import(w.dea, /*with_key=*/false);
    REQUIRE_FALSE(r);
    CHECK(reason_codes(r.status()) == Strings{"UNKNOWN_AUTHORITY"});
    CHECK(r.status().to_string().find(to_hex(w.dea.authority_key().view())) != std::string::npos);
    CHECK(read_bytes(w.diran.pki.trust_store()) == trust_before);
  }
  {
    INFO("a key that is not the folder's is refused");
    ImportRequest r = w.diran.told(w.dea);
    r.verify_key = w.diran.authority_key();
    auto done = federation::import_partner(w.diran.pki, r, now());
    REQUIRE_FALSE(done);
    CHECK(reason_codes(done.status()) == Strings{"WRONG_AUTHORITY"});
    CHECK(read_bytes(w.diran.pki.trust_store()) == trust_before);
  }
  {
    INFO("the key alone does not pin: the country is confirmed too, and must be the folder's");
    ImportRequest r = w.diran.told(w.dea);
    r.country.reset();
    auto done = federation::import_partner(w.diran.pki, r, now());
    REQUIRE_FALSE(done);
    CHECK(reason_codes(done.status()) == Strings{"UNKNOWN_AUTHORITY"});
    CHECK(done.status().to_string().find("--country USA") != std::string::npos);
    r.country = "COL";
    done = federation::import_partner(w.diran.pki, r, now());
    REQUIRE_FALSE(done);
    CHECK(reason_codes(done.status()) == Strings{"WRONG_AUTHORITY"});
    CHECK(read_bytes(w.diran.pki.trust_store()) == trust_before);
  }
  auto imported = w.diran.import(w.dea);
  REQUIRE(imported);
  CHECK(imported->pinned);
  CHECK(imported->credentials_added == Strings{"dea-agent", "dea-broker"});
  CHECK(imported->revocation_list == 1);
  CHECK(imported->refused.empty());
  auto dir = Directory::load(w.diran.pki.directory(), now(), nullptr);
  REQUIRE(dir);
  CHECK((*dir)->trust().authority("DEA")->partner);
  CHECK_FALSE((*dir)->trust().authority("DIRAN")->partner);
  CHECK((*dir)->check_node("dea-agent", now()));

  auto v = federation::create_peering_file(w.diran.pki, draft(), now());
  REQUIRE(v);
  CHECK(*v == 1);
  REQUIRE(federation::cosign_peering_file(w.diran.pki, "diran-dea", 1, "DIRAN", now()));
  CHECK(federation::cosign_peering_file(w.diran.pki, "diran-dea", 1, "DEA", now()).code() == Code::WRONG_AUTHORITY);
  CHECK(federation::cosign_peering_file(w.diran.pki, "diran-dea", 1, "FGR", now()).code() == Code::WRONG_AUTHORITY);
  {
    const auto set = w.diran.peerings();
    REQUIRE(set.peerings.size() == 1);
    CHECK_FALSE(set.peerings[0].in_effect);
    CHECK(set.peerings[0].why.code() == Code::NO_PEERING);
  }

  // DEA's side: import DIRAN's directory (its copies of DEA's own
  // credentials are skipped, not DIRAN's to give), sign its copy.
  auto back = w.dea.import(w.diran);
  REQUIRE(back);
  CHECK(back->credentials_added == Strings{"diran-analyst", "diran-broker"});
  CHECK(back->peerings == Strings{"peerings/diran-dea.v1.peering"});
  CHECK(back->skipped == Strings{"credentials/dea-agent.cred", "credentials/dea-broker.cred"});
  REQUIRE(federation::cosign_peering_file(w.dea.pki, "diran-dea", 1, "DEA", now()));
  {
    const auto set = w.dea.peerings();
    REQUIRE(set.peerings.size() == 1);
    REQUIRE(set.peerings[0].in_effect);
    CHECK(set.peerings[0].in_effect->signed_by == Strings{"DEA", "DIRAN"});
  }
  // Back on DIRAN's side: the signed copy adds DEA's signature to DIRAN's.
  auto merged = w.diran.import(w.dea);
  REQUIRE(merged);
  CHECK_FALSE(merged->pinned);
  CHECK(merged->peerings == Strings{"peerings/diran-dea.v1.peering"});
  CHECK(merged->credentials_added.empty());
  {
    const auto set = w.diran.peerings();
    REQUIRE(set.peerings.size() == 1);
    REQUIRE(set.peerings[0].in_effect);
    CHECK(set.peerings[0].in_effect->version == 1);
    CHECK(envelope(read_bytes(federation::peering_file(w.diran.pki.directory(), "diran-dea", 1))).signatures_size() ==
          2);
  }
  auto again = w.diran.import(w.dea);
  REQUIRE(again);
  CHECK(again->peerings.empty());
  CHECK_FALSE(again->revocation_list_updated);
}

TEST_CASE("federation: import takes only the partner's own objects, mirrored, never older, never another's name") {
  TwoAgencies w;
  REQUIRE(w.diran.import(w.dea));
  {
    INFO("a partner's credential that takes the name of one of our nodes is FOREIGN_NODE");
    REQUIRE(
        identity::issue_node(w.dea.pki, {"diran-analyst", "DEA", v1::SECRET, {"agent"}, now() - 60, now() + kDay, 0}));
    const Bytes ours = read_bytes(w.diran.pki.credential("diran-analyst"));
    auto r = w.diran.import(w.dea);
    REQUIRE(r);
    CHECK(refused_codes(*r) == Strings{"credentials/diran-analyst.cred FOREIGN_NODE"});
    CHECK(read_bytes(w.diran.pki.credential("diran-analyst")) == ours);
    fs::remove(w.dea.pki.credential("diran-analyst"));
  }
  {
    INFO("a credential the partner no longer publishes is removed");
    fs::remove(w.dea.pki.credential("dea-agent"));
    auto r = w.diran.import(w.dea);
    REQUIRE(r);
    CHECK(r->credentials_removed == Strings{"dea-agent"});
    CHECK_FALSE(fs::exists(w.diran.pki.credential("dea-agent")));
    CHECK(fs::exists(w.diran.pki.credential("diran-analyst")));
  }
  {
    INFO("an older revocation list than the one held is REVOCATION_ROLLBACK");
    const Bytes list1 = read_bytes(w.dea.pki.revocation_list("DEA"));
    REQUIRE(identity::revoke(w.dea.pki, "DEA", {}, {{"some-unit", 1}}, now()));
    const Bytes list2 = read_bytes(w.dea.pki.revocation_list("DEA"));
    auto r = w.diran.import(w.dea);
    REQUIRE(r);
    CHECK(r->revocation_list == 2);
    CHECK(r->revocation_list_updated);
    write_bytes(w.dea.pki.revocation_list("DEA"), list1);
    auto old = w.diran.import(w.dea);
    REQUIRE(old);
    CHECK(refused_codes(*old) == Strings{"revocations/DEA.crl REVOCATION_ROLLBACK"});
    CHECK(old->revocation_list == 2);
    write_bytes(w.dea.pki.revocation_list("DEA"), list2);
  }
  {
    INFO("a partner credential with the transport key of one of our nodes is FOREIGN_NODE");
    auto ours = identity::read_credential(w.diran.pki, "diran-analyst");
    REQUIRE(ours);
    identity::IssueRequest twin{"dea-twin", "DEA", v1::SECRET, {"agent"}, now() - 60, now() + kDay, 0};
    auto made = identity::make_credential(
        w.dea.pki, twin, {crypto::SigningKey::generate().public_key(), ours->sealing_key, ours->transport_key});
    REQUIRE(made);
    write_bytes(w.dea.pki.credential("dea-twin"), serialize_canonical(made->second));
    auto r = w.diran.import(w.dea);
    REQUIRE(r);
    CHECK(refused_codes(*r) == Strings{"credentials/dea-twin.cred FOREIGN_NODE"});
    CHECK_FALSE(fs::exists(w.diran.pki.credential("dea-twin")));
    fs::remove(w.dea.pki.credential("dea-twin"));
  }
  {
    INFO("a changed country is confirmed like a new key");
    const std::string theirs = to_string(read_bytes(w.dea.pki.trust_store()));
    std::string moved = theirs;
    moved.replace(moved.find("\"USA\""), 5, "\"MEX\"");
    write_bytes(w.dea.pki.trust_store(), as_bytes(moved));
    ImportRequest r = w.diran.told(w.dea);
    r.country.reset();
    auto refused = federation::import_partner(w.diran.pki, r, now());
    REQUIRE_FALSE(refused);
    CHECK(reason_codes(refused.status()) == Strings{"WRONG_AUTHORITY"});
    CHECK(refused.status().to_string().find("changed from USA (pinned) to MEX") != std::string::npos);
    write_bytes(w.dea.pki.trust_store(), as_bytes(theirs));
  }
  {
    INFO("a rotated authority key needs the new key told again; what the old key signed is replaced");
    AgencyPki other_dea{"DEA", "USA", "dea-agent", "dea-broker"};
    ImportRequest r = w.diran.told(other_dea);
    r.verify_key.reset();
    auto refused = federation::import_partner(w.diran.pki, r, now());
    REQUIRE_FALSE(refused);
    CHECK(reason_codes(refused.status()) == Strings{"WRONG_AUTHORITY"});
    CHECK(refused.status().to_string().find("changed from") != std::string::npos);
    auto pinned = federation::import_partner(w.diran.pki, w.diran.told(other_dea), now());
    REQUIRE(pinned);
    CHECK(pinned->pinned);
    CHECK(pinned->refused.empty());
    CHECK(pinned->revocation_list == 1);  // the new PKI's list 1 replaces the old key's list 2
    CHECK(pinned->revocation_list_updated);
    LoadReport report;
    REQUIRE(Directory::load(w.diran.pki.directory(), now(), &report));
    CHECK(report.rejected.empty());
  }
  {
    INFO("an agency of this PKI is never imported as a partner");
    REQUIRE(w.dea.import(w.diran));
    ImportRequest r{w.dea.pki.directory(), "DIRAN", w.diran.authority_key(), "COL"};
    auto own = federation::import_partner(w.diran.pki, r, now());
    REQUIRE_FALSE(own);
    CHECK(reason_codes(own.status()) == Strings{"INVALID_FIELD"});
  }
  {
    INFO("a folder that pins the agency as its own partner is a third party's copy");
    AgencyPki fgr{"FGR", "MEX", "fgr-liaison", "fgr-broker"};
    ImportRequest r{w.dea.pki.directory(), "DIRAN", w.diran.authority_key(), "COL"};
    auto copy = federation::import_partner(fgr.pki, r, now());
    REQUIRE_FALSE(copy);
    CHECK(reason_codes(copy.status()) == Strings{"INVALID_FIELD"});
    CHECK(copy.status().to_string().find("another agency's copy") != std::string::npos);
  }
}

TEST_CASE("federation: a partner's copy of a version with other terms is kept beside ours; neither takes effect") {
  TwoAgencies w;
  REQUIRE(w.diran.import(w.dea));
  REQUIRE(w.dea.import(w.diran));
  REQUIRE(federation::create_peering_file(w.diran.pki, draft(1), now()));
  REQUIRE(federation::cosign_peering_file(w.diran.pki, "diran-dea", 1, "DIRAN", now()));
  PeeringDraft wider = draft(1);
  wider.second_to_first.set_ceiling(v1::TOP_SECRET);
  REQUIRE(federation::create_peering_file(w.dea.pki, wider, now()));
  REQUIRE(federation::cosign_peering_file(w.dea.pki, "diran-dea", 1, "DEA", now()));
  auto r = w.diran.import(w.dea);
  REQUIRE(r);
  CHECK(r->peerings == Strings{"peerings/diran-dea.v1+DEA.peering"});
  const auto set = w.diran.peerings();
  REQUIRE(set.files.size() == 2);
  REQUIRE(set.peerings.size() == 1);
  CHECK(set.peerings[0].versions.size() == 2);
  CHECK_FALSE(set.peerings[0].in_effect);
  CHECK(set.peerings[0].why.code() == Code::NO_PEERING);
  CHECK(federation::latest_peering_version(w.diran.pki.directory(), "diran-dea") == 1);
  // Our version 2 is a new file, never the partner's copy of version 1.
  REQUIRE(federation::create_peering_file(w.diran.pki, draft(), now()));
  CHECK(federation::latest_peering_version(w.diran.pki.directory(), "diran-dea") == 2);
}

TEST_CASE("federation: a charter the partner hosts comes over awaiting our consent; signatures merge") {
  TwoAgencies w;
  REQUIRE(w.diran.import(w.dea));
  REQUIRE(w.dea.import(w.diran));
  REQUIRE(
      identity::create_charter(w.dea.pki, "dea-ops", "DEA", {"dea-agent", "diran-analyst"}, now() - 60, now() + kDay));
  REQUIRE(identity::cosign_charter_file(w.dea.pki, "dea-ops", 1, "DEA"));
  auto r = w.diran.import(w.dea);
  REQUIRE(r);
  CHECK(r->refused.empty());
  CHECK(r->charters == Strings{"charters/dea-ops.v1.charter"});
  auto before = Directory::load(w.diran.pki.directory(), now(), nullptr);
  REQUIRE(before);
  CHECK_FALSE((*before)->charter_in_force("dea-ops", now()));  // left out at load: MISSING_CONSENT
  REQUIRE(identity::cosign_charter_file(w.diran.pki, "dea-ops", 1, "DIRAN"));
  // DEA's copy, still without DIRAN's signature, does not undo ours.
  auto again = w.diran.import(w.dea);
  REQUIRE(again);
  CHECK(again->charters.empty());
  auto after = Directory::load(w.diran.pki.directory(), now(), nullptr);
  REQUIRE(after);
  CHECK((*after)->charter_in_force("dea-ops", now()));
  CHECK((*after)->is_member("diran-analyst", "dea-ops", now()));
  {
    INFO("a unit id that is one of our units is never taken over");
    REQUIRE(identity::create_charter(w.diran.pki, "joint", "DIRAN", {"diran-analyst"}, now() - 60, now() + kDay));
    REQUIRE(identity::create_charter(w.dea.pki, "joint", "DEA", {"dea-agent"}, now() - 60, now() + kDay));
    REQUIRE(identity::cosign_charter_file(w.dea.pki, "joint", 1, "DEA"));
    auto taken = w.diran.import(w.dea);
    REQUIRE(taken);
    CHECK(refused_codes(*taken) == Strings{"charters/joint.v1.charter DUPLICATE_OBJECT"});
  }
}

TEST_CASE("federation: peering create names each broker from its credential, or says why not") {
  TwoAgencies w;
  {
    INFO("the partner's broker is unknown before its directory is imported");
    auto v = federation::create_peering_file(w.diran.pki, draft(), now());
    REQUIRE_FALSE(v);
    CHECK(reason_codes(v.status()) == Strings{"UNKNOWN_AUTHORITY", "UNKNOWN_NODE"});
  }
  REQUIRE(w.diran.import(w.dea));
  {
    PeeringDraft d = draft();
    d.first_broker = "diran-analyst";  // not a broker
    d.second_broker = "diran-broker";  // DIRAN's, not DEA's
    auto v = federation::create_peering_file(w.diran.pki, d, now());
    REQUIRE_FALSE(v);
    CHECK(reason_codes(v.status()) == Strings{"INVALID_FIELD", "WRONG_AUTHORITY"});
  }
  {
    PeeringDraft d = draft();
    d.first_to_second.add_topics("intel..bad");
    auto v = federation::create_peering_file(w.diran.pki, d, now());
    REQUIRE_FALSE(v);
    CHECK(reason_codes(v.status()) == Strings{"INVALID_FIELD"});
  }
  REQUIRE(federation::create_peering_file(w.diran.pki, draft(), now()));
  auto twice = federation::create_peering_file(w.diran.pki, draft(1), now());
  REQUIRE_FALSE(twice);
  CHECK(reason_codes(twice.status()) == Strings{"DUPLICATE_OBJECT"});
  CHECK(twice.status().to_string().find("a new version is v2") != std::string::npos);
  auto next = federation::create_peering_file(w.diran.pki, draft(), now());
  REQUIRE(next);
  CHECK(*next == 2);
}

TEST_CASE("trust store: partner = true round-trips; any other value is refused") {
  const std::string key = to_hex(crypto::SigningKey::generate().public_key().view());
  auto partner = identity::TrustStore::parse(
      "[[authority]]\nagency = \"DEA\"\ncountry = \"USA\"\nverify_key = \"" + key + "\"\npartner = true\n", "t");
  REQUIRE(partner);
  CHECK(partner->authority("DEA")->partner);
  CHECK(partner->to_toml().find("partner = true") != std::string::npos);
  auto own = identity::TrustStore::parse(
      "[[authority]]\nagency = \"DEA\"\ncountry = \"USA\"\nverify_key = \"" + key + "\"\n", "t");
  REQUIRE(own);
  CHECK_FALSE(own->authority("DEA")->partner);
  CHECK(own->to_toml().find("partner") == std::string::npos);
  auto bad = identity::TrustStore::parse(
      "[[authority]]\nagency = \"DEA\"\ncountry = \"USA\"\nverify_key = \"" + key + "\"\npartner = 1\n", "t");
  REQUIRE_FALSE(bad);
  CHECK(bad.status().code() == Code::INVALID_FIELD);
}

}  // namespace tearline::identity_test
