#include "cli/common/error_output.h"

#include <cstdio>

#include "cli/common/print.h"

namespace tearline::cli {

std::string error_code_name(Code reason, int exit_code) {
  if (reason != Code::OK) return std::string(code_name(reason));
  switch (exit_code) {
    case kExitUsage: return "USAGE";
    case kExitUnavailable: return "UNAVAILABLE";
    default: return "REFUSED";
  }
}

std::string json_string(std::string_view text) {
  const std::string utf8 = is_utf8(text) ? std::string(text) : printable(text);
  std::string out = "\"";
  for (const char c : utf8) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string error_line(bool json, Code reason, int exit_code, std::string_view message) {
  if (!json) return "tearline: " + std::string(message);
  return "{\"code\": " + json_string(error_code_name(reason, exit_code)) + ", \"exit\": " + std::to_string(exit_code) +
         ", \"message\": " + json_string(message) + "}";
}

}  // namespace tearline::cli
