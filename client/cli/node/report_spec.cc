#include "cli/node/report_spec.h"

#include <algorithm>
#include <charconv>
#include <iostream>
#include <optional>
#include <sstream>

#include "base/files.h"
#include "base/toml_reader.h"
#include "report/format.h"

namespace tearline::cli {
namespace {

std::vector<std::string> split_commas(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& item : in) {
    std::stringstream ss(item);
    std::string part;
    while (std::getline(ss, part, ',')) {
      if (!part.empty()) out.push_back(part);
    }
  }
  return out;
}

std::string line_of(const toml::node& n) { return " (line " + std::to_string(n.source().begin.line) + ")"; }

// True when `key` is absent or holds a value of type T; else a problem.
template <typename T>
bool has_type_or_absent(const toml::table& t, std::string_view key, std::string_view type, const std::string& where,
                        TomlReader& r) {
  const toml::node* n = t.get(key);
  if (n == nullptr || n->is<T>()) return true;
  r.add_rendered(Reason{Code::INVALID_FIELD, where + ": " + std::string(key) + " must be a " + std::string(type)});
  return false;
}

// The new and the old name of a key (a spec key is its publish flag's name;
// the old one is version 0.1's), and the deprecation notes of the old names read.
struct KeyNames {
  TomlReader& r;
  std::vector<SpecDeprecation>* deprecations;

  // The key `table` uses for the value: `now`, `old` (with a deprecation note),
  // or "" when neither is given or both are (a problem).
  std::string_view pick(const toml::table& table, std::string_view now, std::string_view old,
                        const std::string& where) const {
    const toml::node* n = table.get(now);
    const toml::node* o = table.get(old);
    if (n != nullptr && o != nullptr) {
      r.add(*o, where + ": give '" + std::string(now) + "' only ('" + std::string(old) + "' is its old name)");
      return {};
    }
    if (o == nullptr) return n != nullptr ? now : std::string_view{};
    if (deprecations != nullptr) {
      deprecations->push_back(SpecDeprecation{std::string(old), std::string(now), o->source().begin.line});
    }
    return old;
  }
};

// A list of strings, or one string (a one-item list, which may hold a comma
// list as the flags do); a problem and nullopt for any other type.
std::optional<std::vector<std::string>> string_list(TomlReader& r, const toml::table& t, std::string_view key,
                                                    const std::string& name) {
  if (key.empty()) return std::nullopt;
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (n->is_string()) return std::vector<std::string>{n->value_or(std::string())};
  if (!n->is_array()) {
    r.add(*n, name + " must be a string or a list of strings");
    return std::nullopt;
  }
  return r.strings(t, key, name);
}

// Version 0.1's `sources = [{ report_id = "HEX", sections = [1, 3] }]`.
void read_old_sources(TomlReader& r, const toml::table& doc, report::ReportDraft* draft) {
  const auto* sources = doc["sources"].as_array();
  if (sources == nullptr) {
    r.add(*doc.get("sources"), "sources must be a list of { report_id, sections }");
    return;
  }
  for (const auto& n : *sources) {
    const auto* t = n.as_table();
    Bytes id;
    std::string hex = t ? (*t)["report_id"].value_or(std::string()) : std::string();
    if (t == nullptr || !from_hex(hex, &id) || id.size() != 16) {
      r.add(n, "a source needs report_id = 32 hex characters");
      continue;
    }
    r.refuse_unknown_keys(*t, {"report_id", "sections"}, "unknown key '", "' in a source");
    if (t->contains("sections") && !(*t)["sections"].is_array()) r.add(n, "source sections must be a list of numbers");
    report::SourceCitation cite{id, {}};
    if (const auto* secs = (*t)["sections"].as_array()) {
      for (const auto& s : *secs) {
        auto i = s.value<std::int64_t>();
        if (!i || *i < 1 || *i > static_cast<std::int64_t>(report::kMaxSections)) {
          r.add(s, "source sections are numbered from 1");
          continue;
        }
        cite.sections.push_back(static_cast<std::uint32_t>(*i - 1));
      }
    }
    draft->sources.push_back(std::move(cite));
  }
}

}  // namespace

Result<policy::Label> label_from_flags(const std::string& classification, const std::vector<std::string>& releasable,
                                       const std::vector<std::string>& units, bool orcon) {
  auto c = identity::classification_from_name(classification);
  if (!c) {
    return Status::fail(
        Code::LABEL_INVALID,
        "classification '" + classification + "' is not UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET or TOP_SECRET");
  }
  policy::Label label = policy::normalized(policy::Label{*c, split_commas(releasable), split_commas(units), orcon});
  Status valid = policy::validate_label(label);
  if (!valid) return valid;
  return label;
}

Result<report::SourceCitation> parse_source_citation(const std::string& text) {
  const auto bad = [&text](const std::string& why) {
    return Status::fail(Code::INVALID_FIELD, "source '" + text + "': " + why);
  };
  const auto colon = text.find(':');
  report::SourceCitation cite;
  if (!from_hex(text.substr(0, colon), &cite.report_id) || cite.report_id.size() != 16) {
    return bad("the report id must be 32 hex characters");
  }
  if (colon == std::string::npos) return cite;
  std::string_view rest = std::string_view(text).substr(colon + 1);
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || n < 1 || n > report::kMaxSections) {
      return bad("sections are numbers from 1 to " + std::to_string(report::kMaxSections) + ", separated by commas");
    }
    cite.sections.push_back(n - 1);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return cite;
}

Result<report::ReportDraft> parse_report_spec(std::string_view toml_text, const std::filesystem::path& base_dir,
                                              std::string_view source_name,
                                              std::vector<SpecDeprecation>* deprecations) {
  // Problems in the order found (each with its line), as the callers print them.
  TomlReader r(toml_text, std::string(source_name), TomlReader::LineStyle::kSuffix);
  if (!r.parsed()) return r.status();
  const toml::table& doc = r.root();
  const std::string src(source_name);
  const KeyNames names{r, deprecations};
  report::ReportDraft draft;
  r.refuse_unknown_keys(doc, {"topic", "section", "source", "sources"}, "unknown key '", "'");
  if (const toml::node* topic = doc.get("topic"); topic == nullptr || topic->is_string()) {
    draft.topic = doc["topic"].value_or(std::string());
    if (draft.topic.empty()) r.add_unplaced("topic is required");
  } else {
    r.add_unplaced("topic must be a string");
  }
  if (const std::string_view key = names.pick(doc, "source", "sources", "a source list"); key == "source") {
    for (const std::string& text : string_list(r, doc, "source", "source").value_or(std::vector<std::string>{})) {
      auto cite = parse_source_citation(text);
      if (cite) {
        draft.sources.push_back(std::move(cite).value());
      } else {
        r.add(*doc.get("source"), cite.status().reasons().front().message);
      }
    }
  } else if (key == "sources") {
    read_old_sources(r, doc, &draft);
  }
  // Problems the reader cannot place itself: "SOURCE section N (line L): ...".
  const auto problem = [&r](Code code, std::string message) { r.add_rendered(Reason{code, std::move(message)}); };
  const auto* sections = doc["section"].as_array();
  if (sections == nullptr || sections->empty()) r.add_unplaced("at least one [[section]] is required");
  if (sections != nullptr) {
    int index = 0;
    for (const auto& n : *sections) {
      ++index;
      const auto* t = n.as_table();
      const std::string where = src + " section " + std::to_string(index) + line_of(n);
      if (t == nullptr) {
        problem(Code::INVALID_FIELD, where + ": a section is a table ([[section]])");
        continue;
      }
      for (const auto& [k, v] : *t) {
        static const std::vector<std::string> known{"classification", "rel",  "unit",          "orcon", "text",
                                                    "body_file",      "file", "releasable_to", "units"};
        if (std::find(known.begin(), known.end(), std::string(k.str())) == known.end()) {
          problem(Code::INVALID_FIELD, where + ": unknown key '" + std::string(k.str()) + "'");
        }
      }
      const std::size_t known_problems = r.problem_count();
      // A list of another type is a problem, never ignored: a dropped `unit`
      // would widen a label's audience.
      const std::string name = "section " + std::to_string(index) + ": ";
      const std::string_view rel_key = names.pick(*t, "rel", "releasable_to", where);
      const std::string_view unit_key = names.pick(*t, "unit", "units", where);
      const std::string_view file_key = names.pick(*t, "body_file", "file", where);
      const auto rel = string_list(r, *t, rel_key, name + std::string(rel_key)).value_or(std::vector<std::string>{});
      const auto units =
          string_list(r, *t, unit_key, name + std::string(unit_key)).value_or(std::vector<std::string>{});
      has_type_or_absent<bool>(*t, "orcon", "boolean", where, r);
      has_type_or_absent<std::string>(*t, "classification", "string", where, r);
      if (!file_key.empty()) has_type_or_absent<std::string>(*t, file_key, "string", where, r);
      has_type_or_absent<std::string>(*t, "text", "string", where, r);
      if (r.problem_count() != known_problems) continue;
      auto label =
          label_from_flags((*t)["classification"].value_or(std::string()), rel, units, (*t)["orcon"].value_or(false));
      if (!label) {
        for (const auto& reason : label.status().reasons()) problem(reason.code, where + ": " + reason.message);
        continue;
      }
      report::SectionDraft section{*label, {}};
      auto text = (*t)["text"].value<std::string>();
      auto file = file_key.empty() ? std::nullopt : (*t)[file_key].value<std::string>();
      if (text.has_value() == file.has_value()) {
        problem(Code::INVALID_FIELD, where + ": give exactly one of text or body_file");
        continue;
      }
      if (text) {
        section.content = to_bytes(*text);
      } else {
        std::filesystem::path p(*file);
        auto bytes = read_file(p.is_absolute() ? p : base_dir / p);
        if (!bytes) {
          for (const Reason& reason : bytes.status().reasons()) r.add_rendered(reason);
          continue;
        }
        section.content = std::move(bytes).value();
      }
      draft.sections.push_back(std::move(section));
    }
  }
  if (!r.ok()) return r.status(TomlReader::Order::kAsFound);
  return draft;
}

std::string deprecation_note(std::string_view source_name, const std::vector<SpecDeprecation>& deprecations) {
  if (deprecations.empty()) return {};
  // One entry per old key, in the order first read, with every line it is on.
  std::vector<std::pair<const SpecDeprecation*, std::string>> keys;
  for (const SpecDeprecation& d : deprecations) {
    auto it = std::find_if(keys.begin(), keys.end(), [&d](const auto& k) { return k.first->old_key == d.old_key; });
    if (it == keys.end()) {
      keys.emplace_back(&d, std::to_string(d.line));
    } else {
      it->second += ", " + std::to_string(d.line);
    }
  }
  std::string note = std::string(source_name) + ": old key names, still read:";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    note += std::string(i == 0 ? " '" : ", '") + keys[i].first->old_key + "' (line " + keys[i].second + ") is now '" +
            keys[i].first->new_key + "'";
  }
  return note + " (the publish flags' names)";
}

Result<report::ReportDraft> load_report_spec(const std::filesystem::path& path, std::ostream* notes) {
  auto text = read_file(path, 1u << 20);
  if (!text) return text.status();
  std::vector<SpecDeprecation> deprecations;
  auto draft =
      parse_report_spec(as_chars(*text), std::filesystem::absolute(path).parent_path(), path.string(), &deprecations);
  if (!deprecations.empty())
    (notes != nullptr ? *notes : std::cerr) << "tearline: " << deprecation_note(path.string(), deprecations) << "\n";
  return draft;
}

}  // namespace tearline::cli
