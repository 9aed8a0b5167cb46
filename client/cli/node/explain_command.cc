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
#include "policy/delivery.h"
#include "report/verify.h"

namespace tearline::cli {
namespace {

constexpr std::string_view kCommand = "explain";
constexpr std::size_t kMaxReportBytes = 64u << 20;  // what the client library accepts in a DELIVER

struct ExplainOptions {
  std::string report_file, node, pki = "certs/demo", directory, policy;
};

[[noreturn]] void fail(int code, const std::string& what, const Status& status) {
  throw CommandExit(code, one_line(std::string(kCommand) + ": " + what + ": " + status.to_string()));
}

std::string sources_text(const tearline::v1::ReportHeader& header) {
  std::vector<std::string> out;
  for (const auto& s : header.sources()) {
    std::string item = to_hex(as_bytes(s.report_id()));
    std::vector<std::string> numbers;
    for (auto i : s.sections()) numbers.push_back(std::to_string(i + 1));
    item += numbers.empty() ? " (all sections)" : " (sections " + join(numbers, ",") + ")";
    out.push_back(std::move(item));
  }
  return join(out, "; ", "none");
}

void explain_node(const report::VerifiedReport& rep, const report::VerifiedSection& section,
                  const identity::Directory& dir, const policy::TopicPolicy* topics, const std::string& node_id,
                  std::int64_t t) {
  const bool sealed_to = std::binary_search(section.recipients.begin(), section.recipients.end(), node_id);
  const policy::DeliveryQuestion question{rep.header.topic(), rep.originator.country, {{&*section.label, sealed_to}}};
  const policy::DeliveryDecision d = policy::decide_delivery(dir, topics, node_id, question, t);
  const Status& denials = d.credential ? d.sections.front().denials : d.credential;
  std::cout << "  " << node_id << ": ";
  if (denials.is_ok()) {
    std::vector<std::string> grounds = d.sections.front().grounds;
    if (!grounds.empty()) grounds.pop_back();  // the sealing, which the first line states
    std::cout << "may read (sealed to it)\n    grounds: " << join(grounds, "; ") << "\n";
    return;
  }
  if (denials.reasons().size() == 1 && denials.code() == Code::NOT_ADDRESSED) {
    std::cout << "may read, but not addressed (the section is not sealed to it)\n    grounds: "
              << join(d.sections.front().grounds, "; ") << "\n";
    return;
  }
  std::cout << "may not read" << (sealed_to ? " (though the section is sealed to it)" : "") << "\n";
  print_reasons(std::cout, denials, "    ");
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

  auto verified = report::verify_report(*bytes, *dir);
  if (!verified) {
    std::cout << "NOT VERIFIED " << code_name(verified.status().code()) << "\n";
    print_reasons(std::cout, verified.status());
    throw CommandExit(kExitFailure, "");
  }
  const report::VerifiedReport& rep = *verified;
  const std::int64_t t = rep.header.created_at_ms() / 1000;
  std::cout << "report " << rep.report_id_hex() << " by " << rep.header.originator() << " (" << rep.originator.agency
            << ", " << rep.originator.country << ") on " << rep.header.topic() << "\n"
            << "  created:   " << utc(t) << " (every decision below is judged at this time)\n"
            << "  signature: valid; " << rep.sections.size() << " section(s), " << rep.withheld_count()
            << " withheld in this copy\n"
            << "  sources:   " << sources_text(rep.header) << "\n"
            << "  rules:     "
            << (topics ? "label rules and read permission under the topic policy " + o.policy
                       : std::string("label rules only (give --policy to judge topic permissions too)"))
            << "\n";
  for (std::size_t i = 0; i < rep.sections.size(); ++i) {
    const report::VerifiedSection& section = rep.sections[i];
    std::cout << "\nsection " << (i + 1) << ": ";
    if (!section.present) {
      std::cout << "withheld (this copy holds only its commitment: nothing to judge)\n";
      continue;
    }
    std::cout << policy::describe(*section.label) << "\n"
              << "  sealed to: " << join(section.recipients, ", ", "no one") << "\n";
    for (const auto& node : nodes) explain_node(rep, section, *dir, topics ? &*topics : nullptr, node, t);
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
  cmd->callback([o] { run_explain(*o); });
}

}  // namespace tearline::cli
