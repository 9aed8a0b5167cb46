#include "cli/common/error_output.h"

#include "cli/common/print.h"
#include "tearline/v1/cli.pb.h"

namespace tearline::cli {

std::string error_code_name(Code reason, int exit_code) {
  if (reason != Code::OK) return std::string(code_name(reason));
  switch (exit_code) {
    case kExitUsage: return "USAGE";
    case kExitUnavailable: return "UNAVAILABLE";
    default: return "REFUSED";
  }
}

std::string error_line(bool json, Code reason, int exit_code, std::string_view message) {
  if (!json) return "tearline: " + std::string(message);
  tearline::v1::CliError error;
  error.set_code(error_code_name(reason, exit_code));
  error.set_exit(exit_code);
  // A proto string must be UTF-8: other bytes are shown as escapes.
  error.set_message(is_utf8(message) ? std::string(message) : printable(message));
  return to_json(error);
}

}  // namespace tearline::cli
