// broker/replay_guard: report ids remembered for a while, sequences for good.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "broker/replay_guard.h"
#include "support/demo_world.h"

namespace tearline::broker {
namespace {

constexpr std::int64_t kNowMs = testing::kDemoNow * 1000;

std::vector<std::string> codes_of(const Status& s) {
  std::vector<std::string> out;
  for (const auto& r : s.reasons()) out.emplace_back(code_name(r.code));
  return out;
}

}  // namespace

TEST_CASE("replay guard: ids remembered for remember_ms; sequences for good") {
  ReplayGuard guard(60'000);
  const std::string id(16, 'r');
  guard.record(id, "diran-bogota-hq", 5, kNowMs);
  CHECK(codes_of(guard.check(id, "diran-bogota-hq", 6)) == std::vector<std::string>{"REPLAYED_REPORT"});
  CHECK(codes_of(guard.check(id, "diran-bogota-hq", 5)) ==
        std::vector<std::string>{"REPLAYED_REPORT", "SEQUENCE_REGRESSION"});
  guard.expire(kNowMs + 60'000);
  CHECK(guard.remembered_ids() == 1);  // not older than remember_ms yet
  guard.expire(kNowMs + 60'001);
  CHECK(guard.remembered_ids() == 0);
  CHECK(guard.check(id, "diran-bogota-hq", 6));  // the store answers for it now (Store::commit)
  CHECK(codes_of(guard.check(id, "diran-bogota-hq", 5)) == std::vector<std::string>{"SEQUENCE_REGRESSION"});
}

}  // namespace tearline::broker
