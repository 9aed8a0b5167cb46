#include "base/clock.h"

#include <chrono>

namespace tearline {

std::int64_t SystemClock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t SystemClock::steady_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::int64_t steady_now_ms() { return SystemClock::instance().steady_ms(); }

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

std::optional<std::int64_t> WallClockWatch::observe(const Clock& clock) {
  const std::int64_t wall = clock.now_ms();
  const std::int64_t steady = clock.steady_ms();
  const bool first = !seen_;
  const std::int64_t step = (wall - last_wall_ms_) - (steady - last_steady_ms_);
  seen_ = true;
  last_wall_ms_ = wall;
  last_steady_ms_ = steady;
  if (first || (step <= threshold_ms_ && step >= -threshold_ms_)) return std::nullopt;
  return step;
}

}  // namespace tearline
