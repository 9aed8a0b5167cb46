// `tearline help [COMMAND...]`: the --help of a command ("tearline help certs
// issue" is "tearline certs issue --help"), or the root's without one. An
// unknown command is bad input, with the nearest command named.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/common/command_line.h"
#include "cli/common/commands.h"

namespace tearline::cli {

void add_help_command(CLI::App& app) {
  auto words = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("help", "Show the help of a command, e.g. tearline help publish");
  cmd->add_option("command", *words, "The command (and its subcommands), e.g. certs issue")->type_name("COMMAND");
  CLI::App* root = &app;
  cmd->callback([root, words] {
    std::vector<const char*> argv{"tearline"};
    for (const auto& w : *words) argv.push_back(w.c_str());
    if (auto unknown = find_unknown_command(*root, static_cast<int>(argv.size()), argv.data())) {
      throw CommandExit(kExitUsage, unknown_command_message(*unknown));
    }
    const CLI::App* target = root;
    std::string usage_name = root->get_name();  // "tearline certs issue", as CLI11's own --help says
    for (const auto& w : *words) {
      const CLI::App* next = nullptr;
      for (const CLI::App* sub : target->get_subcommands([](const CLI::App*) { return true; })) {
        if (sub->get_name() == w) next = sub;
      }
      if (next == nullptr) {
        throw CommandExit(kExitUsage, "help: '" + w + "' is not a command of tearline" +
                                          (target == root ? "" : " " + target->get_name()) + " (see tearline --help)");
      }
      target = next;
      usage_name += " " + w;
    }
    // Not target->help(): on an app whose subcommand (this one) was parsed, it
    // shows the subcommand's help.
    std::cout << target->get_formatter()->make_help(target, usage_name, CLI::AppFormatMode::Normal);
  });
}

}  // namespace tearline::cli
