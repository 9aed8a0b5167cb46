// Real signed reports of the demo world for the broker's unit tests
// (router, catch-up, group commit): built as a node would, parsed as the
// broker parses what it stores.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "broker/trust_state.h"
#include "crypto/key_file.h"
#include "policy/label.h"
#include "report/builder.h"
#include "report/verify.h"
#include "support/demo_world.h"

namespace tearline::broker::test_reports {

inline policy::Label label(identity::Classification c, std::vector<std::string> releasable_to,
                           std::vector<std::string> units = {}) {
  return policy::normalized(policy::Label{c, std::move(releasable_to), std::move(units), false});
}

struct TestReport {
  Bytes bytes;
  std::shared_ptr<const report::VerifiedReport> parsed;
};

inline TestReport make_report(const std::string& topic, const std::string& originator, std::uint64_t sequence,
                              const std::vector<policy::Label>& labels) {
  const auto& world = testing::DemoWorld::get();
  auto keys = crypto::read_node_keys(world.pki().node_key(originator));
  REQUIRE(keys);
  report::ReportDraft d;
  d.topic = topic;
  for (const auto& l : labels) d.sections.push_back({l, to_bytes("section text of " + originator)});
  d.created_at_ms = testing::kDemoNow * 1000;
  d.sequence = sequence;
  auto built = report::build_report(d, originator, keys->signing, *world.directory());
  INFO(built.status().to_string());
  REQUIRE(built);
  auto parsed = report::parse_report_structure(built->bytes);
  INFO(parsed.status().to_string());
  REQUIRE(parsed);
  // As verify_report would: the originator's credential (structure parsing
  // alone leaves it empty).
  const identity::Credential* cred = world.directory()->node(originator);
  REQUIRE(cred != nullptr);
  parsed->originator = *cred;
  return TestReport{built->bytes, std::make_shared<const report::VerifiedReport>(std::move(parsed).value())};
}

// The demo directory with a topic policy: anyone reads intel.>, except
// intel.hq.>.
inline TrustSnapshot demo_trust() {
  auto topics = policy::TopicPolicy::parse(R"(
[[grant]]
to = ["any"]
subscribe = ["intel.>"]
deny_subscribe = ["intel.hq.>"]
)",
                                           "broker unit test");
  REQUIRE(topics);
  TrustSnapshot t;
  t.directory = testing::DemoWorld::get().directory();
  t.topics = std::move(topics).value();
  return t;
}

}  // namespace tearline::broker::test_reports
