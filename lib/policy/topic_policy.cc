#include "policy/topic_policy.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <utility>

#include "base/files.h"
#include "base/toml_reader.h"
#include "policy/topic.h"

namespace tearline::policy {

namespace {

constexpr std::size_t kMaxPolicyBytes = 1u << 20;
constexpr std::array<std::string_view, 4> kSubjectKinds = {"agency", "role", "unit", "node"};

bool is_valid_subject(std::string_view subject) {
  if (subject == "any") return true;
  const std::size_t colon = subject.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view kind = subject.substr(0, colon);
  return std::find(kSubjectKinds.begin(), kSubjectKinds.end(), kind) != kSubjectKinds.end() &&
         identity::is_valid_id(subject.substr(colon + 1));
}

// Reads `value` as a list of strings into *out, checking each with `check`
// (which returns the problem, or "" when fine).
template <typename Check>
void read_list(const std::string& grant_name, const toml::key& key, const toml::node& value,
               std::vector<std::string>* out, TomlReader* problems, Check&& check) {
  const std::string field = grant_name + ": " + std::string(key.str());
  const toml::array* list = value.as_array();
  if (list == nullptr) {
    problems->add(key.source(), grant_name + ": '" + std::string(key.str()) + "' must be a list of strings");
    return;
  }
  std::size_t index = 0;
  for (const toml::node& element : *list) {
    const std::string where = field + "[" + std::to_string(index++) + "]";
    const auto* text = element.as_string();
    if (text == nullptr) {
      problems->add(element.source(), where + " is not a string");
      continue;
    }
    std::string problem = check(text->get());
    if (!problem.empty()) {
      problems->add(element.source(), where + " " + problem);
      continue;
    }
    out->push_back(text->get());
  }
}

std::string check_subject(const std::string& subject) {
  if (is_valid_subject(subject)) return "";
  return "'" + subject + "' is not a subject (expected agency:ID, role:ID, unit:ID, node:ID or any)";
}

std::string check_pattern(const std::string& pattern) {
  Status s = validate_pattern(pattern);
  if (s.is_ok()) return "";
  std::string out = "is not a valid pattern:";
  for (const Reason& r : s.reasons()) out += " " + r.message + ";";
  out.pop_back();
  return out;
}

// Parses one [[grant]] table. Returns false (problems added) when unusable.
bool parse_grant(const std::string& name, const toml::table& table, Grant* grant, TomlReader* problems) {
  const std::size_t before = problems->problem_count();
  bool has_to = false, to_is_empty_list = false, has_list = false;
  for (auto&& [key, value] : table) {
    const std::string_view k = key.str();
    std::vector<std::string>* patterns = nullptr;
    if (k == "to") {
      has_to = true;
      to_is_empty_list = value.is_array() && value.as_array()->empty();
      read_list(name, key, value, &grant->to, problems, check_subject);
      continue;
    }
    if (k == "publish") patterns = &grant->publish;
    if (k == "subscribe") patterns = &grant->subscribe;
    if (k == "deny_publish") patterns = &grant->deny_publish;
    if (k == "deny_subscribe") patterns = &grant->deny_subscribe;
    if (patterns == nullptr) {
      problems->add(key.source(), name + ": unknown key '" + std::string(k) +
                                      "' (expected to, publish, subscribe, deny_publish, deny_subscribe)");
      continue;
    }
    has_list = true;
    read_list(name, key, value, patterns, problems, check_pattern);
  }
  if (!has_to) {
    problems->add(table.source(), name + ": 'to' (the subjects) is missing");
  } else if (to_is_empty_list) {
    problems->add(table.source(), name + ": 'to' names no subject");
  }
  if (!has_list) {
    problems->add(table.source(), name + ": grants nothing (no publish, subscribe, deny_publish or deny_subscribe)");
  }
  return problems->problem_count() == before;
}

bool applies(const Grant& grant, const identity::Credential& node, const identity::Directory& directory,
             std::int64_t t) {
  return std::any_of(grant.to.begin(), grant.to.end(), [&](const std::string& subject) {
    if (subject == "any") return true;
    const std::size_t colon = subject.find(':');
    if (colon == std::string::npos) return false;
    const std::string_view kind = std::string_view(subject).substr(0, colon);
    const std::string_view id = std::string_view(subject).substr(colon + 1);
    if (kind == "agency") return node.agency == id;
    if (kind == "role") return node.has_role(id);
    if (kind == "node") return node.node_id == id;
    if (kind == "unit") return directory.is_member(node.node_id, id, t);
    return false;
  });
}

const std::string* first_match(const std::vector<std::string>& patterns, std::string_view topic) {
  for (const auto& p : patterns) {
    if (topic_matches(p, topic)) return &p;
  }
  return nullptr;
}

}  // namespace

Result<TopicPolicy> TopicPolicy::load(const std::filesystem::path& path) {
  auto text = read_file(path, kMaxPolicyBytes);
  if (!text) return Status::fail(Code::IO_ERROR, "topic policy: " + text.status().reasons().front().message);
  return parse(as_chars(*text), path.string());
}

Result<TopicPolicy> TopicPolicy::parse(std::string_view toml_text, std::string_view source_name) {
  // Every problem, each with its line, in line order (base/toml_reader.h).
  TomlReader problems(toml_text, std::string(source_name), TomlReader::LineStyle::kPrefix);
  if (!problems.parsed()) return problems.status();
  const toml::table& doc = problems.root();
  for (auto&& [key, value] : doc) {
    if (key.str() != "grant") {
      problems.add(key.source(),
                   "unknown top-level key '" + std::string(key.str()) + "' (a policy holds only [[grant]] tables)");
    }
  }
  TopicPolicy policy;
  if (const toml::node* grants = doc.get("grant")) {
    const toml::array* list = grants->as_array();
    if (list == nullptr) {
      problems.add(grants->source(), "'grant' must be an array of tables, written [[grant]]");
    } else {
      std::size_t index = 0;
      for (const toml::node& element : *list) {
        const std::string name = "grant #" + std::to_string(++index);
        const toml::table* table = element.as_table();
        if (table == nullptr) {
          problems.add(element.source(), name + " is not a table");
          continue;
        }
        Grant grant;
        if (parse_grant(name, *table, &grant, &problems)) {
          policy.grants_.push_back(std::move(grant));
          policy.lines_.push_back(table->source().begin.line);
        }
      }
    }
  }
  Status status = problems.status();
  if (!status.is_ok()) return status;
  return policy;
}

Status TopicPolicy::check(const identity::Directory& directory, std::string_view node_id, std::string_view topic,
                          Access access, std::int64_t t) const {
  Status s = validate_topic(topic);
  const identity::Credential* node = directory.node(node_id);
  if (node == nullptr) {
    const std::string shown = identity::is_valid_id(node_id) ? "'" + std::string(node_id) + "'" : "(not a valid id)";
    s.add(Code::UNKNOWN_NODE, "node " + shown + " is not in the directory");
  }
  if (!s.is_ok()) return s;

  const bool write = access == Access::kWrite;
  const Code denied = write ? Code::TOPIC_WRITE_DENIED : Code::TOPIC_READ_DENIED;
  // Built only for a denial: an allowed check (every delivery) allocates nothing here.
  auto who_what = [&] {
    return "node '" + node->node_id + "' may not " + (write ? "publish on" : "subscribe to") + " '" +
           std::string(topic) + "'";
  };

  if (auto unit = unit_of_topic(topic); unit && !directory.is_member(node->node_id, *unit, t)) {
    s.add(Code::NOT_UNIT_MEMBER, who_what() + ": the topic belongs to unit '" + *unit +
                                     "' and no charter in force at that time lists the node as a member");
  }

  bool allowed = false;
  for (std::size_t i = 0; i < grants_.size(); ++i) {
    const Grant& grant = grants_[i];
    if (!applies(grant, *node, directory, t)) continue;
    if (first_match(write ? grant.publish : grant.subscribe, topic) != nullptr) allowed = true;
    const auto& deny = write ? grant.deny_publish : grant.deny_subscribe;
    for (const auto& pattern : deny) {
      if (!topic_matches(pattern, topic)) continue;
      std::string grant_name = "grant #" + std::to_string(i + 1);
      if (i < lines_.size()) grant_name += " (line " + std::to_string(lines_[i]) + ")";
      s.add(denied, who_what() + ": denied by " + grant_name + " " + (write ? "deny_publish" : "deny_subscribe") +
                        " '" + pattern + "'");
    }
  }
  if (!allowed) {
    s.add(denied, who_what() + ": no grant that applies to the node allows it in " + (write ? "publish" : "subscribe"));
  }
  return s;
}

}  // namespace tearline::policy
