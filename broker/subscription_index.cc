#include "broker/subscription_index.h"

#include <algorithm>

#include "policy/topic.h"

namespace tearline::broker {

namespace {

// The topic's or pattern's tokens (views into it). Input already validated.
std::vector<std::string_view> tokens_of(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

// Sorted-vector set of node ids.
bool add_sorted(std::vector<std::string>& list, const std::string& node) {
  auto it = std::lower_bound(list.begin(), list.end(), node);
  if (it != list.end() && *it == node) return false;
  list.insert(it, node);
  return true;
}

bool remove_sorted(std::vector<std::string>& list, const std::string& node) {
  auto it = std::lower_bound(list.begin(), list.end(), node);
  if (it == list.end() || *it != node) return false;
  list.erase(it);
  return true;
}

}  // namespace

// One trie node: the subscribers of patterns ending here, and the level below.
struct SubscriptionIndex::Level {
  struct Node {
    std::vector<std::string> nodes;  // patterns ending at this token
    std::unique_ptr<Level> next;
    bool empty() const { return nodes.empty() && (!next || next->empty()); }
  };
  std::map<std::string, Node, std::less<>> literal;
  std::unique_ptr<Node> star;
  std::vector<std::string> rest;  // patterns ending with ">" at this level

  bool empty() const { return literal.empty() && !star && rest.empty(); }

  std::size_t count() const {
    std::size_t n = 1;
    for (const auto& [token, child] : literal) n += child.next ? child.next->count() : 0;
    if (star && star->next) n += star->next->count();
    return n;
  }

  void collect(const std::vector<std::string_view>& topic, std::size_t i, std::vector<std::string>& out) const {
    // ">" here matches the one or more tokens left.
    if (i < topic.size()) out.insert(out.end(), rest.begin(), rest.end());
    if (i >= topic.size()) return;
    auto visit = [&](const Node& child) {
      if (i + 1 == topic.size()) {
        out.insert(out.end(), child.nodes.begin(), child.nodes.end());
      } else if (child.next) {
        child.next->collect(topic, i + 1, out);
      }
    };
    if (auto it = literal.find(topic[i]); it != literal.end()) visit(it->second);
    if (star) visit(*star);
  }
};

SubscriptionIndex::SubscriptionIndex() : root_(std::make_unique<Level>()) {}
SubscriptionIndex::~SubscriptionIndex() = default;
SubscriptionIndex::SubscriptionIndex(SubscriptionIndex&&) noexcept = default;
SubscriptionIndex& SubscriptionIndex::operator=(SubscriptionIndex&&) noexcept = default;

Status SubscriptionIndex::insert(const std::string& node, std::string_view pattern) {
  Status valid = policy::validate_pattern(pattern);
  if (!valid) return valid;
  std::vector<std::string>& list = by_node_[node];
  if (std::find(list.begin(), list.end(), pattern) != list.end()) return Status::ok();
  list.emplace_back(pattern);
  ++entries_;
  const auto tokens = tokens_of(pattern);
  Level* level = root_.get();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string_view t = tokens[i];
    if (t == ">") {  // valid patterns have it last
      add_sorted(level->rest, node);
      break;
    }
    Level::Node* child = nullptr;
    if (t == "*") {
      if (!level->star) level->star = std::make_unique<Level::Node>();
      child = level->star.get();
    } else {
      auto it = level->literal.find(t);
      if (it == level->literal.end()) it = level->literal.emplace(std::string(t), Level::Node{}).first;
      child = &it->second;
    }
    if (i + 1 == tokens.size()) {
      add_sorted(child->nodes, node);
      break;
    }
    if (!child->next) child->next = std::make_unique<Level>();
    level = child->next.get();
  }
  return Status::ok();
}

bool SubscriptionIndex::remove(const std::string& node_ref, std::string_view pattern_ref) {
  // Copies: the caller's strings may live in by_node_, which changes below.
  const std::string node = node_ref;  // NOLINT(performance-unnecessary-copy-initialization): see above
  const std::string pattern(pattern_ref);
  auto owner = by_node_.find(node);
  if (owner == by_node_.end()) return false;
  auto pos = std::find(owner->second.begin(), owner->second.end(), pattern);
  if (pos == owner->second.end()) return false;
  owner->second.erase(pos);
  if (owner->second.empty()) by_node_.erase(owner);
  --entries_;

  // Walk down remembering the path, then prune bottom-up.
  const auto tokens = tokens_of(pattern);
  struct Step {
    Level* level;
    std::string_view token;
  };
  std::vector<Step> path;
  Level* level = root_.get();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string_view t = tokens[i];
    if (t == ">") {
      remove_sorted(level->rest, node);
      break;
    }
    Level::Node* child = nullptr;
    if (t == "*") {
      child = level->star.get();
    } else {
      auto it = level->literal.find(t);
      child = it == level->literal.end() ? nullptr : &it->second;
    }
    if (child == nullptr) break;  // cannot happen: the pattern was inserted
    path.push_back(Step{level, t});
    if (i + 1 == tokens.size()) {
      remove_sorted(child->nodes, node);
      break;
    }
    if (!child->next) break;
    level = child->next.get();
  }
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    Level* l = it->level;
    if (it->token == "*") {
      if (l->star && l->star->empty()) l->star.reset();
    } else if (auto child = l->literal.find(it->token); child != l->literal.end() && child->second.empty()) {
      l->literal.erase(child);
    }
  }
  return true;
}

void SubscriptionIndex::set(const std::string& node_ref, const std::vector<std::string>& patterns_ref) {
  // Copies: the caller's may be this index's own (patterns_of()).
  const std::string node = node_ref;  // NOLINT(performance-unnecessary-copy-initialization): see above
  const std::vector<std::string> patterns = patterns_ref;  // NOLINT(performance-unnecessary-copy-initialization)
  const std::vector<std::string> before = patterns_of(node);
  for (const auto& p : before) {
    if (std::find(patterns.begin(), patterns.end(), p) == patterns.end()) remove(node, p);
  }
  for (const auto& p : patterns) (void)insert(node, p);  // duplicates and invalid ones add nothing
  // Keep the given order (insert() appended new ones after the kept ones).
  auto it = by_node_.find(node);
  if (it == by_node_.end()) return;
  std::vector<std::string> ordered;
  for (const auto& p : patterns) {
    if (std::find(it->second.begin(), it->second.end(), p) != it->second.end() &&
        std::find(ordered.begin(), ordered.end(), p) == ordered.end()) {
      ordered.push_back(p);
    }
  }
  it->second = std::move(ordered);
}

const std::vector<std::string>& SubscriptionIndex::patterns_of(const std::string& node) const {
  static const std::vector<std::string> kNone;
  auto it = by_node_.find(node);
  return it == by_node_.end() ? kNone : it->second;
}

std::vector<std::string> SubscriptionIndex::match(std::string_view topic) const {
  std::vector<std::string> out;
  if (entries_ == 0 || !policy::validate_topic(topic)) return out;
  root_->collect(tokens_of(topic), 0, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::size_t SubscriptionIndex::trie_nodes() const { return root_->count(); }

}  // namespace tearline::broker
