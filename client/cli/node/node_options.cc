#include "cli/node/node_options.h"

#include <cstdlib>

#include "base/clock.h"
#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "cli/node/node_context.h"

namespace tearline::cli {
namespace {

// Sets `value` and `from` from the environment variable when it is set.
void from_env(const char* variable, std::string* value, std::string* from) {
  const char* v = std::getenv(variable);
  if (v == nullptr || *v == '\0') return;
  *value = v;
  *from = variable;
}

bool given_outright(const std::string& from) { return from.rfind("--", 0) == 0 || from.rfind("TEARLINE_", 0) == 0; }

}  // namespace

void NodeOptions::add_to(CLI::App* cmd, bool required) {
  node_required = required;
  if (auto name = selected_context_name()) {
    auto context = load_context(*name);
    if (context) {
      const std::string from = "context " + *name;
      if (!context->pki.empty()) pki = context->pki, pki_from = from;
      if (!context->broker.empty()) broker = context->broker, broker_from = from;
      if (!context->node.empty()) node = context->node, node_from = from;
    } else {
      context_problem = "the selected context: " + context.status().to_string();
    }
  }
  from_env("TEARLINE_PKI", &pki, &pki_from);
  from_env("TEARLINE_BROKER", &broker, &broker_from);
  from_env("TEARLINE_NODE", &node, &node_from);

  cmd->add_option("--pki", pki,
                  "PKI folder made by `tearline certs` (env TEARLINE_PKI; default certs/demo, the demo's)")
      ->type_name("DIR")
      ->each([this](const std::string&) { pki_from = "--pki"; });
  cmd->add_option("--directory", directory, "directory folder (default PKI/directory)")->type_name("DIR");
  cmd->add_option("--key", key, "node key file (default PKI/keys/nodes/NODE.key)")->type_name("FILE");
  cmd->add_option("-n,--node", node, "node id to act as (env TEARLINE_NODE)")
      ->type_name("NODE")
      ->each([this](const std::string&) { node_from = "--node"; });
  cmd->add_option("-s,--broker", broker,
                  "broker endpoint tcp://HOST:PORT (env TEARLINE_BROKER; default tcp://127.0.0.1:7801, the demo's)")
      ->type_name("ENDPOINT")
      ->each([this](const std::string&) { broker_from = "--broker"; });
  if (const char* id = std::getenv("TEARLINE_BROKER_ID"); id != nullptr) broker_id = id;
  cmd->add_option("--broker-id", broker_id,
                  "the broker's node id, when the PKI has several (env TEARLINE_BROKER_ID; default: the PKI's "
                  "first, PKI/directory/broker.pub): its CURVE key is its credential's")
      ->type_name("ID");
  cmd->add_option("--timeout", timeout_ms, "milliseconds to wait for the broker (default 5000)")
      ->check(CLI::Range(100, 600000));
}

void NodeOptions::check() const {
  auto usage = [](const std::string& message) {
    throw CommandExit(kExitUsage, one_line(message), Code::INVALID_FIELD);
  };
  if (!context_problem.empty() &&
      !(given_outright(pki_from) && given_outright(broker_from) && (!node_required || given_outright(node_from)))) {
    usage(context_problem + " (choose another with `tearline context use NAME`)");
  }
  if (node_required && node.empty()) {
    usage("no node given: give -n/--node NODE, set TEARLINE_NODE, or select a context (`tearline context use NAME`)");
  }
  if (Status s = check_endpoint(broker); !s) {
    usage("--broker " + s.reasons().front().message + (broker_from == "--broker" ? "" : " (from " + broker_from + ")"));
  }
  if (directory.empty()) {
    std::error_code ec;
    const std::string where = "--pki '" + pki + "'" + (pki_from == "--pki" ? "" : " (from " + pki_from + ")");
    const std::string hint = ": give --pki DIR or set TEARLINE_PKI to a folder made by `tearline certs`";
    if (!std::filesystem::is_directory(pki, ec)) usage(where + ": no such folder" + hint);
    if (!std::filesystem::exists(directory_path() / "trust.toml", ec)) {
      usage(where + ": not a PKI folder (no directory/trust.toml)" + hint);
    }
  }
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
  o.broker_id = broker_id;
  o.connect_timeout_ms = timeout_ms;
  o.request_timeout_ms = timeout_ms;
  o.client_name = "tearline-cli";
  return o;
}

std::unique_ptr<client::Session> connect_or_exit(const NodeOptions& options) {
  options.check();
  auto session = client::Session::connect(options.session_options());
  if (!session) {
    throw CommandExit(session.status(), one_line("cannot connect as " + options.node + " to " + options.broker + ": "));
  }
  return std::move(session).value();
}

identity::DirectoryPtr load_directory_or_exit(const std::filesystem::path& directory) {
  auto dir = identity::Directory::load(directory, SystemClock::instance().now_seconds(), nullptr);
  if (!dir) throw CommandExit(dir.status(), "");
  return std::move(dir).value();
}

}  // namespace tearline::cli
