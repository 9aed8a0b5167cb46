#include "cli/node/report_spec.h"

#include <algorithm>
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

Result<report::ReportDraft> parse_report_spec(std::string_view toml_text, const std::filesystem::path& base_dir,
                                              std::string_view source_name) {
  // Problems in the order found (each with its line), as the callers print them.
  TomlReader r(toml_text, std::string(source_name), TomlReader::LineStyle::kSuffix);
  if (!r.parsed()) return r.status();
  const toml::table& doc = r.root();
  const std::string src(source_name);
  report::ReportDraft draft;
  r.refuse_unknown_keys(doc, {"topic", "section", "sources"}, "unknown key '", "'");
  if (const toml::node* topic = doc.get("topic"); topic == nullptr || topic->is_string()) {
    draft.topic = doc["topic"].value_or(std::string());
    if (draft.topic.empty()) r.add_unplaced("topic is required");
  } else {
    r.add_unplaced("topic must be a string");
  }
  if (doc.contains("sources") && !doc["sources"].is_array()) {
    r.add(*doc.get("sources"), "sources must be a list of { report_id, sections }");
  }
  if (const auto* sources = doc["sources"].as_array()) {
    for (const auto& n : *sources) {
      const auto* t = n.as_table();
      Bytes id;
      std::string hex = t ? (*t)["report_id"].value_or(std::string()) : std::string();
      if (t == nullptr || !from_hex(hex, &id) || id.size() != 16) {
        r.add(n, "a source needs report_id = 32 hex characters");
        continue;
      }
      r.refuse_unknown_keys(*t, {"report_id", "sections"}, "unknown key '", "' in a source");
      if (t->contains("sections") && !(*t)["sections"].is_array())
        r.add(n, "source sections must be a list of numbers");
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
      draft.sources.push_back(std::move(cite));
    }
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
        static const std::vector<std::string> known{"classification", "releasable_to", "units",
                                                    "orcon",          "text",          "file"};
        if (std::find(known.begin(), known.end(), std::string(k.str())) == known.end()) {
          problem(Code::INVALID_FIELD, where + ": unknown key '" + std::string(k.str()) + "'");
        }
      }
      const std::size_t known_problems = r.problem_count();
      // A list of another type is a problem, never ignored: a dropped `units`
      // would widen a label's audience.
      const std::string name = "section " + std::to_string(index) + ": ";
      const auto rel = r.strings(*t, "releasable_to", name + "releasable_to").value_or(std::vector<std::string>{});
      const auto units = r.strings(*t, "units", name + "units").value_or(std::vector<std::string>{});
      has_type_or_absent<bool>(*t, "orcon", "boolean", where, r);
      has_type_or_absent<std::string>(*t, "classification", "string", where, r);
      if (r.problem_count() != known_problems) continue;
      auto label =
          label_from_flags((*t)["classification"].value_or(std::string()), rel, units, (*t)["orcon"].value_or(false));
      if (!label) {
        for (const auto& reason : label.status().reasons()) problem(reason.code, where + ": " + reason.message);
        continue;
      }
      report::SectionDraft section{*label, {}};
      auto text = (*t)["text"].value<std::string>();
      auto file = (*t)["file"].value<std::string>();
      if (text.has_value() == file.has_value()) {
        problem(Code::INVALID_FIELD, where + ": give exactly one of text or file");
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

Result<report::ReportDraft> load_report_spec(const std::filesystem::path& path) {
  auto text = read_file(path, 1u << 20);
  if (!text) return text.status();
  return parse_report_spec(as_chars(*text), std::filesystem::absolute(path).parent_path(), path.string());
}

}  // namespace tearline::cli
