// The times `tearline audit show --since/--until` accept, read into unix
// milliseconds. Pure; any thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace tearline::audit {

// Reads one of:
//   2026-12-06T10:00:00Z, 2026-12-06T10:00:00.250Z   a UTC time (base/time_format.h)
//   2026-12-06                                         that day at 00:00:00Z
//   30s, 10m, 2h, 3d                                   that long before now_ms
//   1780272000000                                      unix milliseconds
// INVALID_FIELD, quoting the text and naming the forms, for anything else
// (a negative or overflowing amount, a date that does not exist).
Result<std::int64_t> parse_time_bound(std::string_view text, std::int64_t now_ms);

}  // namespace tearline::audit
