// UTC timestamps as text: ISO 8601 with a 'Z', the one format the CLI prints
// and reads ("2023-11-14T22:13:20Z", or with ".123" milliseconds). Formatting
// goes through fmt's chrono support; pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace tearline {

// "2023-11-14T22:13:20Z" for unix seconds. A time the C library cannot break
// down (beyond its year range) comes back as its decimal digits.
std::string format_utc_seconds(std::int64_t unix_seconds);

// "2023-11-14T22:13:20.042Z" for unix milliseconds (milliseconds always three
// digits; before 1970 they count forward from the earlier second).
std::string format_utc_ms(std::int64_t unix_ms);

// Reads "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DDTHH:MM:SS.fffZ" (exactly three
// fraction digits) back to unix milliseconds: the inverse of the two above for
// years 0000-9999. INVALID_FIELD, quoting the text, for anything else: another
// shape, a date that does not exist, a time outside 00:00:00-23:59:59 (no leap
// second).
Result<std::int64_t> parse_utc_ms(std::string_view text);

}  // namespace tearline
