#include "policy/topic.h"

#include <cstdio>

namespace tearline::policy {

namespace {

enum class Kind { kTopic, kPattern };

bool is_segment_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

// Topics and patterns come off the wire: echo them into reasons only as
// printable ASCII, and only their first 48 bytes.
std::string printable(std::string_view s) {
  constexpr std::size_t kEcho = 48;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < kEcho; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (s.size() > kEcho) out += "...";
  return out;
}

std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  char hex[16];
  std::snprintf(hex, sizeof hex, "byte 0x%02x", u);
  return hex;
}

// Splits at '.', calling f(index, segment) for each segment (index from 1).
template <typename F>
void for_each_segment(std::string_view s, F&& f) {
  std::size_t index = 1;
  for (;;) {
    const std::size_t dot = s.find('.');
    f(index, s.substr(0, dot));
    if (dot == std::string_view::npos) return;
    s.remove_prefix(dot + 1);
    ++index;
  }
}

Status validate(std::string_view text, Kind kind) {
  const char* what = kind == Kind::kTopic ? "topic" : "pattern";
  const std::string quoted = std::string(what) + " '" + printable(text) + "'";
  if (text.empty()) return Status::fail(Code::TOPIC_INVALID, std::string(what) + " is empty");
  if (text.size() > kMaxTopicLength) {
    // Do not scan an over-long string for further problems: one reason is enough.
    return Status::fail(Code::TOPIC_INVALID, quoted + " is " + std::to_string(text.size()) + " bytes; the limit is " +
                                                 std::to_string(kMaxTopicLength));
  }
  Status s;
  std::size_t depth = 0;
  for_each_segment(text, [&](std::size_t index, std::string_view seg) {
    depth = index;
    const std::string where = quoted + ": segment " + std::to_string(index);
    if (seg.empty()) {
      std::string why = "empty";
      if (index == 1) {
        why += " (leading '.')";
      } else if (seg.data() == text.data() + text.size()) {
        why += " (trailing '.')";
      } else {
        why += " (consecutive '..')";
      }
      s.add(Code::TOPIC_INVALID, where + " is " + why);
      return;
    }
    if (seg == "*" || seg == ">") {
      if (kind == Kind::kTopic) {
        s.add(Code::TOPIC_INVALID,
              where + " is the wildcard '" + std::string(seg) + "'; wildcards are allowed only in patterns");
      } else if (seg == ">" && seg.data() + seg.size() != text.data() + text.size()) {
        s.add(Code::TOPIC_INVALID, where + " is '>', which is allowed only as the last segment");
      }
      return;
    }
    if (seg.size() > kMaxSegmentLength) {
      s.add(Code::TOPIC_INVALID,
            where + " is " + std::to_string(seg.size()) + " bytes; the limit is " + std::to_string(kMaxSegmentLength));
      return;
    }
    for (std::size_t i = 0; i < seg.size(); ++i) {
      if (is_segment_char(seg[i])) continue;
      std::string msg = where + " '" + printable(seg) + "' has " + describe_char(seg[i]) + " at offset " +
                        std::to_string(i) + "; allowed are a-z 0-9 - _";
      if (seg[i] == '*' || seg[i] == '>') {
        msg += kind == Kind::kTopic ? " (wildcards are allowed only in patterns)"
                                    : " (a wildcard must be a whole segment)";
      } else if (seg[i] >= 'A' && seg[i] <= 'Z') {
        msg += " (topics are lower-case)";
      }
      s.add(Code::TOPIC_INVALID, msg);
      return;
    }
  });
  if (depth > kMaxTopicDepth) {
    s.add(Code::TOPIC_INVALID,
          quoted + " has " + std::to_string(depth) + " segments; the limit is " + std::to_string(kMaxTopicDepth));
  }
  return s;
}

// Takes the next segment off `s` (which must be non-empty).
std::string_view next_segment(std::string_view* s) {
  const std::size_t dot = s->find('.');
  std::string_view seg = s->substr(0, dot);
  s->remove_prefix(dot == std::string_view::npos ? s->size() : dot + 1);
  return seg;
}

}  // namespace

Status validate_topic(std::string_view topic) { return validate(topic, Kind::kTopic); }

Status validate_pattern(std::string_view pattern) { return validate(pattern, Kind::kPattern); }

bool topic_matches(std::string_view pattern, std::string_view topic) {
  if (!validate_pattern(pattern).is_ok() || !validate_topic(topic).is_ok()) return false;
  // Both are valid, so neither has empty segments: walk them side by side.
  while (!pattern.empty()) {
    const std::string_view p = next_segment(&pattern);
    if (p == ">") return !topic.empty();  // one or more trailing segments
    if (topic.empty()) return false;      // pattern is deeper than the topic
    const std::string_view t = next_segment(&topic);
    if (p != "*" && p != t) return false;
  }
  return topic.empty();  // topic is deeper than the pattern
}

bool pattern_covers(std::string_view wide, std::string_view narrow) {
  if (!validate_pattern(wide).is_ok() || !validate_pattern(narrow).is_ok()) return false;
  while (!wide.empty()) {
    const std::string_view w = next_segment(&wide);
    if (w == ">") return !narrow.empty();  // narrow goes on by one segment or more
    if (narrow.empty()) return false;      // wide is deeper
    const std::string_view n = next_segment(&narrow);
    if (n == ">") return false;  // one or more segments, wide asks for exactly one here
    if (w != "*" && (n == "*" || w != n)) return false;
  }
  return narrow.empty();
}

std::optional<std::string> unit_of_topic(std::string_view topic) {
  if (!validate_topic(topic).is_ok()) return std::nullopt;
  if (next_segment(&topic) != "unit" || topic.empty()) return std::nullopt;
  return std::string(next_segment(&topic));
}

}  // namespace tearline::policy
