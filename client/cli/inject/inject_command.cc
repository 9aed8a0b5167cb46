// `tearline inject SCENARIO.toml`: runs an injection scenario against a live
// broker (docs/injection.md) and prints one row per case: what was expected,
// what the broker answered, and whether exactly the expected nodes received
// exactly the expected sections. Exit 0 when every case matched, 1 on any
// mismatch, 2 for a bad scenario file (one line, with its TOML line), 3 when
// the broker is unreachable.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/text_table.h"
#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "cli/inject/inject_partners.h"
#include "cli/inject/inject_runner.h"
#include "cli/inject/inject_scenario.h"
#include "cli/node/node_options.h"

namespace tearline::cli {
namespace {

using inject::CaseResult;

struct InjectOptions {
  NodeOptions node;
  std::vector<std::string> serve;  // BROKER=ENDPOINT
  std::string scenario;
  bool json = false;
};

// Messages quote files and the broker: on one line, with no control
// character that could drive the terminal.
std::string safe(std::string_view text) { return one_line(printable(text)); }

// The first problem, and how many more there are, on one line.
std::string first_problem(const Status& status) {
  std::string line = status.reasons().empty() ? status.to_string() : status.reasons().front().message;
  const std::size_t more = status.reasons().size() - std::min<std::size_t>(status.reasons().size(), 1);
  if (more != 0) line += " (and " + std::to_string(more) + (more == 1 ? " more problem)" : " more problems)");
  return safe(line);
}

void print_table(const std::vector<CaseResult>& results) {
  const std::vector<std::string> header = {"case", "expected", "got", "deliveries OK?"};
  std::vector<std::vector<std::string>> rows;
  rows.reserve(results.size());
  for (const auto& r : results) {
    rows.push_back({safe(r.name), r.expected, r.got, r.deliveries_ok() ? "yes" : "NO"});
  }
  TextTable table(std::vector<TableColumn>(header.size()));
  table.fit(header);
  for (const auto& row : rows) table.fit(row);
  std::cout << table.row(header);
  for (const auto& row : rows) std::cout << table.row(row);

  for (const auto& r : results) {
    if (r.passed()) continue;
    std::cout << "\nMISMATCH in case '" << safe(r.name) << "':\n";
    if (r.got != r.expected) {
      std::cout << "  expected " << r.expected << ", got " << r.got << "\n";
      for (const auto& reason : r.reasons.reasons()) {
        std::cout << "    " << code_name(reason.code) << ": " << safe(reason.message) << "\n";
      }
    }
    for (const auto& p : r.delivery_problems) std::cout << "  delivery: " << safe(p) << "\n";
  }
}

// A JSON string literal. Every string here comes from TOML or protobuf
// strings, both UTF-8, so only quotes, backslashes and control characters
// need escaping.
std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out += to_hex(ByteView(&c, 1));
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// One JSON object on one line, fields in a fixed order:
//   {"scenario":..,"cases":[{"name","expected","got","reasons":[{"code","message"}],
//    "deliveries_ok","delivery_problems":[..],"passed"}],"passed":N,"failed":M}
void print_json(const std::string& scenario, const std::vector<CaseResult>& results, int passed) {
  std::string out = "{\"scenario\":" + json_string(scenario) + ",\"cases\":[";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const CaseResult& r = results[i];
    out += std::string(i == 0 ? "" : ",") + "{\"name\":" + json_string(r.name) +
           ",\"report_id\":" + json_string(r.report_id_hex) + ",\"expected\":" + json_string(r.expected) +
           ",\"got\":" + json_string(r.got) + ",\"reasons\":[";
    for (std::size_t j = 0; j < r.reasons.reasons().size(); ++j) {
      const Reason& reason = r.reasons.reasons()[j];
      out += std::string(j == 0 ? "" : ",") + "{\"code\":" + json_string(code_name(reason.code)) +
             ",\"message\":" + json_string(reason.message) + "}";
    }
    out += std::string("],\"deliveries_ok\":") + (r.deliveries_ok() ? "true" : "false") + ",\"delivery_problems\":[";
    for (std::size_t j = 0; j < r.delivery_problems.size(); ++j) {
      out += std::string(j == 0 ? "" : ",") + json_string(r.delivery_problems[j]);
    }
    out += std::string("],\"passed\":") + (r.passed() ? "true" : "false") + "}";
  }
  out += "],\"passed\":" + std::to_string(passed) +
         ",\"failed\":" + std::to_string(static_cast<int>(results.size()) - passed) + "}";
  std::cout << out << "\n";
}

void run_inject(const InjectOptions& o) {
  auto scenario = inject::load_scenario(o.scenario);
  if (!scenario) throw CommandExit(kExitUsage, "inject: " + first_problem(scenario.status()));
  identity::DirectoryPtr directory = load_directory_or_exit(o.node.directory_path());
  Status checked = inject::check_scenario(*scenario, *directory, SystemClock::instance().now_seconds());
  if (!checked) throw CommandExit(kExitUsage, "inject: " + first_problem(checked));

  std::map<std::string, std::string> serve;
  for (const auto& s : o.serve) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) {
      throw CommandExit(kExitUsage, "inject: --serve " + safe(s) +
                                        ": expected BROKER=ENDPOINT, e.g. dea-broker=tcp://127.0.0.1:7811");
    }
    if (!serve.emplace(s.substr(0, eq), s.substr(eq + 1)).second) {
      throw CommandExit(kExitUsage, "inject: --serve names " + safe(s.substr(0, eq)) + " twice");
    }
    const identity::Credential* broker = directory->node(s.substr(0, eq));
    if (broker == nullptr || !broker->has_role(identity::kBrokerRole) ||
        !inject::is_partner_agency(*directory, broker->agency)) {
      throw CommandExit(kExitUsage, "inject: --serve " + safe(s.substr(0, eq)) +
                                        " is not a broker of a partner agency in the directory");
    }
  }
  inject::Runner runner(*scenario, o.node, std::move(serve));
  Status started = runner.start();
  if (!started) {
    throw CommandExit(exit_code_for(started),
                      "inject: cannot start at " + o.node.broker + ": " + first_problem(started));
  }
  std::vector<CaseResult> results;
  for (std::size_t i = 0; i < scenario->cases.size(); ++i) {
    auto r = runner.run(i);
    if (!r) {
      throw CommandExit(exit_code_for(r.status()), "inject: case '" + safe(scenario->cases[i].name) +
                                                       "': the run cannot go on: " + first_problem(r.status()));
    }
    results.push_back(std::move(r).value());
  }
  const int passed =
      static_cast<int>(std::count_if(results.begin(), results.end(), [](const CaseResult& r) { return r.passed(); }));
  const int failed = static_cast<int>(results.size()) - passed;
  if (o.json) {
    print_json(o.scenario, results, passed);
  } else {
    print_table(results);
    std::cout << "\n" << passed << " passed, " << failed << " failed\n";
  }
  std::cout.flush();
  if (failed != 0) throw CommandExit(kExitFailure, "");
}

}  // namespace

void add_inject_command(CLI::App& app) {
  auto o = std::make_shared<InjectOptions>();
  auto* sub = app.add_subcommand(
      "inject",
      "Run an injection scenario (docs/injection.md) against a broker: each case sends a valid or faulty "
      "message and checks the broker's verdict and exactly who received which sections. Exit 0 all "
      "matched, 1 mismatch, 2 bad scenario, 3 broker unreachable");
  sub->add_option("scenario", o->scenario, "Scenario TOML file")->required();
  sub->add_option("--pki", o->node.pki,
                  "PKI folder made by `tearline certs` (default certs/demo); revoked_node "
                  "writes revocation lists into it");
  sub->add_option("--broker", o->node.broker, "broker endpoint (default tcp://127.0.0.1:7801)");
  sub->add_option("--timeout", o->node.timeout_ms, "milliseconds to wait for each answer (default 5000)")
      ->check(CLI::Range(100, 600000));
  sub->add_option("--serve", o->serve,
                  "BROKER=ENDPOINT: serve as partner broker BROKER at ENDPOINT (its keys from the PKI), where the "
                  "broker under test's [[peer]] names it, to send it copies (partner_copy, forged_hop_stamp, ...); "
                  "repeatable");
  sub->add_flag("--json", o->json, "machine output: one JSON object with every case");
  sub->callback([o] { run_inject(*o); });
}

}  // namespace tearline::cli
