#include "flood/cpu_usage.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tearline::flood {

std::map<pid_t, ThreadCpu> sample_threads(pid_t pid) {
  std::map<pid_t, ThreadCpu> out;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::error_code ec;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& entry : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // "TID (comm) state ..." where comm may hold spaces and parentheses.
    const auto close = line.rfind(')');
    const auto open = line.find('(');
    if (close == std::string::npos || open == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    ThreadCpu t;
    t.name = line.substr(open + 1, close - open - 1);
    t.seconds = static_cast<double>(utime + stime) / ticks;
    out[static_cast<pid_t>(std::stol(entry.path().filename().string()))] = t;
  }
  return out;
}

CpuSplit cpu_between(const std::map<pid_t, ThreadCpu>& before, const std::map<pid_t, ThreadCpu>& after, pid_t pid,
                     double wall_seconds) {
  CpuSplit split;
  if (wall_seconds <= 0) return split;
  for (const auto& [tid, t] : after) {
    auto it = before.find(tid);
    const double used = t.seconds - (it == before.end() ? 0.0 : it->second.seconds);
    const double percent = 100.0 * used / wall_seconds;
    split.total += percent;
    if (tid == pid) {
      split.main_thread += percent;
    } else if (t.name.rfind("ZMQbg/IO", 0) == 0) {
      split.zmq_io += percent;
    } else {
      split.other += percent;
    }
  }
  return split;
}

double resident_mib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // "VmRSS:  1234 kB"
  }
  return 0;
}

MachineCpu sample_machine() {
  MachineCpu m;
  std::ifstream stat("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) || cpu != "cpu") return m;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  m.busy_seconds = static_cast<double>(user + nice + system + irq + softirq + steal) / ticks;
  m.all_seconds = m.busy_seconds + static_cast<double>(idle + iowait) / ticks;
  return m;
}

double machine_busy_percent(const MachineCpu& before, const MachineCpu& after, double wall_seconds) {
  if (wall_seconds <= 0) return 0;
  return 100.0 * (after.busy_seconds - before.busy_seconds) / wall_seconds;
}

}  // namespace tearline::flood
