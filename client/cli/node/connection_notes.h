// The one-line notes a long-running node command (subscribe) prints on
// stderr for the session's connection events (client::ConnectionEvent).
#pragma once

#include <string>

#include "tearline/client.h"

namespace tearline::cli {

// "lost the broker: ...; reconnecting", "regained the broker; delivery
// resumes after seq N", "reloaded the directory (why): digest AAAAAAAA ->
// BBBBBBBB, now equal to the broker's" (or "still differs from ..."), or
// "could not reload the directory (why): ...; keeping the previous one".
std::string connection_note(const client::ConnectionEvent& event);

}  // namespace tearline::cli
