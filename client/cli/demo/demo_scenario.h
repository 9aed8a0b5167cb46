// The story `tearline demo` plays, and what the policy says should come of it.
//
// The scenario is data: steps of publications (and one revocation) by the
// nodes of certs/roster.toml, modelled on the cooperation between DIRAN, the
// DEA agents embedded in its Cucuta joint unit, the Colombian army and a
// Mexican liaison. The expectations are pure functions of the directory and
// the topic policy (policy::decide_delivery, may_publish), computed by the demo itself at
// publish time: they never look at what the broker did.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "identity/directory.h"
#include "policy/decisions.h"
#include "policy/delivery.h"
#include "policy/label.h"
#include "policy/topic_policy.h"

namespace tearline::cli::demo {

struct ScenarioNode {
  std::string id;          // as in certs/roster.toml
  std::string short_name;  // table column heading
};
// The seven demo nodes, in table-column order.
const std::vector<ScenarioNode>& scenario_nodes();

struct SectionPlan {
  std::string title;  // "seizure / informant"
  policy::Label label;
  std::string text;
};

struct PublicationPlan {
  std::string id;  // "1", "5": rows are "<id>.<section>"
  std::string title;
  std::string sender;  // the node whose connection sends the report
  std::string topic;
  std::vector<SectionPlan> sections;
  std::string cites;  // id of an earlier publication whose sections are cited; "" if none
  // A forgery when set: the demo builds the report itself, naming this node
  // as originator but signing with a fresh key that is not that node's, and
  // hands the bytes to `sender` to publish.
  std::string forged_originator;
};

struct RevocationPlan {
  std::string node;       // revoked by its own agency's authority
  std::string reload_by;  // the admin node that asks the broker to reload
};

struct Step {
  std::string title;
  std::optional<RevocationPlan> revocation;  // done before the publications
  std::vector<PublicationPlan> publications;
};
const std::vector<Step>& scenario();

// What the policy says about one node reading one section.
struct ReadExpectation {
  bool delivered = false;
  std::vector<std::string> short_reasons;  // policy::short_reasons(denials): "COUNTRY", "UNIT", "REVOKED", ...
  Status denials;                          // every reason of the decision
};

// What each node of scenario_nodes() receives of each section of `plan`,
// [section][node]: policy::decide_delivery at t under `topics`, each section
// sealed to the nodes the publisher's report builder seals it to
// (policy::label_admits at t, report/builder.h). A node whose credential is
// not valid at t expects nothing, each section withheld with the
// credential's reasons (so a revoked node expects nothing).
std::vector<std::vector<ReadExpectation>> expect_reads(const identity::Directory& directory,
                                                       const policy::TopicPolicy& topics, const PublicationPlan& plan,
                                                       const std::string& originator_country, std::int64_t t);

// The broker's expected verdict: Code::OK (accepted) or the first rejection
// code. A genuine report gets may_publish with its cited sections
// (`sources`, resolved by the caller); a forgery gets the ingress checks that
// run before any policy: ORIGINATOR_MISMATCH when the sending node is not the
// originator the report names, else REPORT_SIGNATURE (docs/protocol.md,
// PUBLISH).
Code expect_publish(const identity::Directory& directory, const policy::TopicPolicy& topics,
                    const PublicationPlan& plan, const std::vector<policy::SourceSection>& sources, std::int64_t t);

}  // namespace tearline::cli::demo
