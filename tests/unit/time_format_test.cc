#include <catch2/catch.hpp>

#include "base/time_format.h"

using namespace tearline;

TEST_CASE("format_utc_seconds: ISO 8601 with Z") {
  CHECK(format_utc_seconds(0) == "1970-01-01T00:00:00Z");
  CHECK(format_utc_seconds(1700000000) == "2023-11-14T22:13:20Z");
  CHECK(format_utc_seconds(951782400) == "2000-02-29T00:00:00Z");
  CHECK(format_utc_seconds(-1) == "1969-12-31T23:59:59Z");
  CHECK(format_utc_seconds(253402300799) == "9999-12-31T23:59:59Z");
}

TEST_CASE("format_utc_ms: three millisecond digits, floored before 1970") {
  CHECK(format_utc_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_utc_ms(1700000000042) == "2023-11-14T22:13:20.042Z");
  CHECK(format_utc_ms(1700000000999) == "2023-11-14T22:13:20.999Z");
  CHECK(format_utc_ms(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("parse_utc_ms reads back what the formatters write") {
  struct Case {
    const char* text;
    std::int64_t ms;
  };
  const Case cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"2023-11-14T22:13:20Z", 1700000000000},
      {"2023-11-14T22:13:20.042Z", 1700000000042},
      {"2000-02-29T23:59:59.999Z", 951868799999},
      {"1969-12-31T23:59:59.999Z", -1},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const auto parsed = parse_utc_ms(c.text);
    REQUIRE(parsed.is_ok());
    CHECK(*parsed == c.ms);
  }
  for (std::int64_t ms : {std::int64_t{0}, std::int64_t{1700000000042}, std::int64_t{-86400001}}) {
    const auto parsed = parse_utc_ms(format_utc_ms(ms));
    REQUIRE(parsed.is_ok());
    CHECK(*parsed == ms);
  }
}

TEST_CASE("parse_utc_ms refuses every other shape, naming the text") {
  const char* bad[] = {
      "",
      "2023-11-14T22:13:20",        // no Z
      "2023-11-14 22:13:20Z",       // space for T
      "2023-11-14T22:13:20+00:00",  // offset form
      "2023-11-14T22:13:20.1Z",     // one fraction digit
      "2023-11-14T22:13:20,042Z",   // comma
      "2023-02-29T00:00:00Z",       // not a leap year
      "2023-13-01T00:00:00Z",       // month 13
      "2023-00-10T00:00:00Z",       // month 0
      "2023-11-14T24:00:00Z",       // hour 24
      "2023-11-14T22:60:00Z",       // minute 60
      "2023-11-14T22:13:60Z",       // leap second
      "2023-11-1xT22:13:20Z",       // letter in a number
      "+023-11-14T22:13:20Z",       // sign
      "2023-11-14t22:13:20z",       // lower case
  };
  for (const char* text : bad) {
    INFO(text);
    const auto parsed = parse_utc_ms(text);
    REQUIRE_FALSE(parsed.is_ok());
    CHECK(parsed.code() == Code::INVALID_FIELD);
    CHECK(parsed.status().reasons().front().message ==
          "time '" + std::string(text) + "' is not UTC ISO 8601 (YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DDTHH:MM:SS.fffZ)");
  }
}
