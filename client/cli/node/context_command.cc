// `tearline context save|use|list|show|rm`: named contexts (node_context.h),
// as `nats context`: a saved --pki, --broker and --node that the node
// commands use when neither the flag nor TEARLINE_PKI / _BROKER / _NODE
// gives one. Exit 0 ok, 2 bad input (a bad name, a missing context or PKI).
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "cli/node/node_context.h"
#include "tearline/v1/cli.pb.h"

namespace tearline::cli {
namespace {

struct ContextOptions {
  std::string name;
  NodeContext saved;
  bool json = false;
};

void or_exit(const Status& s, const std::string& what) {
  if (!s) throw CommandExit(kExitUsage, one_line("context " + what + ": " + s.to_string()), s.code());
}

tearline::v1::CliContext to_message(const NodeContext& c) {
  tearline::v1::CliContext m;
  m.set_name(c.name);
  m.set_pki(c.pki);
  m.set_broker(c.broker);
  m.set_node(c.node);
  m.set_selected(selected_context_name() == c.name);
  return m;
}

void run_save(ContextOptions o) {
  or_exit(check_context_name(o.name), "save");
  if (o.saved.pki.empty() && o.saved.broker.empty() && o.saved.node.empty()) {
    throw CommandExit(kExitUsage, "context save: give at least one of --pki, --broker, --node", Code::INVALID_FIELD);
  }
  if (!o.saved.broker.empty()) or_exit(check_endpoint(o.saved.broker), "save: --broker");
  if (!o.saved.pki.empty()) {
    std::error_code ec;
    const std::filesystem::path pki = std::filesystem::absolute(o.saved.pki, ec);
    if (ec || !std::filesystem::exists(pki / "directory" / "trust.toml", ec)) {
      throw CommandExit(
          kExitUsage,
          one_line("context save: --pki '" + o.saved.pki +
                   "': not a PKI folder (no directory/trust.toml); give a folder made by `tearline certs`"),
          Code::INVALID_FIELD);
    }
    o.saved.pki = pki.lexically_normal().string();
  }
  o.saved.name = o.name;
  or_exit(save_context(o.saved), "save");
  std::cout << "saved context " << o.name << " (select it with `tearline context use " << o.name << "`)\n";
}

}  // namespace

void add_context_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "context",
      "Named contexts: a saved --pki, --broker and --node, used by the node commands when neither the "
      "flag nor TEARLINE_PKI, TEARLINE_BROKER, TEARLINE_NODE gives one (stored in "
      "$XDG_CONFIG_HOME/tearline/contexts/NAME.toml; TEARLINE_CONTEXT selects one for a single call)");
  cmd->require_subcommand(1);

  auto save = std::make_shared<ContextOptions>();
  CLI::App* s = cmd->add_subcommand("save", "Save (or replace) context NAME");
  s->add_option("name", save->name, "Context name")->required();
  s->add_option("--pki", save->saved.pki, "PKI folder made by `tearline certs` (stored as an absolute path)")
      ->type_name("DIR");
  s->add_option("-s,--broker", save->saved.broker, "Broker endpoint tcp://HOST:PORT")->type_name("ENDPOINT");
  s->add_option("-n,--node", save->saved.node, "Node id")->type_name("NODE");
  s->callback([save] { run_save(*save); });

  auto use = std::make_shared<ContextOptions>();
  CLI::App* u = cmd->add_subcommand("use", "Select context NAME for the node commands");
  u->add_option("name", use->name, "Context name")->required();
  u->callback([use] {
    or_exit(select_context(use->name), "use");
    std::cout << "using context " << use->name << "\n";
  });

  auto list = std::make_shared<ContextOptions>();
  CLI::App* l = cmd->add_subcommand("list", "List the saved contexts; '*' marks the selected one");
  l->add_flag("--json", list->json, "One JSON object per context and line (tearline.v1.CliContext)");
  l->callback([list] {
    auto all = list_contexts();
    or_exit(all.status(), "list");
    for (const auto& c : *all) {
      const auto m = to_message(c);
      if (list->json) {
        std::cout << to_json(m) << "\n";
      } else {
        std::cout << (m.selected() ? "* " : "  ") << c.name << "  pki=" << c.pki << " broker=" << c.broker
                  << " node=" << c.node << "\n";
      }
    }
  });

  auto show = std::make_shared<ContextOptions>();
  CLI::App* sh = cmd->add_subcommand("show", "Show context NAME");
  sh->add_option("name", show->name, "Context name")->required();
  sh->add_flag("--json", show->json, "One JSON object (tearline.v1.CliContext)");
  sh->callback([show] {
    auto c = load_context(show->name);
    or_exit(c.status(), "show");
    const auto m = to_message(*c);
    if (show->json) {
      std::cout << to_json(m) << "\n";
      return;
    }
    std::cout << "context:  " << c->name << (m.selected() ? " (selected)" : "") << "\n"
              << "pki:      " << c->pki << "\n"
              << "broker:   " << c->broker << "\n"
              << "node:     " << c->node << "\n";
  });

  auto rm = std::make_shared<ContextOptions>();
  CLI::App* r = cmd->add_subcommand("rm", "Remove context NAME (and the selection, when it was selected)");
  r->add_option("name", rm->name, "Context name")->required();
  r->callback([rm] {
    or_exit(remove_context(rm->name), "rm");
    std::cout << "removed context " << rm->name << "\n";
  });
}

}  // namespace tearline::cli
