// Loopback ports for programs that start servers of their own (tests, the
// flood test, the benchmark).
#pragma once

#include "base/result.h"

namespace tearline {

// A TCP port of 127.0.0.1 that nobody listened on a moment ago, below the
// kernel's range of ephemeral ports when there is room (else the kernel's
// choice): a client that connects to a server being restarted must not be
// given that port as its own source and connect to itself. IO_ERROR when
// none can be found. Another process may take it before the caller binds
// it: callers that cannot retry should bind port 0.
Result<int> free_loopback_port();

}  // namespace tearline
