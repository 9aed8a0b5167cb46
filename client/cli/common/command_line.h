// What the `tearline` front end (client/cli/main.cc) checks on the command
// line around CLI11's parse: the nearest registered command to a mistyped one,
// and whether the command being run asked for JSON (its --json flag), so that
// its errors are printed as JSON too. Pure functions of the app and argv; no
// output.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tearline::cli {

// The optimal-string-alignment distance: insertions, deletions, substitutions
// and transpositions of two adjacent characters each cost 1 ("pubish" ->
// "publish" is 1, "pbulish" -> "publish" is 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, when it is near enough to be a typo: at
// most 2 edits and fewer edits than `word` has characters. Ties go to the
// first candidate in order. std::nullopt when none is near.
std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates);

// A word on the command line where a command was expected and none is named so.
struct UnknownCommand {
  std::string path;                       // the commands before it, "" or "certs" or "certs charter"
  std::string word;                       // "pubish"
  std::optional<std::string> suggestion;  // "publish"
};

// Walks argv from the root: each word (not starting with '-') that names a
// subcommand of the current command descends into it; the first word that
// does not, where the current command requires a subcommand, is an unknown
// command. Stops at the first option. std::nullopt when every command word is
// known (CLI11 then reports any other problem).
std::optional<UnknownCommand> find_unknown_command(const CLI::App& root, int argc, const char* const* argv);

// "unknown command 'pubish'; did you mean 'publish'? (see tearline --help)",
// which the front end prints after "tearline: ".
std::string unknown_command_message(const UnknownCommand& unknown);

// True when the innermost command selected on the command line has a --json
// flag and it was given: after a complete parse from the parsed options; after
// a parse that stopped on an error, from argv (a "--json" word before any
// "--"), since CLI11 may have stopped before reaching it.
bool json_requested(const CLI::App& root, int argc, const char* const* argv);

}  // namespace tearline::cli
