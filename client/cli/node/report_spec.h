// Reports described by hand: a label from flags, or a whole report from TOML.
//
//   topic = "unit.cucuta-jtf.seizures"
//   sources = [{ report_id = "<32 hex>", sections = [1] }]   # optional, 1-based
//   [[section]]
//   classification = "SECRET"
//   releasable_to = ["COL"]        # empty or absent: the originator's country only
//   units = ["cucuta-jtf"]
//   orcon = false
//   text = "..."                   # or file = "relative/to/the/toml"
#pragma once

#include <filesystem>
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

// Every problem with its line (INVALID_FIELD / LABEL_INVALID); files named by
// `file` are read relative to `base_dir`.
Result<report::ReportDraft> parse_report_spec(std::string_view toml_text, const std::filesystem::path& base_dir,
                                              std::string_view source_name);
Result<report::ReportDraft> load_report_spec(const std::filesystem::path& path);

}  // namespace tearline::cli
