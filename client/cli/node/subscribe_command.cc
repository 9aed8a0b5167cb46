// `tearline subscribe`: subscribe as a node and print each report as it
// arrives, verified and opened: readable by default, or one JSON object per
// line (proto/tearline/v1/cli.proto, CliReceivedReport). stdout is flushed
// after every report, since other processes read it.
//
// Ends after --count reports or --idle-exit milliseconds without one (exit
// 0); a session the broker closes (SESSION_REVOKED, SLOW_CONSUMER,
// TOO_MANY_FAILURES) ends it with one line and exit 1.
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "cli/node/node_options.h"
#include "policy/topic.h"
#include "tearline/v1/cli.pb.h"
#include "wire/frame.h"

namespace tearline::cli {
namespace {

constexpr std::string_view kCommand = "subscribe";
// receive() is called in slices this long so that a closed session is noticed
// promptly however long --idle-exit is.
constexpr int kSliceMs = 250;

struct SubscribeOptions {
  NodeOptions node;
  std::vector<std::string> topics{">"};
  int count = 0;         // 0: no limit
  int idle_exit_ms = 0;  // 0: wait forever
  bool json = false;
};

std::int64_t monotonic_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::string signature_text(const client::Received& r) {
  return r.verification ? "valid" : "invalid: " + r.verification.to_string();
}

void print_json(const client::Received& r) {
  tearline::v1::CliReceivedReport m;
  m.set_broker_seq(r.broker_seq);
  m.set_report_id(r.report_id_hex);
  m.set_originator(r.originator);
  m.set_topic(r.topic);
  m.set_created_at_ms(r.created_at_ms);
  m.set_signature(signature_text(r));
  for (std::size_t i = 0; i < r.sections.size(); ++i) {
    const client::ReceivedSection& s = r.sections[i];
    auto* out = m.add_sections();
    out->set_index(static_cast<std::uint32_t>(i + 1));
    out->set_status(std::string(client::section_status_name(s.status)));
    *out->mutable_label() = label_value(client::to_policy(s.label));
    // A proto string must be UTF-8 (protobuf drops it otherwise): other bytes go to `content`.
    if (is_utf8(s.text)) {
      out->set_text(s.text);
    } else {
      out->set_content(s.text);
    }
  }
  std::cout << to_json(m) << "\n";
}

void print_readable(const client::Received& r) {
  if (!r.verification) {
    std::cout << "report (broker seq " << r.broker_seq << ") REJECTED: signature " << signature_text(r) << "\n\n";
    return;
  }
  std::cout << "report " << r.report_id_hex << " (broker seq " << r.broker_seq << ")\n"
            << "  originator: " << r.originator << "\n"
            << "  topic:      " << r.topic << "\n"
            << "  created:    " << utc(r.created_at_ms / 1000) << "\n"
            << "  signature:  valid\n";
  for (std::size_t i = 0; i < r.sections.size(); ++i) {
    const client::ReceivedSection& s = r.sections[i];
    std::cout << "  section " << (i + 1);
    if (s.label) std::cout << " (" << policy::describe(client::to_policy(*s.label)) << ")";
    std::cout << ": " << client::section_status_name(s.status);
    if (s.status == client::SectionStatus::kWithheld) std::cout << " (only its commitment was delivered)";
    std::cout << "\n";
    if (s.status != client::SectionStatus::kOpened) continue;
    std::string text = printable(s.text);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    std::cout << "    | ";
    for (char c : text) std::cout << c << (c == '\n' ? "    | " : "");
    std::cout << "\n";
  }
  std::cout << "\n";
}

void run_subscribe(const SubscribeOptions& o) {
  for (const auto& p : o.topics) {
    if (Status valid = policy::validate_pattern(p); !valid) {
      throw CommandExit(kExitUsage, one_line(std::string(kCommand) + ": --topic: " + valid.to_string()));
    }
  }
  auto session = connect_or_exit(o.node);
  if (Status s = session->subscribe(o.topics); !s) {
    throw CommandExit(exit_code_for(s),
                      one_line(std::string(kCommand) + ": the broker refused the subscription: " + s.to_string()));
  }
  // A readiness note for scripts and people; stdout carries only reports.
  std::cerr << "subscribed as " << o.node.node << " to " << join(o.topics) << std::endl;

  int received = 0;
  std::int64_t last = monotonic_ms();
  for (;;) {
    int slice = kSliceMs;
    if (o.idle_exit_ms > 0) {
      const std::int64_t left = last + o.idle_exit_ms - monotonic_ms();
      if (left <= 0) return;
      slice = static_cast<int>(std::min<std::int64_t>(slice, left));
    }
    auto r = session->receive(slice);
    if (auto error = session->take_session_error(); error && wire::closes_session(error->code())) {
      throw CommandExit(kExitFailure,
                        one_line(std::string(kCommand) + ": the broker closed the session: " + error->to_string()));
    }
    if (!r) continue;
    if (o.json) {
      print_json(*r);
    } else {
      print_readable(*r);
    }
    std::cout.flush();
    last = monotonic_ms();
    if (o.count > 0 && ++received >= o.count) return;
  }
}

}  // namespace

void add_subscribe_command(CLI::App& app) {
  auto o = std::make_shared<SubscribeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "subscribe",
      "Subscribe as a node and print each report as it arrives: every section opened, withheld or not addressed. "
      "Prints 'subscribed as NODE to ...' on stderr once the broker has accepted the subscription. Without --count "
      "or --idle-exit it runs until interrupted (re-connecting after a broker restart)");
  o->node.add_to(cmd);
  cmd->add_option("--topic", o->topics, "Topic pattern, e.g. intel.> or unit.*.seizures (repeatable; default >)")
      ->type_name("PATTERN");
  cmd->add_option("--count", o->count, "Exit 0 after N reports")->type_name("N")->check(CLI::Range(1, 1000000000));
  cmd->add_option("--idle-exit", o->idle_exit_ms, "Exit 0 after MS milliseconds without a report")
      ->type_name("MS")
      ->check(CLI::Range(1, 86400000));
  cmd->add_flag("--json", o->json, "One JSON object per report and line (proto/tearline/v1/cli.proto)");
  cmd->callback([o] { run_subscribe(*o); });
}

}  // namespace tearline::cli
