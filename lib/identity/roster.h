// The roster: a TOML description of a world of agencies, nodes and joint
// units, from which `tearline certs demo` generates a whole PKI. Format:
//
//   validity_days = 365
//   [[agency]]  id = "DIRAN"  country = "COL"  name = "..."
//   [[node]]    id = "diran-cucuta-commander"  agency = "DIRAN"
//               clearance = "SECRET"  roles = ["commander"]
//   [[unit]]    id = "cucuta-jtf"  host = "DIRAN"
//               members = ["diran-cucuta-commander", "dea-cucuta-agent"]
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"
#include "identity/objects.h"

namespace tearline::identity {

struct RosterAgency {
  std::string id, country, name;
};
struct RosterNode {
  std::string id, agency, description;
  Classification clearance = tearline::v1::CLASSIFICATION_UNSET;
  std::vector<std::string> roles;
};
struct RosterUnit {
  std::string id, host, description;
  std::vector<std::string> members;
};

// The broker's credential ([broker] id, agency; default: "tearline-broker"
// issued by the first agency listed).
struct RosterBroker {
  std::string id = "tearline-broker";
  std::string agency;
};

struct Roster {
  int validity_days = 365;
  RosterBroker broker;
  std::vector<RosterAgency> agencies;
  std::vector<RosterNode> nodes;
  std::vector<RosterUnit> units;

  const RosterAgency* agency(std::string_view id) const;
  const RosterNode* node(std::string_view id) const;
};

// Every problem is reported (INVALID_FIELD), with its line where known.
Result<Roster> parse_roster(std::string_view toml_text, std::string_view source_name);
Result<Roster> load_roster(const std::filesystem::path& path);

}  // namespace tearline::identity
