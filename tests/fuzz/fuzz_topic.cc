// Topics and patterns as they arrive in SUBSCRIBE frames, report headers and
// peering agreements.
// The input is split at its first '\n' into a pattern and a topic; both
// halves are also judged in the other role.
#include <algorithm>

#include "fuzz_target.h"
#include "policy/topic.h"

namespace tearline::fuzz {
namespace {

bool all_topic_invalid(const Status& s) {
  return std::all_of(s.reasons().begin(), s.reasons().end(),
                     [](const Reason& r) { return r.code == Code::TOPIC_INVALID; });
}

void judge(std::string_view pattern, std::string_view topic) {
  const Status pattern_ok = policy::validate_pattern(pattern);
  const Status topic_ok = policy::validate_topic(topic);
  require(all_topic_invalid(pattern_ok) && all_topic_invalid(topic_ok), "topic reasons are TOPIC_INVALID");
  const bool matches = policy::topic_matches(pattern, topic);
  require(!matches || (pattern_ok.is_ok() && topic_ok.is_ok()), "only a valid pattern matches, only a valid topic");
  if (pattern_ok.is_ok() && topic_ok.is_ok() && pattern == topic) require(matches, "a topic matches itself");
  // pattern_covers, the peerings' narrowing rule: a topic is a pattern that
  // matches itself alone, so covering it is matching it.
  if (topic_ok.is_ok()) require(policy::pattern_covers(pattern, topic) == matches, "covering a topic is matching it");
  if (pattern_ok.is_ok()) {
    require(policy::pattern_covers(pattern, pattern) && policy::pattern_covers(">", pattern),
            "a pattern covers itself, and '>' covers it");
  } else {
    require(!policy::pattern_covers(pattern, ">") && !policy::pattern_covers(">", pattern),
            "an invalid pattern covers nothing and is covered by nothing");
  }

  if (!topic_ok.is_ok()) {
    require(!policy::unit_of_topic(topic), "an invalid topic belongs to no unit");
    return;
  }
  require(policy::validate_pattern(topic).is_ok(), "every topic is a pattern");
  require(policy::topic_matches(">", topic), "'>' matches every topic");
  if (auto unit = policy::unit_of_topic(topic)) {
    const std::string prefix = "unit." + *unit;
    require(topic == prefix || policy::topic_matches(prefix + ".>", topic), "a unit topic is under unit.<id>");
  }
}

}  // namespace

void topic(ByteView input) {
  const std::string_view text = as_chars(input);
  const std::size_t newline = text.find('\n');
  const std::string_view first = text.substr(0, newline);
  const std::string_view second = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  judge(first, second);
  judge(second, first);
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(topic)
