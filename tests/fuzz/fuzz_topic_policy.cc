// policy::TopicPolicy::parse: a policy that parses holds only valid patterns
// and grants that name a subject.
#include "fuzz_target.h"
#include "policy/topic.h"
#include "policy/topic_policy.h"

namespace tearline::fuzz {

void topic_policy(ByteView input) {
  auto policy = policy::TopicPolicy::parse(as_chars(input), "fuzz.toml");
  if (!policy) return;
  for (const policy::Grant& g : policy->grants()) {
    require(!g.to.empty(), "a grant names a subject");
    for (const auto* list : {&g.publish, &g.subscribe, &g.deny_publish, &g.deny_subscribe}) {
      for (const std::string& p : *list) require(policy::validate_pattern(p).is_ok(), "grant patterns are valid");
    }
  }
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(topic_policy)
