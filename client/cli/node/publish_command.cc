// `tearline publish`: build one report (from flags, or several sections from a
// TOML spec), seal each section to the nodes its label admits, sign it as the
// node, send it and print the broker's verdict with the recipients of each
// section. Several --spec files: one report each, signed together as one
// batch (report format 2) and sent at once, a verdict per report in order.
// ACCEPTED carries the broker's acceptance receipt: --json prints it (base64,
// with broker_id and accepted_ms), --save FILE keeps it as FILE.receipt.
// Exit 0 ACCEPTED (every report), 1 REJECTED (any), 2 bad input, 3 broker
// unreachable.
#include <charconv>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/time_format.h"
#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "cli/node/node_options.h"
#include "cli/node/report_spec.h"
#include "policy/topic.h"
#include "report/batch.h"
#include "report/format.h"
#include "tearline/v1/cli.pb.h"

namespace tearline::cli {
namespace {

constexpr std::string_view kCommand = "publish";

struct PublishOptions {
  NodeOptions node;
  std::vector<std::string> specs;
  std::string topic, classification, text, body_file, save;
  std::vector<std::string> releasable, units, sources;
  bool orcon = false, json = false, force = false;
};

[[noreturn]] void usage(const std::string& message) {
  throw CommandExit(kExitUsage, one_line(std::string(kCommand) + ": " + message), Code::INVALID_FIELD);
}

[[noreturn]] void fail(int code, const std::string& what, const Status& status) {
  throw CommandExit(code, one_line(std::string(kCommand) + ": " + what + ": " + status.to_string()), status.code());
}

// "HEX" or "HEX:1,3": the parser a spec's `source` uses too (report_spec.h).
report::SourceCitation parse_source(const std::string& text) {
  auto cite = parse_source_citation(text);
  // Its message reads "source 'TEXT': why": named here as the flag.
  if (!cite) usage("--" + cite.status().reasons().front().message);
  return std::move(cite).value();
}

// Standard input, up to max_bytes (INVALID_FIELD beyond).
Result<Bytes> read_stdin(std::size_t max_bytes) {
  Bytes out;
  char buffer[65536];
  while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
    out.insert(out.end(), buffer, buffer + std::cin.gcount());
    if (out.size() > max_bytes) {
      return Status::fail(Code::INVALID_FIELD, "standard input holds more than " + std::to_string(max_bytes) +
                                                   " bytes, the largest section");
    }
  }
  return out;
}

report::ReportDraft draft_from_flags(const PublishOptions& o, const CLI::App& cmd) {
  if (o.topic.empty()) usage("give --topic (and a label and --text or --body-file), or --spec FILE");
  if (o.classification.empty()) usage("--classification is required without --spec");
  if ((cmd.count("--text") > 0) == (cmd.count("--body-file") > 0)) usage("give exactly one of --text or --body-file");
  auto label = label_from_flags(o.classification, o.releasable, o.units, o.orcon);
  if (!label) fail(kExitUsage, "bad label", label.status());
  report::ReportDraft draft;
  draft.topic = o.topic;
  report::SectionDraft section{*label, {}};
  if (cmd.count("--text") > 0) {
    section.content = to_bytes(o.text);
  } else {
    auto body =
        o.body_file == "-" ? read_stdin(report::kMaxSectionBytes) : read_file(o.body_file, report::kMaxSectionBytes);
    if (!body) fail(kExitUsage, "--body-file", body.status());
    section.content = std::move(body).value();
  }
  draft.sections.push_back(std::move(section));
  for (const auto& s : o.sources) draft.sources.push_back(parse_source(s));
  return draft;
}

void print_verdict(const client::PublishOutcome& outcome, const report::BuiltReport& built,
                   const report::ReportDraft& draft, bool json) {
  const std::string id = to_hex(built.report_id);
  const auto& batch = built.report.batch();
  if (json) {
    tearline::v1::CliPublishVerdict v;
    v.set_verdict(outcome.accepted ? "ACCEPTED" : "REJECTED");
    v.set_report_id(id);
    v.set_broker_seq(outcome.broker_seq);
    v.set_batch_id(to_hex(as_bytes(batch.batch_id())));
    v.set_batch_index(batch.leaf_index() + 1);
    v.set_batch_size(batch.leaf_count());
    if (outcome.accepted) {
      v.set_broker_id(outcome.broker_id);
      v.set_accepted_ms(outcome.accepted_ms);
      v.set_accepted_at(outcome.receipt.empty() ? "" : format_utc_ms(outcome.accepted_ms));
      v.set_receipt(std::string(outcome.receipt.begin(), outcome.receipt.end()));
    }
    if (!outcome.accepted) {
      v.set_code(std::string(code_name(outcome.status.code())));
      for (const Reason& r : outcome.status.reasons()) {
        auto* p = v.add_reasons();
        p->set_code(static_cast<std::uint32_t>(r.code));
        p->set_name(std::string(code_name(r.code)));
        p->set_message(r.message);
      }
    }
    for (std::size_t i = 0; i < draft.sections.size(); ++i) {
      auto* s = v.add_sections();
      s->set_index(static_cast<std::uint32_t>(i + 1));
      *s->mutable_label() = label_message(draft.sections[i].label);
      for (const auto& node : built.recipients[i]) s->add_recipients(node);
    }
    std::cout << to_json(v) << "\n";
    return;
  }
  if (outcome.accepted) {
    std::cout << "ACCEPTED report=" << id << " seq=" << outcome.broker_seq << "\n";
    if (outcome.receipt.empty()) {
      std::cout << "  no acceptance receipt (the broker signs none)\n";
    } else {
      std::cout << "  receipt: accepted by " << printable(outcome.broker_id) << " at "
                << format_utc_ms(outcome.accepted_ms) << " as seq " << outcome.broker_seq << " (signed, verified)\n";
    }
    for (std::size_t i = 0; i < draft.sections.size(); ++i) {
      std::cout << "  section " << (i + 1) << " (" << policy::describe(draft.sections[i].label) << "): sealed to "
                << join(built.recipients[i], ", ", "no one") << "\n";
    }
  } else {
    std::cout << "REJECTED " << code_name(outcome.status.code()) << "\n";
    print_reasons(std::cout, outcome.status);
  }
  if (batch.leaf_count() > 1) {
    std::cout << "  signed in batch " << to_hex(as_bytes(batch.batch_id())) << " as report " << (batch.leaf_index() + 1)
              << " of " << batch.leaf_count() << "\n";
  }
}

std::string receipt_path(const std::string& save) { return save + ".receipt"; }

// --save FILE and FILE.receipt are never overwritten without --force.
void refuse_overwrite(const PublishOptions& o) {
  if (o.save.empty() || o.force) return;
  for (const std::string& path : {o.save, receipt_path(o.save)}) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
      usage("--save: " + path + " exists; remove it or give --force to replace it");
    }
  }
}

int run_publish(const PublishOptions& o, const CLI::App& cmd) {
  // Everything local is checked before the broker is contacted.
  std::vector<report::ReportDraft> drafts;
  for (const auto& file : o.specs) {
    auto spec = load_report_spec(file);
    if (!spec) fail(kExitUsage, "spec " + file, spec.status());
    drafts.push_back(std::move(spec).value());
  }
  if (drafts.empty()) drafts.push_back(draft_from_flags(o, cmd));
  if (drafts.size() > report::kMaxBatch) {
    usage("at most " + std::to_string(report::kMaxBatch) + " --spec files are signed as one batch, not " +
          std::to_string(drafts.size()));
  }
  if (drafts.size() > 1 && !o.save.empty()) usage("--save writes one report: give one --spec with it");
  refuse_overwrite(o);
  for (const auto& draft : drafts) {
    if (Status topic = policy::validate_topic(draft.topic); !topic) fail(kExitUsage, "bad topic", topic);
  }

  auto session = connect_or_exit(o.node);
  auto built = client::build_batch(*session, drafts);
  if (!built) fail(exit_code_for(built.status()), "cannot build the report", built.status());
  if (!o.save.empty()) {
    // A receipt left from an earlier report (--force) must not stand beside this one.
    std::error_code ec;
    std::filesystem::remove(receipt_path(o.save), ec);
    // Sealed content only, but labels, topic and wrap list are in clear: 0600.
    if (Status saved = write_file_atomic(o.save, built->front().bytes, 0600); !saved) fail(kExitUsage, "--save", saved);
  }
  auto outcomes = client::publish_built(*session, *built);
  if (!outcomes) fail(exit_code_for(outcomes.status()), "no verdict from " + o.node.broker, outcomes.status());
  if (!o.save.empty() && outcomes->front().accepted && !outcomes->front().receipt.empty()) {
    // The receipt names the report's digest and seq: nothing secret, but kept with the report.
    const auto& receipt = outcomes->front().receipt;
    if (Status saved = write_file_atomic(receipt_path(o.save), receipt, 0600); !saved) {
      fail(kExitUsage, "--save", saved);
    }
  }
  bool all_accepted = true;
  for (std::size_t i = 0; i < outcomes->size(); ++i) {
    print_verdict((*outcomes)[i], (*built)[i], drafts[i], o.json);
    all_accepted = all_accepted && (*outcomes)[i].accepted;
  }
  std::cout.flush();
  return all_accepted ? kExitOk : kExitFailure;
}

}  // namespace

void add_publish_command(CLI::App& app) {
  auto o = std::make_shared<PublishOptions>();
  CLI::App* cmd = app.add_subcommand(
      "publish",
      "Publish a report as a node and print the broker's verdict: ACCEPTED with the nodes each section was sealed "
      "to, or REJECTED with every reason. Exit 0 accepted, 1 rejected, 2 bad input, 3 broker unreachable");
  o->node.add_to(cmd);
  auto* spec = cmd->add_option("--spec", o->specs,
                               "TOML file describing a report of one or more sections (repeatable: the reports are "
                               "signed together as one batch and sent at once)")
                   ->type_name("FILE");
  std::vector<CLI::Option*> flags{
      cmd->add_option("-t,--topic", o->topic, "Topic, e.g. intel.seizures.cucuta"),
      cmd->add_option("--classification", o->classification,
                      "UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET or TOP_SECRET"),
      cmd->add_option("--rel", o->releasable,
                      "Releasable-to country, ISO alpha-3 (repeatable or COL,USA; none: the originator's country only)")
          ->type_name("CCC"),
      cmd->add_option("--unit", o->units, "Need-to-know unit (repeatable or comma list)")->type_name("UNIT"),
      cmd->add_flag("--orcon", o->orcon, "Originator control: only the originator's agency may re-disseminate"),
      cmd->add_option("--text", o->text, "The section's content"),
      cmd->add_option("--body-file", o->body_file, "File holding the section's content ('-': standard input)")
          ->type_name("FILE"),
      cmd->add_option("--source", o->sources,
                      "Cited source report of a derived report, as HEX or HEX:1,2 (sections from 1; repeatable)")
          ->type_name("HEX[:SECTIONS]"),
  };
  for (CLI::Option* flag : flags) spec->excludes(flag);
  cmd->get_option("--text")->excludes("--body-file");
  cmd->add_option("--save", o->save,
                  "Also write the built report's bytes to FILE (for `tearline explain`) and, when accepted, the "
                  "broker's acceptance receipt to FILE.receipt (for `tearline receipt verify`); never overwrites")
      ->type_name("FILE");
  cmd->add_flag("--force", o->force, "With --save: replace FILE and FILE.receipt when they exist");
  cmd->add_flag("--json", o->json, "Print the verdict as one JSON object (proto/tearline/v1/cli.proto)");
  cmd->callback([o, cmd] {
    const int code = run_publish(*o, *cmd);
    if (code != kExitOk) throw CommandExit(code, "");
  });
}

}  // namespace tearline::cli
