// Whether a node may subscribe to a pattern at all (docs/protocol.md,
// "Subscriptions"): a SUBSCRIBE to a pattern under which the topic policy
// could never let the node read anything is REJECTED, with the policy's own
// reasons; a pattern partly allowed is accepted (each report is still judged
// at delivery).
//
// A pattern is denied entirely when
//  - it has no wildcard and TopicPolicy::check denies it as a topic; or
//  - no grant that applies to the node has a `subscribe` pattern that
//    intersects it (no topic is matched by both); or
//  - a grant that applies to the node has a `deny_subscribe` pattern that
//    covers it (matches every topic it matches); or
//  - it lies under "unit.<id>." for a unit the node is not a member of.
// The reasons are TopicPolicy::check's for a witness topic of the pattern
// (each "*" and ">" replaced by one token no pattern names), with the
// witness's name replaced by the pattern's. The list is sufficient, not
// complete: an allow minus several denies that leaves nothing is accepted.
//
// Pure: no I/O, no clock (the caller passes `t`); any thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"
#include "broker/trust_state.h"
#include "identity/directory.h"
#include "policy/topic_policy.h"

namespace tearline::broker {

// OK, or TOPIC_READ_DENIED / NOT_UNIT_MEMBER (every reason) when `pattern`
// (valid, policy::validate_pattern) is denied `node` entirely at `t`.
Status check_subscribe_pattern(const policy::TopicPolicy& topics, const identity::Directory& directory,
                               std::string_view node, std::string_view pattern, std::int64_t t);

// For a partner's boundary broker (trust_state.h, PeerLink): OK when the
// pattern lies within a topic pattern the peering lets cross towards it
// (pattern_covers), else PEERING_TOPIC naming the topics it does.
Status check_peer_pattern(const PeerLink& link, std::string_view pattern);

// Pattern algebra on valid patterns (policy/topic.h grammar), for the above.
// Some topic matches both `a` and `b`.
bool patterns_intersect(std::string_view a, std::string_view b);
// Every topic `inner` matches, `outer` matches too.
bool pattern_covers(std::string_view outer, std::string_view inner);

}  // namespace tearline::broker
