// Child processes of a bench run and what /proc says about them.
//
// Child::start runs a program with stdout/stderr to a file and
// PR_SET_PDEATHSIG(SIGKILL), so no child outlives the driver however it
// ends; the destructor stops (SIGTERM, bounded wait, SIGKILL) and reaps.
// Single-threaded: the driver starts children from its only thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/file_tail.h"
#include "base/process.h"
#include "base/result.h"

namespace tearline::bench {

// A bench child: a base/process.h Process (wait_exit, poll_exit, stop, pid)
// started with stdout and stderr to one log file and PR_SET_PDEATHSIG SIGKILL.
class Child : public Process {
 public:
  // argv[0] is the program path. `log` receives stdout and stderr.
  static Result<std::unique_ptr<Child>> start(const std::vector<std::string>& argv, const std::filesystem::path& log);

 private:
  explicit Child(Process process) : Process(std::move(process)) {}
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

// The last lines of a text file, indented, for error messages.
inline std::string tail_of(const std::filesystem::path& file, std::size_t lines = 12) {
  return tail_of_file(file, lines, "    ");
}

}  // namespace tearline::bench
