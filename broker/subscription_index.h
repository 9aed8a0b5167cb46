// SubscriptionIndex: who subscribed to what. The durable subscriptions are per
// NODE (every session of a node shares them; they are recovered from the
// store), and this index answers "which nodes have a pattern matching this
// topic" in time proportional to the topic's depth, not to the number of
// nodes times their patterns.
//
// Design: a token trie like nats-server's sublist. Each level holds the
// literal children by token, one "*" child, and the subscribers of a ">"
// ending at that level. A node whose pattern ends at a trie node is listed
// there. Matching walks the topic's tokens once, following the literal and
// the "*" branch at each level (at most 2^depth paths, depth <= 8, in
// practice a handful), and collects the ">" lists met on the way.
// Grammar: policy/topic.h ("*" one token, ">" one or more trailing tokens).
//
// Ownership and threads: a plain value, owned by the broker's I/O thread; not
// thread-safe. Pure: no I/O, no clock.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tearline::broker {

class SubscriptionIndex {
 public:
  SubscriptionIndex();
  ~SubscriptionIndex();
  SubscriptionIndex(SubscriptionIndex&&) noexcept;
  SubscriptionIndex& operator=(SubscriptionIndex&&) noexcept;

  // Adds `pattern` for `node`. TOPIC_INVALID (nothing added) when the pattern
  // is not valid (policy::validate_pattern); OK and nothing changes when the
  // node already has it.
  Status insert(const std::string& node, std::string_view pattern);
  // Removes `pattern` of `node` and prunes the levels left empty. False
  // when the node did not have it.
  bool remove(const std::string& node, std::string_view pattern);
  // Makes `patterns` the node's whole list (in that order, duplicates and
  // invalid patterns dropped); an empty list forgets the node.
  void set(const std::string& node, const std::vector<std::string>& patterns);

  // The node's patterns in the order they were added; empty when none.
  const std::vector<std::string>& patterns_of(const std::string& node) const;
  const std::map<std::string, std::vector<std::string>>& by_node() const { return by_node_; }

  // The nodes with at least one pattern matching `topic`, each once, sorted.
  // Empty when the topic is not valid (as policy::topic_matches).
  std::vector<std::string> match(std::string_view topic) const;

  // (node, pattern) entries held.
  std::size_t size() const { return entries_; }
  // Trie nodes allocated (for tests: removal prunes them).
  std::size_t trie_nodes() const;

 private:
  struct Level;
  std::unique_ptr<Level> root_;
  std::map<std::string, std::vector<std::string>> by_node_;
  std::size_t entries_ = 0;
};

}  // namespace tearline::broker
