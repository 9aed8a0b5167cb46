// The short words of denial codes (lib/policy/short_reason.h) that the demo's
// table shows: one table code -> word, then the de-duplication over a Status
// and the credential words.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "base/codes.h"
#include "base/result.h"
#include "policy/short_reason.h"

using namespace tearline;
using namespace tearline::policy;

TEST_CASE("short_reason: every denial code the demo shows has its word", "[policy][short_reason]") {
  struct Row {
    Code code;
    const char* word;
  };
  const std::vector<Row> rows = {
      {Code::CLEARANCE_BELOW, "CLEARANCE"},
      {Code::COUNTRY_NOT_RELEASABLE, "COUNTRY"},
      {Code::NOT_UNIT_MEMBER, "UNIT"},
      {Code::TOPIC_READ_DENIED, "TOPIC"},
      {Code::TOPIC_INVALID, "TOPIC"},
      {Code::LABEL_INVALID, "LABEL"},
      {Code::REVOKED, "REVOKED"},
      {Code::EXPIRED, "EXPIRED"},
      {Code::NOT_YET_VALID, "NOT_YET_VALID"},
      {Code::UNKNOWN_NODE, "UNKNOWN_NODE"},
      {Code::NOT_ADDRESSED, "NOT_ADDRESSED"},
      {Code::ORCON_VIOLATION, "ORCON_VIOLATION"},
  };
  for (const auto& row : rows) {
    DYNAMIC_SECTION(code_name(row.code)) { CHECK(short_reason(row.code) == row.word); }
  }
}

TEST_CASE("short_reasons: one word per reason, in order, each once", "[policy][short_reason]") {
  CHECK(short_reasons(Status::ok()).empty());
  Status s;
  s.add(Code::COUNTRY_NOT_RELEASABLE, "country");
  s.add(Code::NOT_UNIT_MEMBER, "label unit");
  s.add(Code::TOPIC_READ_DENIED, "topic");
  s.add(Code::NOT_UNIT_MEMBER, "unit topic");
  CHECK(short_reasons(s) == std::vector<std::string>{"COUNTRY", "UNIT", "TOPIC"});
  Status revoked;
  revoked.add(Code::REVOKED, "revoked");
  CHECK(short_reasons(revoked) == std::vector<std::string>{"REVOKED"});
}

TEST_CASE("is_credential_word: the credential's words only", "[policy][short_reason]") {
  for (const char* w : {"REVOKED", "EXPIRED", "NOT_YET_VALID", "UNKNOWN_NODE"}) CHECK(is_credential_word(w));
  for (const char* w : {"CLEARANCE", "COUNTRY", "UNIT", "TOPIC", "LABEL", "NOT_ADDRESSED", "", "revoked"}) {
    CHECK_FALSE(is_credential_word(w));
  }
}
