// base/clock.h: FixedClock's two times, and WallClockWatch, which tells a
// step of the wall clock (beyond its threshold, either way) from time passing.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>

#include "base/clock.h"

using namespace tearline;

TEST_CASE("clock: FixedClock advance_ms moves both times, set_ms only the wall clock") {
  FixedClock clock(1'000'000);
  clock.advance_ms(250);
  CHECK(clock.now_ms() == 1'000'250);
  CHECK(clock.steady_ms() == 250);
  clock.set_ms(5);
  CHECK(clock.now_ms() == 5);
  CHECK(clock.steady_ms() == 250);
}

TEST_CASE("clock: WallClockWatch reports a step beyond its threshold, once, with its size and sign") {
  FixedClock clock(1'000'000);
  WallClockWatch watch;                         // 2 s
  CHECK(watch.observe(clock) == std::nullopt);  // the first observation only sets the reference
  clock.advance_ms(60'000);
  CHECK(watch.observe(clock) == std::nullopt);  // time passing is no step
  clock.set_ms(clock.now_ms() + 2000);
  clock.advance_ms(250);
  CHECK(watch.observe(clock) == std::nullopt);  // at the threshold: not a step
  clock.set_ms(clock.now_ms() + std::int64_t{2} * 3600 * 1000);
  clock.advance_ms(250);
  CHECK(watch.observe(clock) == std::optional<std::int64_t>(7'200'000));
  clock.advance_ms(250);
  CHECK(watch.observe(clock) == std::nullopt);  // said once
  clock.set_ms(clock.now_ms() - 2001);
  CHECK(watch.observe(clock) == std::optional<std::int64_t>(-2001));
  WallClockWatch strict(10);
  CHECK(strict.observe(clock) == std::nullopt);
  clock.set_ms(clock.now_ms() + 11);
  CHECK(strict.observe(clock) == std::optional<std::int64_t>(11));
}
