// identity::parse_roster: a roster that parses names at least one agency,
// and every node and unit in it refers only to what the roster names.
#include "fuzz_target.h"
#include "identity/roster.h"

namespace tearline::fuzz {

void roster(ByteView input) {
  auto parsed = identity::parse_roster(as_chars(input), "fuzz.toml");
  if (!parsed) return;
  const identity::Roster& r = *parsed;
  require(!r.agencies.empty(), "a roster names an agency");
  require(r.validity_days >= 1 && r.validity_days <= 3650, "validity_days in 1..3650");
  for (const auto& a : r.agencies) require(identity::is_valid_id(a.id), "agency ids are valid");
  for (const auto& n : r.nodes) {
    require(identity::is_valid_id(n.id) && r.agency(n.agency) != nullptr, "a node has a valid id and a known agency");
    require(n.clearance >= tearline::v1::UNCLASSIFIED && n.clearance <= tearline::v1::TOP_SECRET,
            "a node has a clearance");
  }
  for (const auto& u : r.units) {
    require(r.agency(u.host) != nullptr && !u.members.empty(), "a unit has a known host and members");
    for (const auto& m : u.members) require(r.node(m) != nullptr, "unit members are roster nodes");
  }
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(roster)
