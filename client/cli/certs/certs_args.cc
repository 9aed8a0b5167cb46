#include "cli/certs/certs_args.h"

#include <charconv>

#include "base/clock.h"
#include "cli/common/print.h"
#include "identity/objects.h"

namespace tearline::cli::certs {

std::int64_t now_seconds() { return SystemClock::instance().now_seconds(); }

void fail(std::string_view command, const Status& status) {
  throw CommandExit(exit_code_for(status), one_line(std::string(command) + ": " + status.to_string()), status.code());
}

void usage(std::string_view command, const std::string& message) {
  throw CommandExit(kExitUsage, one_line(std::string(command) + ": " + message));
}

void refuse(std::string_view command, Code reason, const std::string& message) {
  throw CommandExit(kExitFailure, one_line(std::string(command) + ": " + message), reason);
}

void require_id(std::string_view command, std::string_view what, const std::string& id) {
  if (!identity::is_valid_id(id)) {
    usage(command, std::string(what) + " '" + id +
                       "' is not a valid id (1-64 characters of A-Z a-z 0-9 _ - ., not starting with '.')");
  }
}

std::uint64_t parse_number(std::string_view command, std::string_view what, std::string_view text, std::uint64_t min,
                           std::uint64_t max) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    usage(command, std::string(what) + " '" + std::string(text) + "' must be a number from " + std::to_string(min) +
                       " to " + std::to_string(max));
  }
  return value;
}

Window window_from_now(std::string_view command, const std::string& days_text) {
  constexpr std::uint64_t kMaxDays = 3650;
  constexpr std::int64_t kClockSkewSeconds = 3600;
  constexpr std::int64_t kSecondsPerDay = 86400;
  const auto days = static_cast<std::int64_t>(parse_number(command, "--days", days_text, 1, kMaxDays));
  const std::int64_t now = now_seconds();
  return {now - kClockSkewSeconds, now + days * kSecondsPerDay};
}

bool path_exists(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

void require_charter_file(std::string_view command, const identity::PkiPaths& pki, const std::string& unit,
                          std::uint64_t version) {
  if (path_exists(pki.charter(unit, version))) return;
  const std::uint64_t latest = identity::latest_charter_version(pki.directory(), unit);
  fail(command,
       Status::fail(Code::INVALID_FIELD, "charter " + unit + " v" + std::to_string(version) + " does not exist in " +
                                             pki.directory().string() + "; " +
                                             (latest == 0 ? "unit " + unit + " has no charter (certs charter create)"
                                                          : "the latest version is v" + std::to_string(latest))));
}

identity::TrustStore load_trust(std::string_view command, const identity::PkiPaths& pki) {
  auto trust = identity::TrustStore::load(pki.trust_store());
  if (!trust) fail(command, trust.status());
  return std::move(trust).value();
}

}  // namespace tearline::cli::certs
