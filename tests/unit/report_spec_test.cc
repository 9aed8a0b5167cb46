// The CLI's report descriptions: labels from flags and multi-section TOML
// specs (client/cli/report_spec.h). Bad specs are one table: text -> every
// expected code and a phrase of each reason.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "base/codes.h"
#include "cli/node/report_spec.h"
#include "support/temp_dir.h"

using namespace tearline;
using tearline::cli::label_from_flags;
using tearline::cli::load_report_spec;
using tearline::cli::parse_report_spec;

namespace {

std::vector<std::string> codes(const Status& s) {
  std::vector<std::string> out;
  for (const auto& r : s.reasons()) out.emplace_back(code_name(r.code));
  return out;
}

constexpr const char* kId = "00112233445566778899aabbccddeeff";

}  // namespace

TEST_CASE("label_from_flags normalizes lists and accepts comma lists") {
  auto label = label_from_flags("CONFIDENTIAL", {"USA,COL", "COL"}, {"zeta-unit,cucuta-jtf"}, true);
  REQUIRE(label);
  CHECK(label->classification == tearline::v1::CONFIDENTIAL);
  CHECK(label->releasable_to == std::vector<std::string>{"COL", "USA"});
  CHECK(label->units == std::vector<std::string>{"cucuta-jtf", "zeta-unit"});
  CHECK(label->orcon);

  auto empty_items = label_from_flags("SECRET", {"COL,,USA,"}, {}, false);
  REQUIRE(empty_items);
  CHECK(empty_items->releasable_to == std::vector<std::string>{"COL", "USA"});

  auto originator_only = label_from_flags("UNCLASSIFIED", {}, {}, false);
  REQUIRE(originator_only);
  CHECK(originator_only->releasable_to.empty());
  CHECK(originator_only->units.empty());
}

TEST_CASE("label_from_flags refuses bad labels with LABEL_INVALID") {
  struct Case {
    std::string classification;
    std::vector<std::string> rel, units;
    std::string phrase;
  };
  const std::vector<Case> cases{
      {"SEKRET", {}, {}, "classification 'SEKRET'"},
      {"secret", {}, {}, "classification 'secret'"},
      {"", {}, {}, "classification ''"},
      {"CLASSIFICATION_UNSET", {}, {}, "CLASSIFICATION_UNSET"},
      {"SECRET", {"col"}, {}, "'col'"},
      {"SECRET", {"COL,usa"}, {}, "'usa'"},
      {"SECRET", {"XXX"}, {}, "'XXX'"},
      {"SECRET", {"CO"}, {}, "'CO'"},
      {"SECRET", {}, {"bad unit"}, "unit 'bad unit'"},
  };
  for (const auto& c : cases) {
    INFO(c.classification << " rel " << c.rel.size() << " units " << c.units.size());
    auto label = label_from_flags(c.classification, c.rel, c.units, false);
    REQUIRE_FALSE(label);
    CHECK(label.code() == Code::LABEL_INVALID);
    CHECK_THAT(label.status().to_string(), Catch::Contains(c.phrase));
  }
}

TEST_CASE("a good spec gives every section, its label and content, and the sources") {
  tearline::testing::TempDir dir;
  std::ofstream(dir.path() / "body.txt") << "from a file\n";
  const std::string spec = std::string(R"(
topic = "unit.cucuta-jtf.seizures"
sources = [{ report_id = ")") +
                           kId + R"(", sections = [2, 1] }, { report_id = ")" + kId + R"(" }]

[[section]]
classification = "SECRET"
releasable_to = ["COL"]
units = ["cucuta-jtf"]
text = "informant"

[[section]]
classification = "CONFIDENTIAL"
releasable_to = ["USA", "COL"]
units = ["cucuta-jtf"]
orcon = true
file = "body.txt"
)";
  auto draft = parse_report_spec(spec, dir.path(), "spec.toml");
  REQUIRE(draft);
  CHECK(draft->topic == "unit.cucuta-jtf.seizures");
  REQUIRE(draft->sections.size() == 2);
  CHECK(draft->sections[0].label.classification == tearline::v1::SECRET);
  CHECK(draft->sections[0].label.releasable_to == std::vector<std::string>{"COL"});
  CHECK(draft->sections[0].label.units == std::vector<std::string>{"cucuta-jtf"});
  CHECK_FALSE(draft->sections[0].label.orcon);
  CHECK(draft->sections[0].content == to_bytes("informant"));
  CHECK(draft->sections[1].label.releasable_to == std::vector<std::string>{"COL", "USA"});
  CHECK(draft->sections[1].label.orcon);
  CHECK(draft->sections[1].content == to_bytes("from a file\n"));
  REQUIRE(draft->sources.size() == 2);
  CHECK(to_hex(draft->sources[0].report_id) == kId);
  CHECK(draft->sources[0].sections == std::vector<std::uint32_t>{1, 0});  // 0-based
  CHECK(draft->sources[1].sections.empty());                              // all sections
}

TEST_CASE("load_report_spec reads files relative to the spec's folder") {
  tearline::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "specs" / "bodies");
  std::ofstream(dir.path() / "specs" / "bodies" / "b.txt") << "body";
  std::ofstream(dir.path() / "specs" / "r.toml")
      << "topic = \"intel.labs\"\n[[section]]\nclassification = \"UNCLASSIFIED\"\nfile = \"bodies/b.txt\"\n";
  auto draft = load_report_spec(dir.path() / "specs" / "r.toml");
  REQUIRE(draft);
  CHECK(draft->sections.at(0).content == to_bytes("body"));

  auto missing = load_report_spec(dir.path() / "nope.toml");
  REQUIRE_FALSE(missing);
  CHECK(missing.code() == Code::IO_ERROR);
}

TEST_CASE("bad specs: every problem, each with its code") {
  struct Case {
    std::string name, toml;
    std::vector<std::string> codes;    // every reason's code, in order
    std::vector<std::string> phrases;  // each found in the reasons
  };
  const std::string section = "[[section]]\nclassification = \"SECRET\"\ntext = \"t\"\n";
  const std::string source = "topic = \"intel.x\"\nsources = [{ report_id = \"" + std::string(kId) + "\", ";
  const std::vector<Case> cases{
      {"TOML syntax",
       "topic = \"intel.x\"\n[[section]\nclassification = \"SECRET\"\n",
       {"INVALID_FIELD"},
       {"s.toml: ", "(line 2)"}},
      {"unknown top-level key",
       "topic = \"intel.x\"\ncolour = 1\n" + section,
       {"INVALID_FIELD"},
       {"unknown key 'colour' (line 2)"}},
      {"unknown section key",
       "topic = \"intel.x\"\n" + section + "secret = true\n",
       {"INVALID_FIELD"},
       {"section 1", "unknown key 'secret'"}},
      {"missing topic", section, {"INVALID_FIELD"}, {"topic is required"}},
      {"topic not a string", "topic = 7\n" + section, {"INVALID_FIELD"}, {"topic must be a string"}},
      {"no section", "topic = \"intel.x\"\n", {"INVALID_FIELD"}, {"at least one [[section]]"}},
      {"both text and file",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\ntext = \"t\"\nfile = \"f\"\n",
       {"INVALID_FIELD"},
       {"give exactly one of text or file"}},
      {"neither text nor file",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\n",
       {"INVALID_FIELD"},
       {"give exactly one of text or file"}},
      {"bad classification",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SEKRET\"\ntext = \"t\"\n",
       {"LABEL_INVALID"},
       {"section 1 (line 2): classification 'SEKRET'"}},
      {"lowercase country",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\nreleasable_to = [\"col\"]\ntext = \"t\"\n",
       {"LABEL_INVALID"},
       {"releasable-to 'col'"}},
      // A wrong type is an error, never dropped: a lost `units` would widen the audience.
      {"units not a list",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\nunits = \"cucuta-jtf\"\ntext = \"t\"\n",
       {"INVALID_FIELD"},
       {"units must be a list of strings"}},
      {"country not a string",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\nreleasable_to = [1]\ntext = \"t\"\n",
       {"INVALID_FIELD"},
       {"releasable_to must be a list of strings"}},
      {"orcon not a boolean",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\norcon = \"yes\"\ntext = \"t\"\n",
       {"INVALID_FIELD"},
       {"orcon must be a boolean"}},
      {"sources not a list",
       "topic = \"intel.x\"\nsources = { report_id = \"" + std::string(kId) + "\" }\n" + section,
       {"INVALID_FIELD"},
       {"sources must be a list"}},
      {"bad source id",
       "topic = \"intel.x\"\nsources = [{ report_id = \"abc\" }]\n" + section,
       {"INVALID_FIELD"},
       {"32 hex characters"}},
      {"source section 0", source + "sections = [0] }]\n" + section, {"INVALID_FIELD"}, {"numbered from 1"}},
      {"unknown source key",
       source + "section = [1] }]\n" + section,
       {"INVALID_FIELD"},
       {"unknown key 'section' in a source"}},
      {"missing body file",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\nfile = \"nope.txt\"\n",
       {"IO_ERROR"},
       {"nope.txt"}},
      {"every problem, not only the first",
       "[[section]]\nclassification = \"SEKRET\"\ntext = \"t\"\n[[section]]\nclassification = \"SECRET\"\n"
       "releasable_to = [\"usa\"]\ntext = \"t\"\n",
       {"INVALID_FIELD", "LABEL_INVALID", "LABEL_INVALID"},
       {"topic is required", "section 1", "section 2", "'usa'"}},
  };
  tearline::testing::TempDir dir;
  for (const auto& c : cases) {
    INFO(c.name);
    auto draft = parse_report_spec(c.toml, dir.path(), "s.toml");
    REQUIRE_FALSE(draft);
    CHECK(codes(draft.status()) == c.codes);
    for (const auto& phrase : c.phrases) CHECK_THAT(draft.status().to_string(), Catch::Contains(phrase));
  }
}
