// lib/identity/pki: issuing credentials and keys into a PKI folder, and what
// the directory refuses among issued objects (helpers: identity_test_helpers.h).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "identity_test_helpers.h"

namespace tearline::identity_test {

// ---- issuing -----------------------------------------------------------------

TEST_CASE("issuing refuses bad input before writing anything") {
  FreshWorld fresh;
  SECTION("an authority with an unknown country is not pinned") {
    CHECK(identity::init_authority(fresh.pki, "CIA", "XXX").code() == Code::INVALID_FIELD);
    auto trust = identity::TrustStore::load(fresh.pki.trust_store());
    REQUIRE(trust);
    CHECK(trust->authority("CIA") == nullptr);
    CHECK_FALSE(fs::exists(fresh.pki.authority_key("CIA")));
  }
  SECTION("an authority with an invalid id") {
    CHECK(identity::init_authority(fresh.pki, "../CIA", "USA").code() == Code::INVALID_FIELD);
    CHECK(identity::TrustStore::load(fresh.pki.trust_store()).is_ok());
  }
  SECTION("an existing authority") {
    CHECK(identity::init_authority(fresh.pki, "DEA", "USA").code() == Code::DUPLICATE_OBJECT);
  }
  SECTION("a charter whose unit id is not an id writes no file") {
    auto v = identity::create_charter(fresh.pki, "../escape", "DIRAN", {"diran-bogota-hq"}, kDemoNow, kDemoNow + kDay);
    CHECK(v.code() == Code::INVALID_FIELD);
    CHECK_FALSE(fs::exists(fresh.pki.directory() / "escape.v1.charter"));
  }
  SECTION("a charter with an invalid host") {
    CHECK(identity::create_charter(fresh.pki, "cell", "", {"diran-bogota-hq"}, kDemoNow, kDemoNow + kDay).code() ==
          Code::INVALID_FIELD);
    CHECK_FALSE(fs::exists(fresh.pki.charter("cell", 1)));
  }
  SECTION("a charter with a member that has no credential") {
    CHECK(identity::create_charter(fresh.pki, "cell", "DIRAN", {"nobody"}, kDemoNow, kDemoNow + kDay).code() ==
          Code::UNKNOWN_NODE);
  }
  SECTION("a node of an agency with no authority") {
    identity::IssueRequest req{"cia-agent", "CIA", v1::SECRET, {}, kDemoNow, kDemoNow + kDay, 0};
    CHECK(identity::issue_node(fresh.pki, req).code() == Code::UNKNOWN_AUTHORITY);
  }
  SECTION("a node with an invalid id") {
    identity::IssueRequest req{"../x", "DEA", v1::SECRET, {}, kDemoNow, kDemoNow + kDay, 0};
    CHECK(identity::issue_node(fresh.pki, req).code() == Code::INVALID_FIELD);
  }
  SECTION("signing with an authority key file readable by others") {
    REQUIRE(::chmod(fresh.pki.authority_key("DEA").c_str(), 0644) == 0);
    CHECK(identity::revoke(fresh.pki, "DEA", {{1}}, {}, kDemoNow).code() == Code::KEY_FILE);
    identity::IssueRequest req{"dea-new", "DEA", v1::SECRET, {}, kDemoNow, kDemoNow + kDay, 0};
    CHECK(identity::issue_node(fresh.pki, req).code() == Code::KEY_FILE);
  }
  SECTION("signing with another authority's key file") {
    fs::copy_file(fresh.pki.authority_key("DIRAN"), fresh.pki.authority_key("DEA"),
                  fs::copy_options::overwrite_existing);
    CHECK(identity::revoke(fresh.pki, "DEA", {{1}}, {}, kDemoNow).code() == Code::KEY_FILE);
  }
}

TEST_CASE("issued key files are 0600 in a 0700 folder and serials count up") {
  FreshWorld fresh;
  auto mode = [](const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
  };
  CHECK(mode(fresh.pki.keys()) == 0700);
  CHECK(mode(fresh.pki.authority_key("DEA")) == 0600);
  CHECK(mode(fresh.pki.node_key("dea-cucuta-agent")) == 0600);
  CHECK(mode(fresh.pki.broker_key()) == 0600);
  CHECK(crypto::read_node_keys(fresh.pki.node_key("dea-cucuta-agent")).is_ok());

  identity::IssueRequest req{"dea-new", "DEA", v1::SECRET, {}, kDemoNow - 60, kDemoNow + kDay, 0};
  auto c = identity::issue_node(fresh.pki, req);
  REQUIRE(c);
  CHECK(c->serial == 3);  // the roster gives DEA serials 1 and 2
  auto keys = crypto::read_node_keys(fresh.pki.node_key("dea-new"));
  REQUIRE(keys);
  CHECK(keys->signing.public_key() == c->signing_key);
  CHECK(keys->sealing.public_key() == c->sealing_key);
  CHECK(keys->transport.public_key() == c->transport_key);
}

TEST_CASE("conflicting credentials for one node are all refused") {
  FreshWorld fresh;
  const fs::path creds = fresh.pki.directory() / "credentials";
  // Three valid credentials for one node (re-issued twice), under three names.
  for (int i = 1; i <= 3; ++i) {
    identity::IssueRequest req{"dea-twin", "DEA", v1::SECRET, {}, kDemoNow - 60, kDemoNow + kDay, 0};
    REQUIRE(identity::issue_node(fresh.pki, req));
    fs::rename(fresh.pki.credential("dea-twin"), creds / ("dea-twin-" + std::to_string(i) + ".cred"));
  }
  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(dir->node("dea-twin") == nullptr);
  CHECK(has_issue(report.rejected, "dea-twin-2.cred", Code::DUPLICATE_OBJECT));
  CHECK(has_issue(report.rejected, "dea-twin-3.cred", Code::DUPLICATE_OBJECT));
  CHECK(dir->node("dea-cucuta-agent") != nullptr);
}

TEST_CASE("a second node reusing another node's transport key is refused") {
  const Bytes agent = read_bytes(world().pki().credential("dea-cucuta-agent"));
  v1::CredentialBody agent_body, analyst_body;
  REQUIRE(agent_body.ParseFromString(envelope(agent).body()));
  const Bytes analyst = body_of(world().pki().credential("dea-bogota-analyst"));
  REQUIRE(analyst_body.ParseFromArray(analyst.data(), static_cast<int>(analyst.size())));
  analyst_body.set_transport_key(agent_body.transport_key());
  Directory::Sources sources;
  sources.credentials.emplace_back("a.cred", agent);
  sources.credentials.emplace_back(
      "b.cred", make_signed(serialize_canonical(analyst_body), {{"DEA", &key_of("DEA"), tags::kCredential}}));
  LoadReport report;
  auto dir = Directory::build(demo_trust(), sources, kDemoNow, &report);
  CHECK(has_issue(report.rejected, "b.cred", Code::DUPLICATE_OBJECT, "transport key"));
  CHECK(dir->node("dea-bogota-analyst") == nullptr);
  CHECK(dir->node("dea-cucuta-agent") != nullptr);
}

}  // namespace tearline::identity_test

namespace tearline::identity_test {

// ---- re-issuing --------------------------------------------------------------

TEST_CASE("reissue_node replaces keys and serial and revokes the old serial, retired, in one step") {
  FreshWorld fresh;
  auto before = identity::read_credential(fresh.pki, "dea-cucuta-agent");
  REQUIRE(before);
  const Bytes old_keys = read_bytes(fresh.pki.node_key("dea-cucuta-agent"));
  identity::IssueRequest req{"dea-cucuta-agent", "DEA", v1::SECRET, {"agent"}, kDemoNow - 60, kDemoNow + kDay, 0};
  auto re = identity::reissue_node(fresh.pki, req, kDemoNow);
  REQUIRE(re);
  CHECK(re->retired_serial == before->serial);
  CHECK(re->retired_agency == "DEA");
  CHECK(re->revocation_list == 2);  // the demo's list 1, plus one
  CHECK(re->credential.serial == 3);
  CHECK_FALSE(re->credential.signing_key == before->signing_key);
  CHECK(read_bytes(fresh.pki.node_key("dea-cucuta-agent")) != old_keys);

  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(report.rejected.empty());
  CHECK(serial_of(*dir, "dea-cucuta-agent") == 3);
  CHECK(dir->check_node("dea-cucuta-agent", kDemoNow).is_ok());
  const identity::Revocation* why = dir->revocation_list("DEA")->revocation_of(before->serial);
  REQUIRE(why != nullptr);
  CHECK(why->reason == identity::RevocationReason::kRetired);
  CHECK(dir->revocation_list("DEA")->issued_at == kDemoNow);
}

TEST_CASE("reissue_node writes nothing when a check fails") {
  FreshWorld fresh;
  const Bytes cred = read_bytes(fresh.pki.credential("dea-cucuta-agent"));
  const Bytes list = read_bytes(fresh.pki.revocation_list("DEA"));
  SECTION("a node without a credential") {
    identity::IssueRequest req{"nobody", "DEA", v1::SECRET, {}, kDemoNow - 60, kDemoNow + kDay, 0};
    CHECK(identity::reissue_node(fresh.pki, req, kDemoNow).code() == Code::IO_ERROR);
    CHECK_FALSE(fs::exists(fresh.pki.credential("nobody")));
  }
  SECTION("the new agency's key is not usable") {
    REQUIRE(::chmod(fresh.pki.authority_key("DEA").c_str(), 0644) == 0);
    identity::IssueRequest req{"dea-cucuta-agent", "DEA", v1::SECRET, {}, kDemoNow - 60, kDemoNow + kDay, 0};
    CHECK(identity::reissue_node(fresh.pki, req, kDemoNow).code() == Code::KEY_FILE);
  }
  SECTION("an inverted window") {
    identity::IssueRequest req{"dea-cucuta-agent", "DEA", v1::SECRET, {}, kDemoNow + kDay, kDemoNow, 0};
    CHECK(identity::reissue_node(fresh.pki, req, kDemoNow).code() == Code::INVALID_FIELD);
  }
  CHECK(read_bytes(fresh.pki.credential("dea-cucuta-agent")) == cred);
  CHECK(read_bytes(fresh.pki.revocation_list("DEA")) == list);
}

TEST_CASE("credential_serials and latest_charter_version read the folder") {
  FreshWorld fresh;
  const auto dea = identity::credential_serials(fresh.pki, "DEA");
  REQUIRE(dea.size() == 2);
  CHECK(dea.at(1) == "dea-cucuta-agent");
  CHECK(dea.at(2) == "dea-bogota-analyst");
  CHECK(identity::credential_serials(fresh.pki, "NOPE").empty());

  CHECK(identity::latest_charter_version(fresh.pki.directory(), "cucuta-jtf") == 1);
  CHECK(identity::latest_charter_version(fresh.pki.directory(), "none") == 0);
  REQUIRE(
      identity::create_charter(fresh.pki, "cucuta-jtf", "DIRAN", {"diran-bogota-hq"}, kDemoNow, kDemoNow + kDay, 12));
  // cucuta-jtf.v12 is newer than v1; "cucuta" is another unit's prefix, not a version
  write_bytes(fresh.pki.directory() / "charters" / "cucuta-jtf.vx.charter", as_bytes(std::string_view("x")));
  CHECK(identity::latest_charter_version(fresh.pki.directory(), "cucuta-jtf") == 12);
  CHECK(identity::latest_charter_version(fresh.pki.directory(), "cucuta") == 0);
}

}  // namespace tearline::identity_test

namespace tearline::identity_test {

// The roster's documented default (roster.h) holds for a roster built in
// code too, as tearline-bench builds one: no [broker] agency given, the
// first agency issues the broker's credential.
TEST_CASE("a roster built in code without a broker agency: the first agency issues the broker's credential") {
  TempDir dir("tearline-identity");
  const PkiPaths pki(dir.path() / "pki");
  identity::Roster roster;
  roster.validity_days = 2;
  roster.agencies.push_back(identity::RosterAgency{"BENCH", "COL", "bench agency"});
  roster.nodes.push_back(identity::RosterNode{"bench-node", "BENCH", "a node", tearline::v1::SECRET, {}});
  const Status made = identity::generate_from_roster(roster, pki, kDemoNow);
  INFO(made.to_string());
  REQUIRE(made);
  LoadReport report;
  const auto directory = load(pki, &report);
  const identity::Credential* broker = directory->node("tearline-broker");
  REQUIRE(broker != nullptr);
  CHECK(broker->agency == "BENCH");
}

}  // namespace tearline::identity_test
