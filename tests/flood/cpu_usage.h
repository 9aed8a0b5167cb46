// CPU time of a process's threads, from /proc (Linux): to tell which of the
// broker's threads a flood keeps busy.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

namespace tearline::flood {

struct ThreadCpu {
  std::string name;    // /proc/PID/task/TID/comm
  double seconds = 0;  // user + system
};

// Every thread of `pid` now; empty when the process is gone.
std::map<pid_t, ThreadCpu> sample_threads(pid_t pid);

// CPU used between two samples, in percent of one core over `wall_seconds`,
// split by thread role in a tearline-broker: its main (I/O) thread, libzmq's
// I/O threads ("ZMQbg/IO/..."), and the rest (verifiers, ZAP, signals).
struct CpuSplit {
  double total = 0, main_thread = 0, zmq_io = 0, other = 0;
};
CpuSplit cpu_between(const std::map<pid_t, ThreadCpu>& before, const std::map<pid_t, ThreadCpu>& after, pid_t pid,
                     double wall_seconds);

// The resident memory of a process (VmRSS), in MiB; 0 when it is gone.
double resident_mib(pid_t pid);

// The whole machine's CPU time from /proc/stat, all cores together.
struct MachineCpu {
  double busy_seconds = 0;  // user, nice, system, irq, softirq, steal
  double all_seconds = 0;   // the same plus idle and iowait
};
MachineCpu sample_machine();
// Percent of ONE core the machine was busy between two samples (200 = two
// cores busy), and percent of that time the CPUs waited for I/O.
double machine_busy_percent(const MachineCpu& before, const MachineCpu& after, double wall_seconds);

}  // namespace tearline::flood
