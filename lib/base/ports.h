// Loopback ports for programs that start servers of their own (tests, the
// flood test, the benchmark).
#pragma once

#include "base/result.h"

namespace tearline {

// A TCP port of 127.0.0.1 that nobody listened on a moment ago (the kernel's
// choice); IO_ERROR when none can be found. Another process may take it
// before the caller binds it: callers that cannot retry should bind port 0.
Result<int> free_loopback_port();

}  // namespace tearline
