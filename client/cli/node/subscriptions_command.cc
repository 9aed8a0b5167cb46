// `tearline unsubscribe` and `tearline subscriptions`: a node's durable
// patterns at the broker (its mailbox, docs/nodes.md). `unsubscribe
// --durable -t PATTERN` removes stored patterns; `subscriptions` lists them,
// with the node's cursor. Exit 0 ok, 1 refused, 2 bad input, 3 unreachable.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "cli/node/node_options.h"
#include "policy/topic.h"
#include "tearline/v1/cli.pb.h"

namespace tearline::cli {
namespace {

struct UnsubscribeOptions {
  NodeOptions node;
  std::vector<std::string> topics;
  bool durable = false;
};

struct SubscriptionsOptions {
  NodeOptions node;
  bool json = false;
};

void run_unsubscribe(const UnsubscribeOptions& o) {
  for (const auto& p : o.topics) {
    if (Status valid = policy::validate_pattern(p); !valid) {
      throw CommandExit(kExitUsage, one_line("unsubscribe: --topic: " + valid.to_string()), valid.code());
    }
  }
  auto session = connect_or_exit(o.node);
  const auto mode = o.durable ? client::SubscriptionMode::kDurable : client::SubscriptionMode::kSessionOnly;
  if (Status s = session->unsubscribe(o.topics, mode); !s) {
    throw CommandExit(s, one_line("unsubscribe: the broker refused: "));
  }
  std::cout << "unsubscribed " << o.node.node << " from " << join(o.topics)
            << (o.durable ? " (durable)" : " (this session only)") << "\n";
}

void run_subscriptions(const SubscriptionsOptions& o) {
  auto session = connect_or_exit(o.node);
  auto list = session->subscriptions();
  if (!list) throw CommandExit(list.status(), one_line("subscriptions: "));
  if (o.json) {
    tearline::v1::CliSubscriptions m;
    m.set_node(o.node.node);
    for (const auto& p : list->durable) m.add_durable(p);
    for (const auto& p : list->session) m.add_session(p);
    m.set_acked_seq(list->acked_seq);
    for (const auto& [writer, acked] : list->streams) {
      auto* c = m.add_streams();
      c->set_writer(writer);
      c->set_acked_seq(acked);
    }
    std::cout << to_json(m) << "\n";
    return;
  }
  std::cout << "node:     " << o.node.node << "\n"
            << "durable:  " << join(list->durable, " ", "none") << "\n"
            << "session:  " << join(list->session, " ", "none") << "\n"
            << "cursor:   acknowledged up to seq " << list->acked_seq << "\n";
  for (const auto& [writer, acked] : list->streams) {
    std::cout << "          in " << writer << "'s stream, up to seq " << acked << "\n";
  }
}

}  // namespace

void add_unsubscribe_command(CLI::App& app) {
  auto o = std::make_shared<UnsubscribeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "unsubscribe",
      "Remove patterns from the node's durable subscriptions (--durable; what `subscribe --durable` stored), so the "
      "broker no longer keeps matching reports for the node. Example: tearline unsubscribe -n NODE --durable -t '>'");
  o->node.add_to(cmd);
  cmd->add_option("-t,--topic", o->topics, "Pattern to remove, exactly as subscribed, e.g. '>' (repeatable)")
      ->type_name("PATTERN")
      ->required();
  cmd->add_flag("--durable", o->durable,
                "Remove from the node's stored patterns (without it: from this command's own session, which holds "
                "none)");
  cmd->callback([o] { run_unsubscribe(*o); });
}

void add_subscriptions_command(CLI::App& app) {
  auto o = std::make_shared<SubscriptionsOptions>();
  CLI::App* cmd =
      app.add_subcommand("subscriptions",
                         "List the node's durable patterns at the broker (its mailbox) and its cursor (the last seq it "
                         "acknowledged)");
  o->node.add_to(cmd);
  cmd->add_flag("--json", o->json, "One JSON object (tearline.v1.CliSubscriptions, proto/tearline/v1/cli.proto)");
  cmd->callback([o] { run_subscriptions(*o); });
}

}  // namespace tearline::cli
