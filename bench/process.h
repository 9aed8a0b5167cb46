// Child processes of a bench run and what /proc says about them.
//
// Child::start forks and execs with stdout/stderr to files and
// PR_SET_PDEATHSIG(SIGKILL), so no child outlives the driver however it
// ends; the destructor stops (SIGTERM, bounded wait, SIGKILL) and reaps.
// Single-threaded: the driver forks from its only thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace tearline::bench {

class Child {
 public:
  // argv[0] is the program path. `log` receives stdout and stderr.
  static Result<std::unique_ptr<Child>> start(const std::vector<std::string>& argv, const std::filesystem::path& log);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // The exit status once it ended (reaps); nullopt while it runs.
  std::optional<int> poll_exit();
  // Waits up to `timeout` for it to exit by itself.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; reaps. Returns the exit status.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

 private:
  Child() = default;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct ProcSample {
  double cpu_seconds = 0;  // utime + stime, all threads
  std::int64_t rss_kib = 0;
  std::int64_t hwm_kib = 0;  // peak resident (VmHWM)
  bool ok = false;
};
ProcSample sample_proc(pid_t pid);

// Busy CPU seconds of the whole machine since boot (/proc/stat: all but
// idle and iowait), and the 1-minute load average.
double machine_busy_seconds();
double load_average();

// Polls until something accepts on 127.0.0.1:port, `child` dies, or timeout.
Status wait_for_port(int port, Child& child, std::chrono::milliseconds timeout);

// /proc/self/exe.
std::filesystem::path self_exe();

// The last lines of a text file, for error messages.
std::string tail_of(const std::filesystem::path& file, std::size_t lines = 12);

}  // namespace tearline::bench
