// The end of a log file, for error messages about a child process that failed
// (its log says why). Any thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace tearline {

// The last `max_lines` lines of the text file at `path`, each prefixed with
// `indent` and ended with "\n"; "" when the file cannot be read or is empty.
std::string tail_of_file(const std::filesystem::path& path, std::size_t max_lines, std::string_view indent = {});

}  // namespace tearline
