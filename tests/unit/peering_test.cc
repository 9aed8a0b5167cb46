// lib/federation/peering: a peering agreement takes effect when both
// agencies' authorities signed it; one side alone can only narrow it;
// a revocation voids every version up to the one named; every field and
// signature is checked with its exact code. Signed with the demo PKI's
// authority keys (identity_test_helpers.h).
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>

#include "federation/peering.h"
#include "identity_test_helpers.h"
#include "policy/topic.h"

namespace tearline::identity_test {
namespace {

using federation::Peering;

struct BrokerKeys {
  crypto::SigningKey signing = crypto::SigningKey::generate();
  crypto::TransportKey transport = crypto::TransportKey::generate();
};

const BrokerKeys& diran_broker() {
  static const BrokerKeys k;
  return k;
}
const BrokerKeys& dea_broker() {
  static const BrokerKeys k;
  return k;
}

void set_party(v1::PeeringParty* p, const std::string& agency, const std::string& broker, const BrokerKeys& keys) {
  p->set_agency(agency);
  p->set_broker_id(broker);
  const auto sk = keys.signing.public_key();
  p->set_signing_key(sk.bytes.data(), sk.bytes.size());
  const auto& tk = keys.transport.public_key();
  p->set_transport_key(tk.bytes.data(), tk.bytes.size());
}

// DIRAN <-> DEA: intel.> up to SECRET releasable to USA one way,
// intel.routes.> up to CONFIDENTIAL releasable to COL the other.
v1::PeeringBody base_body(std::uint64_t version = 1) {
  v1::PeeringBody b;
  b.set_format_version(1);
  b.set_peering_id("diran-dea");
  set_party(b.mutable_first(), "DIRAN", "tearline-broker", diran_broker());
  set_party(b.mutable_second(), "DEA", "tearline-broker-dea", dea_broker());
  b.mutable_first_to_second()->add_topics("intel.>");
  b.mutable_first_to_second()->set_ceiling(v1::SECRET);
  b.mutable_first_to_second()->add_releasable_to("USA");
  b.mutable_second_to_first()->add_topics("intel.routes.>");
  b.mutable_second_to_first()->set_ceiling(v1::CONFIDENTIAL);
  b.mutable_second_to_first()->add_releasable_to("COL");
  b.set_version(version);
  b.set_not_before(kDemoNow - kDay);
  b.set_not_after(kDemoNow + 30 * kDay);
  return b;
}

identity::Authority authority_of(const std::string& agency) { return *demo_trust().authority(agency); }

Bytes signed_by(const v1::PeeringBody& body, const std::vector<std::string>& agencies) {
  v1::SignedObject obj = federation::new_peering(body);
  for (const auto& a : agencies) federation::cosign_peering(&obj, authority_of(a), key_of(a));
  return serialize_canonical(obj);
}

Peering verified(const v1::PeeringBody& body, const std::vector<std::string>& agencies) {
  auto p = federation::verify_peering(signed_by(body, agencies), demo_trust());
  INFO(p.status().to_string());
  REQUIRE(p);
  return std::move(p).value();
}

const federation::PeeringKey kKey{"diran-dea", {"DEA", "DIRAN"}};

Result<Peering> effective(std::vector<Peering> versions, std::uint64_t revoked_up_to = 0) {
  return federation::effective_peering(std::move(versions), kKey, revoked_up_to);
}

std::vector<std::string> codes_of(const Status& s) {
  std::vector<std::string> out;
  for (const auto& r : s.reasons()) out.emplace_back(code_name(r.code));
  return out;
}

}  // namespace

TEST_CASE("peering: a version signed by both agencies verifies with every field; one side's alone verifies too",
          "[federation][peering]") {
  const Peering p = verified(base_body(), {"DIRAN", "DEA"});
  CHECK(p.peering_id == "diran-dea");
  CHECK(p.first.agency == "DIRAN");
  CHECK(p.first.broker_id == "tearline-broker");
  CHECK(p.first.signing_key.bytes == diran_broker().signing.public_key().bytes);
  CHECK(p.second.transport_key.bytes == dea_broker().transport.public_key().bytes);
  CHECK(p.first_to_second.topics == std::vector<std::string>{"intel.>"});
  CHECK(p.first_to_second.ceiling == v1::SECRET);
  CHECK(p.second_to_first.releasable_to == std::vector<std::string>{"COL"});
  CHECK_FALSE(p.first_to_second.transit);
  CHECK(p.signed_by == std::vector<std::string>{"DEA", "DIRAN"});
  CHECK(p.signed_by_both());
  CHECK(p.valid_at(kDemoNow));
  CHECK_FALSE(p.valid_at(kDemoNow + 30 * kDay));

  const Peering half = verified(base_body(), {"DEA"});
  CHECK(half.signed_by == std::vector<std::string>{"DEA"});
  CHECK_FALSE(half.signed_by_both());
}

TEST_CASE("peering: each bad field and each bad signature is refused with its code", "[federation][peering]") {
  struct Case {
    const char* name;
    std::function<void(v1::PeeringBody&)> change;
    std::vector<std::string> signers;
    std::vector<std::string> codes;
  };
  const std::vector<Case> cases = {
      {"no signature", [](v1::PeeringBody&) {}, {}, {"BAD_SIGNATURE"}},
      {"a third agency signs", [](v1::PeeringBody&) {}, {"DIRAN", "FGR"}, {"WRONG_AUTHORITY"}},
      {"one agency on both sides",
       [](v1::PeeringBody& b) { b.mutable_second()->set_agency("DIRAN"); },
       {"DIRAN"},
       {"INVALID_FIELD"}},
      {"a bad topic pattern",
       [](v1::PeeringBody& b) { b.mutable_first_to_second()->add_topics("intel.>.x"); },
       {"DIRAN", "DEA"},
       {"INVALID_FIELD"}},
      {"no ceiling",
       [](v1::PeeringBody& b) { b.mutable_second_to_first()->clear_ceiling(); },
       {"DEA"},
       {"INVALID_FIELD"}},
      {"an unknown country",
       [](v1::PeeringBody& b) { b.mutable_first_to_second()->add_releasable_to("XXX"); },
       {"DEA"},
       {"INVALID_FIELD"}},
      {"version 0", [](v1::PeeringBody& b) { b.set_version(0); }, {"DEA"}, {"INVALID_FIELD"}},
      {"an empty window", [](v1::PeeringBody& b) { b.set_not_after(b.not_before()); }, {"DEA"}, {"INVALID_FIELD"}},
      {"a broker key of the wrong size",
       [](v1::PeeringBody& b) { b.mutable_first()->set_signing_key("short"); },
       {"DEA"},
       {"INVALID_FIELD"}},
      {"a small-order transport key",
       [](v1::PeeringBody& b) { b.mutable_second()->set_transport_key(std::string(32, '\0')); },
       {"DEA"},
       {"WEAK_KEY"}},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      v1::PeeringBody body = base_body();
      c.change(body);
      auto p = federation::verify_peering(signed_by(body, c.signers), demo_trust());
      INFO(p.status().to_string());
      REQUIRE_FALSE(p);
      CHECK(codes_of(p.status()) == c.codes);
    }
  }
  SECTION("a signature under the charter's tag") {
    const v1::PeeringBody body = base_body();
    const Bytes raw = serialize_canonical(body);
    auto p = federation::verify_peering(make_signed(raw, {{"DIRAN", &key_of("DIRAN"), tags::kCharter}}), demo_trust());
    REQUIRE_FALSE(p);
    CHECK(codes_of(p.status()) == std::vector<std::string>{"BAD_SIGNATURE"});
  }
}

TEST_CASE("peering: both signatures take effect; one side alone only narrows; a revocation voids up to its version",
          "[federation][peering]") {
  const Peering v1_both = verified(base_body(1), {"DIRAN", "DEA"});

  SECTION("nothing signed by both: no peering") {
    auto e = effective({verified(base_body(1), {"DIRAN"})});
    REQUIRE_FALSE(e);
    CHECK(codes_of(e.status()) == std::vector<std::string>{"NO_PEERING", "NO_PEERING"});
    CHECK(e.status().to_string().find("v1, signed by DIRAN alone, has no version in effect to narrow") !=
          std::string::npos);
  }
  SECTION("DEA narrows alone: fewer topics, a lower ceiling, one more country, a shorter window") {
    v1::PeeringBody b = base_body(2);
    b.mutable_first_to_second()->clear_topics();
    b.mutable_first_to_second()->add_topics("intel.labs.*");
    b.mutable_first_to_second()->set_ceiling(v1::CONFIDENTIAL);
    b.mutable_second_to_first()->add_releasable_to("USA");
    b.set_not_after(kDemoNow + 10 * kDay);
    auto e = effective({verified(b, {"DEA"}), v1_both});
    INFO(e.status().to_string());
    REQUIRE(e);
    CHECK(e->version == 2);
    CHECK(e->first_to_second.topics == std::vector<std::string>{"intel.labs.*"});
  }
  SECTION("DEA widens alone: v1 stays in effect, and each widening is named") {
    v1::PeeringBody b = base_body(2);
    b.mutable_second_to_first()->add_topics("intel.>");
    b.mutable_first_to_second()->set_ceiling(v1::TOP_SECRET);
    b.mutable_first_to_second()->clear_releasable_to();
    b.mutable_second_to_first()->set_transit(true);
    b.set_not_after(kDemoNow + 60 * kDay);
    const Peering widened = verified(b, {"DEA"});
    Status why = widened.narrows(v1_both);
    CHECK(codes_of(why) == std::vector<std::string>(5, "PEERING_WIDENED"));
    const std::string text = why.to_string();
    CHECK(text.find("DEA to DIRAN: topic intel.> is not within the topics in effect") != std::string::npos);
    CHECK(text.find("DIRAN to DEA: ceiling TOP_SECRET is above SECRET") != std::string::npos);
    CHECK(text.find("DIRAN to DEA: a crossing section need no longer be releasable to USA") != std::string::npos);
    CHECK(text.find("DEA to DIRAN: allows transit, which was not") != std::string::npos);
    CHECK(text.find("its validity is not within v1's") != std::string::npos);
    auto e = effective({v1_both, widened});
    REQUIRE(e);
    CHECK(e->version == 1);
    INFO("the same widening signed by both takes effect");
    auto both = effective({v1_both, verified(b, {"DEA", "DIRAN"})});
    REQUIRE(both);
    CHECK(both->version == 2);
  }
  SECTION("a narrowing may not change a party's keys") {
    v1::PeeringBody b = base_body(2);
    set_party(b.mutable_second(), "DEA", "tearline-broker-dea", BrokerKeys{});
    const Peering rekeyed = verified(b, {"DEA"});
    CHECK(codes_of(rekeyed.narrows(v1_both)) == std::vector<std::string>{"PEERING_WIDENED"});
    auto e = effective({v1_both, rekeyed});
    REQUIRE(e);
    CHECK(e->version == 1);
  }
  SECTION("narrowings chain: v3 by DIRAN narrows DEA's v2") {
    v1::PeeringBody b2 = base_body(2);
    b2.mutable_first_to_second()->set_ceiling(v1::CONFIDENTIAL);
    v1::PeeringBody b3 = b2;
    b3.set_version(3);
    b3.mutable_second_to_first()->clear_topics();
    auto e = effective({verified(b3, {"DIRAN"}), verified(b2, {"DEA"}), v1_both});
    REQUIRE(e);
    CHECK(e->version == 3);
    CHECK(e->second_to_first.topics.empty());
  }
  SECTION("revoked up to v2: v1 and v2 are void, and DEA's narrowing v3 has nothing to narrow") {
    v1::PeeringBody b2 = base_body(2);
    v1::PeeringBody b3 = base_body(3);
    b3.mutable_first_to_second()->set_ceiling(v1::RESTRICTED);
    auto e = effective({v1_both, verified(b2, {"DIRAN", "DEA"}), verified(b3, {"DEA"})}, 2);
    REQUIRE_FALSE(e);
    CHECK(e.code() == Code::NO_PEERING);
    CHECK(e.status().to_string().find("v2 is revoked (every version up to v2)") != std::string::npos);
    INFO("a new version signed by both takes effect again");
    auto again = effective({v1_both, verified(base_body(4), {"DIRAN", "DEA"})}, 2);
    REQUIRE(again);
    CHECK(again->version == 4);
  }
}

TEST_CASE("peering: each single change narrows, or widens by exactly that", "[federation][peering]") {
  v1::PeeringBody wide_body = base_body(1);
  wide_body.mutable_second_to_first()->set_transit(true);  // so that dropping it can be tried
  const Peering base = verified(wide_body, {"DIRAN", "DEA"});
  struct Change {
    const char* name;
    std::function<void(v1::PeeringBody&)> change;
    bool narrows;
    bool several = false;  // a change that widens in several ways at once
  };
  const std::vector<Change> changes = {
      {"a topic within the old ones",
       [](v1::PeeringBody& b) {
         b.mutable_first_to_second()->clear_topics();
         b.mutable_first_to_second()->add_topics("intel.labs.*");
       },
       true},
      {"no topic at all", [](v1::PeeringBody& b) { b.mutable_second_to_first()->clear_topics(); }, true},
      {"a lower ceiling", [](v1::PeeringBody& b) { b.mutable_first_to_second()->set_ceiling(v1::RESTRICTED); }, true},
      {"one more country", [](v1::PeeringBody& b) { b.mutable_first_to_second()->add_releasable_to("GBR"); }, true},
      {"transit dropped", [](v1::PeeringBody& b) { b.mutable_second_to_first()->set_transit(false); }, true},
      {"a later start", [](v1::PeeringBody& b) { b.set_not_before(b.not_before() + 1); }, true},
      {"an earlier end", [](v1::PeeringBody& b) { b.set_not_after(b.not_after() - 1); }, true},
      {"a topic outside", [](v1::PeeringBody& b) { b.mutable_second_to_first()->add_topics("intel.labs.>"); }, false},
      {"a wider pattern",
       [](v1::PeeringBody& b) {
         b.mutable_second_to_first()->clear_topics();
         b.mutable_second_to_first()->add_topics("intel.>");
       },
       false},
      {"a higher ceiling", [](v1::PeeringBody& b) { b.mutable_second_to_first()->set_ceiling(v1::SECRET); }, false},
      {"a country fewer", [](v1::PeeringBody& b) { b.mutable_first_to_second()->clear_releasable_to(); }, false},
      {"transit added", [](v1::PeeringBody& b) { b.mutable_first_to_second()->set_transit(true); }, false},
      {"an earlier start", [](v1::PeeringBody& b) { b.set_not_before(b.not_before() - 1); }, false},
      {"a later end", [](v1::PeeringBody& b) { b.set_not_after(b.not_after() + 1); }, false},
      {"another broker id", [](v1::PeeringBody& b) { b.mutable_second()->set_broker_id("dea-edge"); }, false},
      {"the parties swapped",
       [](v1::PeeringBody& b) {
         auto first = b.first();
         *b.mutable_first() = b.second();
         *b.mutable_second() = first;
         std::swap(*b.mutable_first_to_second(), *b.mutable_second_to_first());
       },
       false, true},
  };
  for (const Change& c : changes) {
    SECTION(c.name) {
      v1::PeeringBody body = wide_body;
      body.set_version(2);
      c.change(body);
      const Peering alone = verified(body, {"DEA"});
      const Status why = alone.narrows(base);
      INFO(why.to_string());
      auto e = effective({base, alone});
      REQUIRE(e);
      if (c.narrows) {
        CHECK(why.is_ok());
        CHECK(e->version == 2);
      } else {
        const auto codes = codes_of(why);
        REQUIRE_FALSE(codes.empty());
        CHECK(
            std::all_of(codes.begin(), codes.end(), [](const std::string& code) { return code == "PEERING_WIDENED"; }));
        if (c.several) {
          CHECK(why.to_string().find("its parties (agency, broker or keys) differ from v1's") != std::string::npos);
        } else {
          CHECK(codes.size() == 1);  // exactly that change
        }
        CHECK(e->version == 1);
      }
    }
  }
}

TEST_CASE("peering: repeated entries, a party signing twice and an unpinned party are refused",
          "[federation][peering]") {
  SECTION("a topic twice, a country twice") {
    v1::PeeringBody b = base_body();
    b.mutable_first_to_second()->add_topics("intel.>");
    b.mutable_second_to_first()->add_releasable_to("COL");
    auto p = federation::verify_peering(signed_by(b, {"DEA"}), demo_trust());
    REQUIRE_FALSE(p);
    CHECK(codes_of(p.status()) == std::vector<std::string>{"INVALID_FIELD", "INVALID_FIELD"});
  }
  SECTION("DIRAN's signature twice") {
    const Bytes raw = serialize_canonical(base_body());
    auto p = federation::verify_peering(
        make_signed(raw, {{"DIRAN", &key_of("DIRAN"), tags::kPeering}, {"DIRAN", &key_of("DIRAN"), tags::kPeering}}),
        demo_trust());
    REQUIRE_FALSE(p);
    CHECK(codes_of(p.status()) == std::vector<std::string>{"BAD_ENCODING"});
  }
  SECTION("a party whose agency is not pinned signs") {
    v1::PeeringBody b = base_body();
    b.mutable_second()->set_agency("NSA");
    const crypto::SigningKey stranger = crypto::SigningKey::generate();
    auto p = federation::verify_peering(make_signed(serialize_canonical(b), {{"NSA", &stranger, tags::kPeering}}),
                                        demo_trust());
    REQUIRE_FALSE(p);
    CHECK(codes_of(p.status()) == std::vector<std::string>{"UNKNOWN_AUTHORITY"});
  }
  SECTION("field errors come before weak keys") {
    v1::PeeringBody b = base_body();
    b.mutable_first()->set_transport_key(std::string(32, '\0'));
    b.set_version(0);
    auto p = federation::verify_peering(signed_by(b, {"DEA"}), demo_trust());
    REQUIRE_FALSE(p);
    CHECK(codes_of(p.status()) == std::vector<std::string>{"INVALID_FIELD"});
  }
}

TEST_CASE("peering: one version number with several terms; versions of another pair of agencies",
          "[federation][peering]") {
  const Peering v1_both = verified(base_body(1), {"DIRAN", "DEA"});
  v1::PeeringBody narrow = base_body(2);
  narrow.mutable_first_to_second()->set_ceiling(v1::CONFIDENTIAL);
  v1::PeeringBody between = base_body(2);  // wider than `narrow`, within v1
  between.mutable_first_to_second()->set_ceiling(v1::SECRET);
  between.mutable_first_to_second()->clear_topics();
  between.mutable_first_to_second()->add_topics("intel.labs.>");

  SECTION("the same terms signed apart count as signed by both") {
    v1::PeeringBody wider = base_body(2);
    wider.mutable_first_to_second()->set_ceiling(v1::TOP_SECRET);
    auto e = effective({v1_both, verified(wider, {"DIRAN"}), verified(wider, {"DEA"})});
    REQUIRE(e);
    CHECK(e->version == 2);
    CHECK(e->signed_by_both());
  }
  SECTION("a party's own copy cannot undo a narrowing both signed, in either order") {
    const Peering both = verified(narrow, {"DIRAN", "DEA"});
    const Peering mine = verified(between, {"DIRAN"});
    for (const auto& order : {std::vector<Peering>{v1_both, both, mine}, std::vector<Peering>{mine, v1_both, both}}) {
      auto e = effective(order);
      REQUIRE(e);
      CHECK(e->version == 2);
      CHECK(e->first_to_second.ceiling == v1::CONFIDENTIAL);
      CHECK(e->first_to_second.topics == std::vector<std::string>{"intel.>"});
    }
  }
  SECTION("copies none of which is within the others suspend the peering") {
    v1::PeeringBody other = base_body(2);
    other.mutable_second_to_first()->clear_topics();  // narrower one way, wider than `narrow` the other
    auto e = effective({v1_both, verified(narrow, {"DEA"}), verified(other, {"DIRAN"})});
    REQUIRE_FALSE(e);
    CHECK(e.code() == Code::NO_PEERING);
    CHECK(e.status().has(Code::DUPLICATE_OBJECT));
  }
  SECTION("v3 narrowing v1 but widening v2 leaves v2 in effect") {
    v1::PeeringBody b3 = base_body(3);
    b3.mutable_first_to_second()->set_ceiling(v1::SECRET);  // v2's is CONFIDENTIAL
    b3.mutable_second_to_first()->clear_topics();
    auto e = effective({v1_both, verified(narrow, {"DEA"}), verified(b3, {"DIRAN"})});
    REQUIRE(e);
    CHECK(e->version == 2);
  }
  SECTION("the same id between two other agencies is another peering") {
    v1::PeeringBody theirs = base_body(9);
    set_party(theirs.mutable_first(), "FGR", "fgr-broker", diran_broker());
    auto e = effective({v1_both, verified(theirs, {"FGR", "DEA"})});
    REQUIRE(e);
    CHECK(e->version == 1);
    CHECK(e.status().is_ok());
    auto only_theirs = effective({verified(theirs, {"FGR", "DEA"})});
    REQUIRE_FALSE(only_theirs);
    CHECK(only_theirs.status().has(Code::WRONG_AUTHORITY));
  }
  SECTION("only the two parties' revocation lists count") {
    identity::RevocationList fgr, dea;
    fgr.agency = "FGR";
    fgr.revoked_peerings["diran-dea"] = 5;
    dea.agency = "DEA";
    CHECK(federation::revoked_up_to(kKey, {&fgr, &dea, nullptr}) == 0);
    dea.revoked_peerings["diran-dea"] = 2;
    dea.revoked_peerings["other"] = 7;
    CHECK(federation::revoked_up_to(kKey, {&fgr, &dea}) == 2);
  }
}

TEST_CASE("revocation lists name peerings: every bad entry refused; certs revoke carries them over",
          "[federation][peering]") {
  auto list_with = [](const std::vector<std::pair<std::string, std::uint64_t>>& peerings) {
    v1::RevocationListBody body;
    body.set_format_version(1);
    body.set_agency("DEA");
    body.set_number(2);
    for (const auto& [id, version] : peerings) {
      auto* rp = body.add_revoked_peerings();
      rp->set_peering_id(id);
      rp->set_version(version);
    }
    return body;
  };
  SECTION("read back exactly") {
    const auto signed_list = identity::sign_revocation_list(list_with({{"diran-dea", 2}, {"dea-fgr", 7}}),
                                                            authority_of("DEA"), key_of("DEA"));
    auto rl = identity::verify_revocation_list(serialize_canonical(signed_list), demo_trust());
    REQUIRE(rl);
    CHECK(rl->revoked_peerings == std::map<std::string, std::uint64_t>{{"dea-fgr", 7}, {"diran-dea", 2}});
  }
  SECTION("an invalid id, version 0 and an id twice: each named") {
    const auto signed_list = identity::sign_revocation_list(
        list_with({{".bad", 1}, {"diran-dea", 0}, {"dea-fgr", 1}, {"dea-fgr", 2}}), authority_of("DEA"), key_of("DEA"));
    auto rl = identity::verify_revocation_list(serialize_canonical(signed_list), demo_trust());
    REQUIRE_FALSE(rl);
    CHECK(codes_of(rl.status()) == std::vector<std::string>(3, "INVALID_FIELD"));
    CHECK(rl.status().to_string().find("peering 'dea-fgr' is listed twice") != std::string::npos);
  }
  SECTION("the next list made by certs revoke still names them") {
    FreshWorld fresh;
    LoadReport report;
    const auto dir = load(fresh.pki, &report);
    auto key = crypto::read_authority_key(fresh.pki.authority_key("DEA"));
    REQUIRE(key);
    const auto first =
        identity::sign_revocation_list(list_with({{"diran-dea", 2}}), *dir->trust().authority("DEA"), *key);
    write_bytes(fresh.pki.revocation_list("DEA"), serialize_canonical(first));
    REQUIRE(identity::revoke(fresh.pki, "DEA", {}, {}, kDemoNow).is_ok());
    auto next = identity::verify_revocation_list(read_bytes(fresh.pki.revocation_list("DEA")), dir->trust());
    REQUIRE(next);
    CHECK(next->number == 3);
    CHECK(next->revoked_peerings == std::map<std::string, std::uint64_t>{{"diran-dea", 2}});
  }
}

TEST_CASE("topic patterns: pattern_covers", "[federation][peering]") {
  struct Case {
    const char* wide;
    const char* narrow;
    bool covers;
  };
  for (const Case& c : std::vector<Case>{{">", "intel.>", true},
                                         {"intel.>", "intel.labs.*", true},
                                         {"intel.>", "intel.labs", true},
                                         {"intel.>", "intel", false},
                                         {"intel.>", "intel.>", true},
                                         {"intel.*", "intel.>", false},
                                         {"intel.*", "intel.labs", true},
                                         {"intel.*", "intel.*", true},
                                         {"intel.labs", "intel.*", false},
                                         {"intel.*.cucuta", "intel.labs.cucuta", true},
                                         {"intel.*.cucuta", "intel.labs.*", false},
                                         {"intel.labs", "intel.labs.x", false},
                                         {"intel.labs.x", "intel.labs", false},
                                         {"intel..x", "intel.x", false},
                                         {"*", ">", false},
                                         {"intel.*.>", "intel.>", false},
                                         {"intel.>", "intel.*.>", true},
                                         {">", ">", true},
                                         {">", "intel..x", false}}) {
    INFO(c.wide << " covers " << c.narrow);
    CHECK(policy::pattern_covers(c.wide, c.narrow) == c.covers);
  }
}

}  // namespace tearline::identity_test
