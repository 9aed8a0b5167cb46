// tearline: the command-line tool for agency nodes, operators and testers.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/common/commands.h"

namespace {

int run(int argc, char** argv) {
  CLI::App app{"tearline: secure intelligence sharing between agency nodes"};
  app.require_subcommand(1);
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::fprintf(stderr, "tearline: %s (see --help)\n", e.what());
    return tearline::cli::kExitUsage;
  } catch (const tearline::cli::CommandExit& e) {
    if (e.what()[0] != '\0') std::fprintf(stderr, "tearline: %s\n", e.what());
    return e.code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tearline: %s\n", e.what());
    return tearline::cli::kExitFailure;
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
