// The one text-table printer (lib/base/text_table.h): widths from fit() and
// min_width, alignment, the gap and indent, trailing spaces, cells wider than
// their column (as printf), tall rows, and the rule.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "base/text_table.h"

using namespace tearline;

TEST_CASE("text table: columns as wide as their widest cell, left-aligned, trailing spaces dropped", "[table]") {
  TextTable t(std::vector<TableColumn>(3));
  const std::vector<std::vector<std::string>> rows = {
      {"case", "expected", "got"}, {"valid report", "accepted", "accepted"}, {"forged", "REPORT_SIGNATURE", "x"}};
  for (const auto& r : rows) t.fit(r);
  CHECK(t.width(0) == 12);
  CHECK(t.width(1) == 16);
  CHECK(t.width(2) == 8);
  std::string text;
  for (const auto& r : rows) text += t.row(r);
  CHECK(text ==
        "case          expected          got\n"
        "valid report  accepted          accepted\n"
        "forged        REPORT_SIGNATURE  x\n");
  CHECK(t.rule() == "------------  ----------------  --------\n");
  CHECK(t.rule('=') == "============  ================  ========\n");
}

TEST_CASE("text table: fixed widths print exactly as printf does, overflow included", "[table]") {
  TextTable t({{Align::kLeft, 8}, {Align::kRight, 6}, {Align::kRight, 4}}, " ", "  ");
  const struct {
    std::string a, b, c;
  } rows[] = {{"run", "rate", "bg"}, {"max", "3395", "0.45"}, {"a-long-label", "12", "1.00"}, {"x", "1234567", "0"}};
  for (const auto& r : rows) {
    char expected[128];
    std::snprintf(expected, sizeof expected, "  %-8s %6s %4s\n", r.a.c_str(), r.b.c_str(), r.c.c_str());
    CHECK(t.row({r.a, r.b, r.c}) == expected);
  }
}

TEST_CASE("text table: a tall row, missing cells blank, extra cells ignored", "[table]") {
  TextTable t(std::vector<TableColumn>{{Align::kLeft, 7}, {}, {}});
  const std::vector<TextTable::Cell> row = {
      {"1.1 seizure", "    SECRET"}, {"withheld: COUNTRY", "          UNIT"}, {"delivered"}, {"ignored"}};
  t.fit_tall(row);
  CHECK(t.width(0) == 11);
  CHECK(t.width(1) == 17);
  CHECK(t.width(2) == 9);
  CHECK(t.tall_row(row) ==
        "1.1 seizure  withheld: COUNTRY  delivered\n"
        "    SECRET             UNIT\n");
  CHECK(t.row({"only"}) == "only\n");
  CHECK(t.tall_row({}) == "\n");
}
