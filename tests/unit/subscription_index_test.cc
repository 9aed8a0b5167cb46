// broker/subscription_index: the token trie that finds the nodes whose
// patterns match a topic. Literal, "*", ">" and their mixes, one answer per
// node however many of its patterns match, removal pruning the trie, and a
// randomized cross-check against policy::topic_matches.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "broker/subscription_index.h"
#include "policy/topic.h"

namespace tearline::broker {
namespace {

using Nodes = std::vector<std::string>;

TEST_CASE("subscription index: literal, * and > patterns", "[broker][subscriptions]") {
  SubscriptionIndex idx;
  REQUIRE(idx.insert("a", "intel.seizures"));
  REQUIRE(idx.insert("b", "intel.*"));
  REQUIRE(idx.insert("c", "intel.>"));
  REQUIRE(idx.insert("d", ">"));
  REQUIRE(idx.insert("e", "*.seizures.col"));
  REQUIRE(idx.insert("f", "unit.*.>"));

  struct Row {
    const char* topic;
    Nodes expected;
  };
  const std::vector<Row> table = {
      {"intel.seizures", {"a", "b", "c", "d"}},
      {"intel.arrests", {"b", "c", "d"}},
      {"intel", {"d"}},  // ">" needs at least one more token; "*" exactly one
      {"intel.seizures.col", {"c", "d", "e"}},
      {"ops.seizures.col", {"d", "e"}},
      {"ops.seizures.col.x", {"d"}},
      {"unit.cucuta-jtf", {"d"}},
      {"unit.cucuta-jtf.ops", {"d", "f"}},
      {"unit.cucuta-jtf.ops.deep.er", {"d", "f"}},
  };
  for (const auto& row : table) {
    INFO(row.topic);
    CHECK(idx.match(row.topic) == row.expected);
  }
  CHECK(idx.size() == 6);
}

TEST_CASE("subscription index: an invalid topic or pattern matches nothing", "[broker][subscriptions]") {
  SubscriptionIndex idx;
  REQUIRE(idx.insert("d", ">"));
  CHECK(idx.match("").empty());
  CHECK(idx.match("Intel.Upper").empty());
  CHECK(idx.match("intel..x").empty());
  CHECK(idx.match("intel.*").empty());
  Status bad = idx.insert("x", "intel.>.x");
  CHECK(bad.code() == Code::TOPIC_INVALID);
  CHECK(idx.insert("x", "").code() == Code::TOPIC_INVALID);
  CHECK(idx.size() == 1);
  CHECK(idx.patterns_of("x").empty());
}

TEST_CASE("subscription index: a node is listed once however many of its patterns match", "[broker][subscriptions]") {
  SubscriptionIndex idx;
  REQUIRE(idx.insert("a", "intel.seizures"));
  REQUIRE(idx.insert("a", "intel.*"));
  REQUIRE(idx.insert("a", "intel.>"));
  REQUIRE(idx.insert("a", ">"));
  REQUIRE(idx.insert("a", "intel.seizures"));  // duplicate: no second entry
  CHECK(idx.size() == 4);
  CHECK(idx.patterns_of("a") == Nodes{"intel.seizures", "intel.*", "intel.>", ">"});
  CHECK(idx.match("intel.seizures") == Nodes{"a"});
  // Removing one of them leaves the others matching.
  CHECK(idx.remove("a", "intel.seizures"));
  CHECK_FALSE(idx.remove("a", "intel.seizures"));
  CHECK(idx.match("intel.seizures") == Nodes{"a"});
}

TEST_CASE("subscription index: removal prunes empty levels and forgets the node", "[broker][subscriptions]") {
  SubscriptionIndex idx;
  const std::size_t empty_nodes = idx.trie_nodes();
  REQUIRE(idx.insert("a", "x.y.z.w"));
  REQUIRE(idx.insert("b", "x.*.z"));
  REQUIRE(idx.insert("b", "x.y.>"));
  CHECK(idx.trie_nodes() > empty_nodes);
  CHECK_FALSE(idx.remove("c", "x.y.z.w"));  // not its pattern
  CHECK_FALSE(idx.remove("a", "x.y.z"));
  CHECK(idx.remove("a", "x.y.z.w"));
  CHECK(idx.match("x.y.z.w") == Nodes{"b"});  // by x.y.>
  CHECK(idx.remove("b", "x.y.>"));
  CHECK(idx.match("x.y.z.w").empty());
  CHECK(idx.match("x.q.z") == Nodes{"b"});
  CHECK(idx.remove("b", "x.*.z"));
  CHECK(idx.match("x.q.z").empty());
  CHECK(idx.size() == 0);
  CHECK(idx.by_node().empty());
  CHECK(idx.trie_nodes() == empty_nodes);
}

TEST_CASE("subscription index: set() replaces a node's list in the given order", "[broker][subscriptions]") {
  SubscriptionIndex idx;
  idx.set("a", {"p.q", "p.*", "p.q"});
  CHECK(idx.patterns_of("a") == Nodes{"p.q", "p.*"});
  CHECK(idx.size() == 2);
  idx.set("a", {"r.>", "p.q"});
  CHECK(idx.patterns_of("a") == Nodes{"r.>", "p.q"});
  CHECK(idx.match("p.z").empty());
  CHECK(idx.match("r.s") == Nodes{"a"});
  // Its own list, passed back by reference, is a no-op.
  idx.set("a", idx.patterns_of("a"));
  CHECK(idx.patterns_of("a") == Nodes{"r.>", "p.q"});
  const std::string first = idx.patterns_of("a").front();
  CHECK(idx.remove(idx.by_node().begin()->first, idx.patterns_of("a").front()));
  CHECK(idx.patterns_of("a") == Nodes{"p.q"});
  CHECK(idx.match(first.substr(0, 1) + ".s").empty());
  idx.set("a", {});
  CHECK(idx.by_node().empty());
  CHECK(idx.match("p.q").empty());
}

TEST_CASE("subscription index: agrees with topic_matches on random patterns and topics", "[broker][subscriptions]") {
  std::mt19937 rng(12);  // NOLINT(bugprone-random-generator-seed): a fixed seed, so a failure reproduces
  const std::vector<std::string> words = {"a", "b", "c", "intel", "ops"};
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  auto random_topic = [&] {
    std::string t;
    const std::size_t depth = 1 + pick(5);
    for (std::size_t i = 0; i < depth; ++i) t += (i ? "." : "") + words[pick(words.size())];
    return t;
  };
  auto random_pattern = [&] {
    std::string p;
    const std::size_t depth = 1 + pick(5);
    for (std::size_t i = 0; i < depth; ++i) {
      const std::size_t r = pick(10);
      std::string tok = r < 2 ? "*" : (r == 2 && i + 1 == depth ? ">" : words[pick(words.size())]);
      p += (i ? "." : "") + tok;
    }
    return p;
  };

  SubscriptionIndex idx;
  std::vector<std::pair<std::string, std::string>> entries;  // (node, pattern)
  for (int i = 0; i < 400; ++i) {
    const std::string node = "n" + std::to_string(pick(40));
    const std::string pattern = random_pattern();
    REQUIRE(policy::validate_pattern(pattern));
    REQUIRE(idx.insert(node, pattern));
    if (std::find(entries.begin(), entries.end(), std::make_pair(node, pattern)) == entries.end()) {
      entries.emplace_back(node, pattern);
    }
  }
  // Remove a third of them again.
  for (std::size_t i = 0; i < entries.size(); i += 3) REQUIRE(idx.remove(entries[i].first, entries[i].second));
  std::vector<std::pair<std::string, std::string>> kept;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i % 3 != 0) kept.push_back(entries[i]);
  }
  CHECK(idx.size() == kept.size());

  for (int i = 0; i < 2000; ++i) {
    const std::string topic = random_topic();
    Nodes expected;
    for (const auto& [node, pattern] : kept) {
      if (policy::topic_matches(pattern, topic)) expected.push_back(node);
    }
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    INFO(topic);
    REQUIRE(idx.match(topic) == expected);
  }
}

}  // namespace
}  // namespace tearline::broker
