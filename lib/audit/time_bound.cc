#include "audit/time_bound.h"

#include <charconv>
#include <string>

#include "base/time_format.h"

namespace tearline::audit {
namespace {

constexpr std::int64_t kMaxUnixMs = 253402300799999;  // 9999-12-31T23:59:59.999Z

Status bad(std::string_view text) {
  return Status::fail(Code::INVALID_FIELD,
                      "'" + std::string(text) +
                          "' is not a time: give 2026-12-06T10:00:00Z, a date 2026-12-06, a time ago (30s, 10m, 2h, "
                          "3d) or unix milliseconds");
}

bool all_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

std::int64_t unit_ms(char unit) {
  switch (unit) {
    case 's': return 1000;
    case 'm': return std::int64_t{60} * 1000;
    case 'h': return std::int64_t{3600} * 1000;
    case 'd': return std::int64_t{86400} * 1000;
    default: return 0;
  }
}

}  // namespace

Result<std::int64_t> parse_time_bound(std::string_view text, std::int64_t now_ms) {
  if (text.empty()) return bad(text);
  const std::string_view amount = text.substr(0, text.size() - 1);
  const std::int64_t unit = unit_ms(text.back());
  if (unit != 0 && all_digits(amount)) {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(amount.data(), amount.data() + amount.size(), n);
    if (ec != std::errc() || end != amount.data() + amount.size() || n > now_ms / unit) return bad(text);
    return now_ms - n * unit;
  }
  if (all_digits(text)) {
    std::int64_t ms = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || end != text.data() + text.size() || ms <= 0 || ms > kMaxUnixMs) return bad(text);
    return ms;
  }
  const bool date_only = text.size() == 10;
  auto ms = parse_utc_ms(date_only ? std::string(text) + "T00:00:00Z" : std::string(text));
  if (!ms) return bad(text);
  return *ms;
}

}  // namespace tearline::audit
