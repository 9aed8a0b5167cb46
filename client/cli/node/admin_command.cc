// `tearline admin reload` (ADMIN "reload": the broker reads its directory and
// topic policy again; sessions learn of a new directory by DIRECTORY_CHANGED)
// and `tearline status` (ADMIN "status": the broker's health). Both need a
// node with the admin role. Exit 0 ok, 1 refused, 2 bad input, 3 unreachable.
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "base/time_format.h"
#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "cli/node/node_options.h"
#include "tearline/v1/cli.pb.h"

namespace tearline::cli {
namespace {

struct StatusOptions {
  NodeOptions node;
  bool json = false;
};

std::string when(std::int64_t ms) { return ms == 0 ? "" : format_utc_ms(ms); }

tearline::v1::CliBrokerStatus to_message(const client::BrokerStatus& b, const std::string& local_digest) {
  tearline::v1::CliBrokerStatus m;
  m.set_version(b.version);
  m.set_broker_id(b.broker_id);
  m.set_started_at_ms(b.started_at_ms);
  m.set_started_at(when(b.started_at_ms));
  m.set_uptime_s((b.broker_time_ms - b.started_at_ms) / 1000);
  m.set_sessions(b.sessions);
  m.set_head_seq(b.head_seq);
  m.set_verify_queue(b.verify_queue);
  m.set_commit_queue(b.commit_queue);
  m.set_delivery_backlog(b.delivery_backlog);
  m.set_store_bytes(b.store_bytes);
  m.set_last_checkpoint_ms(b.last_checkpoint_ms);
  m.set_last_checkpoint_at(when(b.last_checkpoint_ms));
  m.set_directory_digest(b.directory_digest_hex);
  m.set_directory_generation(b.directory_generation);
  m.set_accepted(b.accepted);
  m.set_rejected(b.rejected);
  m.set_delivered(b.delivered);
  m.set_damaged_records(b.damaged_records);
  m.set_directory_matches_local(b.directory_digest_hex == local_digest);
  m.set_refused_handshakes(b.refused_handshakes);
  m.set_refused_hellos(b.refused_hellos);
  m.set_wall_clock_steps(b.wall_clock_steps);
  for (const auto& [code, n] : b.rejected_by_code) (*m.mutable_rejected_by_code())[code] = n;
  for (const auto& [code, n] : b.withheld_by_reason) (*m.mutable_withheld_by_reason())[code] = n;
  m.set_peer_links(b.peer_links);
  m.set_peer_links_ready(b.peer_links_ready);
  m.set_crossings_taken(b.crossings_taken);
  m.set_crossings_refused(b.crossings_refused);
  return m;
}

// "REPORT_SIGNATURE 2, STALE_REPORT 1", or "none".
std::string counts(const google::protobuf::Map<std::string, std::uint64_t>& by_code) {
  std::map<std::string, std::uint64_t> sorted(by_code.begin(), by_code.end());
  std::string out;
  for (const auto& [code, n] : sorted) out += (out.empty() ? "" : ", ") + code + " " + std::to_string(n);
  return out.empty() ? "none" : out;
}

void print_readable(const tearline::v1::CliBrokerStatus& m) {
  std::cout << "broker:     " << m.broker_id() << " (" << m.version() << ")\n"
            << "up since:   " << m.started_at() << " (" << m.uptime_s() << " s)\n"
            << "sessions:   " << m.sessions() << "\n"
            << "head seq:   " << m.head_seq() << "\n"
            << "queues:     verify " << m.verify_queue() << ", commit " << m.commit_queue() << ", delivery backlog "
            << m.delivery_backlog() << "\n"
            << "store:      " << m.store_bytes() << " bytes\n"
            << "checkpoint: " << (m.last_checkpoint_at().empty() ? "none yet" : m.last_checkpoint_at()) << "\n"
            << "directory:  generation " << m.directory_generation() << ", digest "
            << m.directory_digest().substr(0, 16)
            << (m.directory_matches_local() ? " (equal to this node's)" : " (differs from this node's)") << "\n"
            << "since start: " << m.accepted() << " accepted, " << m.rejected() << " rejected, " << m.delivered()
            << " delivered\n"
            << "rejected:   " << counts(m.rejected_by_code()) << "\n"
            << "withheld:   " << counts(m.withheld_by_reason()) << " (sections, by reason)\n"
            << "faults:     " << m.damaged_records() << " damaged records, " << m.refused_handshakes()
            << " refused handshakes, " << m.refused_hellos() << " refused hellos, " << m.wall_clock_steps()
            << " wall-clock steps\n";
  if (m.peer_links() > 0) {
    std::cout << "peers:      " << m.peer_links_ready() << " of " << m.peer_links() << " links receiving; "
              << m.crossings_taken() << " copies taken, " << m.crossings_refused() << " refused\n";
  }
}

void run_status(const StatusOptions& o) {
  auto session = connect_or_exit(o.node);
  auto status = session->status();
  if (!status) throw CommandExit(status.status(), one_line("status: "));
  const auto m = to_message(*status, session->directory_digest_hex());
  if (o.json) {
    std::cout << to_json(m) << "\n";
  } else {
    print_readable(m);
  }
}

}  // namespace

void add_admin_command(CLI::App& app) {
  auto node = std::make_shared<NodeOptions>();
  CLI::App* cmd = app.add_subcommand("admin", "Broker administration by a node with the admin role");
  cmd->require_subcommand(1);
  CLI::App* reload =
      cmd->add_subcommand("reload",
                          "Make the broker read its directory and topic policy again (after `tearline certs issue` or "
                          "`certs revoke`); running nodes are told of the new directory");
  node->add_to(reload);
  reload->callback([node] {
    auto session = connect_or_exit(*node);
    if (Status s = session->admin_reload(); !s) throw CommandExit(s, one_line("admin reload: "));
    std::cout << "the broker reloaded its directory and policy\n";
  });
}

void add_status_command(CLI::App& app) {
  auto o = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand(
      "status",
      "The broker's health (a node with the admin role): version, uptime, sessions, queue depths, store "
      "size, last audit checkpoint, directory version");
  o->node.add_to(cmd);
  cmd->add_flag("--json", o->json, "One JSON object (tearline.v1.CliBrokerStatus, proto/tearline/v1/cli.proto)");
  cmd->callback([o] { run_status(*o); });
}

}  // namespace tearline::cli
