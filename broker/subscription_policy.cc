#include "broker/subscription_policy.h"

#include <algorithm>
#include <string>
#include <vector>

namespace tearline::broker {

namespace {

// A token that no valid pattern or topic of a policy file is likely to
// name; it stands for "some token" in a witness topic.
constexpr std::string_view kWitnessToken = "tearline-witness-0";

std::vector<std::string_view> tokens_of(std::string_view pattern) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = pattern.find('.', start);
    out.push_back(pattern.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

using Tokens = std::vector<std::string_view>;

bool intersect(const Tokens& a, std::size_t i, const Tokens& b, std::size_t j) {
  const bool a_end = i == a.size(), b_end = j == b.size();
  if (a_end || b_end) return a_end && b_end;
  if (a[i] == ">" || b[j] == ">") return true;  // ">" takes one or more tokens; the other has one at least
  if (a[i] != "*" && b[j] != "*" && a[i] != b[j]) return false;
  return intersect(a, i + 1, b, j + 1);
}

bool covers(const Tokens& outer, std::size_t i, const Tokens& inner, std::size_t j) {
  const bool outer_end = i == outer.size(), inner_end = j == inner.size();
  if (outer_end || inner_end) return outer_end && inner_end;
  if (outer[i] == ">") return true;
  if (inner[j] == ">") return false;  // only ">" covers any number of tokens
  if (outer[i] != "*" && outer[i] != inner[j]) return false;
  return covers(outer, i + 1, inner, j + 1);
}

bool has_wildcard(std::string_view pattern) {
  for (auto t : tokens_of(pattern)) {
    if (t == "*" || t == ">") return true;
  }
  return false;
}

std::string witness_of(std::string_view pattern) {
  std::string out;
  for (auto t : tokens_of(pattern)) {
    if (!out.empty()) out += '.';
    out += (t == "*" || t == ">") ? kWitnessToken : t;
  }
  return out;
}

// Whether `grant` applies to the node at `t`, as TopicPolicy judges it: a
// policy of that one grant allowing one plain topic.
bool applies(const policy::Grant& grant, const identity::Directory& directory, std::string_view node, std::int64_t t) {
  policy::Grant probe;
  probe.to = grant.to;
  probe.subscribe = {std::string(kWitnessToken)};
  return policy::TopicPolicy({probe}).check(directory, node, kWitnessToken, policy::Access::kRead, t).is_ok();
}

// `status` with every "'witness'" in its messages shown as "'pattern'".
Status named_for_pattern(const Status& status, const std::string& witness, std::string_view pattern) {
  const std::string from = "'" + witness + "'";
  const std::string to = "'" + std::string(pattern) + "'";
  Status out;
  for (const auto& r : status.reasons()) {
    std::string message = r.message;
    for (std::size_t at = message.find(from); at != std::string::npos; at = message.find(from, at + to.size())) {
      message.replace(at, from.size(), to);
    }
    out.add(r.code, std::move(message));
  }
  return out;
}

}  // namespace

bool patterns_intersect(std::string_view a, std::string_view b) { return intersect(tokens_of(a), 0, tokens_of(b), 0); }

bool pattern_covers(std::string_view outer, std::string_view inner) {
  return covers(tokens_of(outer), 0, tokens_of(inner), 0);
}

Status check_subscribe_pattern(const policy::TopicPolicy& topics, const identity::Directory& directory,
                               std::string_view node, std::string_view pattern, std::int64_t t) {
  if (!has_wildcard(pattern)) return topics.check(directory, node, pattern, policy::Access::kRead, t);
  const std::string witness = witness_of(pattern);
  const Status at_witness = topics.check(directory, node, witness, policy::Access::kRead, t);
  if (at_witness) return Status::ok();  // some topic under the pattern is readable

  bool allowed_somewhere = false;
  bool denied_everywhere = false;
  for (const auto& grant : topics.grants()) {
    if (!applies(grant, directory, node, t)) continue;
    for (const auto& allow : grant.subscribe) allowed_somewhere |= patterns_intersect(allow, pattern);
    for (const auto& deny : grant.deny_subscribe) denied_everywhere |= pattern_covers(deny, pattern);
  }
  const Tokens tokens = tokens_of(pattern);
  const bool other_unit = tokens.size() >= 3 && tokens[0] == "unit" && tokens[1] != "*" && tokens[1] != ">" &&
                          at_witness.has(Code::NOT_UNIT_MEMBER);
  if (allowed_somewhere && !denied_everywhere && !other_unit) return Status::ok();
  Status reasons = named_for_pattern(at_witness, witness, pattern);
  if (other_unit) return reasons;
  // The unit the witness fell under is the witness token's, not one the
  // pattern names: that reason says nothing about the pattern.
  Status without_unit;
  for (const auto& r : reasons.reasons()) {
    if (r.code != Code::NOT_UNIT_MEMBER) without_unit.add(r.code, r.message);
  }
  return without_unit;
}

Status check_peer_pattern(const PeerLink& link, std::string_view pattern) {
  const auto& topics = link.to_them().topics;
  // Within the peering's topics, not merely meeting them: a wider pattern
  // would be judged PEERING_TOPIC, and audited, for every other report.
  if (std::any_of(topics.begin(), topics.end(), [&](const std::string& t) { return pattern_covers(t, pattern); })) {
    return Status::ok();
  }
  std::string allowed;
  for (const auto& t : topics) allowed += (allowed.empty() ? "" : ", ") + t;
  return Status::fail(Code::PEERING_TOPIC, "pattern " + std::string(pattern) + " is not within the topics peering " +
                                               link.peering.peering_id + " v" + std::to_string(link.peering.version) +
                                               " lets cross to " + link.them().agency + " (" +
                                               (allowed.empty() ? "none" : allowed) + ")");
}

}  // namespace tearline::broker
