#include "cli/node/node_options.h"

#include "base/clock.h"
#include "cli/common/commands.h"

namespace tearline::cli {

void NodeOptions::add_to(CLI::App* cmd, bool node_required) {
  cmd->add_option("--pki", pki, "PKI folder made by `tearline certs` (default certs/demo)");
  cmd->add_option("--directory", directory, "directory folder (default PKI/directory)");
  cmd->add_option("--key", key, "node key file (default PKI/keys/nodes/NODE.key)");
  auto* n = cmd->add_option("--node", node, "node id to act as");
  if (node_required) n->required();
  cmd->add_option("--broker", broker, "broker endpoint (default tcp://127.0.0.1:7801)");
  cmd->add_option("--timeout", timeout_ms, "milliseconds to wait for the broker (default 5000)")
      ->check(CLI::Range(100, 600000));
}

std::filesystem::path NodeOptions::directory_path() const {
  return directory.empty() ? std::filesystem::path(pki) / "directory" : std::filesystem::path(directory);
}

std::filesystem::path NodeOptions::key_path() const {
  return key.empty() ? std::filesystem::path(pki) / "keys" / "nodes" / (node + ".key") : std::filesystem::path(key);
}

client::SessionOptions NodeOptions::session_options() const {
  client::SessionOptions o;
  o.endpoint = broker;
  o.directory = directory_path();
  o.key_file = key_path();
  o.node_id = node;
  o.connect_timeout_ms = timeout_ms;
  o.request_timeout_ms = timeout_ms;
  o.client_name = "tearline-cli";
  return o;
}

std::unique_ptr<client::Session> connect_or_exit(const NodeOptions& options) {
  auto session = client::Session::connect(options.session_options());
  if (!session) {
    throw CommandExit(exit_code_for(session.status()), "cannot connect as " + options.node + " to " + options.broker +
                                                           ": " + session.status().to_string());
  }
  return std::move(session).value();
}

identity::DirectoryPtr load_directory_or_exit(const std::filesystem::path& directory) {
  auto dir = identity::Directory::load(directory, SystemClock::instance().now_seconds(), nullptr);
  if (!dir) throw CommandExit(exit_code_for(dir.status()), dir.status().to_string());
  return std::move(dir).value();
}

}  // namespace tearline::cli
