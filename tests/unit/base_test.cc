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

TEST_CASE("ByteWriter lays out little-endian lengths and tags") {
  ByteWriter w;
  w.tag("t");
  w.field(std::string_view("ab"));
  w.u32(0x01020304);
  CHECK(to_hex(w.bytes()) == "7400" "0200000000000000" "6162" "04030201");
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
