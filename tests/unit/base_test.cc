#include <catch2/catch.hpp>

#include "base/bytes.h"
#include "base/codes.h"
#include "base/result.h"

using namespace tearline;

TEST_CASE("hex round trip and rejection") {
  Bytes b;
  REQUIRE(from_hex("00ff10Ab", &b));
  CHECK(to_hex(b) == "00ff10ab");
  CHECK_FALSE(from_hex("abc", &b));
  CHECK_FALSE(from_hex("zz", &b));
}

TEST_CASE("hex: every byte value, empty input, and no separators or partial reads") {
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<std::uint8_t>(i));
  const std::string hex = to_hex(all);
  CHECK(hex.size() == 512);
  CHECK(hex.substr(0, 8) == "00010203");
  CHECK(hex.substr(504) == "fcfdfeff");
  Bytes back;
  REQUIRE(from_hex(hex, &back));
  CHECK(back == all);
  CHECK(to_hex(Bytes{}) == "");
  REQUIRE(from_hex("", &back));
  CHECK(back.empty());
  Bytes kept = {7};
  for (const char* bad : {"0g", " 00", "00 ", "00:11", "0x00", "0a\n0"}) {
    INFO(bad);
    CHECK_FALSE(from_hex(bad, &kept));
    CHECK(kept == Bytes{7});  // untouched on failure
  }
}

TEST_CASE("ByteWriter lays out little-endian lengths and tags") {
  ByteWriter w;
  w.tag("t");
  w.field(std::string_view("ab"));
  w.u32(0x01020304);
  CHECK(to_hex(w.bytes()) ==
        "7400"
        "0200000000000000"
        "6162"
        "04030201");
}

TEST_CASE("codes have stable numbers and names") {
  CHECK(static_cast<int>(Code::BAD_SIGNATURE) == 201);
  CHECK(code_name(Code::REVOCATION_ROLLBACK) == "REVOCATION_ROLLBACK");
  Code c{};
  REQUIRE(code_from_number(502, &c));
  CHECK(c == Code::REPLAYED_REPORT);
  CHECK_FALSE(code_from_number(9999, &c));
}

TEST_CASE("Status collects every reason") {
  Status s;
  CHECK(s.is_ok());
  s.add(Code::EXPIRED, "a");
  s.add(Code::REVOKED, "b");
  CHECK_FALSE(s.is_ok());
  CHECK(s.code() == Code::EXPIRED);
  CHECK(s.has(Code::REVOKED));
  CHECK(s.to_string() == "EXPIRED: a; REVOKED: b");
}
