// The machine a run happened on, for the report: cores, CPU model, memory,
// kernel, the file system of the work folder and its fdatasync latency (the
// floor under tearline's sync-before-ACCEPTED).
#pragma once

#include <filesystem>
#include <string>

namespace tearline::bench {

struct Machine {
  unsigned cores = 0;
  std::string cpu_model;
  double memory_gib = 0;
  std::string kernel;
  std::string work_fs;          // "ext4", "tmpfs", ... of the work folder
  double fdatasync_p50_ms = 0;  // 4 KiB rewrite + fdatasync, 300 times (about 0.5 s)
  double fdatasync_p99_ms = 0;
  double fdatasync_max_ms = 0;
};

Machine describe_machine(const std::filesystem::path& workdir);

}  // namespace tearline::bench
