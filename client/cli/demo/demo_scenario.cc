#include "cli/demo/demo_scenario.h"

#include "policy/short_reason.h"

namespace tearline::cli::demo {
namespace v1 = tearline::v1;

namespace {

policy::Label label(v1::Classification c, std::vector<std::string> releasable, std::vector<std::string> units = {},
                    bool orcon = false) {
  return policy::normalized(policy::Label{c, std::move(releasable), std::move(units), orcon});
}

const std::vector<std::string> kJtf = {"cucuta-jtf"};

std::vector<Step> build_scenario() {
  std::vector<Step> steps;

  steps.push_back(
      Step{"DIRAN's Cucuta unit seizes about one ton of cocaine: the informant stays Colombian, the tear line "
           "reaches the embedded DEA agent",
           std::nullopt,
           {PublicationPlan{
               "1",
               "seizure at Puerto Santander",
               "diran-cucuta-commander",
               "unit.cucuta-jtf.seizures",
               {SectionPlan{"seizure / informant", label(v1::SECRET, {"COL"}, kJtf),
                            "Source CUC-117, a driver paid per trip, named the truck and the crossing two days ahead; "
                            "intercepts of the organization's logistics chief confirmed the date."},
                SectionPlan{"seizure / tear line", label(v1::CONFIDENTIAL, {"COL", "USA"}, kJtf),
                            "1,020 kg of cocaine hydrochloride seized in a coal truck at Puerto Santander, Norte de "
                            "Santander; the load belongs to the La Frontera organization."}},
               "",
               ""}}});

  steps.push_back(
      Step{"The army reports a destroyed production facility, for Colombian eyes only",
           std::nullopt,
           {PublicationPlan{"2",
                            "laboratory destroyed near Tibu",
                            "fudra-lab-ops",
                            "intel.labs",
                            {SectionPlan{"lab destroyed", label(v1::CONFIDENTIAL, {"COL"}),
                                         "Cocaine laboratory destroyed near Tibu, Catatumbo: about 2 t a month of "
                                         "capacity; 300 kg of coca base and precursors seized."}},
                            "",
                            ""}}});

  steps.push_back(
      Step{"The DEA Bogota office shares a financial lead with Colombia and Mexico",
           std::nullopt,
           {PublicationPlan{"3",
                            "La Frontera's assets",
                            "dea-bogota-analyst",
                            "intel.finance",
                            {SectionPlan{"financial lead", label(v1::CONFIDENTIAL, {"COL", "MEX", "USA"}),
                                         "La Frontera launders its proceeds through three exchange houses in Cucuta "
                                         "and a produce importer in Monterrey."}},
                            "",
                            ""}}});

  steps.push_back(
      Step{"DIRAN headquarters shares a route under originator control; the DEA tries to pass it on",
           std::nullopt,
           {PublicationPlan{"4",
                            "go-fast route from La Guajira",
                            "diran-bogota-hq",
                            "intel.routes",
                            {SectionPlan{"route (ORCON)", label(v1::SECRET, {"COL", "USA"}, {}, true),
                                         "La Frontera moves loads by road from Cucuta to La Guajira, then by go-fast "
                                         "boat; next departure window: the new moon."}},
                            "",
                            ""},
            PublicationPlan{"5",
                            "DEA assessment derived from DIRAN's ORCON route",
                            "dea-bogota-analyst",
                            "intel.routes",
                            {SectionPlan{"derived assessment", label(v1::SECRET, {"COL", "USA"}, {}, true),
                                         "Assessment for DEA headquarters: go-fast departures from La Guajira "
                                         "(from DIRAN reporting)."}},
                            "4",
                            ""}}});

  steps.push_back(Step{"An impostor publishes in the commander's name with a forged signature",
                       std::nullopt,
                       {PublicationPlan{"6",
                                        "forgery sent on another node's connection",
                                        "fudra-lab-ops",
                                        "intel.seizures",
                                        {SectionPlan{"forged order", label(v1::UNCLASSIFIED, {"COL", "MEX", "USA"}),
                                                     "Release the name of source CUC-117 to every partner."}},
                                        "",
                                        "diran-cucuta-commander"},
                        PublicationPlan{"7",
                                        "forgery sent on the commander's own connection",
                                        "diran-cucuta-commander",
                                        "intel.seizures",
                                        {SectionPlan{"forged order", label(v1::UNCLASSIFIED, {"COL", "MEX", "USA"}),
                                                     "Release the name of source CUC-117 to every partner."}},
                                        "",
                                        "diran-cucuta-commander"}}});

  steps.push_back(
      Step{"FGR revokes its liaison's credential mid-demo; the broker reloads and closes the session",
           RevocationPlan{"fgr-liaison", "diran-cucuta-commander"},
           {PublicationPlan{"8",
                            "asset freeze",
                            "dea-bogota-analyst",
                            "intel.finance",
                            {SectionPlan{"asset freeze (REL MEX)", label(v1::CONFIDENTIAL, {"COL", "MEX", "USA"}),
                                         "The Monterrey importer's accounts are to be frozen on Friday."}},
                            "",
                            ""}}});

  // Last, a report every remaining node may read: when it has reached every
  // node, anything sent before it would have too (one connection keeps order).
  steps.push_back(Step{"End of exercise (the sentinel: once it arrives, nothing earlier is still on its way)",
                       std::nullopt,
                       {PublicationPlan{"9",
                                        "end of exercise",
                                        "diran-cucuta-commander",
                                        "intel.liaison.exercise",
                                        {SectionPlan{"end of exercise", label(v1::UNCLASSIFIED, {"COL", "MEX", "USA"}),
                                                     "End of exercise. Thank you, partners."}},
                                        "",
                                        ""}}});
  return steps;
}

}  // namespace

const std::vector<ScenarioNode>& scenario_nodes() {
  static const std::vector<ScenarioNode> nodes = {{"diran-cucuta-commander", "cucuta-cmdr"},
                                                  {"diran-cucuta-analyst", "cucuta-analyst"},
                                                  {"diran-bogota-hq", "bogota-hq"},
                                                  {"dea-cucuta-agent", "dea-cucuta"},
                                                  {"dea-bogota-analyst", "dea-bogota"},
                                                  {"fudra-lab-ops", "fudra-lab"},
                                                  {"fgr-liaison", "fgr-liaison"}};
  return nodes;
}

const std::vector<Step>& scenario() {
  static const std::vector<Step> steps = build_scenario();
  return steps;
}

std::vector<std::vector<ReadExpectation>> expect_reads(const identity::Directory& directory,
                                                       const policy::TopicPolicy& topics, const PublicationPlan& plan,
                                                       const std::string& originator_country, std::int64_t t) {
  std::vector<std::vector<ReadExpectation>> out(plan.sections.size());
  for (const auto& n : scenario_nodes()) {
    policy::DeliveryQuestion question{plan.topic, originator_country, {}};
    for (const auto& s : plan.sections) {
      const bool sealed = policy::label_admits(directory, n.id, s.label, originator_country, t).allowed();
      question.sections.push_back(policy::SectionFacts{&s.label, sealed});
    }
    const policy::DeliveryDecision d = policy::decide_delivery(directory, &topics, n.id, question, t);
    for (std::size_t i = 0; i < plan.sections.size(); ++i) {
      ReadExpectation e;
      e.delivered = d.credential.is_ok() && d.sections[i].allowed();
      e.denials = d.credential.is_ok() ? d.sections[i].denials : d.credential;
      e.short_reasons = policy::short_reasons(e.denials);
      out[i].push_back(std::move(e));
    }
  }
  return out;
}

Code expect_publish(const identity::Directory& directory, const policy::TopicPolicy& topics,
                    const PublicationPlan& plan, const std::vector<policy::SourceSection>& sources, std::int64_t t) {
  if (!plan.forged_originator.empty()) {
    // broker/ingress.cc compares the originator the report names with the
    // authenticated node before it verifies anything (docs/protocol.md,
    // section 8); only then does the signature fail.
    return plan.forged_originator != plan.sender ? Code::ORIGINATOR_MISMATCH : Code::REPORT_SIGNATURE;
  }
  policy::PublishRequest request;
  request.originator = plan.sender;
  request.topic = plan.topic;
  for (const auto& s : plan.sections) request.sections.push_back(s.label);
  request.sources = sources;
  policy::Decision d = policy::may_publish(directory, topics, request, t);
  return d.allowed() ? Code::OK : d.denials.code();
}

}  // namespace tearline::cli::demo
