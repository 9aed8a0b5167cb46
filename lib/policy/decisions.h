// The policy engine: pure functions, no I/O (docs/policy.md, "Rules").
//
// A Decision is allow or deny with EVERY reason that applies (stable code and
// human sentence each), plus, when allowed, the grounds: which rules held.
// Time `t` is unix seconds; the directory answers validity at `t`.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "identity/directory.h"
#include "policy/label.h"
#include "policy/topic_policy.h"

namespace tearline::policy {

struct Decision {
  Status denials;                    // empty = allowed
  std::vector<std::string> grounds;  // rules that held, for explanations

  bool allowed() const { return denials.is_ok(); }
};

// The label rules of reading: the node's credential is valid at `t` and not
// revoked; clearance >= classification; its country is releasable; when the
// label names units, it is a member of at least one through a charter in
// force. This is what sealing uses to choose recipients (topic permissions
// are the broker's to enforce).
Decision label_admits(const identity::Directory& directory, std::string_view node_id, const Label& label,
                      const std::string& originator_country, std::int64_t t);

// label_admits plus read permission on `topic` under `topics`.
Decision may_read(const identity::Directory& directory, const TopicPolicy& topics, std::string_view node_id,
                  const Label& label, const std::string& originator_country, std::string_view topic, std::int64_t t);

// A report section cited as a source of a derived report.
struct SourceSection {
  std::string report_id_hex;
  std::uint32_t index = 0;
  Label label;
  std::string originator;  // node id of the source report's originator
  std::string originator_agency;
  std::string originator_country;
};

struct PublishRequest {
  std::string originator;
  std::string topic;
  std::vector<Label> sections;
  std::vector<SourceSection> sources;  // resolved cited source sections; empty = not derived
};

// Publish rules: the originator's credential is valid at `t`; for each
// section, clearance >= classification, the originator's country is in an
// explicit releasable-to, every unit named is one the originator belongs to;
// write permission on the topic; and for a derived report, every section is
// at least as restrictive as every cited source section (classification >=,
// releasable-to a subset, units a non-empty subset when the source names
// units, ORCON kept), and an ORCON source may only be re-disseminated by its
// originator's agency.
Decision may_publish(const identity::Directory& directory, const TopicPolicy& topics, const PublishRequest& request,
                     std::int64_t t);

}  // namespace tearline::policy
