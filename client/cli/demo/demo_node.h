// The two ends of a demo node process.
//
// `tearline demo-node` (hidden) is one agency node: it connects as the node,
// subscribes to ">" and prints one DemoEvent JSON line per delivered report
// (proto/tearline/v1/demo.proto). It reads DemoCommand JSON lines on stdin
// (publish as this node, publish given bytes, ADMIN reload, quit) and answers
// each with an ANSWER line. It exits when stdin closes, so it never outlives
// the demo that started it.
//
// NodeProcess is the demo's handle on one such process: it starts it, sends
// commands and collects its events. Nothing here judges the policy.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cli/demo/demo_process.h"
#include "cli/node/node_options.h"
#include "tearline/v1/demo.pb.h"

namespace tearline::cli::demo {

// The node process's main loop; returns its exit code.
int run_node(const NodeOptions& options);

// One JSON line of a DemoCommand or DemoEvent (protobuf's printer, proto
// field names), and back. Strings in these messages must be UTF-8.
std::string to_json_line(const google::protobuf::Message& message);
Status from_json_line(const std::string& line, google::protobuf::Message* message);

class NodeProcess {
 public:
  // Starts this binary again (kSelfExe; `exe` is its argv[0]) as `demo-node`
  // for `node` against `endpoint`; its stderr goes to `log`.
  static Result<std::unique_ptr<NodeProcess>> start(const std::filesystem::path& exe, const std::string& node,
                                                    const std::filesystem::path& directory,
                                                    const std::filesystem::path& key_file, const std::string& endpoint,
                                                    const std::filesystem::path& log,
                                                    const std::string& broker_id = "");

  const std::string& node() const { return node_; }
  const std::filesystem::path& log() const { return log_; }
  int stdout_fd() const { return child_->stdout_fd(); }

  // Sends a command with a fresh id (returned); 0 if the process is gone.
  std::uint64_t send(tearline::v1::DemoCommand command);
  // Reads the events available now (never blocks).
  void pump();
  bool exited() { return child_->stdout_fd() < 0 || child_->poll_exit().has_value(); }
  void stop() { child_->stop(); }

  bool ready() const { return ready_; }
  const std::optional<tearline::v1::DemoEvent>& failure() const { return failure_; }
  const std::optional<tearline::v1::DemoEvent>& session_closed() const { return session_closed_; }
  const tearline::v1::DemoEvent* answer(std::uint64_t command) const;
  // Every RECEIVED event, in arrival order; lines that do not parse are kept
  // as problems.
  const std::vector<tearline::v1::DemoEvent>& received() const { return received_; }
  const tearline::v1::DemoEvent* received_report(const std::string& report_id_hex) const;
  const std::vector<std::string>& problems() const { return problems_; }
  // RECEIVED events not yet taken (for --keep-running's live view).
  std::vector<tearline::v1::DemoEvent> take_new_received();

 private:
  NodeProcess() = default;
  std::unique_ptr<ChildProcess> child_;
  std::string node_;
  std::filesystem::path log_;
  std::uint64_t next_command_ = 1;
  bool ready_ = false;
  std::optional<tearline::v1::DemoEvent> failure_, session_closed_;
  std::map<std::uint64_t, tearline::v1::DemoEvent> answers_;
  std::vector<tearline::v1::DemoEvent> received_;
  std::size_t taken_ = 0;
  std::vector<std::string> problems_;
};

}  // namespace tearline::cli::demo
