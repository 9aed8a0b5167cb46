// Helpers shared by the end-to-end tests (tests/e2e/): labels and drafts of
// the demo world, reason codes as names for exact comparisons, and sessions
// that must connect. Header-only: each helper asserts with Catch2 in the test
// that calls it.
#pragma once

#include <catch2/catch.hpp>

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/codes.h"
#include "client/session_internal.h"
#include "policy/label.h"
#include "report/builder.h"
#include "support/broker_fixture.h"
#include "wire/frame.h"

namespace tearline::testing {

inline policy::Label label(identity::Classification c, std::vector<std::string> rel,
                           std::vector<std::string> units = {}, bool orcon = false) {
  return policy::normalized(policy::Label{c, std::move(rel), std::move(units), orcon});
}

// Readable by every demo node: the lowest clearance is CONFIDENTIAL, the
// countries are COL, USA and MEX.
inline const policy::Label kEveryone = label(tearline::v1::CONFIDENTIAL, {"COL", "MEX", "USA"});

struct Section {
  policy::Label label;
  std::string text;
};

// A draft in the client library's public vocabulary (what Session::publish
// takes); the labels convert through client/session_internal.h.
inline client::Draft draft(std::string topic, const std::vector<Section>& sections) {
  client::Draft d;
  d.topic = std::move(topic);
  for (const auto& s : sections) d.sections.push_back({client::from_policy(s.label), s.text});
  return d;
}

// The reason codes of `s`, by name, in order.
inline std::vector<std::string> code_names(const Status& s) {
  std::vector<std::string> out;
  for (const auto& r : s.reasons()) out.emplace_back(code_name(r.code));
  return out;
}

inline std::vector<std::string> codes(std::initializer_list<Code> list) {
  std::vector<std::string> out;
  for (Code c : list) out.emplace_back(code_name(c));
  return out;
}

inline std::unique_ptr<client::Session> must_connect(const BrokerFixture& fx, const std::string& node) {
  auto session = fx.connect(node);
  INFO(node << ": " << session.status().to_string());
  REQUIRE(session);
  return std::move(session).value();
}

// The code of an ERROR frame by name, or what came instead.
inline std::string error_code_of(const std::optional<tearline::v1::Frame>& frame) {
  if (!frame) return "(no frame)";
  if (!frame->has_error()) return "(" + std::string(wire::frame_type_name(*frame)) + ")";
  return std::string(code_name(static_cast<Code>(frame->error().code())));
}

}  // namespace tearline::testing
