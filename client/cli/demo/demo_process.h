// Child processes for `tearline demo`: start, talk to over pipes, and always
// stop. The demo runs a broker and one process per node; none of them may
// outlive it, whatever way it ends.
//
//   * ChildProcess (a base/process.h Process) stops the child when destroyed
//     (SIGTERM, a bounded wait, then SIGKILL) and reaps it. Children also get
//     PR_SET_PDEATHSIG SIGTERM, so they end when the demo dies without
//     unwinding (SIGKILL, a crash).
//   * InterruptGuard turns SIGINT, SIGTERM and SIGHUP into a flag that every
//     wait of the demo polls (waits are bounded and poll at least every
//     100 ms), and ignores SIGPIPE (a child that died must not kill the demo).
//
// Single-threaded: the demo starts children from its only thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_tail.h"
#include "base/process.h"
#include "base/result.h"

namespace tearline::cli::demo {

// Installs the handlers for its lifetime; restores the previous ones.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  static bool interrupted();

 private:
  struct Saved;
  std::unique_ptr<Saved> saved_;
};

// argv, program, pipes and output files as in ProcessSpec; children get
// PR_SET_PDEATHSIG SIGTERM (the ProcessSpec default).
using ChildSpec = ProcessSpec;

// A Process with line-oriented pipes: what the demo's node processes speak.
class ChildProcess {
 public:
  // Fails (IO_ERROR) when the program cannot be executed.
  static Result<std::unique_ptr<ChildProcess>> start(const ChildSpec& spec);
  ~ChildProcess() { stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return process_.pid(); }
  // -1 when stdout is not piped or has reached end of file.
  int stdout_fd() const { return process_.stdout_fd(); }

  // Writes `line` and a newline to the child's stdin; false if it is gone.
  bool write_line(std::string_view line);
  // Reads what is available on stdout now (never blocks) and returns the
  // complete lines. At end of file stdout_fd() becomes -1.
  std::vector<std::string> read_lines();

  // The exit status once the child has ended (reaps it); nullopt while it runs.
  std::optional<int> poll_exit() { return process_.poll_exit(); }
  // Sends `signal`; false when the child has ended.
  bool signal(int signal) { return process_.signal(signal); }
  // SIGTERM, then SIGKILL after `grace`; reaps. Idempotent.
  void stop(std::chrono::milliseconds grace = Process::kDefaultGrace) { process_.stop(grace); }

 private:
  explicit ChildProcess(Process process) : process_(std::move(process)) {}
  Process process_;
  std::string pending_;  // a partial line read from stdout
};

// The path of the running executable (where /proc/self/exe points).
Result<std::filesystem::path> self_executable();

// What to execute to run this very binary again, even if the file at
// self_executable() has been replaced since it started (a rebuild).
inline constexpr const char* kSelfExe = "/proc/self/exe";

// tearline-broker next to the running binary, then ../broker/tearline-broker
// (the build tree), then on PATH; IO_ERROR naming every place tried.
Result<std::filesystem::path> find_broker_binary();

// The last `max_lines` lines of a text file, indented by four spaces ("" if
// unreadable).
inline std::string tail_of_file(const std::filesystem::path& path, std::size_t max_lines = 15) {
  return tearline::tail_of_file(path, max_lines, "    ");
}

}  // namespace tearline::cli::demo
