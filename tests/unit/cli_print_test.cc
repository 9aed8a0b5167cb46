// Output helpers of the node commands (client/cli/print.h): UTF-8 checks,
// terminal-safe text, and the JSON shapes of proto/tearline/v1/cli.proto.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "base/codes.h"
#include "cli/common/print.h"
#include "tearline/v1/cli.pb.h"

using namespace tearline;
using namespace tearline::cli;

TEST_CASE("is_utf8 accepts well-formed UTF-8 and nothing else") {
  struct Case {
    std::string bytes;
    bool valid;
  };
  const std::vector<Case> cases{
      {"", true},
      {"plain ASCII\n\t", true},
      {"Cúcuta, Bogotá", true},
      {"\xe2\x82\xac", true},      // U+20AC
      {"\xf0\x9f\x98\x80", true},  // U+1F600
      {"\xf4\x8f\xbf\xbf", true},  // U+10FFFF
      {"\xed\x9f\xbf", true},      // U+D7FF, just below the surrogates
      {"\xff", false},
      {"\x80", false},              // lone continuation byte
      {"\xc3", false},              // truncated
      {"\xe2\x82", false},          // truncated
      {"\xc0\xaf", false},          // overlong '/'
      {"\xc1\xbf", false},          // overlong
      {"\xe0\x80\xaf", false},      // overlong
      {"\xf0\x80\x80\xaf", false},  // overlong
      {"\xed\xa0\x80", false},      // U+D800, a surrogate
      {"\xf4\x90\x80\x80", false},  // above U+10FFFF
      {"\xf5\x80\x80\x80", false},
      {"\xc3\x28", false},             // bad continuation
      {std::string("a\0b", 3), true},  // NUL is valid UTF-8
  };
  for (const auto& c : cases) {
    INFO(to_hex(as_bytes(c.bytes)));
    CHECK(is_utf8(c.bytes) == c.valid);
  }
}

TEST_CASE("printable keeps text and newlines, escapes what could drive a terminal") {
  CHECK(printable("Seizure: 2.1 t\n\tPuerto Santander") == "Seizure: 2.1 t\n\tPuerto Santander");
  CHECK(printable("Cúcuta") == "Cúcuta");
  CHECK(printable("\x1b[31mred") == "\\x1b[31mred");
  CHECK(printable("over\rwrite") == "over\\x0dwrite");
  CHECK(printable("del\x7f") == "del\\x7f");
  CHECK(printable("c1 \xc2\x9b"
                  "31m") == "c1 \\xc2\\x9b31m");                         // U+009B, CSI on some terminals
  CHECK(printable("\xc2\xa0") == "\xc2\xa0");                            // U+00A0 is not a control
  CHECK(printable("bin\xff\xfe\xc3\xa9") == "bin\\xff\\xfe\\xc3\\xa9");  // not UTF-8: every high byte escaped
}

TEST_CASE("one_line, join and print_reasons") {
  CHECK(one_line("a\nb\r\nc") == "a b  c");
  CHECK(join({}) == "");
  CHECK(join({}, ", ", "no one") == "no one");
  CHECK(join({"a", "b"}) == "a, b");
  CHECK(join({"a", "b"}, ";") == "a;b");
  Status s = Status::fail(Code::CLEARANCE_BELOW, "cleared CONFIDENTIAL");
  s.add(Code::TOPIC_WRITE_DENIED, "no grant\nallows it");
  std::ostringstream out;
  print_reasons(out, s, "    ");
  CHECK(out.str() == "    CLEARANCE_BELOW: cleared CONFIDENTIAL\n    TOPIC_WRITE_DENIED: no grant allows it\n");
  CHECK(utc(0) == "1970-01-01T00:00:00Z");
  CHECK(utc(1700000000) == "2023-11-14T22:13:20Z");
}

TEST_CASE("JSON: proto field names, every scalar printed, labels as objects or null") {
  policy::Label label{tearline::v1::CONFIDENTIAL, {"COL", "USA"}, {"cucuta-jtf"}, false};
  CHECK(to_json(label_message(label)) ==
        R"({"classification":"CONFIDENTIAL","releasable_to":["COL","USA"],"units":["cucuta-jtf"],"orcon":false})");

  tearline::v1::CliReceivedSection withheld;
  withheld.set_index(1);
  withheld.set_status("withheld");
  *withheld.mutable_label() = label_value(std::nullopt);
  const std::string w = to_json(withheld);
  CHECK_THAT(w, Catch::Contains(R"("label":null)"));
  CHECK_THAT(w, Catch::Contains(R"("text":"")"));
  CHECK_THAT(w, !Catch::Contains("content"));  // optional: absent unless set

  tearline::v1::CliReceivedSection opened;
  opened.set_index(2);
  opened.set_status("opened");
  *opened.mutable_label() = label_value(label);
  opened.set_text("line \"1\"\nline 2\x01");
  const std::string o = to_json(opened);
  CHECK_THAT(o, Catch::Contains(R"("classification":"CONFIDENTIAL")"));
  CHECK_THAT(o, Catch::Contains(R"("units":["cucuta-jtf"])"));
  CHECK_THAT(o, Catch::Contains(R"("text":"line \"1\"\nline 2\u0001")"));

  tearline::v1::CliReceivedReport report;
  report.set_broker_seq(7);
  const std::string r = to_json(report);
  CHECK_THAT(r, Catch::Contains(R"("broker_seq":"7")"));  // proto3 JSON: 64-bit integers are strings
  CHECK_THAT(r, Catch::Contains(R"("created_at_ms":"0")"));
  CHECK_THAT(r, Catch::Contains(R"("sections":[])"));
}
