// Topic permissions, from a TOML policy file (docs/policy.md, "Topic policy"):
//
//   [[grant]]
//   to = ["agency:DEA", "role:analyst", "unit:cucuta-jtf", "node:fgr-liaison", "any"]
//   publish = ["intel.>"]          # allow patterns for writing
//   subscribe = ["intel.>"]        # allow patterns for reading
//   deny_publish = ["intel.hq.>"]  # deny wins over any allow
//   deny_subscribe = []
//
// A node may write (read) a topic when some grant that applies to it allows
// the topic and no grant that applies to it denies it. Independently of the
// grants, a topic "unit.<id>.…" is open only to members of unit <id> (through
// a charter in force). Invalid topics are refused before any match.
//
// Subjects: "agency:X" (the credential's agency), "role:X" (one of its roles),
// "unit:X" (Directory::is_member at the time asked), "node:X" (the node id),
// "any" (every node in the directory). A policy built in code is not
// validated: a malformed subject applies to no one, a malformed pattern
// matches nothing. Grants are numbered from 1 in file order in reasons.
//
// Immutable after construction; share it across threads as const.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"
#include "identity/directory.h"

namespace tearline::policy {

struct Grant {
  std::vector<std::string> to;  // "agency:X", "role:X", "unit:X", "node:X", "any"
  std::vector<std::string> publish, subscribe, deny_publish, deny_subscribe;
};

enum class Access { kRead, kWrite };

class TopicPolicy {
 public:
  TopicPolicy() = default;
  explicit TopicPolicy(std::vector<Grant> grants) : grants_(std::move(grants)) {}

  // INVALID_FIELD (every problem, with its line) for a malformed file or a
  // malformed pattern or subject in it, an unknown key (top level or in a
  // grant), a grant with no subject or with no list at all; IO_ERROR when
  // unreadable. A file with no grant is valid and denies everything.
  static Result<TopicPolicy> load(const std::filesystem::path& path);
  static Result<TopicPolicy> parse(std::string_view toml_text, std::string_view source_name);

  // OK, or every reason the node may not read/write `topic` at `t`:
  // TOPIC_INVALID, TOPIC_READ_DENIED / TOPIC_WRITE_DENIED (no allow, or an
  // explicit deny, naming the pattern), NOT_UNIT_MEMBER (unit topic).
  // Order: TOPIC_INVALID and UNKNOWN_NODE alone (nothing else can be
  // judged); otherwise NOT_UNIT_MEMBER, then one denial per matching deny
  // pattern ("grant #N (line L) deny_publish 'P'"), then "no grant allows".
  // Credential validity is not judged here (see may_read / may_publish).
  Status check(const identity::Directory& directory, std::string_view node_id, std::string_view topic, Access access,
               std::int64_t t) const;

  const std::vector<Grant>& grants() const { return grants_; }

 private:
  std::vector<Grant> grants_;
  std::vector<std::int64_t> lines_;  // line of each [[grant]] when parsed; empty when built in code
};

}  // namespace tearline::policy
