#include "cli/common/exit_codes.h"

namespace tearline::cli {

int exit_code_for(Code code) {
  switch (code) {
    case Code::OK: return kExitOk;
    case Code::INVALID_FIELD:
    case Code::IO_ERROR:
    case Code::KEY_FILE:
    case Code::BAD_ENCODING:
    case Code::UNKNOWN_NODE:
    case Code::UNKNOWN_AUTHORITY:
    case Code::DUPLICATE_OBJECT:
    case Code::EMPTY_TRUST_STORE: return kExitUsage;
    case Code::UNAVAILABLE: return kExitUnavailable;
    default: return kExitFailure;
  }
}

int exit_code_for(const Status& status) { return exit_code_for(status.code()); }

}  // namespace tearline::cli
