#include "base/result.h"

namespace tearline {

std::string to_string(const Reason& reason) {
  std::string out(code_name(reason.code));
  out += ": ";
  out += reason.message;
  return out;
}

bool Status::has(Code code) const {
  for (const auto& r : reasons_) {
    if (r.code == code) return true;
  }
  return false;
}

std::string Status::to_string() const {
  if (reasons_.empty()) return "OK";
  std::string out;
  for (const auto& r : reasons_) {
    if (!out.empty()) out += "; ";
    out += tearline::to_string(r);
  }
  return out;
}

}  // namespace tearline
