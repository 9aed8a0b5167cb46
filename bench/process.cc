#include "bench/process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

namespace tearline::bench {

Result<std::unique_ptr<Child>> Child::start(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  ProcessSpec spec;
  spec.argv = argv;
  spec.stdout_file = log;
  spec.stderr_to_stdout = true;
  spec.parent_death_signal = SIGKILL;
  auto process = Process::spawn(spec);
  if (!process) return process.status();
  return std::unique_ptr<Child>(new Child(std::move(process).value()));
}

ProcSample sample_proc(pid_t pid) {
  ProcSample s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return s;
  // Fields after the command (which may hold spaces), from field 3 on.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream in(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::stoll(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) s.hwm_kib = std::stoll(line.substr(6));
  }
  s.ok = true;
  return s;
}

double machine_busy_seconds() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  unsigned long long v[10] = {};
  stat >> cpu;
  for (auto& x : v) stat >> x;
  // user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
  const unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return static_cast<double>(busy) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double one = 0;
  in >> one;
  return one;
}

Status wait_for_port(int port, Child& child, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto rc = child.poll_exit()) {
      return Status::fail(Code::UNAVAILABLE, "process " + std::to_string(child.pid()) + " exited with " +
                                                 std::to_string(*rc) + " before listening");
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (up) return Status::ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::fail(Code::UNAVAILABLE, "nothing listens on 127.0.0.1:" + std::to_string(port));
}

std::filesystem::path self_exe() { return std::filesystem::read_symlink("/proc/self/exe"); }

}  // namespace tearline::bench
