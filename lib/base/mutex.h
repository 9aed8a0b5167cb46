// tearline::Mutex and MutexLock: std::mutex and a scoped lock, annotated for
// clang's thread-safety analysis (base/thread_annotations.h). Same cost and
// semantics as std::mutex / std::lock_guard.
//
// A condition variable waits on a MutexLock through native(): the analysis
// sees the lock held for the whole scope, which is what the code relies on
// (std::condition_variable re-acquires before returning).
#pragma once

#include <mutex>

#include "base/thread_annotations.h"

namespace tearline {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  // For std::condition_variable (std::unique_lock<std::mutex>).
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.native()) {}
  ~MutexLock() RELEASE() = default;
  // Lets go of the mutex for a while inside the scope, and takes it again.
  void unlock() RELEASE() { lock_.unlock(); }
  void lock() ACQUIRE() { lock_.lock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // The held lock, for std::condition_variable::wait. The caller must leave
  // it locked (wait() does).
  std::unique_lock<std::mutex>& native() { return lock_; }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace tearline
