// The one delivery decision: what of a report a node receives, and why.
//
// The broker (routing and catch-up), `tearline explain`, the demo's
// expectations and `tearline inject` all ask this one function; nobody else
// builds a withheld reason. Pure: no I/O, no clock (t is unix seconds).
//
// A node receives a section when, at t: its credential is valid (not
// revoked, in its window), it has read permission on the report's topic
// (when a topic policy is given), the section's label admits it
// (label_admits), and the section is sealed to it. A section whose label
// admits the node but which is not sealed to it is withheld NOT_ADDRESSED
// (the publisher chose its recipients earlier, or the node is new); a
// section that the label refuses is withheld with the label's reasons only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "identity/directory.h"
#include "policy/decisions.h"
#include "policy/label.h"
#include "policy/topic_policy.h"

namespace tearline::policy {

// What the decision needs of one section (no report types: lib/report sits
// above lib/policy).
struct SectionFacts {
  const Label* label = nullptr;  // borrowed; never null
  bool sealed_to = false;        // the section carries a key wrap for the node
};

struct DeliveryQuestion {
  std::string_view topic;
  std::string originator_country;  // for an empty releasable-to
  std::vector<SectionFacts> sections;
};

struct DeliveryDecision {
  // Not OK: the node is unknown, revoked or outside its validity window;
  // nothing is delivered and `sections` is empty.
  Status credential;
  // Not OK: the topic policy denies the node reading the topic; every
  // section is withheld with these reasons (also merged into each section).
  Status topic;
  // One per section, in order; allowed() = delivered.
  std::vector<Decision> sections;

  bool any_delivered() const;
  bool all_delivered() const;
  std::vector<bool> delivered() const;  // one flag per section
  // 1-based numbers of the delivered sections, comma-separated ("1,3").
  std::string delivered_list() const;
};

// `topics` null: label rules and sealing only (explain without --policy).
DeliveryDecision decide_delivery(const identity::Directory& directory, const TopicPolicy* topics,
                                 std::string_view node_id, const DeliveryQuestion& question, std::int64_t t);

}  // namespace tearline::policy
