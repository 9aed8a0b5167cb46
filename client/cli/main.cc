// tearline: the command-line tool for agency nodes, operators and testers.
//
// The front end around the commands: --version, a mistyped command named with
// its nearest match, and every failure as one line on stderr, as a JSON
// object when the command was given --json (cli/common/error_output.h).
// Exit codes: 0 ok, 1 refused, 2 bad input, 3 unreachable (exit_codes.h).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include "base/version.h"
#include "cli/common/command_line.h"
#include "cli/common/commands.h"
#include "cli/common/error_output.h"

namespace {

using tearline::Code;

int report(bool json, Code reason, int exit_code, const std::string& message) {
  if (!message.empty()) {
    std::fprintf(stderr, "%s\n", tearline::cli::error_line(json, reason, exit_code, message).c_str());
  }
  return exit_code;
}

int run(int argc, char** argv) {
  CLI::App app{"tearline: secure intelligence sharing between agency nodes"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tearline " + std::string(tearline::version_string()),
                       "Print the version and the git revision, and exit");
  // One line per command (each in its own cli/<audience>/<name>_command.cc).
  tearline::cli::add_certs_command(app);
  tearline::cli::add_audit_command(app);
  tearline::cli::add_publish_command(app);
  tearline::cli::add_subscribe_command(app);
  tearline::cli::add_explain_command(app);
  tearline::cli::add_receipt_command(app);
  tearline::cli::add_inject_command(app);
  tearline::cli::add_demo_command(app);
  tearline::cli::add_unsubscribe_command(app);
  tearline::cli::add_subscriptions_command(app);
  tearline::cli::add_admin_command(app);
  tearline::cli::add_status_command(app);
  tearline::cli::add_context_command(app);
  tearline::cli::add_help_command(app);
  if (auto unknown = tearline::cli::find_unknown_command(app, argc, argv)) {
    return report(false, Code::OK, tearline::cli::kExitUsage, tearline::cli::unknown_command_message(*unknown));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    const bool json = tearline::cli::json_requested(app, argc, argv);
    return report(json, Code::OK, tearline::cli::kExitUsage, std::string(e.what()) + " (see --help)");
  } catch (const tearline::cli::CommandExit& e) {
    return report(tearline::cli::json_requested(app, argc, argv), e.reason, e.code, e.what());
  } catch (const std::exception& e) {
    return report(tearline::cli::json_requested(app, argc, argv), Code::OK, tearline::cli::kExitFailure, e.what());
  }
  return tearline::cli::kExitOk;
}

}  // namespace

// run() answers every failure with its exit code; this catches what escapes
// it (building the command line itself), so that no exception leaves main.
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tearline: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "tearline: unknown exception\n");
  }
  return tearline::cli::kExitFailure;
}
