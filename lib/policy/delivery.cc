#include "policy/delivery.h"

#include <algorithm>

namespace tearline::policy {

bool DeliveryDecision::any_delivered() const {
  return std::any_of(sections.begin(), sections.end(), [](const Decision& d) { return d.allowed(); });
}

bool DeliveryDecision::all_delivered() const {
  return !sections.empty() &&
         std::all_of(sections.begin(), sections.end(), [](const Decision& d) { return d.allowed(); });
}

std::vector<bool> DeliveryDecision::delivered() const {
  std::vector<bool> out;
  out.reserve(sections.size());
  for (const auto& d : sections) out.push_back(d.allowed());
  return out;
}

std::string DeliveryDecision::delivered_list() const {
  std::string out;
  for (std::size_t i = 0; i < sections.size(); ++i) {
    if (!sections[i].allowed()) continue;
    out += (out.empty() ? "" : ",") + std::to_string(i + 1);
  }
  return out;
}

DeliveryDecision decide_delivery(const identity::Directory& directory, const TopicPolicy* topics,
                                 std::string_view node_id, const DeliveryQuestion& question, std::int64_t t) {
  DeliveryDecision out;
  out.credential = directory.check_node(node_id, t);
  if (!out.credential) return out;
  if (topics != nullptr) out.topic = topics->check(directory, node_id, question.topic, Access::kRead, t);
  out.sections.reserve(question.sections.size());
  for (const SectionFacts& section : question.sections) {
    Decision d = label_admits(directory, node_id, *section.label, question.originator_country, t);
    if (d.allowed() && !section.sealed_to) {
      d.denials.add(Code::NOT_ADDRESSED, "not sealed to the node");
    }
    if (topics != nullptr) {
      if (out.topic) {
        d.grounds.push_back("read permission on " + std::string(question.topic));
      } else {
        d.denials.merge(out.topic);
      }
    }
    if (d.allowed()) d.grounds.emplace_back("sealed to the node");
    out.sections.push_back(std::move(d));
  }
  return out;
}

}  // namespace tearline::policy
