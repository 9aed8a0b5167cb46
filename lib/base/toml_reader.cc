#include "base/toml_reader.h"

#include <algorithm>
#include <cstdint>

namespace tearline {

TomlReader::TomlReader(std::string_view text, std::string source, LineStyle style)
    : source_(std::move(source)), style_(style) {
  try {
    root_ = toml::parse(text, source_);
    parsed_ = true;
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    std::string message = style_ == LineStyle::kPrefix
                              ? render(begin.line, "not valid TOML: " + std::string(e.description()) + " (column " +
                                                       std::to_string(begin.column) + ")")
                              : render(begin.line, e.description());
    problems_.push_back(Problem{begin.line, Reason{Code::INVALID_FIELD, std::move(message)}});
  }
}

std::string TomlReader::render(std::size_t line, std::string_view message) const {
  if (line == 0) return source_ + ": " + std::string(message);
  if (style_ == LineStyle::kPrefix) return source_ + " line " + std::to_string(line) + ": " + std::string(message);
  return source_ + ": " + std::string(message) + " (line " + std::to_string(line) + ")";
}

void TomlReader::add(const toml::source_region& at, const std::string& message, Code code) {
  add_at_line(at.begin.line, message, code);
}

void TomlReader::add_at_line(std::size_t line, const std::string& message, Code code) {
  problems_.push_back(Problem{line, Reason{code, render(line, message)}});
}

void TomlReader::add_unplaced(const std::string& message, Code code) {
  problems_.push_back(Problem{0, Reason{code, render(0, message)}});
}

Status TomlReader::status(Order order) const {
  std::vector<Problem> sorted = problems_;
  // toml++ walks a table's keys sorted by name, not by line: report in line order.
  if (order == Order::kByLine) {
    std::stable_sort(sorted.begin(), sorted.end(), [](const Problem& a, const Problem& b) {
      const auto key = [](const Problem& p) { return p.line == 0 ? SIZE_MAX : p.line; };
      return key(a) < key(b);
    });
  }
  std::vector<Reason> reasons;
  reasons.reserve(sorted.size());
  for (auto& p : sorted) reasons.push_back(std::move(p.reason));
  return reasons.empty() ? Status::ok() : Status::fail(std::move(reasons));
}

bool TomlReader::refuse_unknown_keys(const toml::table& table, std::initializer_list<std::string_view> known,
                                     std::string_view prefix, std::string_view suffix) {
  bool clean = true;
  for (const auto& [key, value] : table) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
      add(key.source(), std::string(prefix) + std::string(key.str()) + std::string(suffix));
      clean = false;
    }
  }
  return clean;
}

namespace {
std::string name_of(std::string_view key, std::string_view name) { return std::string(name.empty() ? key : name); }
}  // namespace

std::optional<std::string> TomlReader::string(const toml::table& table, std::string_view key, std::string_view name) {
  const toml::node* n = table.get(key);
  if (n == nullptr) return std::nullopt;
  if (auto v = n->value<std::string>()) return v;
  add(*n, name_of(key, name) + " must be a string");
  return std::nullopt;
}

std::optional<bool> TomlReader::boolean(const toml::table& table, std::string_view key, std::string_view name) {
  const toml::node* n = table.get(key);
  if (n == nullptr) return std::nullopt;
  if (auto v = n->value<bool>()) return v;
  add(*n, name_of(key, name) + " must be true or false");
  return std::nullopt;
}

std::optional<std::int64_t> TomlReader::integer(const toml::table& table, std::string_view key, std::int64_t lo,
                                                std::int64_t hi, std::string_view name) {
  const toml::node* n = table.get(key);
  if (n == nullptr) return std::nullopt;
  const auto v = n->value<std::int64_t>();
  if (!v || *v < lo || *v > hi) {
    add(*n, name_of(key, name) + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
    return std::nullopt;
  }
  return v;
}

std::optional<std::vector<std::string>> TomlReader::strings(const toml::table& table, std::string_view key,
                                                            std::string_view name) {
  const toml::node* n = table.get(key);
  if (n == nullptr) return std::nullopt;
  const std::string problem = name_of(key, name) + " must be a list of strings";
  const toml::array* list = n->as_array();
  if (list == nullptr) {
    add(*n, problem);
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const toml::node& element : *list) {
    const auto s = element.value<std::string>();
    if (!s) {
      add(element, problem);
      return std::nullopt;
    }
    out.push_back(*s);
  }
  return out;
}

const toml::array* TomlReader::tables(const toml::table& table, std::string_view key, std::string_view name) {
  const toml::node* n = table.get(key);
  if (n == nullptr) return nullptr;
  const toml::array* list = n->as_array();
  if (list == nullptr || !list->is_array_of_tables()) {
    add(*n, name_of(key, name) + " must be an array of tables, written [[" + std::string(key) + "]]");
    return nullptr;
  }
  return list;
}

}  // namespace tearline
