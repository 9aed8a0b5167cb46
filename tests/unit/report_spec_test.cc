// The CLI's report descriptions: labels from flags and multi-section TOML
// specs (client/cli/node/report_spec.h), whose keys are the publish flags'
// names, with version 0.1's keys still read beside a deprecation note. Bad specs
// are one table: text -> every expected code and a phrase of each reason.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
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
source = [")") + kId + R"(:2,1", ")" +
                           kId + R"("]

[[section]]
classification = "SECRET"
rel = ["COL"]
unit = ["cucuta-jtf"]
text = "informant"

[[section]]
classification = "CONFIDENTIAL"
rel = "USA,COL"
unit = "cucuta-jtf"
orcon = true
body_file = "body.txt"
)";
  std::vector<tearline::cli::SpecDeprecation> notes;
  auto draft = parse_report_spec(spec, dir.path(), "spec.toml", &notes);
  REQUIRE(draft);
  CHECK(notes.empty());
  CHECK(draft->topic == "unit.cucuta-jtf.seizures");
  REQUIRE(draft->sections.size() == 2);
  CHECK(draft->sections[0].label.classification == tearline::v1::SECRET);
  CHECK(draft->sections[0].label.releasable_to == std::vector<std::string>{"COL"});
  CHECK(draft->sections[0].label.units == std::vector<std::string>{"cucuta-jtf"});
  CHECK_FALSE(draft->sections[0].label.orcon);
  CHECK(draft->sections[0].content == to_bytes("informant"));
  CHECK(draft->sections[1].label.releasable_to == std::vector<std::string>{"COL", "USA"});
  CHECK(draft->sections[1].label.units == std::vector<std::string>{"cucuta-jtf"});
  CHECK(draft->sections[1].label.orcon);
  CHECK(draft->sections[1].content == to_bytes("from a file\n"));
  REQUIRE(draft->sources.size() == 2);
  CHECK(to_hex(draft->sources[0].report_id) == kId);
  CHECK(draft->sources[0].sections == std::vector<std::uint32_t>{1, 0});  // 0-based
  CHECK(draft->sources[1].sections.empty());                              // all sections
}

TEST_CASE("version 0.1's keys are read as their new names, with one deprecation note per file") {
  tearline::testing::TempDir dir;
  std::ofstream(dir.path() / "body.txt") << "old body";
  const std::string spec = std::string("topic = \"intel.x\"\nsources = [{ report_id = \"") + kId +
                           "\", sections = [2] }]\n[[section]]\nclassification = \"SECRET\"\n"
                           "releasable_to = [\"USA\", \"COL\"]\nunits = [\"cucuta-jtf\"]\nfile = \"body.txt\"\n";
  std::vector<tearline::cli::SpecDeprecation> notes;
  auto draft = parse_report_spec(spec, dir.path(), "old.toml", &notes);
  REQUIRE(draft);
  CHECK(draft->sections.at(0).label.releasable_to == std::vector<std::string>{"COL", "USA"});
  CHECK(draft->sections.at(0).label.units == std::vector<std::string>{"cucuta-jtf"});
  CHECK(draft->sections.at(0).content == to_bytes("old body"));
  REQUIRE(draft->sources.size() == 1);
  CHECK(draft->sources[0].sections == std::vector<std::uint32_t>{1});
  REQUIRE(notes.size() == 4);
  CHECK(notes[0].old_key == "sources");
  CHECK(notes[0].new_key == "source");
  CHECK(notes[0].line == 2);
  CHECK(notes[3].old_key == "file");
  CHECK(notes[3].new_key == "body_file");
  CHECK(notes[3].line == 7);
  CHECK(tearline::cli::deprecation_note("old.toml", notes) ==
        "old.toml: old key names, still read: 'sources' (line 2) is now 'source', 'releasable_to' (line 5) is now "
        "'rel', 'units' (line 6) is now 'unit', 'file' (line 7) is now 'body_file' (the publish flags' names)");
  CHECK(tearline::cli::deprecation_note("new.toml", {}).empty());

  // Two sections with old keys: one note, each key once with its lines.
  const std::string two =
      "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\nunits = [\"a-unit\"]\n"
      "text = \"t\"\n[[section]]\nclassification = \"SECRET\"\nunits = [\"a-unit\"]\ntext = \"t\"\n";
  std::ofstream(dir.path() / "old.toml") << two;
  std::ostringstream printed;
  REQUIRE(load_report_spec(dir.path() / "old.toml", &printed));
  CHECK(printed.str() == "tearline: " + (dir.path() / "old.toml").string() +
                             ": old key names, still read: 'units' (line 4, 8) is now 'unit' (the publish flags' "
                             "names)\n");
}

TEST_CASE("parse_source_citation reads HEX and HEX:SECTIONS as the --source flag") {
  auto whole = tearline::cli::parse_source_citation(kId);
  REQUIRE(whole);
  CHECK(to_hex(whole->report_id) == kId);
  CHECK(whole->sections.empty());
  auto some = tearline::cli::parse_source_citation(std::string(kId) + ":3,1");
  REQUIRE(some);
  CHECK(some->sections == std::vector<std::uint32_t>{2, 0});
  for (const std::string& bad : {std::string("abc"), std::string(kId) + ":", std::string(kId) + ":0",
                                 std::string(kId) + ":1,,2", std::string(kId) + ":x"}) {
    INFO(bad);
    auto cite = tearline::cli::parse_source_citation(bad);
    REQUIRE_FALSE(cite);
    CHECK(cite.code() == Code::INVALID_FIELD);
    CHECK_THAT(cite.status().to_string(), Catch::Contains("source '" + bad + "'"));
  }
}

TEST_CASE("countries: the ISO 3166-1 alpha-3 list generated from iso-codes") {
  // Assigned codes at both ends of the list and in it, and codes that are not
  // (withdrawn, user-assigned, alpha-2, lower case).
  for (const char* known : {"ABW", "COL", "DEU", "ITA", "USA", "ZWE"}) {
    INFO(known);
    CHECK(label_from_flags("SECRET", {known}, {}, false));
  }
  for (const char* unknown : {"SUN", "XXX", "EUE", "DE", "ita", "ZZZ"}) {
    INFO(unknown);
    auto label = label_from_flags("SECRET", {unknown}, {}, false);
    REQUIRE_FALSE(label);
    CHECK(label.code() == Code::LABEL_INVALID);
  }
}

TEST_CASE("load_report_spec reads files relative to the spec's folder") {
  tearline::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "specs" / "bodies");
  std::ofstream(dir.path() / "specs" / "bodies" / "b.txt") << "body";
  std::ofstream(dir.path() / "specs" / "r.toml")
      << "topic = \"intel.labs\"\n[[section]]\nclassification = \"UNCLASSIFIED\"\nbody_file = \"bodies/b.txt\"\n";
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
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\ntext = \"t\"\nbody_file = \"f\"\n",
       {"INVALID_FIELD"},
       {"give exactly one of text or body_file"}},
      {"neither text nor file",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\n",
       {"INVALID_FIELD"},
       {"give exactly one of text or body_file"}},
      {"bad classification",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SEKRET\"\ntext = \"t\"\n",
       {"LABEL_INVALID"},
       {"section 1 (line 2): classification 'SEKRET'"}},
      {"lowercase country",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\nreleasable_to = [\"col\"]\ntext = \"t\"\n",
       {"LABEL_INVALID"},
       {"releasable-to 'col'"}},
      // A wrong type is an error, never dropped: a lost `units` would widen the audience.
      {"unit neither a string nor a list",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\nunit = 7\ntext = \"t\"\n",
       {"INVALID_FIELD"},
       {"unit must be a string or a list of strings"}},
      {"a key and its old name",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\nrel = [\"COL\"]\nreleasable_to = [\"USA\"]\n"
       "text = \"t\"\n",
       {"INVALID_FIELD"},
       {"give 'rel' only ('releasable_to' is its old name)"}},
      {"bad source text",
       "topic = \"intel.x\"\nsource = [\"" + std::string(kId) + ":0\"]\n" + section,
       {"INVALID_FIELD"},
       {"source '" + std::string(kId) + ":0': sections are numbers from 1"}},
      {"body_file not a string",
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\nbody_file = 3\n",
       {"INVALID_FIELD"},
       {"body_file must be a string"}},
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
       "topic = \"intel.x\"\n[[section]]\nclassification = \"SECRET\"\nbody_file = \"nope.txt\"\n",
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
