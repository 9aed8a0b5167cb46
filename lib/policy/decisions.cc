#include "policy/decisions.h"

#include <algorithm>

namespace tearline::policy {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + v[i];
  return out.empty() ? "(none)" : out;
}

bool contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

bool is_subset(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::all_of(a.begin(), a.end(), [&](const std::string& x) { return contains(b, x); });
}

std::string cls(Classification c) { return std::string(identity::classification_name(c)); }

}  // namespace

Decision label_admits(const identity::Directory& directory, std::string_view node_id, const Label& label,
                      const std::string& originator_country, std::int64_t t) {
  Decision d;
  const identity::Credential* node = directory.node(node_id);
  const Status credential = directory.check_node(node_id, t);
  d.denials.merge(credential);
  if (node == nullptr) return d;
  if (credential) d.grounds.emplace_back("credential valid");

  if (label.classification == tearline::v1::CLASSIFICATION_UNSET) {
    d.denials.add(Code::LABEL_INVALID, "the section has no classification");
  } else if (node->clearance < label.classification) {
    d.denials.add(Code::CLEARANCE_BELOW, node->node_id + " is cleared " + cls(node->clearance) +
                                             ", below the section's " + cls(label.classification));
  } else {
    d.grounds.push_back("clearance " + cls(node->clearance) + " >= " + cls(label.classification));
  }

  const auto releasable = effective_releasable_to(label, originator_country);
  if (!contains(releasable, node->country)) {
    d.denials.add(Code::COUNTRY_NOT_RELEASABLE,
                  node->node_id + "'s country " + node->country + " is not in releasable-to " + join(releasable));
  } else {
    d.grounds.push_back("country " + node->country + " in releasable-to " + join(releasable));
  }

  if (!label.units.empty()) {
    std::string member_of;
    for (const auto& unit : label.units) {
      if (directory.is_member(node_id, unit, t)) {
        member_of = unit;
        break;
      }
    }
    if (member_of.empty()) {
      d.denials.add(Code::NOT_UNIT_MEMBER,
                    node->node_id + " is not a member of " + join(label.units) + " through a charter in force");
    } else {
      d.grounds.push_back("member of unit " + member_of);
    }
  }
  return d;
}

Decision may_read(const identity::Directory& directory, const TopicPolicy& topics, std::string_view node_id,
                  const Label& label, const std::string& originator_country, std::string_view topic, std::int64_t t) {
  Decision d = label_admits(directory, node_id, label, originator_country, t);
  if (directory.node(node_id) == nullptr) return d;
  Status topic_status = topics.check(directory, node_id, topic, Access::kRead, t);
  if (topic_status) {
    d.grounds.push_back("read permission on " + std::string(topic));
  } else {
    d.denials.merge(topic_status);
  }
  return d;
}

Decision may_publish(const identity::Directory& directory, const TopicPolicy& topics, const PublishRequest& request,
                     std::int64_t t) {
  Decision d;
  const identity::Credential* node = directory.node(request.originator);
  d.denials.merge(directory.check_node(request.originator, t));
  if (node == nullptr) return d;
  if (request.sections.empty()) d.denials.add(Code::TOO_MANY_SECTIONS, "a report needs at least one section");

  const auto units_held = directory.units_of(request.originator, t);
  for (std::size_t i = 0; i < request.sections.size(); ++i) {
    const Label& label = request.sections[i];
    const std::string where = "section " + std::to_string(i + 1) + ": ";
    const Status valid = validate_label(label);
    for (const Reason& invalid : valid.reasons()) d.denials.add(invalid.code, where + invalid.message);
    if (label.classification != tearline::v1::CLASSIFICATION_UNSET && node->clearance < label.classification) {
      d.denials.add(Code::CLEARANCE_BELOW, where + request.originator + " is cleared " + cls(node->clearance) +
                                               " and cannot publish " + cls(label.classification));
    }
    if (!label.releasable_to.empty() && !contains(label.releasable_to, node->country)) {
      d.denials.add(Code::ORIGINATOR_COUNTRY_MISSING, where + "releasable-to " + join(label.releasable_to) +
                                                          " omits the originator's country " + node->country);
    }
    for (const auto& unit : label.units) {
      if (!contains(units_held, unit)) {
        d.denials.add(Code::UNIT_NOT_HELD, where + request.originator + " is not a member of unit " + unit);
      }
    }
  }

  Status write = topics.check(directory, request.originator, request.topic, Access::kWrite, t);
  if (write) {
    d.grounds.push_back("write permission on " + request.topic);
  } else {
    d.denials.merge(write);
  }

  for (const auto& src : request.sources) {
    const std::string cited = "source " + src.report_id_hex.substr(0, 8) + " section " + std::to_string(src.index + 1);
    if (src.label.orcon && src.originator_agency != node->agency) {
      d.denials.add(Code::ORCON_VIOLATION, cited + " is ORCON of " + src.originator_agency + "; " + node->agency +
                                               " may not re-disseminate it");
    }
    const auto src_rel = effective_releasable_to(src.label, src.originator_country);
    for (std::size_t i = 0; i < request.sections.size(); ++i) {
      const Label& label = request.sections[i];
      const std::string where = "section " + std::to_string(i + 1) + " vs " + cited + ": ";
      if (label.classification < src.label.classification) {
        d.denials.add(Code::DERIVED_LABEL_LOOSER, where + "classification " + cls(label.classification) +
                                                      " is below the source's " + cls(src.label.classification));
      }
      const auto rel = effective_releasable_to(label, node->country);
      if (!is_subset(rel, src_rel)) {
        d.denials.add(Code::DERIVED_LABEL_LOOSER,
                      where + "releasable-to " + join(rel) + " is not within the source's " + join(src_rel));
      }
      if (!src.label.units.empty() && (label.units.empty() || !is_subset(label.units, src.label.units))) {
        d.denials.add(Code::DERIVED_LABEL_LOOSER, where + "units " + join(label.units) +
                                                      " are not a non-empty subset of the source's " +
                                                      join(src.label.units));
      }
      if (src.label.orcon && !label.orcon) {
        d.denials.add(Code::DERIVED_LABEL_LOOSER, where + "drops the source's ORCON marking");
      }
    }
  }
  if (d.allowed()) d.grounds.emplace_back("every section within the originator's clearance, country and units");
  return d;
}

}  // namespace tearline::policy
