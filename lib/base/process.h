// Child processes: start a program with its standard streams redirected,
// wait for it with a timeout, signal it, and never leave it behind.
//
//   * Process::spawn forks and execs. The argv, environment and files are all
//     prepared before the fork; between fork and exec the child makes only
//     async-signal-safe calls, so spawning from a multi-threaded process is
//     safe. A failure to redirect, renice or exec comes back from spawn as
//     IO_ERROR naming the program and the step (the child reports its errno
//     over a close-on-exec pipe), not as a child that exits 127.
//   * fork+exec rather than posix_spawn because the callers need two settings
//     posix_spawn cannot make: a parent-death signal (PR_SET_PDEATHSIG, so a
//     child does not outlive a test or tool killed without unwinding) and a
//     nice value inherited by every thread of the child.
//   * The child starts with SIGPIPE at its default action and no signal
//     blocked, whatever the parent ignores or blocks.
//   * ~Process stops the child (SIGTERM, a bounded wait, SIGKILL) and reaps it.
//
// Exit statuses are the exit code, or 128 + the signal number for a child
// ended by a signal (as a shell reports them); -1 when the child was reaped
// by someone else. A Process belongs to one thread at a time; it is movable,
// not copyable.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace tearline {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] names the program; required
  // The file executed; empty: argv[0]. A name without '/' is looked up on
  // PATH (as posix_spawnp and execvp do), before the fork.
  std::string program;
  // "NAME=value" each; nullopt: this process's environment.
  std::optional<std::vector<std::string>> env;
  bool pipe_stdin = false;            // a pipe (Process::stdin_fd); else /dev/null
  bool pipe_stdout = false;           // a pipe (Process::stdout_fd); else stdout_file
  std::filesystem::path stdout_file;  // created or truncated, mode 0600; empty: /dev/null
  std::filesystem::path stderr_file;  // likewise
  bool stderr_to_stdout = false;      // stderr goes where stdout goes (stderr_file unused)
  // Sent to the child when the thread that spawned it ends (PR_SET_PDEATHSIG;
  // note: the thread, not the process). 0: none.
  int parent_death_signal = SIGTERM;
  int nice = 0;  // added to the child's nice value before exec; 0: unchanged
};

class Process {
 public:
  static constexpr std::chrono::milliseconds kDefaultGrace{2000};

  // INVALID_FIELD for an empty argv; IO_ERROR when a file cannot be opened,
  // the program is not found or cannot be executed, or the nice value cannot
  // be set.
  static Result<Process> spawn(const ProcessSpec& spec);

  Process() = default;  // holds no process
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;  // stops the process held before
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();  // stop(kDefaultGrace)

  pid_t pid() const { return pid_; }
  // The parent's ends of the pipes; -1 when not piped or closed.
  int stdin_fd() const { return stdin_fd_; }
  int stdout_fd() const { return stdout_fd_; }
  void close_stdin();
  void close_stdout();

  // The exit status once the child has ended (reaps it); nullopt while it runs.
  std::optional<int> poll_exit();
  // Waits up to `timeout` for the child to end by itself; nullopt if it still runs.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // Sends `signal`; false when the child has already ended (or there is none).
  bool signal(int signal);
  // Closes the pipes, sends SIGTERM, waits up to `grace`, then SIGKILL; reaps.
  // Returns the exit status. Idempotent.
  int stop(std::chrono::milliseconds grace = kDefaultGrace);

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::optional<int> exit_status_;
};

}  // namespace tearline
