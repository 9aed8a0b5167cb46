// Topic names and subscription patterns (docs/policy.md, "Topics").
//
//   topic    = segment *( "." segment )            ; 1..kMaxTopicDepth segments
//   segment  = 1*32( %x61-7A / DIGIT / "-" / "_" ) ; lower-case letters, digits, - _
//   pattern  = pseg *( "." pseg ) [ "." ">" ] / ">"
//   pseg     = segment / "*"
//
// "*" matches exactly one segment; ">" (last only) matches one or more
// trailing segments. Total length <= kMaxTopicLength bytes. Topics are
// validated before any match; a malformed topic or pattern matches nothing.
// Topics under "unit.<unit-id>." belong to that joint unit.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace tearline::policy {

inline constexpr std::size_t kMaxTopicLength = 128;
inline constexpr std::size_t kMaxTopicDepth = 8;
inline constexpr std::size_t kMaxSegmentLength = 32;

// OK, or TOPIC_INVALID with the reasons (charset, length, depth, empty
// segment, misplaced wildcard), one per bad segment, each naming the segment
// (from 1) and, for a bad character, its offset. The limits apply to patterns
// too. Input is echoed into reasons only as printable ASCII, truncated.
Status validate_topic(std::string_view topic);
Status validate_pattern(std::string_view pattern);

// True when the valid `pattern` matches the valid `topic`; false if either is invalid.
bool topic_matches(std::string_view pattern, std::string_view topic);

// True when the valid pattern `wide` matches every topic the valid pattern
// `narrow` matches ("intel.>" covers "intel.labs.*"; "intel.*" does not
// cover "intel.>"); false if either is invalid.
bool pattern_covers(std::string_view wide, std::string_view narrow);

// For "unit.<id>" and "unit.<id>.rest", the unit id; nullopt for other
// topics and for invalid ones. ("unit.<id>" itself counts as the unit's, so a
// grant on "unit.*" cannot open it to non-members.)
// (A unit id in a topic is a topic segment, so unit ids used in unit topics
// must be lower-case; the demo's "cucuta-jtf" is.)
std::optional<std::string> unit_of_topic(std::string_view topic);

}  // namespace tearline::policy
