// The one delivery decision (lib/policy/delivery.h) over the demo world:
// a table of (node, sections, sealing, topic) -> the exact codes per section,
// plus the credential and topic answers that cut a decision short.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "base/codes.h"
#include "policy/delivery.h"
#include "support/demo_world.h"

using namespace tearline;
using namespace tearline::policy;
using tearline::testing::DemoWorld;
using tearline::testing::kDemoNow;
namespace v1 = tearline::v1;

namespace {

const TopicPolicy& topics() {
  static const TopicPolicy policy = [] {
    auto p = TopicPolicy::parse(R"(
[[grant]]
to = ["any"]
subscribe = ["intel.>"]
deny_subscribe = ["intel.hq.>"]
)",
                                "delivery test");
    if (!p) throw std::runtime_error(p.status().to_string());
    return std::move(p).value();
  }();
  return policy;
}

Label label(v1::Classification c, std::vector<std::string> releasable_to, std::vector<std::string> units = {}) {
  Label l;
  l.classification = c;
  l.releasable_to = std::move(releasable_to);
  l.units = std::move(units);
  return l;
}

std::set<std::string> codes(const Status& s) {
  std::set<std::string> out;
  for (const auto& r : s.reasons()) out.emplace(code_name(r.code));
  return out;
}

const identity::Directory& dir() { return *DemoWorld::get().directory(); }

}  // namespace

TEST_CASE("delivery: every section judged; NOT_ADDRESSED only where the label admits", "[policy][delivery]") {
  const Label secret_col_usa = label(v1::SECRET, {"COL", "USA"});
  const Label ts_col = label(v1::TOP_SECRET, {"COL"});
  const Label unit_only = label(v1::SECRET, {"COL", "USA"}, {"cucuta-jtf"});
  struct Row {
    const char* name;
    const char* node;
    std::vector<SectionFacts> sections;
    std::vector<std::set<std::string>> expected;  // codes per section, empty = delivered
    const char* delivered_list;
  };
  const std::vector<Row> rows = {
      {"agent: released and sealed", "dea-cucuta-agent", {{&secret_col_usa, true}}, {{}}, "1"},
      {"agent: released but not sealed", "dea-cucuta-agent", {{&secret_col_usa, false}}, {{"NOT_ADDRESSED"}}, ""},
      {"agent: TS COL refused by label, sealing not named",
       "dea-cucuta-agent",
       {{&ts_col, false}},
       {{"CLEARANCE_BELOW", "COUNTRY_NOT_RELEASABLE"}},
       ""},
      {"agent: tear line keeps the unit section, drops the COL-only one",
       "dea-cucuta-agent",
       {{&ts_col, false}, {&unit_only, true}},
       {{"CLEARANCE_BELOW", "COUNTRY_NOT_RELEASABLE"}, {}},
       "2"},
      {"DEA analyst: not a unit member", "dea-bogota-analyst", {{&unit_only, true}}, {{"NOT_UNIT_MEMBER"}}, ""},
      {"commander: all three",
       "diran-cucuta-commander",
       {{&ts_col, true}, {&unit_only, true}, {&secret_col_usa, true}},
       {{}, {}, {}},
       "1,2,3"},
  };
  for (const auto& row : rows) {
    DYNAMIC_SECTION(row.name) {
      DeliveryQuestion q{"intel.seizures.cucuta", "COL", row.sections};
      const DeliveryDecision d = decide_delivery(dir(), &topics(), row.node, q, kDemoNow);
      REQUIRE(d.credential.is_ok());
      REQUIRE(d.topic.is_ok());
      REQUIRE(d.sections.size() == row.expected.size());
      for (std::size_t i = 0; i < row.expected.size(); ++i) {
        CHECK(codes(d.sections[i].denials) == row.expected[i]);
        for (const auto& r : d.sections[i].denials.reasons()) CHECK_FALSE(r.message.empty());
      }
      CHECK(d.delivered_list() == row.delivered_list);
      CHECK(d.any_delivered() == (std::string(row.delivered_list) != ""));
    }
  }
}

TEST_CASE("delivery: the not-addressed reason reads as the broker has always audited it", "[policy][delivery]") {
  const Label l = label(v1::SECRET, {"COL", "USA"});
  const DeliveryDecision d =
      decide_delivery(dir(), &topics(), "dea-cucuta-agent", {"intel.x", "COL", {{&l, false}}}, kDemoNow);
  CHECK(d.sections.at(0).denials.to_string() == "NOT_ADDRESSED: not sealed to the node");
}

TEST_CASE("delivery: a topic the node may not read withholds every section with the topic's reason",
          "[policy][delivery]") {
  const Label l = label(v1::SECRET, {"COL", "USA"});
  const DeliveryDecision d = decide_delivery(dir(), &topics(), "dea-cucuta-agent",
                                             {"intel.hq.tasking", "COL", {{&l, true}, {&l, true}}}, kDemoNow);
  CHECK(codes(d.topic) == std::set<std::string>{"TOPIC_READ_DENIED"});
  REQUIRE(d.sections.size() == 2);
  for (const auto& s : d.sections) CHECK(codes(s.denials) == std::set<std::string>{"TOPIC_READ_DENIED"});
  CHECK_FALSE(d.any_delivered());
}

TEST_CASE("delivery: without a topic policy only labels and sealing count", "[policy][delivery]") {
  const Label l = label(v1::SECRET, {"COL", "USA"});
  const DeliveryDecision d =
      decide_delivery(dir(), nullptr, "dea-cucuta-agent", {"intel.hq.tasking", "COL", {{&l, true}}}, kDemoNow);
  CHECK(d.topic.is_ok());
  CHECK(d.all_delivered());
}

TEST_CASE("delivery: an unknown or expired node gets nothing and no per-section answer", "[policy][delivery]") {
  const Label l = label(v1::SECRET, {"COL", "USA"});
  const DeliveryQuestion q{"intel.x", "COL", {{&l, true}}};
  const DeliveryDecision unknown = decide_delivery(dir(), &topics(), "nobody", q, kDemoNow);
  CHECK(codes(unknown.credential) == std::set<std::string>{"UNKNOWN_NODE"});
  CHECK(unknown.sections.empty());
  const DeliveryDecision later =
      decide_delivery(dir(), &topics(), "dea-cucuta-agent", q, kDemoNow + std::int64_t{400} * 86400);
  CHECK(codes(later.credential) == std::set<std::string>{"EXPIRED"});
  CHECK(later.sections.empty());
  CHECK_FALSE(later.any_delivered());
}
