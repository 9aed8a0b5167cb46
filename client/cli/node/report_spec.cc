#include "cli/node/report_spec.h"

#include <toml++/toml.h>

#include <sstream>

#include "base/files.h"

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

// A list of strings under `key`, absent = empty. A value of another type is a
// problem, never ignored: a dropped `units` would widen a label's audience.
std::vector<std::string> string_list(const toml::table& t, std::string_view key, const std::string& where,
                                     Status* problems) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (n == nullptr) return out;
  const auto* a = n->as_array();
  if (a != nullptr) {
    for (const auto& e : *a) {
      if (!e.is_string()) {
        a = nullptr;
        break;
      }
      out.push_back(*e.value<std::string>());
    }
  }
  if (a == nullptr) problems->add(Code::INVALID_FIELD, where + ": " + std::string(key) + " must be a list of strings");
  return out;
}

// True when `key` is absent or holds a value of type T; else a problem.
template <typename T>
bool has_type_or_absent(const toml::table& t, std::string_view key, std::string_view type, const std::string& where,
                        Status* problems) {
  const toml::node* n = t.get(key);
  if (n == nullptr || n->is<T>()) return true;
  problems->add(Code::INVALID_FIELD, where + ": " + std::string(key) + " must be a " + std::string(type));
  return false;
}

}  // namespace

Result<policy::Label> label_from_flags(const std::string& classification, const std::vector<std::string>& releasable,
                                       const std::vector<std::string>& units, bool orcon) {
  auto c = identity::classification_from_name(classification);
  if (!c) {
    return Status::fail(Code::LABEL_INVALID, "classification '" + classification +
                                                 "' is not UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET or TOP_SECRET");
  }
  policy::Label label = policy::normalized(policy::Label{*c, split_commas(releasable), split_commas(units), orcon});
  Status valid = policy::validate_label(label);
  if (!valid) return valid;
  return label;
}

Result<report::ReportDraft> parse_report_spec(std::string_view toml_text, const std::filesystem::path& base_dir,
                                              std::string_view source_name) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source_name << ": " << e.description() << " (line " << e.source().begin.line << ")";
    return Status::fail(Code::INVALID_FIELD, msg.str());
  }
  const std::string src(source_name);
  Status problems;
  report::ReportDraft draft;
  for (const auto& [k, v] : doc) {
    const std::string key(k.str());
    if (key != "topic" && key != "section" && key != "sources") {
      problems.add(Code::INVALID_FIELD, src + ": unknown key '" + key + "'" + line_of(v));
    }
  }
  if (has_type_or_absent<std::string>(doc, "topic", "string", src, &problems)) {
    draft.topic = doc["topic"].value_or(std::string());
    if (draft.topic.empty()) problems.add(Code::INVALID_FIELD, src + ": topic is required");
  }
  if (doc.contains("sources") && !doc["sources"].is_array()) {
    problems.add(Code::INVALID_FIELD,
                 src + ": sources must be a list of { report_id, sections }" + line_of(*doc.get("sources")));
  }
  if (const auto* sources = doc["sources"].as_array()) {
    for (const auto& n : *sources) {
      const auto* t = n.as_table();
      Bytes id;
      std::string hex = t ? (*t)["report_id"].value_or(std::string()) : std::string();
      if (t == nullptr || !from_hex(hex, &id) || id.size() != 16) {
        problems.add(Code::INVALID_FIELD, src + ": a source needs report_id = 32 hex characters" + line_of(n));
        continue;
      }
      for (const auto& [k, v] : *t) {
        if (k.str() != "report_id" && k.str() != "sections") {
          problems.add(Code::INVALID_FIELD,
                       src + ": unknown key '" + std::string(k.str()) + "' in a source" + line_of(v));
        }
      }
      if (t->contains("sections") && !(*t)["sections"].is_array()) {
        problems.add(Code::INVALID_FIELD, src + ": source sections must be a list of numbers" + line_of(n));
      }
      report::SourceCitation cite{id, {}};
      if (const auto* secs = (*t)["sections"].as_array()) {
        for (const auto& s : *secs) {
          auto i = s.value<std::int64_t>();
          if (!i || *i < 1 || *i > 64) {
            problems.add(Code::INVALID_FIELD, src + ": source sections are numbered from 1" + line_of(s));
            continue;
          }
          cite.sections.push_back(static_cast<std::uint32_t>(*i - 1));
        }
      }
      draft.sources.push_back(std::move(cite));
    }
  }
  const auto* sections = doc["section"].as_array();
  if (sections == nullptr || sections->empty()) problems.add(Code::INVALID_FIELD, src + ": at least one [[section]] is required");
  if (sections != nullptr) {
    int index = 0;
    for (const auto& n : *sections) {
      ++index;
      const auto* t = n.as_table();
      const std::string where = src + " section " + std::to_string(index) + line_of(n);
      if (t == nullptr) {
        problems.add(Code::INVALID_FIELD, where + ": a section is a table ([[section]])");
        continue;
      }
      for (const auto& [k, v] : *t) {
        static const std::vector<std::string> known{"classification", "releasable_to", "units", "orcon", "text", "file"};
        if (std::find(known.begin(), known.end(), std::string(k.str())) == known.end()) {
          problems.add(Code::INVALID_FIELD, where + ": unknown key '" + std::string(k.str()) + "'");
        }
      }
      const std::size_t known_problems = problems.reasons().size();
      const std::vector<std::string> rel = string_list(*t, "releasable_to", where, &problems);
      const std::vector<std::string> units = string_list(*t, "units", where, &problems);
      has_type_or_absent<bool>(*t, "orcon", "boolean", where, &problems);
      has_type_or_absent<std::string>(*t, "classification", "string", where, &problems);
      if (problems.reasons().size() != known_problems) continue;
      auto label = label_from_flags((*t)["classification"].value_or(std::string()), rel, units,
                                    (*t)["orcon"].value_or(false));
      if (!label) {
        for (const auto& r : label.status().reasons()) problems.add(r.code, where + ": " + r.message);
        continue;
      }
      report::SectionDraft section{*label, {}};
      auto text = (*t)["text"].value<std::string>();
      auto file = (*t)["file"].value<std::string>();
      if (text.has_value() == file.has_value()) {
        problems.add(Code::INVALID_FIELD, where + ": give exactly one of text or file");
        continue;
      }
      if (text) {
        section.content = to_bytes(*text);
      } else {
        std::filesystem::path p(*file);
        auto bytes = read_file(p.is_absolute() ? p : base_dir / p);
        if (!bytes) {
          problems.merge(bytes.status());
          continue;
        }
        section.content = std::move(bytes).value();
      }
      draft.sections.push_back(std::move(section));
    }
  }
  if (!problems) return problems;
  return draft;
}

Result<report::ReportDraft> load_report_spec(const std::filesystem::path& path) {
  auto text = read_file(path, 1u << 20);
  if (!text) return text.status();
  return parse_report_spec(as_chars(*text), std::filesystem::absolute(path).parent_path(), path.string());
}

}  // namespace tearline::cli
