// A strict TOML reader over toml++: parses a document once and collects every
// problem found while the caller reads it (unknown keys, wrong types, values
// out of range, the caller's own checks), each with the source name and the
// line it is on, into one Status. Parsers of tearline's TOML files (broker
// configuration, roster, trust store, topic policy, report specs, inject
// scenarios) read through it, so they refuse the same things the same way.
//
//   TomlReader r(text, "broker.toml", TomlReader::LineStyle::kSuffix);
//   if (!r.parsed()) return r.status();   // the syntax error, with line
//   r.refuse_unknown_keys(r.root(), {"broker", "limits"}, "unknown key ");
//   auto port = r.integer(*broker, "port", 1, 65535);
//   ...
//   if (!r.ok()) return r.status();
//
// A problem is rendered as "SOURCE line N: message" (kPrefix) or
// "SOURCE: message (line N)" (kSuffix); one not tied to a node as
// "SOURCE: message". The getters return nullopt both when the key is absent
// (no problem) and when it has the wrong type or range (problem recorded);
// use has() to tell them apart. Not thread-safe; the reader owns the parsed
// document, and the nodes it hands out live as long as the reader.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tearline {

class TomlReader {
 public:
  enum class LineStyle { kPrefix, kSuffix };

  // Parses `text`. A syntax error becomes the one problem (code
  // INVALID_FIELD, "SOURCE line N: not valid TOML: description (column C)"
  // in kPrefix style, "SOURCE: description (line N)" in kSuffix), and
  // parsed() is false.
  TomlReader(std::string_view text, std::string source, LineStyle style = LineStyle::kPrefix);

  bool parsed() const { return parsed_; }
  // The document; empty when it did not parse.
  const toml::table& root() const { return root_; }
  const std::string& source() const { return source_; }

  // ---- problems -------------------------------------------------------------
  void add(const toml::source_region& at, const std::string& message, Code code = Code::INVALID_FIELD);
  void add(const toml::node& at, const std::string& message, Code code = Code::INVALID_FIELD) {
    add(at.source(), message, code);
  }
  // A problem at a line the caller knows (1 for the document as a whole).
  void add_at_line(std::size_t line, const std::string& message, Code code = Code::INVALID_FIELD);
  // A problem of the document as a whole (a required key that is absent).
  void add_unplaced(const std::string& message, Code code = Code::INVALID_FIELD);
  // A problem whose whole message the caller has rendered itself (its line
  // inside, if any); sorted with the unplaced ones.
  void add_rendered(Reason reason) { problems_.push_back(Problem{0, std::move(reason)}); }
  bool ok() const { return problems_.empty(); }
  std::size_t problem_count() const { return problems_.size(); }
  // Every problem, in line order (unplaced ones last, each group in the
  // order added) or in the order found; OK when there is none.
  enum class Order { kByLine, kAsFound };
  Status status(Order order = Order::kByLine) const;

  // ---- keys -----------------------------------------------------------------
  // One problem per key of `table` not in `known`: `prefix` + key + `suffix`,
  // placed at the key (e.g. prefix "unknown key broker." or "grant #2:
  // unknown key '" with suffix "'"). Returns false when there was one.
  bool refuse_unknown_keys(const toml::table& table, std::initializer_list<std::string_view> known,
                           std::string_view prefix = "unknown key ", std::string_view suffix = {});
  static bool has(const toml::table& table, std::string_view key) { return table.get(key) != nullptr; }

  // ---- typed values ---------------------------------------------------------
  // Each records "NAME must be ..." at the value when it has another type
  // (NAME: `name`, or the key when `name` is empty).
  std::optional<std::string> string(const toml::table& table, std::string_view key, std::string_view name = {});
  std::optional<bool> boolean(const toml::table& table, std::string_view key, std::string_view name = {});
  // An integer in [lo, hi]: "NAME must be an integer in LO..HI" otherwise.
  std::optional<std::int64_t> integer(const toml::table& table, std::string_view key, std::int64_t lo, std::int64_t hi,
                                      std::string_view name = {});
  // An array whose elements are all strings: "NAME must be a list of strings"
  // otherwise (once, at the first offending node).
  std::optional<std::vector<std::string>> strings(const toml::table& table, std::string_view key,
                                                  std::string_view name = {});
  // An array whose elements are all tables ([[key]]): "NAME must be an array
  // of tables, written [[KEY]]" otherwise.
  const toml::array* tables(const toml::table& table, std::string_view key, std::string_view name = {});

 private:
  struct Problem {
    std::size_t line = 0;  // 0: unplaced
    Reason reason;
  };
  std::string render(std::size_t line, std::string_view message) const;

  toml::table root_;
  std::string source_;
  LineStyle style_;
  bool parsed_ = false;
  std::vector<Problem> problems_;
};

}  // namespace tearline
