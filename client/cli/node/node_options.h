// Options shared by the commands that act as a node: which PKI, which node,
// which broker. `--pki DIR` names a PKI folder as `tearline certs` lays it out
// (DIR/directory, DIR/keys/nodes/<node>.key); `--directory` and `--key`
// override either part.
//
// Where each of pki, broker and node comes from, first found wins: the flag
// (--pki, -s/--broker, -n/--node), the environment (TEARLINE_PKI,
// TEARLINE_BROKER, TEARLINE_NODE), the selected context (node_context.h),
// else the demo's defaults (certs/demo, tcp://127.0.0.1:7801; no node).
// `--broker-id ID` (env TEARLINE_BROKER_ID) names the broker when the PKI
// has several: its CURVE key is then its credential's (client.h).
// The environment and the context are read when add_to() is called, before
// parsing; the flags then overwrite what they name.
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
  std::string broker_id;  // "": the PKI's first broker (directory/broker.pub)
  int timeout_ms = 5000;
  // Where pki, broker and node came from, for messages: "--pki",
  // "TEARLINE_PKI", "context NAME" or "the demo's default".
  std::string pki_from = "the demo's default", broker_from = "the demo's default", node_from;
  bool node_required = true;
  std::string context_problem;  // why the selected context could not be read

  // Fills pki, broker and node from the environment and the selected
  // context, then adds --pki, --directory, --key, -n/--node, -s/--broker,
  // --broker-id, --timeout to `cmd`. The object must outlive the parse (the flags record
  // their source through it).
  void add_to(CLI::App* cmd, bool node_required = true);

  // Throws CommandExit(kExitUsage) with one line naming the flag and the
  // variable: no node (when required), a broker that is not tcp://HOST:PORT,
  // a PKI folder that does not exist or holds no directory, or a selected
  // context that could not be read while something came from none of the
  // flags or the environment.
  void check() const;

  std::filesystem::path directory_path() const;
  std::filesystem::path key_path() const;
  client::SessionOptions session_options() const;
};

// check(), then connects as the node, or throws CommandExit with one clear
// line: kExitUnavailable when the broker does not answer, kExitFailure when it
// refuses (a handshake failure names the broker key file), kExitUsage for bad
// local files (an unknown, expired or revoked credential says which).
std::unique_ptr<client::Session> connect_or_exit(const NodeOptions& options);

// Loads the directory named by the options, or throws CommandExit.
identity::DirectoryPtr load_directory_or_exit(const std::filesystem::path& directory);

}  // namespace tearline::cli
