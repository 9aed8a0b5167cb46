#include "policy/short_reason.h"

#include <algorithm>

namespace tearline::policy {

std::string_view short_reason(Code code) {
  switch (code) {
    case Code::CLEARANCE_BELOW: return "CLEARANCE";
    case Code::COUNTRY_NOT_RELEASABLE: return "COUNTRY";
    case Code::NOT_UNIT_MEMBER: return "UNIT";
    case Code::TOPIC_READ_DENIED:
    case Code::TOPIC_INVALID: return "TOPIC";
    case Code::LABEL_INVALID: return "LABEL";
    default: return code_name(code);  // REVOKED, EXPIRED, NOT_YET_VALID, UNKNOWN_NODE, NOT_ADDRESSED, ...
  }
}

bool is_credential_word(std::string_view word) {
  for (Code code : {Code::REVOKED, Code::EXPIRED, Code::NOT_YET_VALID, Code::UNKNOWN_NODE}) {
    if (word == short_reason(code)) return true;
  }
  return false;
}

std::vector<std::string> short_reasons(const Status& denials) {
  std::vector<std::string> out;
  for (const Reason& r : denials.reasons()) {
    std::string word(short_reason(r.code));
    if (std::find(out.begin(), out.end(), word) == out.end()) out.push_back(std::move(word));
  }
  return out;
}

}  // namespace tearline::policy
