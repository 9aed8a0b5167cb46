#include "base/codes.h"

namespace tearline {

std::string_view code_name(Code code) {
  switch (code) {
#define TEARLINE_CODE_NAME(name, number, text) \
  case Code::name: return #name;
    TEARLINE_CODES(TEARLINE_CODE_NAME)
#undef TEARLINE_CODE_NAME
  }
  return "UNKNOWN_CODE";
}

std::string_view code_meaning(Code code) {
  switch (code) {
#define TEARLINE_CODE_TEXT(name, number, text) \
  case Code::name: return text;
    TEARLINE_CODES(TEARLINE_CODE_TEXT)
#undef TEARLINE_CODE_TEXT
  }
  return "unknown code";
}

bool code_from_number(std::uint32_t number, Code* out) {
  switch (number) {
#define TEARLINE_CODE_NUM(name, value, text) \
  case value: *out = Code::name; return true;
    TEARLINE_CODES(TEARLINE_CODE_NUM)
#undef TEARLINE_CODE_NUM
    default: break;
  }
  return false;
}

}  // namespace tearline
