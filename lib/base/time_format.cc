#include "base/time_format.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <ctime>

namespace tearline {
namespace {

// The decimal number in text[pos, pos + width), all digits; -1 otherwise.
int digits_at(std::string_view text, std::size_t pos, std::size_t width) {
  int value = 0;
  const char* first = text.data() + pos;
  const auto [end, ec] = std::from_chars(first, first + width, value);
  if (ec != std::errc() || end != first + width || *first == '+' || *first == '-') return -1;
  return value;
}

}  // namespace

std::string format_utc_seconds(std::int64_t unix_seconds) {
  try {
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(unix_seconds)));
  } catch (const fmt::format_error&) {  // gmtime_r failed: the year does not fit its int
    return std::to_string(unix_seconds);
  }
}

std::string format_utc_ms(std::int64_t unix_ms) {
  const auto ms = std::chrono::milliseconds(unix_ms);
  const auto seconds = std::chrono::floor<std::chrono::seconds>(ms);
  const auto fraction = (ms - seconds).count();
  try {
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", fmt::gmtime(static_cast<std::time_t>(seconds.count())), fraction);
  } catch (const fmt::format_error&) {
    return std::to_string(unix_ms);
  }
}

Result<std::int64_t> parse_utc_ms(std::string_view text) {
  const auto invalid = [&] {
    return Result<std::int64_t>::fail(Code::INVALID_FIELD,
                                      "time '" + std::string(text.substr(0, 40)) +
                                          "' is not UTC ISO 8601 (YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DDTHH:MM:SS.fffZ)");
  };
  // 0123456789012345678901234
  // YYYY-MM-DDTHH:MM:SS.fffZ
  if (text.size() != 20 && text.size() != 24) return invalid();
  if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' || text.back() != 'Z') {
    return invalid();
  }
  const int year = digits_at(text, 0, 4), month = digits_at(text, 5, 2), day = digits_at(text, 8, 2);
  const int hour = digits_at(text, 11, 2), minute = digits_at(text, 14, 2), second = digits_at(text, 17, 2);
  int millis = 0;
  if (text.size() == 24) {
    if (text[19] != '.') return invalid();
    millis = digits_at(text, 20, 3);
  }
  if (year < 0 || month < 0 || day < 0 || millis < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 59) {
    return invalid();
  }
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return invalid();
  const auto at = std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
                  std::chrono::seconds(second) + std::chrono::milliseconds(millis);
  return static_cast<std::int64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
}

}  // namespace tearline
