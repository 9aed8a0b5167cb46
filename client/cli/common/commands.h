// Each `tearline` subcommand registers itself on the root CLI11 app. A
// command's callback returns through CommandExit: one clear line on stderr for
// bad input, and a non-zero exit code, never a crash or a hang.
#pragma once

#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>

#include "cli/common/exit_codes.h"  // the exit codes every command uses

namespace tearline::cli {

// Thrown by a command to end with `code` after printing `message` (one line).
// `reason` is the stable code behind it when there is one (under --json the
// error is printed as {"code":NAME,"exit":N,"message":...} on stderr);
// Code::OK when the failure has no code of its own (a usage error).
struct CommandExit : std::runtime_error {
  CommandExit(int exit_code, const std::string& message, Code reason_code = Code::OK)
      : std::runtime_error(message), code(exit_code), reason(reason_code) {}
  // exit_code_for(status), the status's first code, and `prefix` + its text.
  CommandExit(const Status& status, const std::string& prefix)
      : std::runtime_error(prefix + status.to_string()), code(exit_code_for(status)), reason(status.code()) {}
  int code;
  Code reason;
};

// One declaration per command, each defined in cli/<audience>/<name>_command.cc
// (node: publish, subscribe, explain, receipt; certs: certs, audit; inject; demo;
// common: help).
void add_certs_command(CLI::App& app);
void add_audit_command(CLI::App& app);
void add_publish_command(CLI::App& app);
void add_subscribe_command(CLI::App& app);
void add_explain_command(CLI::App& app);
void add_receipt_command(CLI::App& app);  // receipt verify
void add_inject_command(CLI::App& app);
void add_demo_command(CLI::App& app);  // and the hidden demo-node
void add_unsubscribe_command(CLI::App& app);
void add_subscriptions_command(CLI::App& app);
void add_admin_command(CLI::App& app);  // admin reload
void add_status_command(CLI::App& app);
void add_context_command(CLI::App& app);
void add_help_command(CLI::App& app);  // help [COMMAND...] (cli/common/help_command.cc)

}  // namespace tearline::cli
