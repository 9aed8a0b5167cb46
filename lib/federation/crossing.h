// What of a report crosses a peering, and why (docs/federation.md, "What
// crosses"): the boundary's delivery decision, asked by the sending
// boundary broker for the partner's broker in place of policy::
// decide_delivery. Pure: no I/O, no clock.
//
// The report crosses only when its topic is one the peering lets cross
// this way (PEERING_TOPIC otherwise: every section withheld). A section
// crosses when all of these hold, and is torn off (crosses as its
// commitment) with every reason that fails:
//   - its classification is at most the direction's ceiling
//     (ABOVE_PEERING_CEILING);
//   - it is releasable to the partner agency's country and to every country
//     the direction requires (COUNTRY_NOT_RELEASABLE, naming each; an empty
//     releasable-to reads as the originator's country alone);
//   - it is sealed to at least one node of the partner agency
//     (NOT_ADDRESSED): a section none of theirs can open does not leave.
// The originator's signature is never touched: a torn-off section still
// verifies by its commitment.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "federation/peering.h"
#include "policy/delivery.h"
#include "policy/label.h"

namespace tearline::federation {

struct CrossingSection {
  const policy::Label* label = nullptr;  // borrowed; never null
  bool sealed_to_partner = false;        // a key wrap for a node of the partner agency
};

struct CrossingQuestion {
  std::string_view topic;
  std::string originator_country;
  std::vector<CrossingSection> sections;
};

// One side of a peering in effect, as the sender sees it.
struct Crossing {
  const Peering* peering = nullptr;       // borrowed; never null
  const PeeringDirection* way = nullptr;  // the direction towards the partner
  std::string partner_agency, partner_country;
};

// The decision, shaped like policy::decide_delivery's (its `credential` is
// left OK: the partner broker's session was admitted on its credential and
// the peering, and is re-judged at every reload). Each section that crosses
// carries its grounds.
policy::DeliveryDecision decide_crossing(const Crossing& crossing, const CrossingQuestion& question);

}  // namespace tearline::federation
