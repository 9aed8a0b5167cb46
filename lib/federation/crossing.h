// What of a report crosses a peering, and why (docs/federation.md, "What
// crosses"): the boundary's delivery decision, asked by the sending
// boundary broker for the partner's broker in place of policy::
// decide_delivery. Pure: no I/O, no clock.
//
// The report crosses only when its topic is one the peering lets cross
// this way (PEERING_TOPIC otherwise), its originator is a node of our
// party's agency (NO_PEERING otherwise: a co-tenant agency of our broker
// signed no peering), or it is **in transit**: it crossed to us from
// another agency's broker over a peering whose direction towards us lets us
// pass it on (CrossingQuestion::transit_allowed; NO_PEERING otherwise), it
// never passed through the partner's agency and is not the partner's own
// (CROSSING_LOOP), and the partner's copy of its path stays within
// receipt::kMaxPathHops (HOP_LIMIT); and it was accepted since the peering
// has run unbroken (Crossing::since; NO_PEERING otherwise: a cursor kept from an
// older peering carries no backlog from before it, while a new version of
// a running peering keeps it); otherwise every section is withheld. A section
// crosses when all of these hold, and is torn off (crosses as its
// commitment) with every reason that fails:
//   - its classification is at most the direction's ceiling
//     (ABOVE_PEERING_CEILING);
//   - it is releasable to the partner agency's country and to every country
//     the direction requires (COUNTRY_NOT_RELEASABLE, naming each; an empty
//     releasable-to reads as the originator's country alone);
//   - it is sealed to at least one node of the partner agency whom its
//     label admits now (NOT_ADDRESSED): a section none of theirs may open
//     does not leave. The caller judges that (policy::label_admits: valid,
//     cleared, in the label's units), as at every delivery to a node.
// The originator's signature is never touched: a torn-off section still
// verifies by its commitment.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "federation/peering.h"
#include "identity/directory.h"
#include "policy/delivery.h"
#include "policy/label.h"

namespace tearline::federation {

struct CrossingSection {
  const policy::Label* label = nullptr;  // borrowed; never null
  bool sealed_to_partner = false;        // a key wrap for a node of theirs the label admits now
};

struct CrossingQuestion {
  std::string_view topic;
  std::string originator_country;
  std::string originator_agency;
  std::int64_t accepted_ms = 0;  // when this broker's store accepted it
  std::vector<CrossingSection> sections;
  // The agencies of the brokers it passed through before ours, the
  // originator's first (its stored path, docs/federation.md "The path");
  // empty: published to our broker.
  std::vector<std::string> path_agencies{};
  // In transit: whether the peering it crossed to us over lets us pass it
  // on (that peering's direction towards us has `transit`), as the caller
  // judges it for the path's last hop.
  bool transit_allowed = false;
  std::string transit_why{};  // when set: why it may not be passed on, in place of "(transit no)"
};

// One side of a peering in effect, as the sender sees it.
struct Crossing {
  const Peering* peering = nullptr;       // borrowed; never null
  const PeeringDirection* way = nullptr;  // the direction towards the partner
  std::string our_agency;                 // our party's
  std::int64_t since = 0;                 // unix seconds: reports accepted before it stay home
  std::string partner_agency, partner_country;
};

// Whether one of `recipients` (a section's key-wrap node ids) is a node of
// `partner_agency`, not a broker, whom `label` admits at `t`
// (policy::label_admits): CrossingSection::sealed_to_partner, as the
// sending broker and `tearline explain` judge it.
bool sealed_to_admitted_partner(const identity::Directory& directory, const std::vector<std::string>& recipients,
                                const policy::Label& label, std::string_view partner_agency,
                                const std::string& originator_country, std::int64_t t);

// The decision, shaped like policy::decide_delivery's (its `credential` is
// left OK: the partner broker's session was admitted on its credential and
// the peering, and is re-judged at every reload). Each section that crosses
// carries its grounds.
policy::DeliveryDecision decide_crossing(const Crossing& crossing, const CrossingQuestion& question);

}  // namespace tearline::federation
