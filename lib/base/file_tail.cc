#include "base/file_tail.h"

#include <deque>
#include <fstream>

namespace tearline {

std::string tail_of_file(const std::filesystem::path& path, std::size_t max_lines, std::string_view indent) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (lines.size() > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) {
    out += indent;
    out += l;
    out += '\n';
  }
  return out;
}

}  // namespace tearline
