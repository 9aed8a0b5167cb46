// StoreLock: one broker per data_dir (docs/architecture.md, "The store lock").
//
// Two brokers writing one SQLite store corrupt each other's view of it (each
// believes it owns the broker seq), so a broker takes an exclusive flock on
// DATA_DIR/tearline.lock before it opens the store, and writes its PID into
// the file. The kernel releases the lock when the process ends, however it
// ends: a stale file left by a crashed broker locks nothing.
//
// Ownership and threads: a move-only value; the lock is held until it is
// destroyed. Called once, at start-up, before the store is opened.
#pragma once

#include <filesystem>
#include <string>

#include "base/result.h"

namespace tearline::broker {

class StoreLock {
 public:
  // Creates `data_dir` when missing, then locks DATA_DIR/tearline.lock and
  // writes this process's PID into it. Fails with IO_ERROR when another
  // process holds the lock, naming its PID ("data_dir D is in use by another
  // broker (PID N); stop it or choose another data_dir"), or when the folder
  // or the file cannot be made.
  [[nodiscard]] static Result<StoreLock> acquire(const std::filesystem::path& data_dir);

  StoreLock(StoreLock&& other) noexcept;
  StoreLock& operator=(StoreLock&& other) noexcept;
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  ~StoreLock();

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

inline constexpr const char* kStoreLockFile = "tearline.lock";

}  // namespace tearline::broker
