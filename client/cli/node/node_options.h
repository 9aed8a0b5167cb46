// Options shared by the commands that act as a node: which PKI, which node,
// which broker. `--pki DIR` names a PKI folder as `tearline certs` lays it out
// (DIR/directory, DIR/keys/nodes/<node>.key); `--directory` and `--key`
// override either part.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "client/session_internal.h"

namespace tearline::cli {

struct NodeOptions {
  std::string pki = "certs/demo";
  std::string directory;  // default: <pki>/directory
  std::string key;        // default: <pki>/keys/nodes/<node>.key
  std::string node;
  std::string broker = "tcp://127.0.0.1:7801";
  int timeout_ms = 5000;

  // Adds --pki, --directory, --key, --node (required when node_required),
  // --broker, --timeout to `cmd`.
  void add_to(CLI::App* cmd, bool node_required = true);

  std::filesystem::path directory_path() const;
  std::filesystem::path key_path() const;
  client::SessionOptions session_options() const;
};

// Connects as the node, or throws CommandExit with one clear line:
// kExitUnavailable when the broker does not answer, kExitFailure when it
// refuses, kExitUsage for bad local files.
std::unique_ptr<client::Session> connect_or_exit(const NodeOptions& options);

// Loads the directory named by the options, or throws CommandExit.
identity::DirectoryPtr load_directory_or_exit(const std::filesystem::path& directory);

}  // namespace tearline::cli
