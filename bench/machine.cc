#include "bench/machine.h"

#include <fcntl.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>
#include <vector>

#include "bench/control.h"

namespace tearline::bench {
namespace {

std::string fs_name(long type) {
  switch (static_cast<unsigned long>(type)) {
    case 0xEF53: return "ext4";
    case 0x01021994: return "tmpfs";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x794c7630: return "overlayfs";
    default: return "other";
  }
}

}  // namespace

Machine describe_machine(const std::filesystem::path& workdir) {
  Machine m;
  m.cores = std::thread::hardware_concurrency();
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      m.cpu_model = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::ifstream mem("/proc/meminfo");
  while (std::getline(mem, line)) {
    if (line.rfind("MemTotal:", 0) == 0) m.memory_gib = std::stod(line.substr(9)) / (1024.0 * 1024.0);
  }
  utsname u{};
  if (::uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release;
  struct statfs sf {};
  if (::statfs(workdir.c_str(), &sf) == 0) m.work_fs = fs_name(static_cast<long>(sf.f_type));

  // Like SQLite's WAL: rewrite 4 KiB blocks of a preallocated file, each
  // followed by fdatasync (no file growth, so no metadata journal commit).
  const auto probe = workdir / "fsync-probe";
  const int fd = ::open(probe.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0) {
    std::vector<char> block(4096, 'x');
    bool ok = true;
    for (int i = 0; i < 256 && ok; ++i)
      ok = ::write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size());
    ::fdatasync(fd);
    std::vector<std::int64_t> t;
    for (int i = 0; i < 300 && ok; ++i) {
      ok = ::pwrite(fd, block.data(), block.size(), static_cast<off_t>((i % 256) * 4096)) ==
           static_cast<ssize_t>(block.size());
      const std::int64_t t0 = mono_ns();
      ::fdatasync(fd);
      t.push_back(mono_ns() - t0);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ::close(fd);
    std::filesystem::remove(probe);
    if (!t.empty()) {
      std::sort(t.begin(), t.end());
      m.fdatasync_p50_ms = static_cast<double>(t[t.size() / 2]) / 1e6;
      m.fdatasync_p99_ms = static_cast<double>(t[(t.size() * 99) / 100]) / 1e6;
      m.fdatasync_max_ms = static_cast<double>(t.back()) / 1e6;
    }
  }
  return m;
}

}  // namespace tearline::bench
