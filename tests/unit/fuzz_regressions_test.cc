// Fuzz regressions under the normal build. Every saved input of
// tests/fuzz/regressions/<target>/ (each crash a fuzzer found, and hand-made
// hostile inputs) is replayed through the very function the fuzzer runs
// (tests/fuzz/fuzz_*.cc), which aborts on a broken invariant; under
// `make asan` the replay is also checked for memory errors and UB. Then the
// same kinds of hostile input, built here, with the refusal each parser owes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "broker/config.h"
#include "fuzz/fuzz_target.h"
#include "fuzz/fuzz_world.h"
#include "identity/objects.h"
#include "identity/roster.h"
#include "policy/label.h"
#include "policy/topic.h"
#include "policy/topic_policy.h"
#include "report/verify.h"
#include "wire/frame.h"

using namespace tearline;
namespace fs = std::filesystem;

namespace {

const fs::path kRegressions = fs::path(TEARLINE_SOURCE_DIR) / "tests" / "fuzz" / "regressions";

Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

std::string repeat(std::string_view unit, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += unit;
  return out;
}

// Field 1, length-delimited, claiming 2^32 - 1 bytes; then 3000 nested groups.
const Bytes kHugeLength = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'A', 'A'};
const Bytes kDeepGroups(3000, 0x0b);
const std::string kDeepArray = "a = " + repeat("[", 5000) + repeat("]", 5000);
const std::string kDeepInlineTable = "a = " + repeat("{b = ", 2000) + "1" + repeat("}", 2000);

}  // namespace

TEST_CASE("every fuzz target has a regressions folder, and every folder a target") {
  for (const auto& target : fuzz::kTargets) {
    INFO(target.name);
    CHECK(fs::is_directory(kRegressions / target.name));
  }
  for (const auto& dir : fs::directory_iterator(kRegressions)) {
    const std::string name = dir.path().filename().string();
    INFO(name);
    CHECK(std::any_of(std::begin(fuzz::kTargets), std::end(fuzz::kTargets),
                      [&](const fuzz::Target& t) { return t.name == name; }));
  }
}

TEST_CASE("every saved fuzz input replays through its target") {
  std::size_t replayed = 0;
  for (const auto& target : fuzz::kTargets) {
    if (!fs::is_directory(kRegressions / target.name)) continue;
    for (const auto& file : fs::directory_iterator(kRegressions / target.name)) {
      INFO(target.name << "/" << file.path().filename().string());
      target.run(read_bytes(file.path()));
      ++replayed;
    }
  }
  CHECK(replayed >= std::size(fuzz::kTargets));
}

TEST_CASE("hostile frames are refused with a named failure") {
  auto code = [](const Bytes& b) { return wire::decode_frame(b, wire::kDefaultMaxFrameBytes).code(); };
  CHECK(code({}) == Code::MALFORMED_FRAME);
  CHECK(code(kHugeLength) == Code::MALFORMED_FRAME);
  CHECK(code(kDeepGroups) == Code::MALFORMED_FRAME);
  CHECK(code(Bytes(wire::kDefaultMaxFrameBytes + 1, 0)) == Code::FRAME_TOO_LARGE);
}

TEST_CASE("hostile reports and identity objects are refused") {
  const auto& world = fuzz::FuzzWorld::get();
  const auto& trust = world.directory().trust();
  for (const Bytes& input : {Bytes{}, kHugeLength, kDeepGroups}) {
    CHECK(report::verify_report(input, world.directory()).code() == Code::REPORT_MALFORMED);
    CHECK_FALSE(identity::verify_credential(input, trust).is_ok());
    CHECK_FALSE(identity::verify_charter(input, trust).is_ok());
    CHECK_FALSE(identity::verify_revocation_list(input, trust).is_ok());
  }
  CHECK(identity::verify_credential({}, trust).code() == Code::BAD_SIGNATURE);  // parses, carries no signature
  CHECK(identity::verify_credential(kHugeLength, trust).code() == Code::BAD_ENCODING);
}

TEST_CASE("hostile labels are refused") {
  CHECK(policy::decode_label({}).code() == Code::LABEL_INVALID);  // no classification
  CHECK(policy::decode_label(kHugeLength).code() == Code::BAD_ENCODING);
  CHECK(policy::decode_label(kDeepGroups).code() == Code::BAD_ENCODING);
}

TEST_CASE("hostile topics and patterns are refused") {
  for (const std::string& text : {std::string(), std::string("."), repeat("a.", 3000) + "a", std::string(129, 'a'),
                                  std::string(33, 'a'), std::string(">.a"), std::string("a.*b")}) {
    INFO(text.substr(0, 40));
    CHECK(policy::validate_topic(text).code() == Code::TOPIC_INVALID);
    CHECK(policy::validate_pattern(text).code() == Code::TOPIC_INVALID);
    CHECK_FALSE(policy::topic_matches(">", text));
  }
}

TEST_CASE("hostile TOML is refused by every file parser") {
  for (const std::string& text : {kDeepArray, kDeepInlineTable, std::string("x = \"\xff\xfe\""),
                                  std::string("validity_days = 99999999999999999999999")}) {
    INFO(text.substr(0, 40));
    CHECK(identity::parse_roster(text, "roster.toml").code() == Code::INVALID_FIELD);
    CHECK(policy::TopicPolicy::parse(text, "policy.toml").code() == Code::INVALID_FIELD);
    CHECK(broker::parse_config(text, "/base", "broker.toml").code() == Code::INVALID_FIELD);
  }
  CHECK(identity::parse_roster("", "roster.toml").code() == Code::INVALID_FIELD);  // names no agency
  CHECK(policy::TopicPolicy::parse("", "policy.toml").is_ok());                    // no grant: denies everything
  CHECK(broker::parse_config("", "/base", "broker.toml").code() == Code::INVALID_FIELD);
}
