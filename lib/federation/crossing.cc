#include "federation/crossing.h"

#include <algorithm>

#include "base/time_format.h"
#include "identity/objects.h"
#include "policy/decisions.h"
#include "policy/topic.h"
#include "receipt/acceptance.h"

namespace tearline::federation {

namespace {

// "DIRAN > DEA", or "none".
std::string path_text(const std::vector<std::string>& agencies) {
  std::string out;
  for (const auto& a : agencies) out += (out.empty() ? "" : " > ") + a;
  return out.empty() ? "none" : out;
}

}  // namespace

bool sealed_to_admitted_partner(const identity::Directory& directory, const std::vector<std::string>& recipients,
                                const policy::Label& label, std::string_view partner_agency,
                                const std::string& originator_country, std::int64_t t) {
  return std::any_of(recipients.begin(), recipients.end(), [&](const std::string& id) {
    const identity::Credential* c = directory.node(id);
    return c != nullptr && c->agency == partner_agency && !c->has_role(identity::kBrokerRole) &&
           policy::label_admits(directory, id, label, originator_country, t).allowed();
  });
}

policy::DeliveryDecision decide_crossing(const Crossing& c, const CrossingQuestion& q) {
  policy::DeliveryDecision d;
  const PeeringDirection& way = *c.way;
  const std::string which = "peering " + c.peering->peering_id + " v" + std::to_string(c.peering->version);
  const bool topic_crosses = std::any_of(way.topics.begin(), way.topics.end(),
                                         [&](const std::string& p) { return policy::topic_matches(p, q.topic); });
  if (!topic_crosses) {
    std::string allowed;
    for (const auto& t : way.topics) allowed += (allowed.empty() ? "" : ", ") + t;
    d.topic.add(Code::PEERING_TOPIC, "topic " + std::string(q.topic) + " is not among the topics " + which +
                                         " lets cross to " + c.partner_agency + " (" +
                                         (allowed.empty() ? "none" : allowed) + ")");
  }
  if (q.originator_agency != c.our_agency && q.path_agencies.empty()) {
    d.topic.add(Code::NO_PEERING,
                "its originator is a node of " +
                    (q.originator_agency.empty() ? std::string("no known agency") : q.originator_agency) + ", not of " +
                    c.our_agency + ": " + which + " carries " + c.our_agency + "'s reports only");
  } else if (q.originator_agency != c.our_agency && !q.transit_allowed) {
    d.topic.add(Code::NO_PEERING,
                "it is " + q.originator_agency + "'s report, crossed to " + c.our_agency + " from " +
                    q.path_agencies.back() +
                    (q.transit_why.empty() ? " over a peering that does not let it be passed on (transit no)"
                                           : ": " + q.transit_why));
  }
  if (q.originator_agency == c.partner_agency ||
      std::find(q.path_agencies.begin(), q.path_agencies.end(), c.partner_agency) != q.path_agencies.end()) {
    d.topic.add(Code::CROSSING_LOOP, "it came from " + c.partner_agency + " (its path: " + path_text(q.path_agencies) +
                                         "): it does not go back");
  }
  if (q.path_agencies.size() + 1 > receipt::kMaxPathHops) {
    d.topic.add(Code::HOP_LIMIT, "it passed through " + std::to_string(q.path_agencies.size()) +
                                     " brokers already: " + c.partner_agency + "'s copy would name more than " +
                                     std::to_string(receipt::kMaxPathHops));
  }
  if (q.accepted_ms < c.since * 1000) {
    d.topic.add(Code::NO_PEERING, "accepted before peering " + c.peering->peering_id +
                                      " began (its versions run "
                                      "unbroken since " +
                                      format_utc_seconds(c.since) + "): no backlog crosses from before it");
  }
  std::vector<std::string> required = way.releasable_to;
  if (!std::binary_search(required.begin(), required.end(), c.partner_country)) {
    required.insert(std::upper_bound(required.begin(), required.end(), c.partner_country), c.partner_country);
  }
  for (const CrossingSection& s : q.sections) {
    policy::Decision sec;
    if (!d.topic) sec.denials.merge(d.topic);
    const policy::Label& label = *s.label;
    if (label.classification > way.ceiling) {
      sec.denials.add(Code::ABOVE_PEERING_CEILING, std::string(identity::classification_name(label.classification)) +
                                                       " is above the ceiling " +
                                                       std::string(identity::classification_name(way.ceiling)) +
                                                       " of " + which + " towards " + c.partner_agency);
    } else {
      sec.grounds.push_back(std::string(identity::classification_name(label.classification)) + " within the ceiling " +
                            std::string(identity::classification_name(way.ceiling)) + " of " + which);
    }
    const std::vector<std::string> releasable = policy::effective_releasable_to(label, q.originator_country);
    for (const auto& country : required) {
      if (!std::binary_search(releasable.begin(), releasable.end(), country)) {
        sec.denials.add(Code::COUNTRY_NOT_RELEASABLE,
                        "not releasable to " + country + ", which " + which + " requires towards " + c.partner_agency);
      }
    }
    if (!s.sealed_to_partner) {
      sec.denials.add(Code::NOT_ADDRESSED, "sealed to no node of " + c.partner_agency +
                                               " whom its label admits now: none of theirs may open it");
    }
    if (sec.allowed()) {
      std::string countries;
      for (const auto& country : required) countries += (countries.empty() ? "" : ", ") + country;
      sec.grounds.push_back("releasable to " + countries);
      sec.grounds.push_back("sealed to a node of " + c.partner_agency);
    }
    d.sections.push_back(std::move(sec));
  }
  return d;
}

}  // namespace tearline::federation
