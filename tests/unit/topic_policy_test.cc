// Topic grammar, pattern matching, policy parsing and topic decisions over
// the demo world (certs/roster.toml + certs/policy.toml).
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "base/codes.h"
#include "policy/topic.h"
#include "policy/topic_policy.h"
#include "support/demo_world.h"

using namespace tearline;
using namespace tearline::policy;
using tearline::testing::DemoWorld;
using tearline::testing::kDemoNow;

namespace {

// Code names, so a failing comparison prints readably.
std::vector<std::string> codes(const Status& s) {
  std::vector<std::string> out;
  for (const auto& r : s.reasons()) out.emplace_back(code_name(r.code));
  return out;
}

bool all_codes_are(const Status& s, Code code) {
  if (s.is_ok()) return false;
  for (const auto& r : s.reasons()) {
    if (r.code != code) return false;
  }
  return true;
}

bool mentions(const Status& s, const std::string& text) { return s.to_string().find(text) != std::string::npos; }

const TopicPolicy& demo_policy() {
  static const TopicPolicy policy = [] {
    auto p = TopicPolicy::load(std::filesystem::path(TEARLINE_SOURCE_DIR) / "certs" / "policy.toml");
    if (!p) FAIL("certs/policy.toml: " << p.status().to_string());
    return std::move(p).value();
  }();
  return policy;
}

const identity::Directory& demo_directory() { return *DemoWorld::get().directory(); }

// The line of the n-th (from 1) "[[grant]]" header in certs/policy.toml, so
// the expected reasons follow edits to the file's comments.
int demo_grant_line(int n) {
  std::ifstream in(std::filesystem::path(TEARLINE_SOURCE_DIR) / "certs" / "policy.toml");
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.rfind("[[grant]]", 0) == 0 && --n == 0) return number;
  }
  return -1;
}

}  // namespace

TEST_CASE("validate_topic accepts the grammar and names what is wrong") {
  struct Row {
    std::string topic;
    bool ok;
    std::string reason;  // a fragment the reason must contain when !ok
  };
  const std::string seg32(32, 'a');
  const std::string seg33(33, 'a');
  const std::vector<Row> rows = {
      {"intel", true, ""},
      {"intel.seizures.cucuta", true, ""},
      {"unit.cucuta-jtf.ops_2026", true, ""},
      {"a.b.c.d.e.f.g.h", true, ""},                                               // exactly 8 segments
      {seg32 + "." + seg32 + "." + seg32 + "." + std::string(29, 'b'), true, ""},  // exactly 128 bytes
      {"", false, "topic is empty"},
      {"Intel.seizures", false, "segment 1 'Intel' has 'I' at offset 0"},
      {"intel.Seizures", false, "(topics are lower-case)"},
      {"intel..seizures", false, "segment 2 is empty (consecutive '..')"},
      {".intel", false, "segment 1 is empty (leading '.')"},
      {"intel.", false, "segment 2 is empty (trailing '.')"},
      {"intel.seizures.", false, "segment 3 is empty (trailing '.')"},
      {".", false, "segment 1 is empty (leading '.')"},
      {seg32 + "." + seg32 + "." + seg32 + "." + std::string(30, 'b'), false, "is 129 bytes; the limit is 128"},
      {"a.b.c.d.e.f.g.h.i", false, "has 9 segments; the limit is 8"},
      {"intel." + seg33, false, "segment 2 is 33 bytes; the limit is 32"},
      {"intel." + seg32, true, ""},
      {"intel.sei zures", false, "has byte 0x20 at offset 3"},
      {"intel/seizures", false, "has '/' at offset 5"},
      {"intel.sei\nzures", false, "byte 0x0a at offset 3"},
      {"intel.caf\xc3\xa9", false, "byte 0xc3 at offset 3"},
      {"intel.*", false, "segment 2 is the wildcard '*'; wildcards are allowed only in patterns"},
      {"intel.>", false, "segment 2 is the wildcard '>'"},
      {">", false, "wildcards are allowed only in patterns"},
      {"intel.sei*", false, "(wildcards are allowed only in patterns)"},
  };
  for (const auto& row : rows) {
    INFO("topic: " << row.topic);
    const Status s = validate_topic(row.topic);
    CHECK(s.is_ok() == row.ok);
    if (!row.ok) {
      CHECK(all_codes_are(s, Code::TOPIC_INVALID));
      INFO("reasons: " << s.to_string());
      CHECK(mentions(s, row.reason));
    }
  }
}

TEST_CASE("validate_topic reports every bad segment and escapes what it echoes") {
  const Status s = validate_topic("A..b*.c");
  REQUIRE(codes(s) == std::vector<std::string>{"TOPIC_INVALID", "TOPIC_INVALID", "TOPIC_INVALID"});
  CHECK(s.reasons()[0].message.find("segment 1") != std::string::npos);
  CHECK(s.reasons()[1].message.find("segment 2 is empty") != std::string::npos);
  CHECK(s.reasons()[2].message.find("segment 3 'b*'") != std::string::npos);

  const Status control = validate_topic(std::string("evil\x1b[2J", 8));
  REQUIRE_FALSE(control.is_ok());
  CHECK(control.to_string().find('\x1b') == std::string::npos);
  CHECK(mentions(control, "\\x1b"));

  const Status huge = validate_topic(std::string(100000, 'a'));
  REQUIRE(codes(huge) == std::vector<std::string>{"TOPIC_INVALID"});
  CHECK(mentions(huge, "is 100000 bytes"));
  CHECK(huge.to_string().size() < 200);  // the topic is not echoed whole
}

TEST_CASE("validate_pattern allows whole-segment wildcards, '>' only last") {
  struct Row {
    std::string pattern;
    bool ok;
    std::string reason;
  };
  const std::vector<Row> rows = {
      {">", true, ""},
      {"*", true, ""},
      {"intel.>", true, ""},
      {"intel.*.cucuta", true, ""},
      {"*.*.>", true, ""},
      {"intel.seizures", true, ""},
      {"a.b.c.d.e.f.g.>", true, ""},  // 8 segments counting '>'
      {"a.b.c.d.e.f.g.h.>", false, "has 9 segments; the limit is 8"},
      {">.intel", false, "segment 1 is '>', which is allowed only as the last segment"},
      {"intel.>.seizures", false, "segment 2 is '>', which is allowed only as the last segment"},
      {"a*", false, "'*' at offset 1; allowed are a-z 0-9 - _ (a wildcard must be a whole segment)"},
      {"**", false, "segment 1 '**' has '*' at offset 0"},
      {"intel.>>", false, "segment 2 '>>' has '>' at offset 0"},
      {"intel.*>", false, "(a wildcard must be a whole segment)"},
      {"", false, "pattern is empty"},
      {"intel.", false, "segment 2 is empty (trailing '.')"},
      {"intel.*.", false, "segment 3 is empty"},
      {"Intel.>", false, "(topics are lower-case)"},
  };
  for (const auto& row : rows) {
    INFO("pattern: " << row.pattern);
    const Status s = validate_pattern(row.pattern);
    CHECK(s.is_ok() == row.ok);
    if (!row.ok) {
      CHECK(all_codes_are(s, Code::TOPIC_INVALID));
      INFO("reasons: " << s.to_string());
      CHECK(mentions(s, row.reason));
    }
  }
}

TEST_CASE("topic_matches: '*' is one segment, '>' one or more trailing") {
  struct Row {
    std::string pattern, topic;
    bool match;
  };
  const std::vector<Row> rows = {
      // literal
      {"intel.seizures", "intel.seizures", true},
      {"intel.seizures", "intel.labs", false},
      {"intel.seizures", "intel.seizures.cucuta", false},  // topic deeper
      {"intel.seizures.cucuta", "intel.seizures", false},  // pattern deeper
      {"intel", "intel", true},
      {"intel", "intels", false},  // segments compare whole, not by prefix
      {"intel.sei", "intel.seizures", false},
      // '*'
      {"intel.*", "intel.seizures", true},
      {"intel.*", "intel", false},
      {"intel.*", "intel.seizures.cucuta", false},
      {"intel.*.cucuta", "intel.seizures.cucuta", true},
      {"intel.*.cucuta", "intel.labs.cucuta", true},
      {"intel.*.cucuta", "intel.labs.narino", false},
      {"*", "intel", true},
      {"*", "intel.labs", false},
      {"*.*", "intel.labs", true},
      {"*.labs", "intel.labs", true},
      // '>'
      {">", "intel", true},
      {">", "intel.labs.narino", true},
      {"intel.>", "intel.labs", true},
      {"intel.>", "intel.labs.narino.tumaco", true},
      {"intel.>", "intel", false},  // '>' needs at least one segment
      {"intel.>", "intelx.labs", false},
      {"intel.>", "unit.cucuta-jtf.ops", false},
      {"intel.hq.>", "intel.hq", false},
      {"intel.hq.>", "intel.hqs.x", false},
      {"*.>", "intel", false},
      {"*.>", "intel.labs", true},
      {"intel.*.>", "intel.labs", false},
      {"intel.*.>", "intel.labs.narino", true},
      {"unit.*.>", "unit.cucuta-jtf.ops", true},
      // invalid inputs match nothing
      {"intel.>", "intel.Labs", false},
      {"intel.>", "intel..labs", false},
      {"intel.>", "intel.*", false},  // a pattern is not a topic
      {"intel.*", "intel.*", false},
      {"intel.>.x", "intel.a.x", false},
      {"intel.a*", "intel.a", false},
      {">", "", false},
      {"", "intel", false},
  };
  REQUIRE(rows.size() >= 25);
  for (const auto& row : rows) {
    INFO("pattern '" << row.pattern << "' topic '" << row.topic << "'");
    CHECK(topic_matches(row.pattern, row.topic) == row.match);
  }
}

TEST_CASE("unit_of_topic names the unit of unit.<id> topics only") {
  struct Row {
    std::string topic;
    std::optional<std::string> unit;
  };
  const std::vector<Row> rows = {
      {"unit.cucuta-jtf.ops", "cucuta-jtf"},
      {"unit.cucuta-jtf.ops.night", "cucuta-jtf"},
      {"unit.cucuta-jtf", "cucuta-jtf"},
      {"unit", std::nullopt},
      {"units.cucuta-jtf.ops", std::nullopt},
      {"intel.unit.cucuta-jtf", std::nullopt},
      {"unit.Cucuta.ops", std::nullopt},  // invalid topic
      {"unit..ops", std::nullopt},
  };
  for (const auto& row : rows) {
    INFO("topic: " << row.topic);
    CHECK(unit_of_topic(row.topic) == row.unit);
  }
}

TEST_CASE("the demo policy file loads") {
  const auto& grants = demo_policy().grants();
  REQUIRE(grants.size() == 5);
  CHECK(grants[0].to == std::vector<std::string>{"any"});
  CHECK(grants[0].subscribe == std::vector<std::string>{"intel.>"});
  CHECK(grants[3].deny_publish == std::vector<std::string>{"intel.hq.>"});
  CHECK(grants[4].to == std::vector<std::string>{"unit:cucuta-jtf"});
}

TEST_CASE("policy parse errors are INVALID_FIELD with their line") {
  struct Row {
    std::string name;
    std::string toml;
    std::string reason;  // fragment, including the line
  };
  const std::vector<Row> rows = {
      {"bad TOML", "[[grant]]\nto = [\"any\"]\nsubscribe = [\"intel.>\"\n", "p.toml line 3"},
      {"unterminated string", "[[grant]]\nto = [\"any]\n", "p.toml line 2"},
      {"duplicate key", "[[grant]]\nto = [\"any\"]\nto = [\"any\"]\n", "p.toml line 3"},
      {"unknown key in a grant", "[[grant]]\nto = [\"any\"]\npublsh = [\"intel.>\"]\n",
       "p.toml line 3: grant #1: unknown key 'publsh'"},
      {"unknown top-level key", "[[grants]]\nto = [\"any\"]\nsubscribe = [\"intel.>\"]\n",
       "p.toml line 1: unknown top-level key 'grants'"},
      {"grant is not an array of tables", "grant = \"any\"\n", "p.toml line 1: 'grant' must be an array of tables"},
      {"bad subject kind", "[[grant]]\nto = [\"any\", \"team:x\"]\nsubscribe = [\"intel.>\"]\n",
       "p.toml line 2: grant #1: to[1] 'team:x' is not a subject"},
      {"subject without id", "[[grant]]\nto = [\"agency:\"]\nsubscribe = [\"intel.>\"]\n",
       "p.toml line 2: grant #1: to[0] 'agency:' is not a subject"},
      {"bare subject", "[[grant]]\nto = [\"DEA\"]\nsubscribe = [\"intel.>\"]\n", "to[0] 'DEA' is not a subject"},
      {"subject with a bad id", "[[grant]]\nto = [\"node:a b\"]\nsubscribe = [\"intel.>\"]\n",
       "to[0] 'node:a b' is not a subject"},
      {"'to' is not a list", "[[grant]]\nto = \"any\"\nsubscribe = [\"intel.>\"]\n",
       "p.toml line 2: grant #1: 'to' must be a list of strings"},
      {"'to' missing", "[[grant]]\nsubscribe = [\"intel.>\"]\n",
       "p.toml line 1: grant #1: 'to' (the subjects) is missing"},
      {"'to' empty", "[[grant]]\nto = []\nsubscribe = [\"intel.>\"]\n", "grant #1: 'to' names no subject"},
      {"grant grants nothing", "[[grant]]\nto = [\"any\"]\n", "p.toml line 1: grant #1: grants nothing"},
      {"'>' not last", "[[grant]]\nto = [\"any\"]\npublish = [\"intel.>.x\"]\n",
       "p.toml line 3: grant #1: publish[0] is not a valid pattern: pattern 'intel.>.x': segment 2 is '>'"},
      {"partial wildcard", "[[grant]]\nto = [\"any\"]\nsubscribe = [\"intel.>\", \"a*\"]\n",
       "p.toml line 3: grant #1: subscribe[1] is not a valid pattern"},
      {"upper-case pattern in a deny", "[[grant]]\nto = [\"any\"]\ndeny_publish = [\"Intel.hq.>\"]\n",
       "p.toml line 3: grant #1: deny_publish[0] is not a valid pattern"},
      {"non-string pattern", "[[grant]]\nto = [\"any\"]\ndeny_subscribe = [7]\n",
       "p.toml line 3: grant #1: deny_subscribe[0] is not a string"},
      {"second grant counted",
       "[[grant]]\nto = [\"any\"]\nsubscribe = [\">\"]\n\n[[grant]]\nto = [\"roles:x\"]\n"
       "subscribe = [\">\"]\n",
       "p.toml line 6: grant #2: to[0] 'roles:x'"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto p = TopicPolicy::parse(row.toml, "p.toml");
    REQUIRE_FALSE(p.is_ok());
    INFO("reasons: " << p.status().to_string());
    CHECK(all_codes_are(p.status(), Code::INVALID_FIELD));
    CHECK(mentions(p.status(), row.reason));
  }
}

TEST_CASE("policy parse reports every problem, not only the first") {
  const std::string text =
      "[[grant]]\n"                        // 1
      "to = [\"any\", \"crew:x\"]\n"       // 2
      "publish = [\"intel.>\", \"a*\"]\n"  // 3
      "colour = \"red\"\n"                 // 4
      "\n"                                 // 5
      "[[grant]]\n"                        // 6
      "to = [\"role:liaison\"]\n"          // 7
      "subscribe = [\"x..y\"]\n";          // 8
  auto p = TopicPolicy::parse(text, "p.toml");
  REQUIRE_FALSE(p.is_ok());
  const Status& s = p.status();
  REQUIRE(codes(s) == std::vector<std::string>(4, "INVALID_FIELD"));
  // In line order, whatever order the TOML library walks keys in.
  const std::vector<std::string> starts = {
      "p.toml line 2: grant #1: to[1] 'crew:x' is not a subject",
      "p.toml line 3: grant #1: publish[1] is not a valid pattern: pattern 'a*'",
      "p.toml line 4: grant #1: unknown key 'colour'",
      "p.toml line 8: grant #2: subscribe[0] is not a valid pattern: pattern 'x..y': segment 2 is empty",
  };
  for (std::size_t i = 0; i < starts.size(); ++i) {
    INFO("reason " << i << ": " << s.reasons()[i].message);
    CHECK(s.reasons()[i].message.rfind(starts[i], 0) == 0);
  }
}

TEST_CASE("policy parse accepts an empty file, which denies everything") {
  auto p = TopicPolicy::parse("# nothing granted\n", "empty.toml");
  REQUIRE(p.is_ok());
  CHECK(p->grants().empty());
  const Status s = p->check(demo_directory(), "diran-bogota-hq", "intel.seizures", Access::kRead, kDemoNow);
  CHECK(codes(s) == std::vector<std::string>{"TOPIC_READ_DENIED"});
}

TEST_CASE("policy load of a missing file is IO_ERROR") {
  auto p = TopicPolicy::load("/nonexistent/tearline/policy.toml");
  REQUIRE_FALSE(p.is_ok());
  CHECK(p.code() == Code::IO_ERROR);
}

TEST_CASE("demo policy decisions") {
  struct Row {
    std::string node, topic;
    Access access;
    std::vector<std::string> expected;  // codes in order; empty = allowed
  };
  const auto R = Access::kRead;
  const auto W = Access::kWrite;
  using V = std::vector<std::string>;
  const std::vector<Row> rows = {
      // everyone reads intel
      {"fgr-liaison", "intel.seizures", R, {}},
      {"fudra-lab-ops", "intel.hq.tasking", R, {}},
      {"dea-bogota-analyst", "intel.finance.fronts", R, {}},
      {"diran-bogota-hq", "intel", R, {"TOPIC_READ_DENIED"}},  // "intel.>" needs a segment after intel
      {"diran-bogota-hq", "weather.cucuta", R, {"TOPIC_READ_DENIED"}},
      // DIRAN, FUDRA and DEA publish under intel
      {"diran-cucuta-analyst", "intel.seizures.cucuta", W, {}},
      {"fudra-lab-ops", "intel.labs.narino", W, {}},
      {"dea-bogota-analyst", "intel.routes", W, {}},
      {"diran-bogota-hq", "weather.cucuta", W, {"TOPIC_WRITE_DENIED"}},
      // deny wins: intel.hq is DIRAN's alone
      {"diran-bogota-hq", "intel.hq.assessment", W, {}},
      {"diran-cucuta-commander", "intel.hq.tasking", W, {}},
      {"dea-bogota-analyst", "intel.hq.assessment", W, {"TOPIC_WRITE_DENIED"}},
      {"fudra-lab-ops", "intel.hq.tasking", W, {"TOPIC_WRITE_DENIED"}},
      {"dea-bogota-analyst", "intel.hqx", W, {}},  // not under intel.hq
      // the liaison reads intel, writes only intel.liaison
      {"fgr-liaison", "intel.seizures", W, {"TOPIC_WRITE_DENIED"}},
      {"fgr-liaison", "intel.liaison.requests", W, {}},
      {"fgr-liaison", "intel.liaison.requests", R, {}},
      {"fgr-liaison", "intel.hq.tasking", W, V{"TOPIC_WRITE_DENIED", "TOPIC_WRITE_DENIED"}},  // denied AND not allowed
      // the unit's topics: its members, including the embedded DEA agent
      {"dea-cucuta-agent", "unit.cucuta-jtf.ops", W, {}},
      {"dea-cucuta-agent", "unit.cucuta-jtf.ops", R, {}},
      {"diran-cucuta-commander", "unit.cucuta-jtf.ops.night", R, {}},
      {"diran-cucuta-analyst", "unit.cucuta-jtf.targets", W, {}},
      {"dea-bogota-analyst", "unit.cucuta-jtf.ops", R, V{"NOT_UNIT_MEMBER", "TOPIC_READ_DENIED"}},
      {"dea-bogota-analyst", "unit.cucuta-jtf.ops", W, V{"NOT_UNIT_MEMBER", "TOPIC_WRITE_DENIED"}},
      {"diran-bogota-hq", "unit.cucuta-jtf.ops", R, V{"NOT_UNIT_MEMBER", "TOPIC_READ_DENIED"}},
      {"fgr-liaison", "unit.cucuta-jtf", R, V{"NOT_UNIT_MEMBER", "TOPIC_READ_DENIED"}},
      {"dea-cucuta-agent", "unit.other-unit.ops", R, V{"NOT_UNIT_MEMBER", "TOPIC_READ_DENIED"}},
      // refused before any match
      {"dea-cucuta-agent", "unit.cucuta-jtf.>", R, {"TOPIC_INVALID"}},
      {"diran-bogota-hq", "intel.Seizures", R, {"TOPIC_INVALID"}},
      {"nobody", "intel.seizures", R, {"UNKNOWN_NODE"}},
      {"nobody", "intel..seizures", W, V{"TOPIC_INVALID", "UNKNOWN_NODE"}},
  };
  for (const auto& row : rows) {
    INFO(row.node << (row.access == R ? " reads " : " writes ") << row.topic);
    const Status s = demo_policy().check(demo_directory(), row.node, row.topic, row.access, kDemoNow);
    INFO("reasons: " << s.to_string());
    CHECK(codes(s) == row.expected);
  }
}

TEST_CASE("a denial names the denying pattern and grant") {
  const Status s =
      demo_policy().check(demo_directory(), "dea-bogota-analyst", "intel.hq.assessment", Access::kWrite, kDemoNow);
  REQUIRE(codes(s) == std::vector<std::string>{"TOPIC_WRITE_DENIED"});
  CHECK(s.reasons()[0].message ==
        "node 'dea-bogota-analyst' may not publish on 'intel.hq.assessment': denied by grant #4 (line " +
            std::to_string(demo_grant_line(4)) + ") deny_publish 'intel.hq.>'");

  const Status liaison =
      demo_policy().check(demo_directory(), "fgr-liaison", "intel.seizures", Access::kWrite, kDemoNow);
  REQUIRE(codes(liaison) == std::vector<std::string>{"TOPIC_WRITE_DENIED"});
  CHECK(liaison.reasons()[0].message ==
        "node 'fgr-liaison' may not publish on 'intel.seizures': no grant that applies to the node allows it in "
        "publish");

  const Status outsider =
      demo_policy().check(demo_directory(), "dea-bogota-analyst", "unit.cucuta-jtf.ops", Access::kRead, kDemoNow);
  REQUIRE(codes(outsider) == std::vector<std::string>{"NOT_UNIT_MEMBER", "TOPIC_READ_DENIED"});
  CHECK(mentions(outsider, "belongs to unit 'cucuta-jtf'"));
}

TEST_CASE("deny wins regardless of grant order, and every denial is listed") {
  const TopicPolicy policy({
      Grant{{"agency:DEA"}, {}, {}, {"intel.hq.>"}, {}},
      Grant{{"node:dea-bogota-analyst"}, {"intel.>"}, {}, {}, {}},
      Grant{{"role:analyst"}, {}, {}, {"intel.*.assessment"}, {}},
  });
  const auto& dir = demo_directory();
  const Status s = policy.check(dir, "dea-bogota-analyst", "intel.hq.assessment", Access::kWrite, kDemoNow);
  REQUIRE(codes(s) == std::vector<std::string>{"TOPIC_WRITE_DENIED", "TOPIC_WRITE_DENIED"});
  CHECK(mentions(s, "denied by grant #1 deny_publish 'intel.hq.>'"));  // built in code: no line
  CHECK(mentions(s, "denied by grant #3 deny_publish 'intel.*.assessment'"));
  // The same node may publish where nothing denies.
  CHECK(policy.check(dir, "dea-bogota-analyst", "intel.labs.narino", Access::kWrite, kDemoNow).is_ok());
  // A deny on publish does not touch subscribe.
  const Status read = policy.check(dir, "dea-bogota-analyst", "intel.hq.assessment", Access::kRead, kDemoNow);
  CHECK(codes(read) == std::vector<std::string>{"TOPIC_READ_DENIED"});
  CHECK_FALSE(mentions(read, "denied by"));
}

TEST_CASE("each subject kind applies to exactly the nodes it names") {
  struct Row {
    std::string subject;
    std::vector<std::string> readers;  // demo nodes, sorted
  };
  const std::vector<Row> rows = {
      {"any",
       {"dea-bogota-analyst", "dea-cucuta-agent", "diran-bogota-hq", "diran-cucuta-analyst", "diran-cucuta-commander",
        "fgr-liaison", "fudra-lab-ops"}},
      {"agency:DEA", {"dea-bogota-analyst", "dea-cucuta-agent"}},
      {"agency:dea", {}},  // ids compare exactly
      {"role:analyst", {"dea-bogota-analyst", "diran-bogota-hq", "diran-cucuta-analyst", "diran-cucuta-commander"}},
      {"role:hq", {"diran-bogota-hq"}},
      {"unit:cucuta-jtf", {"dea-cucuta-agent", "diran-cucuta-analyst", "diran-cucuta-commander"}},
      {"unit:no-such-unit", {}},
      {"node:fgr-liaison", {"fgr-liaison"}},
      {"agency:", {}},  // malformed subjects in a policy built in code apply to no one
      {"DEA", {}},
  };
  const auto& dir = demo_directory();
  for (const auto& row : rows) {
    INFO("subject: " << row.subject);
    const TopicPolicy policy({Grant{{row.subject}, {}, {"intel.>"}, {}, {}}});
    std::vector<std::string> readers;
    for (const auto* node : dir.nodes()) {
      if (node->has_role(identity::kBrokerRole)) continue;  // the broker's credential: no agency node
      if (policy.check(dir, node->node_id, "intel.labs", Access::kRead, kDemoNow).is_ok()) {
        readers.push_back(node->node_id);
      }
    }
    CHECK(readers == row.readers);
  }
}

TEST_CASE("unit topics stay closed to non-members whatever the grants say") {
  const TopicPolicy open_to_all({Grant{{"any"}, {">"}, {">"}, {}, {}}});
  const auto& dir = demo_directory();
  CHECK(open_to_all.check(dir, "dea-cucuta-agent", "unit.cucuta-jtf.ops", Access::kRead, kDemoNow).is_ok());
  CHECK(open_to_all.check(dir, "dea-bogota-analyst", "intel.anything", Access::kWrite, kDemoNow).is_ok());
  const Status s = open_to_all.check(dir, "dea-bogota-analyst", "unit.cucuta-jtf.ops", Access::kRead, kDemoNow);
  CHECK(codes(s) == std::vector<std::string>{"NOT_UNIT_MEMBER"});
  CHECK(codes(open_to_all.check(dir, "dea-bogota-analyst", "unit.cucuta-jtf", Access::kWrite, kDemoNow)) ==
        std::vector<std::string>{"NOT_UNIT_MEMBER"});
}

TEST_CASE("unit membership is judged at the time asked") {
  const auto& dir = demo_directory();
  // The demo charter lasts the roster's validity_days (365) from an hour before kDemoNow.
  const std::int64_t later = kDemoNow + std::int64_t{400} * 86400;
  const std::int64_t before = kDemoNow - std::int64_t{2} * 3600;
  for (std::int64_t t : {later, before}) {
    INFO("t = " << t);
    const Status s = demo_policy().check(dir, "dea-cucuta-agent", "unit.cucuta-jtf.ops", Access::kRead, t);
    // Not a member (no charter in force), so neither the unit rule nor the
    // unit:cucuta-jtf grant lets the agent in.
    CHECK(codes(s) == std::vector<std::string>{"NOT_UNIT_MEMBER", "TOPIC_READ_DENIED"});
  }
  CHECK(demo_policy().check(dir, "dea-cucuta-agent", "unit.cucuta-jtf.ops", Access::kRead, kDemoNow).is_ok());
}
