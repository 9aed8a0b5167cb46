// HaltLatch: a store's halt, set once and for good (broker/store.h,
// STORAGE_HALTED). The first reason stays; later ones are dropped. Any
// thread: halted() is one atomic load, cheap enough for every commit.
#pragma once

#include <atomic>
#include <string>
#include <utility>

#include "base/mutex.h"

namespace tearline::broker {

class HaltLatch {
 public:
  bool halted() const { return halted_.load(); }
  // Why, and what to do; empty while not halted.
  std::string reason() const {
    MutexLock lock(mu_);
    return reason_;
  }
  void halt(std::string reason) {
    {
      MutexLock lock(mu_);
      if (reason_.empty()) reason_ = std::move(reason);
    }
    halted_ = true;
  }

 private:
  std::atomic<bool> halted_{false};
  mutable Mutex mu_;
  std::string reason_ GUARDED_BY(mu_);
};

}  // namespace tearline::broker
