// Child processes for `tearline demo`: start, talk to over pipes, and always
// stop. The demo runs a broker and one process per node; none of them may
// outlive it, whatever way it ends.
//
//   * ChildProcess::~ChildProcess stops the child (SIGTERM, a bounded wait,
//     then SIGKILL) and reaps it. Children also get PR_SET_PDEATHSIG SIGTERM,
//     so they end when the demo dies without unwinding (SIGKILL, a crash).
//   * InterruptGuard turns SIGINT, SIGTERM and SIGHUP into a flag that every
//     wait of the demo polls (waits are bounded and poll at least every
//     100 ms), and ignores SIGPIPE (a child that died must not kill the demo).
//
// Single-threaded: the demo forks from its only thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

struct ChildSpec {
  std::vector<std::string> argv;         // argv[0] names the program
  std::string program;                   // the file executed; empty: argv[0]
  bool pipe_stdin = false;               // else /dev/null
  bool pipe_stdout = false;              // else stdout_file
  std::filesystem::path stdout_file;     // empty: /dev/null
  std::filesystem::path stderr_file;     // empty: /dev/null
};

class ChildProcess {
 public:
  // Forks and execs; fails (IO_ERROR) when the program cannot be executed.
  static Result<std::unique_ptr<ChildProcess>> start(const ChildSpec& spec);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // -1 when stdout is not piped or has reached end of file.
  int stdout_fd() const { return out_fd_; }

  // Writes `line` and a newline to the child's stdin; false if it is gone.
  bool write_line(std::string_view line);
  // Reads what is available on stdout now (never blocks) and returns the
  // complete lines. At end of file stdout_fd() becomes -1.
  std::vector<std::string> read_lines();

  // The exit status once the child has ended (reaps it); nullopt while it runs.
  std::optional<int> poll_exit();
  // SIGTERM, then SIGKILL after `grace`; reaps. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  std::string pending_;  // a partial line read from stdout
  std::optional<int> exit_status_;
};

// The path of the running executable (where /proc/self/exe points).
Result<std::filesystem::path> self_executable();

// What to execute to run this very binary again, even if the file at
// self_executable() has been replaced since it started (a rebuild).
inline constexpr const char* kSelfExe = "/proc/self/exe";

// tearline-broker next to the running binary, then ../broker/tearline-broker
// (the build tree), then on PATH; IO_ERROR naming every place tried.
Result<std::filesystem::path> find_broker_binary();

// The last `max_lines` lines of a text file ("" if unreadable).
std::string tail_of_file(const std::filesystem::path& path, std::size_t max_lines = 15);

}  // namespace tearline::cli::demo
