#include "identity/roster.h"

#include <set>

#include "base/files.h"
#include "base/toml_reader.h"
#include "identity/countries.h"

namespace tearline::identity {

const RosterAgency* Roster::agency(std::string_view id) const {
  for (const auto& a : agencies) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

const RosterNode* Roster::node(std::string_view id) const {
  for (const auto& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

namespace {

std::string line_of(const toml::node& n) { return " (line " + std::to_string(n.source().begin.line) + ")"; }

}  // namespace

Result<Roster> parse_roster(std::string_view toml_text, std::string_view source_name) {
  TomlReader reader(toml_text, "roster " + std::string(source_name), TomlReader::LineStyle::kPrefix);
  if (!reader.parsed()) return reader.status();
  const toml::table& doc = reader.root();
  reader.refuse_unknown_keys(doc, {"validity_days", "broker", "agency", "node", "unit"});
  Roster r;
  Status problems;
  const std::string src(source_name);
  r.validity_days = static_cast<int>(reader.integer(doc, "validity_days", 1, 3650).value_or(365));
  std::set<std::string> ids;
  if (const auto* agencies = doc["agency"].as_array()) {
    for (const auto& n : *agencies) {
      const auto* t = n.as_table();
      if (t == nullptr) continue;
      reader.refuse_unknown_keys(*t, {"id", "country", "name"}, "agency: unknown key ");
      RosterAgency a{(*t)["id"].value_or(std::string()), (*t)["country"].value_or(std::string()),
                     (*t)["name"].value_or(std::string())};
      const std::string where = src + " agency '" + a.id + "'" + line_of(n);
      if (!is_valid_id(a.id)) problems.add(Code::INVALID_FIELD, where + ": id is not a valid id");
      if (!is_known_country(a.country))
        problems.add(Code::INVALID_FIELD, where + ": country is not ISO 3166-1 alpha-3");
      if (!ids.insert("agency:" + a.id).second) problems.add(Code::INVALID_FIELD, where + ": listed twice");
      r.agencies.push_back(std::move(a));
    }
  }
  if (const auto* nodes = doc["node"].as_array()) {
    for (const auto& n : *nodes) {
      const auto* t = n.as_table();
      if (t == nullptr) continue;
      reader.refuse_unknown_keys(*t, {"id", "agency", "description", "clearance", "roles"}, "node: unknown key ");
      RosterNode node;
      node.id = (*t)["id"].value_or(std::string());
      node.agency = (*t)["agency"].value_or(std::string());
      node.description = (*t)["description"].value_or(std::string());
      const std::string where = src + " node '" + node.id + "'" + line_of(n);
      auto clearance = classification_from_name((*t)["clearance"].value_or(std::string()));
      if (!clearance) {
        problems.add(Code::INVALID_FIELD, where + ": clearance must be UNCLASSIFIED..TOP_SECRET");
      } else {
        node.clearance = *clearance;
      }
      node.roles = reader.strings(*t, "roles", "node '" + node.id + "': roles").value_or(std::vector<std::string>{});
      for (const auto& role : node.roles) {
        if (!is_valid_id(role)) problems.add(Code::INVALID_FIELD, where + ": role '" + role + "' is not a valid id");
      }
      if (!is_valid_id(node.id)) problems.add(Code::INVALID_FIELD, where + ": id is not a valid id");
      if (r.agency(node.agency) == nullptr) {
        problems.add(Code::INVALID_FIELD, where + ": agency '" + node.agency + "' is not in the roster");
      }
      if (!ids.insert("node:" + node.id).second) problems.add(Code::INVALID_FIELD, where + ": listed twice");
      r.nodes.push_back(std::move(node));
    }
  }
  if (const auto* units = doc["unit"].as_array()) {
    for (const auto& n : *units) {
      const auto* t = n.as_table();
      if (t == nullptr) continue;
      reader.refuse_unknown_keys(*t, {"id", "host", "description", "members"}, "unit: unknown key ");
      RosterUnit u;
      u.id = (*t)["id"].value_or(std::string());
      u.host = (*t)["host"].value_or(std::string());
      u.description = (*t)["description"].value_or(std::string());
      const std::string where = src + " unit '" + u.id + "'" + line_of(n);
      u.members = reader.strings(*t, "members", "unit '" + u.id + "': members").value_or(std::vector<std::string>{});
      if (!is_valid_id(u.id)) problems.add(Code::INVALID_FIELD, where + ": id is not a valid id");
      if (r.agency(u.host) == nullptr)
        problems.add(Code::INVALID_FIELD, where + ": host '" + u.host + "' is not in the roster");
      if (u.members.empty()) problems.add(Code::INVALID_FIELD, where + ": a unit needs members");
      for (const auto& m : u.members) {
        if (r.node(m) == nullptr)
          problems.add(Code::INVALID_FIELD, where + ": member '" + m + "' is not a roster node");
      }
      if (!ids.insert("unit:" + u.id).second) problems.add(Code::INVALID_FIELD, where + ": listed twice");
      r.units.push_back(std::move(u));
    }
  }
  if (r.agencies.empty()) problems.add(Code::INVALID_FIELD, src + ": the roster names no agency");
  if (!r.agencies.empty()) r.broker.agency = r.agencies.front().id;
  if (const auto* b = doc["broker"].as_table()) {
    reader.refuse_unknown_keys(*b, {"id", "agency"}, "broker: unknown key ");
    r.broker.id = (*b)["id"].value_or(r.broker.id);
    r.broker.agency = (*b)["agency"].value_or(r.broker.agency);
    const std::string where = src + " broker '" + r.broker.id + "'" + line_of(*b);
    if (!is_valid_id(r.broker.id)) problems.add(Code::INVALID_FIELD, where + ": id is not a valid id");
    if (r.agency(r.broker.agency) == nullptr) {
      problems.add(Code::INVALID_FIELD, where + ": agency '" + r.broker.agency + "' is not in the roster");
    }
    if (!ids.insert("node:" + r.broker.id).second) problems.add(Code::INVALID_FIELD, where + ": id is a node's id");
  } else if (!ids.insert("node:" + r.broker.id).second) {
    problems.add(Code::INVALID_FIELD,
                 src + ": a node is named " + r.broker.id + ", the broker's default id: add [broker] id");
  }
  problems.merge(reader.status());
  if (!problems) return problems;
  return r;
}

Result<Roster> load_roster(const std::filesystem::path& path) {
  auto text = read_file(path, 1u << 20);
  if (!text) return text.status();
  return parse_roster(as_chars(*text), path.string());
}

}  // namespace tearline::identity
