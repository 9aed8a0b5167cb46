#include <catch2/catch.hpp>

#include "base/toml_reader.h"

using namespace tearline;

namespace {

std::vector<std::string> messages(const Status& s) {
  std::vector<std::string> out;
  for (const Reason& r : s.reasons()) out.push_back(r.message);
  return out;
}

}  // namespace

TEST_CASE("TomlReader: a syntax error is the one problem, with line and column") {
  TomlReader prefix("a = 1\nb = [1,", "x.toml");
  CHECK_FALSE(prefix.parsed());
  const Status s = prefix.status();
  REQUIRE(s.reasons().size() == 1);
  CHECK(s.code() == Code::INVALID_FIELD);
  CHECK_THAT(s.reasons()[0].message, Catch::StartsWith("x.toml line 2: not valid TOML: "));
  CHECK_THAT(s.reasons()[0].message, Catch::Matches(".* \\(column [0-9]+\\)"));
  CHECK(prefix.root().empty());

  TomlReader suffix("a = \"open\n", "x.toml", TomlReader::LineStyle::kSuffix);
  CHECK_FALSE(suffix.parsed());
  REQUIRE(suffix.status().reasons().size() == 1);
  CHECK_THAT(suffix.status().reasons()[0].message, Catch::StartsWith("x.toml: "));
  CHECK_THAT(suffix.status().reasons()[0].message, Catch::EndsWith(" (line 1)"));
}

TEST_CASE("TomlReader: typed values, every problem collected in line order") {
  const char* text =
      "[t]\n"                     // 1
      "name = \"ok\"\n"           // 2
      "port = 70000\n"            // 3
      "flag = \"yes\"\n"          // 4
      "list = [\"a\", 2]\n"       // 5
      "count = 12\n"              // 6
      "colour = \"red\"\n"        // 7
      "words = [\"x\", \"y\"]\n"  // 8
      "on = true\n"               // 9
      "title = 5\n";              // 10
  TomlReader r(text, "c.toml");
  REQUIRE(r.parsed());
  const toml::table& t = *r.root()["t"].as_table();
  CHECK_FALSE(
      r.refuse_unknown_keys(t, {"name", "port", "flag", "list", "count", "words", "on", "title"}, "unknown key t."));
  CHECK(r.string(t, "name") == "ok");
  CHECK(r.string(t, "missing") == std::nullopt);
  CHECK(r.integer(t, "count", 1, 12) == 12);
  CHECK(r.integer(t, "port", 1, 65535) == std::nullopt);
  CHECK(r.boolean(t, "on") == true);
  CHECK(r.boolean(t, "flag") == std::nullopt);
  CHECK(r.strings(t, "words") == std::vector<std::string>{"x", "y"});
  CHECK(r.strings(t, "list") == std::nullopt);
  CHECK(r.string(t, "title", "the title") == std::nullopt);
  r.add_unplaced("t.needed is required");
  r.add_at_line(2, "name is fine, but", Code::TOPIC_INVALID);
  CHECK_FALSE(r.ok());
  CHECK(r.problem_count() == 7);
  CHECK(messages(r.status()) == std::vector<std::string>{
                                    "c.toml line 2: name is fine, but",
                                    "c.toml line 3: port must be an integer in 1..65535",
                                    "c.toml line 4: flag must be true or false",
                                    "c.toml line 5: list must be a list of strings",
                                    "c.toml line 7: unknown key t.colour",
                                    "c.toml line 10: the title must be a string",
                                    "c.toml: t.needed is required",
                                });
  CHECK(r.status().reasons()[0].code == Code::TOPIC_INVALID);
  for (std::size_t i = 1; i < r.problem_count(); ++i) CHECK(r.status().reasons()[i].code == Code::INVALID_FIELD);
  // As found: the order of the calls above.
  CHECK(messages(r.status(TomlReader::Order::kAsFound)).front() == "c.toml line 7: unknown key t.colour");
}

TEST_CASE("TomlReader: suffix style, own codes, arrays of tables") {
  TomlReader r("x = 1\nlone = 3\n[[item]]\na = 1\n[[item]]\nb = 2\n", "s.toml", TomlReader::LineStyle::kSuffix);
  REQUIRE(r.parsed());
  CHECK(r.refuse_unknown_keys(r.root(), {"x", "item", "lone"}));
  const toml::array* items = r.tables(r.root(), "item");
  REQUIRE(items != nullptr);
  CHECK(items->size() == 2);
  CHECK(r.ok());
  CHECK(r.status().is_ok());
  CHECK(r.tables(r.root(), "x", "'x'") == nullptr);
  CHECK(r.integer(r.root(), "x", 2, 3) == std::nullopt);
  r.add(*r.root().get("lone"), "lone is not allowed here", Code::TOPIC_INVALID);
  const Status s = r.status();
  CHECK(messages(s) == std::vector<std::string>{
                           "s.toml: 'x' must be an array of tables, written [[x]] (line 1)",
                           "s.toml: x must be an integer in 2..3 (line 1)",
                           "s.toml: lone is not allowed here (line 2)",
                       });
  CHECK(s.reasons()[2].code == Code::TOPIC_INVALID);
}
