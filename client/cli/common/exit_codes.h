// The exit codes of every `tearline` command, and the one mapping from a
// failed Status to them (docs: `tearline --help` of each command).
//
//   0  ok
//   1  refused: the operation ran and failed (a policy denial, a report that
//      does not verify, a mismatch, any code not listed below)
//   2  bad input: arguments or local files (INVALID_FIELD, IO_ERROR,
//      KEY_FILE, BAD_ENCODING, UNKNOWN_NODE, UNKNOWN_AUTHORITY,
//      DUPLICATE_OBJECT, EMPTY_TRUST_STORE)
//   3  unavailable: the broker did not answer in time (UNAVAILABLE)
#pragma once

#include "base/codes.h"
#include "base/result.h"

namespace tearline::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;      // the operation ran and failed (e.g. a mismatch)
inline constexpr int kExitUsage = 2;        // bad arguments or input files
inline constexpr int kExitUnavailable = 3;  // broker unreachable, timeout

// The exit code for a failure with `code`, as in the table above; kExitOk for Code::OK.
int exit_code_for(Code code);
// By the status's first reason: exit_code_for(status.code()).
int exit_code_for(const Status& status);

}  // namespace tearline::cli
