// lib/federation/crossing: what of a report crosses a peering. Each rule
// alone, with its exact code, against a control section that crosses.
#include <catch2/catch.hpp>

#include "federation/crossing.h"
#include "federation/peering_files.h"
#include "identity_test_helpers.h"

namespace tearline::identity_test {
namespace {

using federation::CrossingQuestion;
using federation::CrossingSection;

constexpr std::int64_t kNotBefore = 1780000000;
constexpr std::int64_t kAccepted = (kNotBefore + 60) * 1000;

federation::Peering peering() {
  federation::Peering p;
  p.not_before = kNotBefore;
  p.not_after = kNotBefore + 86400;
  p.peering_id = "diran-dea";
  p.version = 3;
  p.first.agency = "DIRAN";
  p.second.agency = "DEA";
  p.first_to_second.topics = {"intel.routes.>", "intel.labs.*"};
  p.first_to_second.ceiling = v1::SECRET;
  p.first_to_second.releasable_to = {"GBR"};
  return p;
}

policy::DeliveryDecision decide(const CrossingQuestion& q) {
  static const federation::Peering p = peering();
  return federation::decide_crossing({&p, &p.first_to_second, "DIRAN", kNotBefore, "DEA", "USA"}, q);
}

std::vector<std::string> codes_of(const policy::Decision& d) {
  std::vector<std::string> out;
  for (const auto& r : d.denials.reasons()) out.emplace_back(code_name(r.code));
  return out;
}

policy::Label make(identity::Classification c, std::vector<std::string> rel) {
  return policy::normalized(policy::Label{c, std::move(rel), {}, false});
}

}  // namespace

TEST_CASE("crossing: each section is judged by the ceiling, the releasability and whom it is sealed to") {
  const policy::Label ok = make(v1::SECRET, {"COL", "GBR", "USA"});
  const policy::Label high = make(v1::TOP_SECRET, {"COL", "GBR", "USA"});
  const policy::Label no_usa = make(v1::CONFIDENTIAL, {"COL", "GBR"});
  const policy::Label no_gbr = make(v1::CONFIDENTIAL, {"COL", "USA"});
  const policy::Label home_only = make(v1::RESTRICTED, {});  // the originator's country alone
  CrossingQuestion q{"intel.routes.north",
                     "COL",
                     "DIRAN",
                     kAccepted,
                     {CrossingSection{&ok, true}, CrossingSection{&high, true}, CrossingSection{&no_usa, true},
                      CrossingSection{&no_gbr, true}, CrossingSection{&home_only, true}, CrossingSection{&ok, false}}};
  const policy::DeliveryDecision d = decide(q);
  CHECK(d.topic);
  REQUIRE(d.sections.size() == 6);
  CHECK(d.sections[0].allowed());
  CHECK(d.sections[0].grounds.size() == 3);
  CHECK(codes_of(d.sections[1]) == std::vector<std::string>{"ABOVE_PEERING_CEILING"});
  CHECK(d.sections[1].denials.to_string() ==
        "ABOVE_PEERING_CEILING: TOP_SECRET is above the ceiling SECRET of peering diran-dea v3 towards DEA");
  CHECK(codes_of(d.sections[2]) == std::vector<std::string>{"COUNTRY_NOT_RELEASABLE"});
  CHECK(d.sections[2].denials.to_string().find("not releasable to USA") != std::string::npos);
  CHECK(codes_of(d.sections[3]) == std::vector<std::string>{"COUNTRY_NOT_RELEASABLE"});
  CHECK(d.sections[3].denials.to_string().find("not releasable to GBR") != std::string::npos);
  CHECK(codes_of(d.sections[4]) == std::vector<std::string>{"COUNTRY_NOT_RELEASABLE", "COUNTRY_NOT_RELEASABLE"});
  CHECK(codes_of(d.sections[5]) == std::vector<std::string>{"NOT_ADDRESSED"});
  CHECK(d.delivered_list() == "1");
}

TEST_CASE("crossing: a topic the peering does not name withholds every section") {
  const policy::Label ok = make(v1::SECRET, {"COL", "GBR", "USA"});
  for (const char* topic : {"intel.hq.budget", "intel.labs.a.b", "intel.routes"}) {
    INFO(topic);
    const policy::DeliveryDecision d = decide({topic, "COL", "DIRAN", kAccepted, {CrossingSection{&ok, true}}});
    CHECK(d.topic.code() == Code::PEERING_TOPIC);
    CHECK_FALSE(d.any_delivered());
    CHECK(codes_of(d.sections[0]) == std::vector<std::string>{"PEERING_TOPIC"});
  }
  CHECK(decide({"intel.labs.guaviare", "COL", "DIRAN", kAccepted, {CrossingSection{&ok, true}}}).all_delivered());
}

TEST_CASE("crossing: only our party's agency's reports cross, and none accepted before the version took effect") {
  const policy::Label ok = make(v1::SECRET, {"COL", "GBR", "USA"});
  const policy::DeliveryDecision cotenant =
      decide({"intel.routes.x", "COL", "FUDRA", kAccepted, {CrossingSection{&ok, true}}});
  CHECK(cotenant.topic.code() == Code::NO_PEERING);
  CHECK(cotenant.topic.to_string().find("a node of FUDRA, not of DIRAN") != std::string::npos);
  CHECK_FALSE(cotenant.any_delivered());
  const policy::DeliveryDecision old =
      decide({"intel.routes.x", "COL", "DIRAN", kNotBefore * 1000 - 1, {CrossingSection{&ok, true}}});
  CHECK(old.topic.code() == Code::NO_PEERING);
  CHECK(old.topic.to_string().find("accepted before peering diran-dea began") != std::string::npos);
  CHECK(decide({"intel.routes.x", "COL", "DIRAN", kNotBefore * 1000, {CrossingSection{&ok, true}}}).all_delivered());
}

TEST_CASE(
    "crossing: a report in transit crosses only where the peering it came over allows it, never back, "
    "within the hop limit") {
  const policy::Label ok = make(v1::SECRET, {"COL", "GBR", "MEX", "USA"});
  // FGR's report, which crossed to DIRAN from FGR's broker.
  CrossingQuestion q{"intel.routes.x", "MEX", "FGR", kAccepted, {CrossingSection{&ok, true}}};
  q.path_agencies = {"FGR"};
  const policy::DeliveryDecision closed = decide(q);  // transit_allowed false: the default
  CHECK(closed.topic.code() == Code::NO_PEERING);
  CHECK(closed.topic.to_string() ==
        "NO_PEERING: it is FGR's report, crossed to DIRAN from FGR over a peering that does not let it be passed on "
        "(transit no)");
  CHECK_FALSE(closed.any_delivered());
  q.transit_allowed = true;
  CHECK(decide(q).all_delivered());
  // Its section rules still hold (the same as for DIRAN's own).
  const policy::Label no_usa = make(v1::SECRET, {"COL", "GBR", "MEX"});
  CrossingQuestion torn = q;
  torn.sections = {CrossingSection{&ok, true}, CrossingSection{&no_usa, true}};
  CHECK(decide(torn).delivered_list() == "1");
  // Never back to an agency it came from or passed through.
  CrossingQuestion back = q;
  back.originator_agency = "DEA";
  back.originator_country = "USA";
  back.path_agencies = {"DEA"};
  const Status back_topic = decide(back).topic;
  CHECK(back_topic.code() == Code::CROSSING_LOOP);
  CHECK(back_topic.reasons().size() == 1);
  CrossingQuestion round = q;
  round.path_agencies = {"FGR", "DEA", "FUDRA"};
  const policy::DeliveryDecision looped = decide(round);
  CHECK(looped.topic.code() == Code::CROSSING_LOOP);
  CHECK(looped.topic.to_string() ==
        "CROSSING_LOOP: it came from DEA (its path: FGR > DEA > FUDRA): it does not go back");
  // Seven brokers before ours: DEA's copy would name eight, the limit. Eight: refused.
  CrossingQuestion far = q;
  far.path_agencies = std::vector<std::string>(7, "FGR");
  CHECK(decide(far).all_delivered());
  far.path_agencies.emplace_back("FGR");
  CHECK(decide(far).topic.code() == Code::HOP_LIMIT);
}

}  // namespace tearline::identity_test

namespace tearline::identity_test {

TEST_CASE("crossing: a peering runs unbroken since its earliest version both signed that no revocation voids") {
  auto version = [](std::uint64_t n, std::int64_t not_before, std::vector<std::string> signers) {
    federation::Peering p;
    p.peering_id = "diran-dea";
    p.version = n;
    p.not_before = not_before;
    p.not_after = not_before + 86400;
    p.signed_by = std::move(signers);
    return p;
  };
  federation::PeeringVerdict v;
  v.versions = {version(1, 100, {"DEA", "DIRAN"}), version(2, 200, {"DEA", "DIRAN"}), version(3, 300, {"DIRAN"}),
                version(4, 50, {"DEA"})};
  CHECK(federation::in_effect_since(v) == 0);  // nothing in effect
  v.in_effect = v.versions[2];                 // v3, DIRAN's narrowing of v2
  CHECK(federation::in_effect_since(v) == 100);
  v.revoked_up_to = 1;
  CHECK(federation::in_effect_since(v) == 200);
  v.in_effect = v.versions[1];  // v2: a later version signed by both does not count
  v.versions.push_back(version(5, 10, {"DEA", "DIRAN"}));
  CHECK(federation::in_effect_since(v) == 200);
}

}  // namespace tearline::identity_test
