// broker/subscription_policy.h: the pattern algebra and the "denied
// entirely" decision of a SUBSCRIBE, table-driven, on the demo directory.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "broker/subscription_policy.h"
#include "broker_test_reports.h"

namespace tearline::broker {
namespace {

using testing::kDemoNow;

TEST_CASE("subscription policy: patterns_intersect and pattern_covers", "[broker][subscription_policy]") {
  struct Case {
    std::string a, b;
    bool intersect, a_covers_b;
  };
  const std::vector<Case> cases = {
      {"intel.>", "intel.finance", true, true},
      {"intel.finance", "intel.>", true, false},
      {"intel.*", "intel.finance", true, true},
      {"intel.*", "intel.>", true, false},
      {"intel.*", "intel.a.b", false, false},
      {">", "ops.flush", true, true},
      {"intel.>", "ops.>", false, false},
      {"intel.hq.>", "intel.*.x", true, false},
      {"*.finance", "intel.*", true, false},
      {"intel.>", "intel", false, false},
      {"intel.*.*", "intel.>", true, false},
      {"intel.>", "intel.*.*", true, true},
      {"a.b", "a.b", true, true},
      {"a.b", "a.c", false, false},
  };
  for (const auto& c : cases) {
    INFO(c.a << " / " << c.b);
    CHECK(patterns_intersect(c.a, c.b) == c.intersect);
    CHECK(patterns_intersect(c.b, c.a) == c.intersect);
    CHECK(pattern_covers(c.a, c.b) == c.a_covers_b);
  }
}

TEST_CASE("subscription policy: a pattern denied entirely is refused with the policy's reasons",
          "[broker][subscription_policy]") {
  const TrustSnapshot trust = test_reports::demo_trust();  // any: subscribe intel.>, deny intel.hq.>
  auto check = [&](const std::string& pattern) {
    return check_subscribe_pattern(trust.topics, *trust.directory, "dea-cucuta-agent", pattern, kDemoNow);
  };
  CHECK(check("intel.>").is_ok());
  CHECK(check(">").is_ok());
  CHECK(check("*.finance").is_ok());
  CHECK(check("intel.*.x").is_ok());  // intel.hq.x is denied, intel.a.x is not
  CHECK(check("intel.finance").is_ok());

  const Status ops = check("ops.>");
  REQUIRE(ops.reasons().size() == 1);
  CHECK(ops.code() == Code::TOPIC_READ_DENIED);
  CHECK(ops.reasons()[0].message ==
        "node 'dea-cucuta-agent' may not subscribe to 'ops.>': no grant that applies to the node allows it in "
        "subscribe");

  const Status hq = check("intel.hq.*");
  REQUIRE(hq.reasons().size() == 1);
  CHECK(hq.code() == Code::TOPIC_READ_DENIED);
  CHECK(hq.reasons()[0].message ==
        "node 'dea-cucuta-agent' may not subscribe to 'intel.hq.*': denied by grant #1 (line 2) deny_subscribe "
        "'intel.hq.>'");

  CHECK(check("intel.hq.plans").code() == Code::TOPIC_READ_DENIED);  // no wildcard: the topic's own check
  // A unit the node is not in, named: NOT_UNIT_MEMBER first.
  CHECK(check("unit.other-unit.>").code() == Code::NOT_UNIT_MEMBER);
  // Not a node of the directory: UNKNOWN_NODE.
  CHECK(check_subscribe_pattern(trust.topics, *trust.directory, "nobody", "intel.>", kDemoNow).code() ==
        Code::UNKNOWN_NODE);
}

}  // namespace
}  // namespace tearline::broker
