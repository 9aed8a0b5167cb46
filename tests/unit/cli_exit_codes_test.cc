// The one mapping of codes to exit codes (client/cli/exit_codes.h): a table
// of code -> exit code, and over every registered code, exactly the listed
// bad-input codes give 2 and only UNAVAILABLE gives 3.
#include <catch2/catch.hpp>

#include <vector>

#include "base/codes.h"
#include "base/result.h"
#include "cli/common/exit_codes.h"

using namespace tearline;
using namespace tearline::cli;

TEST_CASE("exit_code_for: bad input 2, unavailable 3, refused 1, ok 0", "[cli][exit]") {
  struct Row {
    Code code;
    int exit;
  };
  const std::vector<Row> rows = {
      {Code::OK, 0},
      {Code::INVALID_FIELD, 2},
      {Code::IO_ERROR, 2},
      {Code::KEY_FILE, 2},
      {Code::BAD_ENCODING, 2},
      {Code::UNKNOWN_NODE, 2},
      {Code::UNKNOWN_AUTHORITY, 2},
      {Code::DUPLICATE_OBJECT, 2},
      {Code::EMPTY_TRUST_STORE, 2},
      {Code::UNAVAILABLE, 3},
      {Code::REPORT_SIGNATURE, 1},
      {Code::REVOKED, 1},
      {Code::SESSION_REVOKED, 1},
      {Code::TOPIC_READ_DENIED, 1},
      {Code::MISSING_CONSENT, 1},
      {Code::WRONG_AUTHORITY, 1},
      {Code::ORCON_VIOLATION, 1},
  };
  for (const auto& row : rows) {
    DYNAMIC_SECTION(code_name(row.code)) {
      CHECK(exit_code_for(row.code) == row.exit);
      if (row.code != Code::OK) CHECK(exit_code_for(Status::fail(row.code, "x")) == row.exit);
    }
  }
}

TEST_CASE("exit_code_for: a status maps by its first reason", "[cli][exit]") {
  Status s = Status::fail(Code::UNAVAILABLE, "no answer");
  s.add(Code::IO_ERROR, "and a file");
  CHECK(exit_code_for(s) == kExitUnavailable);
  CHECK(exit_code_for(Status::ok()) == kExitOk);
}

TEST_CASE("exit_code_for: of every registered code, eight are bad input and one is unavailable", "[cli][exit]") {
  int usage = 0, unavailable = 0, ok = 0;
  const auto count = [&](Code code) {
    const int e = exit_code_for(code);
    usage += e == kExitUsage;
    unavailable += e == kExitUnavailable;
    ok += e == kExitOk;
    CHECK((e >= kExitOk && e <= kExitUnavailable));
  };
#define TEARLINE_TEST_COUNT(name, number, text) count(Code::name);
  TEARLINE_CODES(TEARLINE_TEST_COUNT)
#undef TEARLINE_TEST_COUNT
  CHECK(usage == 8);
  CHECK(unavailable == 1);
  CHECK(ok == 1);
}
