// Named contexts (as `nats context`): a saved PKI folder, broker endpoint and
// node id, so that a user does not repeat --pki --broker --node on every
// call. One TOML file per context,
//
//   $XDG_CONFIG_HOME/tearline/contexts/NAME.toml   (or ~/.config/tearline/...)
//     pki = "/abs/path"   broker = "tcp://HOST:PORT"   node = "bka-analyst"
//
// (each key optional), and the selected one's name in
// $XDG_CONFIG_HOME/tearline/context.txt. TEARLINE_CONTEXT names one for a
// single call instead. Errors are values: IO_ERROR for files, INVALID_FIELD
// for names and contents, with the file named.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace tearline::cli {

struct NodeContext {
  std::string name;
  std::string pki, broker, node;  // "" when not set
};

// $XDG_CONFIG_HOME/tearline, else $HOME/.config/tearline; IO_ERROR when neither is set.
Result<std::filesystem::path> config_folder();
// OK for 1..64 of [A-Za-z0-9._-] not starting with '.'; INVALID_FIELD otherwise.
Status check_context_name(const std::string& name);
Result<NodeContext> load_context(const std::string& name);
// Writes NAME.toml (replacing it), creating the folders.
Status save_context(const NodeContext& context);
// Removes NAME.toml, and the selection when it named NAME.
Status remove_context(const std::string& name);
// Every saved context, sorted by name.
Result<std::vector<NodeContext>> list_contexts();
// The selected context's name: TEARLINE_CONTEXT, else context.txt; nullopt when none.
std::optional<std::string> selected_context_name();
Status select_context(const std::string& name);

// An endpoint a node can connect to: OK for tcp://HOST:PORT (PORT a number)
// and ipc://PATH; INVALID_FIELD naming the tcp://HOST:PORT form otherwise.
Status check_endpoint(const std::string& endpoint);

}  // namespace tearline::cli
