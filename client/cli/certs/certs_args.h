// What the `tearline certs` subcommands share: one-line failures with the
// exit codes of cli/common/exit_codes.h, argument checks, the trust store,
// and the registration of the subcommands kept in their own files.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "cli/common/commands.h"
#include "identity/pki.h"
#include "identity/trust_store.h"

namespace tearline::cli::certs {

inline constexpr const char* kPkiHelp = "PKI folder (holds directory/ and keys/)";
// Printed after every change to the directory (issue, revoke).
inline constexpr std::string_view kReloadReminder =
    "  the broker reads the directory at start: run `tearline admin reload` (a node with the admin role) or send "
    "it SIGHUP\n";

std::int64_t now_seconds();

// Throws CommandExit(status, "COMMAND: "): exit code and stable code from the status.
[[noreturn]] void fail(std::string_view command, const Status& status);
// Throws CommandExit(kExitUsage, "COMMAND: message") (bad arguments).
[[noreturn]] void usage(std::string_view command, const std::string& message);
// Throws CommandExit(kExitFailure, "COMMAND: message", reason) (refused).
[[noreturn]] void refuse(std::string_view command, Code reason, const std::string& message);

// usage() unless identity::is_valid_id(id); `what` names the argument.
void require_id(std::string_view command, std::string_view what, const std::string& id);
// A decimal number in [min, max]; no sign, no other base; usage() otherwise.
std::uint64_t parse_number(std::string_view command, std::string_view what, std::string_view text, std::uint64_t min,
                           std::uint64_t max);

inline constexpr std::uint64_t kDefaultDays = 365;
// The validity of an object issued now for --days DAYS (1-3650): from an
// hour ago, as generate_from_roster's objects, so that a verifier whose
// clock is slightly behind does not see NOT_YET_VALID.
struct Window {
  std::int64_t not_before, not_after;
};
Window window_from_now(std::string_view command, const std::string& days_text);

bool path_exists(const std::filesystem::path& path);
// fail() with INVALID_FIELD naming the unit's latest charter version when
// PKI has no charter file UNIT.vVERSION.
void require_charter_file(std::string_view command, const identity::PkiPaths& pki, const std::string& unit,
                          std::uint64_t version);
// The PKI's trust store, or fail().
identity::TrustStore load_trust(std::string_view command, const identity::PkiPaths& pki);

// Subcommands registered from their own files.
void add_revoke(CLI::App& certs);   // certs_revoke.cc
void add_show(CLI::App& certs);     // certs_show.cc
void add_inspect(CLI::App& certs);  // certs_inspect.cc
void add_peering(CLI::App& certs);  // certs_peering.cc
void add_import(CLI::App& certs);   // certs_import.cc

}  // namespace tearline::cli::certs
