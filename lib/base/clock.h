// Time as a dependency: the trust model and the broker ask a Clock, so tests
// can pin "now".
//
// Two kinds of time. now_ms(): the wall clock, Unix milliseconds: report
// times, validity windows, audit entry times, anything shown to a person or
// compared with another machine. steady_ms(): a monotonic clock, milliseconds
// from an arbitrary origin, which never steps when the wall clock is set:
// every timer, timeout, cooldown, rate and interval (a wall clock stepped by
// an operator or NTP must not expire sessions or stall checkpoints).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

namespace tearline {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_ms() const = 0;
  virtual std::int64_t steady_ms() const = 0;
  std::int64_t now_seconds() const { return now_ms() / 1000; }
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override;     // std::chrono::system_clock
  std::int64_t steady_ms() const override;  // std::chrono::steady_clock
  // A process-wide instance.
  static const SystemClock& instance();
};

// SystemClock::instance().steady_ms(), for code that takes no Clock (the
// client library's timeouts).
std::int64_t steady_now_ms();

// A clock that returns what it is set to; thread-safe. advance_ms() moves
// both times, as real time passing does; set_ms() moves only the wall clock
// (a step, as an operator or NTP makes), so the steady time stays.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::int64_t ms) : ms_(ms), steady_(0) {}
  std::int64_t now_ms() const override { return ms_.load(); }
  std::int64_t steady_ms() const override { return steady_.load(); }
  void set_ms(std::int64_t ms) { ms_.store(ms); }
  void advance_ms(std::int64_t delta) {
    ms_.fetch_add(delta);
    steady_.fetch_add(delta);
  }

 private:
  std::atomic<std::int64_t> ms_;
  std::atomic<std::int64_t> steady_;
};

// Notices steps of the wall clock: between two observations, the wall clock
// and the steady clock should move by the same amount; a difference larger
// than `threshold_ms` (either way) is a step, as an operator or NTP makes.
// Owned by one thread; not thread-safe. The first observation only sets the
// reference.
class WallClockWatch {
 public:
  static constexpr std::int64_t kDefaultThresholdMs = 2000;
  explicit WallClockWatch(std::int64_t threshold_ms = kDefaultThresholdMs) : threshold_ms_(threshold_ms) {}
  // The step since the last observation, wall minus steady movement in ms
  // (positive: the wall clock jumped forward), when beyond the threshold.
  std::optional<std::int64_t> observe(const Clock& clock);

 private:
  std::int64_t threshold_ms_;
  bool seen_ = false;
  std::int64_t last_wall_ms_ = 0;
  std::int64_t last_steady_ms_ = 0;
};

}  // namespace tearline
