#include "cli/common/command_line.h"

#include <algorithm>
#include <cstring>

namespace tearline::cli {
namespace {

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (!sub->get_group().empty()) names.push_back(sub->get_name());  // hidden commands are not suggested
  }
  return names;
}

const CLI::App* subcommand_named(const CLI::App& app, std::string_view name) {
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == name) return sub;
  }
  return nullptr;
}

bool has_json_flag(const CLI::App& app) {
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->check_lname("json")) return true;
  }
  return false;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // d[i][j]: distance between a[0, i) and b[0, j), one row per i.
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 3;  // at most 2 edits
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance && distance < word.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::optional<UnknownCommand> find_unknown_command(const CLI::App& root, int argc, const char* const* argv) {
  const CLI::App* current = &root;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word.empty() || word.front() == '-') return std::nullopt;
    if (const CLI::App* sub = subcommand_named(*current, word)) {
      current = sub;
      path += (path.empty() ? "" : " ") + std::string(word);
      continue;
    }
    if (current->get_require_subcommand_min() == 0 || subcommand_names(*current).empty()) return std::nullopt;
    return UnknownCommand{path, std::string(word), nearest(word, subcommand_names(*current))};
  }
  return std::nullopt;
}

std::string unknown_command_message(const UnknownCommand& unknown) {
  const std::string prefix = unknown.path.empty() ? "" : unknown.path + " ";
  std::string message = "unknown command '" + prefix + unknown.word + "'";
  if (unknown.suggestion) message += "; did you mean '" + prefix + *unknown.suggestion + "'?";
  return message + " (see tearline " + prefix + "--help)";
}

bool json_requested(const CLI::App& root, int argc, const char* const* argv) {
  // The innermost parsed subcommand: the command being run.
  const CLI::App* current = &root;
  while (true) {
    const auto parsed = current->get_subcommands();
    if (parsed.empty()) break;
    current = parsed.front();
  }
  if (current == &root || !has_json_flag(*current)) return false;
  if (current->get_option("--json")->count() > 0) return true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) break;
    if (std::strcmp(argv[i], "--json") == 0) return true;
  }
  return false;
}

}  // namespace tearline::cli
