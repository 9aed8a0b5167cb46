// `tearline explain`: offline, the answer to "who can read this report, and
// why not?". Verifies a saved report against a directory, then for each
// section prints its label, the nodes it is sealed to, and for every node
// (or one) the decision at the report's created-at: the grounds when it may
// read, every reason when it may not. The decision is the broker's own,
// policy::decide_delivery: the node's credential, read permission on the
// topic (with --policy only), the label rules, and whether the section is
// sealed to the node. A node whose credential is not valid at created-at is
// refused with the credential's reasons only (it is delivered nothing).
//
// Then, for each peering in effect in the directory's folder
// (docs/federation.md), what of the report would cross from the
// originator's agency to its partner, and every reason each other section
// would be torn off.
//
// --json prints the same as one CliExplanation object
// (proto/tearline/v1/cli_admin.proto).
//
// Exit 0 when the report verifies, 1 when it does not (code and every reason
// on stdout), 2 for bad input (unreadable files, unknown --node).
#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/files.h"
#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "cli/node/node_options.h"
#include "federation/crossing.h"
#include "federation/peering_files.h"
#include "policy/delivery.h"
#include "report/verify.h"
#include "tearline/v1/cli_admin.pb.h"

namespace tearline::cli {
namespace {

constexpr std::string_view kCommand = "explain";
constexpr std::size_t kMaxReportBytes = 64u << 20;  // what the client library accepts in a DELIVER

namespace v1 = tearline::v1;

struct ExplainOptions {
  std::string report_file, node, pki = "certs/demo", directory, policy;
  bool json = false;
};

[[noreturn]] void fail(int code, const std::string& what, const Status& status) {
  throw CommandExit(code, one_line(std::string(kCommand) + ": " + what + ": " + status.to_string()), status.code());
}

std::vector<std::string> sources_of(const tearline::v1::ReportHeader& header) {
  std::vector<std::string> out;
  for (const auto& s : header.sources()) {
    std::string item = to_hex(as_bytes(s.report_id()));
    std::vector<std::string> numbers;
    for (auto i : s.sections()) numbers.push_back(std::to_string(i + 1));
    item += numbers.empty() ? " (all sections)" : " (sections " + join(numbers, ",") + ")";
    out.push_back(std::move(item));
  }
  return out;
}

void add_reasons(const Status& status, google::protobuf::RepeatedPtrField<v1::Reason>* out) {
  for (const Reason& r : status.reasons()) {
    auto* p = out->Add();
    p->set_code(static_cast<std::uint32_t>(r.code));
    p->set_name(std::string(code_name(r.code)));
    p->set_message(r.message);
  }
}

// Stands for the label of a section withheld in this copy (not judged).
const policy::Label kNoLabel{};

constexpr std::string_view kMayRead = "may read";
constexpr std::string_view kNotAddressed = "may read, not addressed";
constexpr std::string_view kMayNotRead = "may not read";

// The broker's decision for one node and one section (policy::decide_delivery).
v1::CliNodeDecision explain_node(const report::VerifiedReport& rep, const report::VerifiedSection& section,
                                 const identity::Directory& dir, const policy::TopicPolicy* topics,
                                 const std::string& node_id, std::int64_t t) {
  const bool sealed_to = std::binary_search(section.recipients.begin(), section.recipients.end(), node_id);
  const policy::DeliveryQuestion question{rep.header.topic(), rep.originator.country, {{&*section.label, sealed_to}}};
  const policy::DeliveryDecision d = policy::decide_delivery(dir, topics, node_id, question, t);
  const Status& denials = d.credential ? d.sections.front().denials : d.credential;
  v1::CliNodeDecision out;
  out.set_node(node_id);
  out.set_sealed_to(sealed_to);
  if (denials.is_ok()) {
    std::vector<std::string> grounds = d.sections.front().grounds;
    if (!grounds.empty()) grounds.pop_back();  // the sealing, which the decision states
    out.set_decision(std::string(kMayRead));
    for (auto& g : grounds) out.add_grounds(std::move(g));
  } else if (denials.reasons().size() == 1 && denials.code() == Code::NOT_ADDRESSED) {
    out.set_decision(std::string(kNotAddressed));
    for (const auto& g : d.sections.front().grounds) out.add_grounds(g);
  } else {
    out.set_decision(std::string(kMayNotRead));
    add_reasons(denials, out.mutable_reasons());
  }
  return out;
}

// The report at each peering in effect and valid at `t` in the directory's
// folder: from the originator's agency (when a party; else the first
// party, and the originator's agency is the reason nothing crosses) to the
// other. The broker's own decision (federation::decide_crossing), judged at
// created-at, which stands in for the time the sending broker accepted it.
std::vector<v1::CliCrossing> explain_crossings(const report::VerifiedReport& rep, const identity::Directory& dir,
                                               const std::filesystem::path& dir_path, std::int64_t t) {
  std::vector<v1::CliCrossing> out;
  const federation::PeeringSet set = federation::load_peerings(dir_path, dir);
  for (const auto& v : set.peerings) {
    if (!v.in_effect || !v.in_effect->valid_at(t)) continue;
    const federation::Peering& p = *v.in_effect;
    const bool from_second = p.second.agency == rep.originator.agency;
    const federation::PeeringParty& from = from_second ? p.second : p.first;
    const federation::PeeringParty& to = from_second ? p.first : p.second;
    const identity::Authority* partner = dir.trust().authority(to.agency);
    const federation::Crossing crossing{&p,          from_second ? &p.second_to_first : &p.first_to_second,
                                        from.agency, federation::in_effect_since(v),
                                        to.agency,   partner != nullptr ? partner->country : std::string()};
    federation::CrossingQuestion q;
    q.topic = rep.header.topic();
    q.originator_country = rep.originator.country;
    q.originator_agency = rep.originator.agency;
    q.accepted_ms = rep.header.created_at_ms();
    std::vector<bool> present;
    for (const auto& section : rep.sections) {
      present.push_back(section.present);
      const bool theirs =
          section.present && federation::sealed_to_admitted_partner(dir, section.recipients, *section.label, to.agency,
                                                                    q.originator_country, t);
      q.sections.push_back(federation::CrossingSection{section.present ? &*section.label : &kNoLabel, theirs});
    }
    const policy::DeliveryDecision d = federation::decide_crossing(crossing, q);
    v1::CliCrossing c;
    c.set_peering_id(p.peering_id);
    c.set_version(p.version);
    c.set_from_agency(from.agency);
    c.set_to_agency(to.agency);
    c.set_to_broker(to.broker_id);
    add_reasons(d.topic, c.mutable_reasons());
    std::vector<std::string> crossing_sections;
    for (std::size_t i = 0; i < d.sections.size(); ++i) {
      auto* m = c.add_sections();
      m->set_node("section " + std::to_string(i + 1));
      if (!present[i]) {
        m->set_decision("withheld in this copy");
        continue;
      }
      const policy::Decision& sec = d.sections[i];
      m->set_decision(sec.allowed() ? "crosses" : "torn off");
      for (const auto& g : sec.grounds) m->add_grounds(g);
      add_reasons(sec.denials, m->mutable_reasons());
      if (sec.allowed()) crossing_sections.push_back(std::to_string(i + 1));
    }
    c.set_decision(crossing_sections.empty() ? "does not cross" : "crosses sections " + join(crossing_sections, ","));
    out.push_back(std::move(c));
  }
  return out;
}

void print_crossing(const v1::CliCrossing& c) {
  std::cout << "  " << c.peering_id() << " v" << c.version() << ", " << c.from_agency() << " -> " << c.to_agency()
            << " (broker " << c.to_broker() << "): " << c.decision() << "\n";
  for (const auto& r : c.reasons()) std::cout << "    " << r.name() << ": " << r.message() << "\n";
  if (c.reasons_size() > 0) return;  // every section shares those reasons
  for (const auto& s : c.sections()) {
    if (s.decision() != "torn off") continue;
    std::cout << "    " << s.node() << " torn off:\n";
    for (const auto& r : s.reasons()) std::cout << "      " << r.name() << ": " << r.message() << "\n";
  }
}

void print_node(const v1::CliNodeDecision& n) {
  std::cout << "  " << n.node() << ": ";
  const std::vector<std::string> grounds(n.grounds().begin(), n.grounds().end());
  if (n.decision() == kMayRead) {
    std::cout << "may read (sealed to it)\n    grounds: " << join(grounds, "; ") << "\n";
  } else if (n.decision() == kNotAddressed) {
    std::cout << "may read, but not addressed (the section is not sealed to it)\n    grounds: " << join(grounds, "; ")
              << "\n";
  } else {
    std::cout << "may not read" << (n.sealed_to() ? " (though the section is sealed to it)" : "") << "\n";
    for (const auto& r : n.reasons()) std::cout << "    " << r.name() << ": " << r.message() << "\n";
  }
}

// `labels`: policy::describe of each section's label (index from 0; "" when withheld).
void print_text(const v1::CliExplanation& e, const std::vector<std::string>& labels) {
  const std::vector<std::string> sources(e.sources().begin(), e.sources().end());
  std::cout << "report " << e.report_id() << " by " << e.originator() << " (" << e.agency() << ", " << e.country()
            << ") on " << e.topic() << "\n"
            << "  created:   " << e.created_at() << " (every decision below is judged at this time)\n"
            << "  signature: valid; " << e.sections_size() << " section(s), " << e.withheld()
            << " withheld in this copy\n"
            << "  sources:   " << join(sources, "; ", "none") << "\n"
            << "  rules:     " << e.rules() << "\n";
  for (const auto& section : e.sections()) {
    std::cout << "\nsection " << section.index() << ": ";
    if (!section.present()) {
      std::cout << "withheld (this copy holds only its commitment: nothing to judge)\n";
      continue;
    }
    const std::vector<std::string> sealed(section.sealed_to().begin(), section.sealed_to().end());
    std::cout << labels[section.index() - 1] << "\n"
              << "  sealed to: " << join(sealed, ", ", "no one") << "\n";
    for (const auto& n : section.nodes()) print_node(n);
  }
  if (e.crossings_size() > 0) {
    std::cout << "\npeerings (" << e.crossings_size() << "): what would cross each boundary\n";
    for (const auto& c : e.crossings()) print_crossing(c);
  }
}

void run_explain(const ExplainOptions& o) {
  const std::filesystem::path dir_path =
      o.directory.empty() ? std::filesystem::path(o.pki) / "directory" : std::filesystem::path(o.directory);
  std::error_code ec;
  if (o.directory.empty() && !std::filesystem::exists(dir_path / "trust.toml", ec)) {
    throw CommandExit(kExitUsage,
                      one_line("explain: --pki '" + o.pki +
                               "': not a PKI folder (no directory/trust.toml): give --pki DIR or set TEARLINE_PKI to "
                               "a folder made by `tearline certs`"),
                      Code::INVALID_FIELD);
  }
  auto bytes = read_file(o.report_file, kMaxReportBytes);
  if (!bytes) fail(kExitUsage, "report", bytes.status());
  const identity::DirectoryPtr dir = load_directory_or_exit(dir_path);
  std::optional<policy::TopicPolicy> topics;
  if (!o.policy.empty()) {
    auto loaded = policy::TopicPolicy::load(o.policy);
    if (!loaded) fail(exit_code_for(loaded.status()), "--policy " + o.policy, loaded.status());
    topics = std::move(loaded).value();
  }
  std::vector<std::string> nodes;
  if (!o.node.empty()) {
    if (dir->node(o.node) == nullptr) {
      fail(kExitUsage, "--node",
           Status::fail(Code::UNKNOWN_NODE, "node " + o.node + " is not in the directory " + dir_path.string()));
    }
    nodes.push_back(o.node);
  } else {
    for (const identity::Credential* c : dir->nodes()) {
      if (!c->has_role(identity::kBrokerRole)) nodes.push_back(c->node_id);  // a broker reads no section
    }
  }

  v1::CliExplanation out;
  auto verified = report::verify_report(*bytes, *dir);
  if (!verified) {
    if (o.json) {
      out.set_verdict("NOT_VERIFIED");
      out.set_code(std::string(code_name(verified.status().code())));
      add_reasons(verified.status(), out.mutable_reasons());
      std::cout << to_json(out) << "\n";
    } else {
      std::cout << "NOT VERIFIED " << code_name(verified.status().code()) << "\n";
      print_reasons(std::cout, verified.status());
    }
    std::cout.flush();
    throw CommandExit(kExitFailure, "", verified.status().code());
  }
  const report::VerifiedReport& rep = *verified;
  const std::int64_t t = rep.header.created_at_ms() / 1000;
  out.set_verdict("VERIFIED");
  out.set_report_id(rep.report_id_hex());
  out.set_originator(rep.header.originator());
  out.set_agency(rep.originator.agency);
  out.set_country(rep.originator.country);
  out.set_topic(rep.header.topic());
  out.set_created_at_ms(rep.header.created_at_ms());
  out.set_created_at(utc(t));
  for (auto& s : sources_of(rep.header)) out.add_sources(std::move(s));
  out.set_rules(topics ? "label rules and read permission under the topic policy " + o.policy
                       : std::string("label rules only (give --policy to judge topic permissions too)"));
  out.set_withheld(static_cast<std::uint32_t>(rep.withheld_count()));
  std::vector<std::string> labels(rep.sections.size());
  for (std::size_t i = 0; i < rep.sections.size(); ++i) {
    const report::VerifiedSection& section = rep.sections[i];
    auto* m = out.add_sections();
    m->set_index(static_cast<std::uint32_t>(i + 1));
    m->set_present(section.present);
    if (!section.present) continue;
    *m->mutable_label() = label_message(*section.label);
    labels[i] = policy::describe(*section.label);
    for (const auto& r : section.recipients) m->add_sealed_to(r);
    for (const auto& node : nodes) {
      *m->add_nodes() = explain_node(rep, section, *dir, topics ? &*topics : nullptr, node, t);
    }
  }
  for (auto& c : explain_crossings(rep, *dir, dir_path, t)) *out.add_crossings() = std::move(c);
  if (o.json) {
    std::cout << to_json(out) << "\n";
  } else {
    print_text(out, labels);
  }
}

}  // namespace

void add_explain_command(CLI::App& app) {
  auto o = std::make_shared<ExplainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "explain",
      "Offline: verify a saved report (publish --save) and explain, section by section, which nodes may read it "
      "and every reason the others may not, at the report's created-at");
  cmd->add_option("REPORT_FILE", o->report_file, "The report's bytes")->required();
  cmd->add_option("-n,--node", o->node,
                  "Explain for this node only (default: every node of the directory but the broker)");
  auto* pki = cmd->add_option("--pki", o->pki,
                              "PKI folder made by `tearline certs` (env TEARLINE_PKI; default certs/demo, the demo's)")
                  ->type_name("DIR")
                  ->envname("TEARLINE_PKI");
  cmd->add_option("--directory", o->directory, "Directory folder (instead of PKI/directory)")
      ->type_name("DIR")
      ->excludes(pki);
  cmd->add_option("--policy", o->policy, "Topic policy TOML (e.g. certs/policy.toml): judge read permission too")
      ->type_name("FILE");
  cmd->add_flag("--json", o->json, "One JSON object (CliExplanation in proto/tearline/v1/cli_admin.proto)");
  cmd->callback([o] { run_explain(*o); });
}

}  // namespace tearline::cli
