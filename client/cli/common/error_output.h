// How the `tearline` front end prints the one line of a failure on stderr:
// "tearline: MESSAGE", or under --json one JSON object
//   {"code":"UNAVAILABLE","exit":3,"message":"..."}
// (tearline.v1.CliError, printed by protobuf's JSON printer)
// whose code is the stable code name behind the failure (include/tearline/
// codes.h), or, for a failure without one, the name of its exit code:
// "USAGE" (2), "REFUSED" (1), "UNAVAILABLE" (3).
#pragma once

#include <string>
#include <string_view>

#include "cli/common/exit_codes.h"

namespace tearline::cli {

// The code printed for a failure with `reason` that ends with `exit_code`.
std::string error_code_name(Code reason, int exit_code);

// The line to print (without the newline): "tearline: MESSAGE" or the JSON
// object. Message text that is not UTF-8 is shown with escapes (print.h
// printable()), so the object is always valid JSON.
std::string error_line(bool json, Code reason, int exit_code, std::string_view message);

}  // namespace tearline::cli
