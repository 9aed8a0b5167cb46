// `tearline subscribe`: subscribe as a node and print each report as it
// arrives, verified and opened: readable by default, one JSON object per
// line (--json, proto/tearline/v1/cli.proto, CliReceivedReport), or only the
// opened sections' bodies (--raw). stdout is flushed after every report,
// since other processes read it; notes go to stderr.
//
// A plain subscribe is session-only: live reports matching --topic while it
// runs, nothing stored. --durable subscribes the node's mailbox (kept by the
// broker across sessions, delivered from the node's cursor). Either way only
// reports matching --topic are printed.
//
// Ends after --count reports or --idle-exit milliseconds without one (exit
// 0); a session the broker closes (SESSION_REVOKED, SLOW_CONSUMER,
// TOO_MANY_FAILURES) ends it with one line and exit 1. SIGHUP reloads the
// local directory.
#include <csignal>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "cli/node/connection_notes.h"
#include "cli/node/node_options.h"
#include "policy/topic.h"
#include "tearline/v1/cli.pb.h"
#include "wire/frame.h"

namespace tearline::cli {
namespace {

constexpr std::string_view kSubscribeCommand = "subscribe";
// receive() is called in slices this long so that a closed session, a lost
// broker and SIGHUP are noticed promptly however long --idle-exit is.
constexpr int kSliceMs = 250;

struct SubscribeOptions {
  NodeOptions node;
  std::vector<std::string> topics{">"};
  int count = 0;         // 0: no limit
  int idle_exit_ms = 0;  // 0: wait forever
  bool json = false, raw = false, durable = false;
};

std::atomic<bool> hangup{false};

extern "C" void on_hangup(int) { hangup = true; }

std::string signature_text(const client::Received& r) {
  return r.verification ? "valid" : "invalid: " + r.verification.to_string();
}

void print_json(const client::Received& r) {
  tearline::v1::CliReceivedReport m;
  m.set_broker_seq(r.broker_seq);
  m.set_accepted_by(r.writer);
  m.set_report_id(r.report_id_hex);
  m.set_originator(r.originator);
  m.set_topic(r.topic);
  m.set_created_at_ms(r.created_at_ms);
  m.set_signature(signature_text(r));
  for (const auto& hop : r.path) {
    auto* h = m.add_path();
    h->set_broker(hop.broker_id);
    h->set_broker_seq(hop.broker_seq);
    h->set_accepted_ms(hop.accepted_ms);
  }
  for (std::size_t i = 0; i < r.sections.size(); ++i) {
    const client::ReceivedSection& s = r.sections[i];
    auto* out = m.add_sections();
    out->set_index(static_cast<std::uint32_t>(i + 1));
    out->set_status(std::string(client::section_status_name(s.status)));
    if (s.label) *out->mutable_label() = label_message(client::to_policy(*s.label));
    // A proto string must be UTF-8 (protobuf drops it otherwise): other bytes go to `content`.
    if (is_utf8(s.text)) {
      out->set_text(s.text);
    } else {
      out->set_content(s.text);
    }
  }
  std::cout << to_json(m) << "\n";
}

// What to do about a report that did not verify, by its first reason.
std::string advice_for(const Status& verification) {
  switch (verification.code()) {
    case Code::ORIGINATOR_INVALID:
    case Code::UNKNOWN_NODE:
      return "if the originator was issued recently, reload this node's directory (copy the PKI's directory, then "
             "SIGHUP this process)";
    case Code::RECEIPT_INVALID:
      return "the broker's acceptance receipt does not verify: check that the directory holds this broker's "
             "credential";
    default: return "do not trust its content; compare with the originator through another channel";
  }
}

// "seq N", or "seq N of BROKER" in another broker's stream (6.14).
std::string seq_text(const client::Received& r) {
  return "seq " + std::to_string(r.broker_seq) + (r.writer.empty() ? "" : " of " + r.writer);
}

// A gap notice (docs/protocol.md 6.13): "GAP seq N: CODE: reason", or under
// --json one object {"gap": the GAP frame's fields (tearline.v1.Gap)}.
void print_gap(const client::Received& r, bool json) {
  if (json) {
    std::cout << "{\"gap\":" << to_json(wire::make_gap(r.broker_seq, r.gap, r.writer).gap()) << "}\n";
  } else {
    std::cout << "GAP " << seq_text(r) << ": " << one_line(r.gap.to_string()) << "\n";
  }
}

void print_readable(const client::Received& r) {
  if (!r.verification) {
    std::cout << "report (broker " << seq_text(r) << ") NOT VERIFIED: " << r.verification.to_string() << "\n"
              << "  what to do: " << advice_for(r.verification) << "\n\n";
    return;
  }
  std::cout << "report " << r.report_id_hex << " (broker " << seq_text(r) << ")\n"
            << "  originator: " << r.originator << "\n"
            << "  topic:      " << r.topic << "\n"
            << "  created:    " << utc(r.created_at_ms / 1000) << "\n"
            << "  signature:  valid\n";
  if (!r.path.empty()) {
    std::cout << "  path:       ";
    for (const auto& hop : r.path) {
      std::cout << hop.broker_id << " seq " << hop.broker_seq << " at " << utc(hop.accepted_ms / 1000) << " -> ";
    }
    std::cout << "this broker " << seq_text(r) << " at " << utc(r.accepted_ms / 1000) << "\n";
  }
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

// The opened sections' bodies as they are, each ending in a newline; a
// report that did not verify prints nothing on stdout (a note on stderr).
void print_raw(const client::Received& r) {
  if (!r.verification) {
    std::cerr << "tearline: subscribe: report (broker seq " << r.broker_seq
              << ") NOT VERIFIED: " << one_line(r.verification.to_string()) << '\n'
              << std::flush;
    return;
  }
  for (const auto& s : r.sections) {
    if (s.status != client::SectionStatus::kOpened) continue;
    std::cout << s.text;
    if (s.text.empty() || s.text.back() != '\n') std::cout << "\n";
  }
}

bool wanted(const SubscribeOptions& o, const client::Received& r) {
  if (!r.verification) return true;  // its topic is not known: say so rather than hide it
  // A durable session drains the node's whole mailbox (every durable
  // pattern, listed on stderr at the start), and what it takes is
  // acknowledged: hiding a report here would lose it for good.
  if (o.durable) return true;
  for (const auto& p : o.topics) {
    if (policy::topic_matches(p, r.topic)) return true;
  }
  return false;
}

void run_subscribe(const SubscribeOptions& o) {
  for (const auto& p : o.topics) {
    if (Status valid = policy::validate_pattern(p); !valid) {
      throw CommandExit(kExitUsage, one_line(std::string(kSubscribeCommand) + ": --topic: " + valid.to_string()),
                        valid.code());
    }
  }
  auto session = connect_or_exit(o.node);
  const auto mode = o.durable ? client::SubscriptionMode::kDurable : client::SubscriptionMode::kSessionOnly;
  if (Status s = session->subscribe(o.topics, mode); !s) {
    throw CommandExit(s, one_line(std::string(kSubscribeCommand) + ": the broker refused the subscription: "));
  }
  struct sigaction action {};
  action.sa_handler = on_hangup;
  sigemptyset(&action.sa_mask);
  sigaction(SIGHUP, &action, nullptr);
  // A readiness note for scripts and people; stdout carries only reports.
  std::cerr << "subscribed as " << o.node.node << " to " << join(o.topics)
            << (o.durable ? " (durable)" : " (this session only)") << '\n'
            << std::flush;
  if (o.durable) {
    auto list = session->subscriptions();
    if (list) {
      std::cerr << "durable patterns of " << o.node.node << ": " << join(list->durable, ", ", "none")
                << "; delivering from after seq " << list->acked_seq << ", every report of these patterns is printed"
                << " (remove one with `tearline unsubscribe --durable -t PATTERN`)" << '\n'
                << std::flush;
    }
  }

  int received = 0;
  std::int64_t last = steady_now_ms();
  for (;;) {
    int slice = kSliceMs;
    if (o.idle_exit_ms > 0) {
      const std::int64_t left = last + o.idle_exit_ms - steady_now_ms();
      if (left <= 0) return;
      slice = static_cast<int>(std::min<std::int64_t>(slice, left));
    }
    if (hangup.exchange(false)) (void)session->reload_directory("SIGHUP");
    auto r = session->receive(slice);
    while (auto event = session->take_connection_event()) {
      std::cerr << "tearline: subscribe: " << connection_note(*event) << '\n' << std::flush;
    }
    if (auto error = session->take_session_error(); error && wire::closes_session(error->code())) {
      throw CommandExit(*error, one_line(std::string(kSubscribeCommand) + ": the broker closed the session: "));
    }
    if (r && r->kind == client::ReceivedKind::kGap) {  // not a report: not counted
      print_gap(*r, o.json);
      std::cout.flush();
      last = steady_now_ms();
      continue;
    }
    if (!r || !wanted(o, *r)) continue;
    if (o.json) {
      print_json(*r);
    } else if (o.raw) {
      print_raw(*r);
    } else {
      print_readable(*r);
    }
    std::cout.flush();
    last = steady_now_ms();
    if (o.count > 0 && ++received >= o.count) return;
  }
}

}  // namespace

void add_subscribe_command(CLI::App& app) {
  auto o = std::make_shared<SubscribeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "subscribe",
      "Subscribe as a node and print each report as it arrives: every section opened, withheld or not addressed. "
      "Plain: this session only (live reports matching --topic). --durable: the node's mailbox, kept by the broker "
      "across sessions, from the node's cursor. Prints only reports matching --topic, and a line 'GAP seq N: CODE: "
      "reason' for "
      "a record the broker cannot deliver (a stored report that failed its re-check). Notes (subscribed, broker "
      "lost and regained, directory reloaded) go to stderr. SIGHUP reloads the directory. Without --count or "
      "--idle-exit it runs until interrupted. Example: tearline subscribe -n NODE -t 'intel.>'");
  o->node.add_to(cmd);
  cmd->add_option("-t,--topic", o->topics,
                  "Topic pattern, e.g. 'intel.>' or 'unit.*.seizures' (quote * and >; repeatable; default '>')")
      ->type_name("PATTERN");
  cmd->add_flag("--durable", o->durable,
                "Subscribe the node's durable mailbox (stored by the broker; remove with `tearline unsubscribe "
                "--durable`)");
  cmd->add_option("--count", o->count, "Exit 0 after N reports")->type_name("N")->check(CLI::Range(1, 1000000000));
  cmd->add_option("--idle-exit", o->idle_exit_ms, "Exit 0 after MS milliseconds without a report")
      ->type_name("MS")
      ->check(CLI::Range(1, 86400000));
  auto* json = cmd->add_flag("--json", o->json, "One JSON object per report and line (proto/tearline/v1/cli.proto)");
  cmd->add_flag("--raw", o->raw, "Print only the opened sections' bodies, each ending in a newline")->excludes(json);
  cmd->callback([o] { run_subscribe(*o); });
}

}  // namespace tearline::cli
