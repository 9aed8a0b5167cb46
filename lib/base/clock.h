// Time as a dependency: the trust model and the broker ask a Clock, so tests
// can pin "now". Unix milliseconds throughout.
#pragma once

#include <atomic>
#include <cstdint>

namespace tearline {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_ms() const = 0;
  std::int64_t now_seconds() const { return now_ms() / 1000; }
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override;
  // A process-wide instance.
  static const SystemClock& instance();
};

// A clock that returns what it is set to; thread-safe.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::int64_t ms) : ms_(ms) {}
  std::int64_t now_ms() const override { return ms_.load(); }
  void set_ms(std::int64_t ms) { ms_.store(ms); }
  void advance_ms(std::int64_t delta) { ms_.fetch_add(delta); }

 private:
  std::atomic<std::int64_t> ms_;
};

}  // namespace tearline
