// Reports described by hand: a label from flags, or a whole report from a TOML
// spec file (`tearline publish --spec FILE`, docs/quickstart.md). A spec key is
// the name of the publish flag that sets the same thing, so one vocabulary
// serves both:
//
//   topic = "unit.cucuta-jtf.seizures"                 # --topic
//   source = ["<32 hex>", "<32 hex>:1,3"]              # --source (optional; sections from 1)
//   [[section]]
//   classification = "SECRET"                           # --classification
//   rel = ["COL"]           # --rel; a list or "COL,USA"; empty or absent: the originator's country only
//   unit = ["cucuta-jtf"]   # --unit; a list or "a,b"
//   orcon = false           # --orcon
//   text = "..."            # --text, or body_file = "relative/to/the/spec" (--body-file)
//
// The keys of version 0.1 (releasable_to, units, file, sources = [{ report_id,
// sections }]) are still read, with one deprecation note per file naming the
// new keys: their meaning is the same, and refusing them would break every
// existing spec for no safety gain. A table that gives both a key and its old
// name is refused.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "base/result.h"
#include "policy/label.h"
#include "report/builder.h"

namespace tearline::cli {

// Builds a normalized label; LABEL_INVALID (every reason) for an unknown
// classification or a bad country or unit. `releasable` and `units` accept
// comma-separated lists too ("COL,USA").
Result<policy::Label> label_from_flags(const std::string& classification, const std::vector<std::string>& releasable,
                                       const std::vector<std::string>& units, bool orcon);

// "HEX" or "HEX:1,3" (the --source flag and the spec's `source` items): the
// cited report id (32 hex characters) and its sections, numbered from 1 in the
// text and from 0 in the result (none listed: the whole report).
// INVALID_FIELD naming `text` otherwise.
Result<report::SourceCitation> parse_source_citation(const std::string& text);

// An old key read from a spec: its name, the name that replaced it, its line.
struct SpecDeprecation {
  std::string old_key, new_key;
  std::size_t line = 0;
};

// Every problem with its line (INVALID_FIELD / LABEL_INVALID); files named by
// `body_file` are read relative to `base_dir`. Each old key read is added to
// `deprecations` (when given), in the order read.
Result<report::ReportDraft> parse_report_spec(std::string_view toml_text, const std::filesystem::path& base_dir,
                                              std::string_view source_name,
                                              std::vector<SpecDeprecation>* deprecations = nullptr);

// The one note for the old keys of a spec (empty when there are none):
// "SOURCE: old key names, still read: 'releasable_to' (line 4, 9) is now 'rel',
// ... (the publish flags' names)".
std::string deprecation_note(std::string_view source_name, const std::vector<SpecDeprecation>& deprecations);

// Reads and parses the file (at most 1 MiB); writes its deprecation note, if
// any, as one line "tearline: NOTE" to `notes` (stderr unless another stream
// is given), so that a spec of version 0.1 adds one line to the output.
Result<report::ReportDraft> load_report_spec(const std::filesystem::path& path, std::ostream* notes = nullptr);

}  // namespace tearline::cli
