// broker/flood_control: the token bucket, the in-flight bound, the cut-off
// of a node that keeps sending into RATE_LIMITED, and the cooldown after it,
// with the exact messages the broker answers.
#include <catch2/catch.hpp>

#include "broker/flood_control.h"

namespace tearline::broker {
namespace {

Limits small_limits() {
  Limits l;
  l.publish_rate = 10;  // per second
  l.publish_burst = 3;
  l.max_inflight_per_node = 2;
  l.max_rate_limited = 4;
  l.failure_cooldown_ms = 5000;
  return l;
}

using V = FloodControl::Verdict;

TEST_CASE("flood control: a burst, then RATE_LIMITED until the bucket refills", "[broker][flood]") {
  FloodControl fc(small_limits());
  const std::int64_t t0 = 1'000'000;
  for (int i = 0; i < 3; ++i) {
    auto a = fc.admit("n1", t0);
    REQUIRE(a.verdict == V::kAdmit);
    CHECK(a.status.is_ok());
  }
  auto refused = fc.admit("n1", t0);
  CHECK(refused.verdict == V::kRateLimited);
  CHECK(refused.status.code() == Code::RATE_LIMITED);
  CHECK(refused.status.reasons().size() == 1);
  CHECK(refused.status.reasons()[0].message == "n1 exceeds 10 PUBLISH per second; slow down");
  // Another node has its own bucket.
  CHECK(fc.admit("n2", t0).verdict == V::kAdmit);
  // 100 ms at 10/s: one token.
  CHECK(fc.admit("n1", t0 + 99).verdict == V::kRateLimited);
  CHECK(fc.admit("n1", t0 + 100).verdict == V::kAdmit);
  CHECK(fc.admit("n1", t0 + 100).verdict == V::kRateLimited);
  // The bucket never holds more than the burst.
  for (int i = 0; i < 3; ++i) CHECK(fc.admit("n1", t0 + 60'000).verdict == V::kAdmit);
  CHECK(fc.admit("n1", t0 + 60'000).verdict == V::kRateLimited);
}

TEST_CASE("flood control: at most max_inflight_per_node being verified", "[broker][flood]") {
  Limits l = small_limits();
  l.publish_burst = 100;
  FloodControl fc(l);
  const std::int64_t t0 = 5000;
  REQUIRE(fc.admit("n1", t0).verdict == V::kAdmit);
  fc.started("n1");
  REQUIRE(fc.admit("n1", t0).verdict == V::kAdmit);
  fc.started("n1");
  CHECK(fc.inflight("n1") == 2);
  auto busy = fc.admit("n1", t0);
  CHECK(busy.verdict == V::kBusy);
  CHECK(busy.status.code() == Code::BROKER_BUSY);
  CHECK(busy.status.reasons()[0].message == "n1 already has 2 reports being verified");
  fc.finished("n1");
  CHECK(fc.inflight("n1") == 1);
  CHECK(fc.admit("n1", t0).verdict == V::kAdmit);
  // finished() never goes below zero.
  fc.finished("n3");
  CHECK(fc.inflight("n3") == 0);
}

TEST_CASE("flood control: more than max_rate_limited refusals in a second cut the node off", "[broker][flood]") {
  FloodControl fc(small_limits());
  const std::int64_t t0 = 2'000'000;
  for (int i = 0; i < 3; ++i) REQUIRE(fc.admit("n1", t0).verdict == V::kAdmit);
  std::size_t refused = 0;
  for (int i = 1; i <= 4; ++i) {
    REQUIRE(fc.admit("n1", t0).verdict == V::kRateLimited);
    CHECK(fc.rate_limited("n1", true, t0, &refused).is_ok());
    CHECK(refused == static_cast<std::size_t>(i));
  }
  CHECK(fc.hello_refusal("n1", t0).is_ok());
  // A session no longer ready is not cut off again.
  CHECK(fc.rate_limited("n1", false, t0, &refused).is_ok());
  CHECK(refused == 5);
  Status cut = fc.rate_limited("n1", true, t0 + 10, &refused);
  REQUIRE_FALSE(cut.is_ok());
  CHECK(refused == 6);
  CHECK(cut.code() == Code::TOO_MANY_FAILURES);
  CHECK(cut.reasons()[0].message ==
        "more than 4 PUBLISH refused RATE_LIMITED within one second; session closed, HELLO refused for 5000 ms");
  // The cooldown: HELLO refused with the time left.
  Status hello = fc.hello_refusal("n1", t0 + 1010);
  REQUIRE_FALSE(hello.is_ok());
  CHECK(hello.code() == Code::TOO_MANY_FAILURES);
  CHECK(hello.reasons()[0].message == "n1 failed too often; HELLO is refused for 4000 ms more");
  CHECK(fc.hello_refusal("n1", t0 + 5010).is_ok());
  // No burst credit on return: the bucket refills from the end of the cooldown.
  CHECK(fc.admit("n1", t0 + 5010).verdict == V::kRateLimited);
  CHECK(fc.admit("n1", t0 + 5010 + 100).verdict == V::kAdmit);
}

TEST_CASE("flood control: the refusal count restarts each second; zero disables the cut-off", "[broker][flood]") {
  FloodControl fc(small_limits());
  const std::int64_t t0 = 3'000'000;
  std::size_t refused = 0;
  for (int i = 0; i < 4; ++i) CHECK(fc.rate_limited("n1", true, t0, &refused).is_ok());
  CHECK(fc.rate_limited("n1", true, t0 + 1000, &refused).is_ok());
  CHECK(refused == 1);

  Limits l = small_limits();
  l.max_rate_limited = 0;
  FloodControl off(l);
  for (int i = 0; i < 100; ++i) CHECK(off.rate_limited("n1", true, t0, &refused).is_ok());
}

TEST_CASE("flood control: a cooldown after too many failures", "[broker][flood]") {
  FloodControl fc(small_limits());
  CHECK(fc.hello_refusal("n1", 100).is_ok());
  fc.start_cooldown("n1", 100);
  CHECK(fc.hello_refusal("n1", 100).reasons()[0].message == "n1 failed too often; HELLO is refused for 5000 ms more");
  CHECK(fc.hello_refusal("n1", 5099).code() == Code::TOO_MANY_FAILURES);
  CHECK(fc.hello_refusal("n1", 5100).is_ok());
  CHECK(fc.hello_refusal("n2", 100).is_ok());
}

}  // namespace
}  // namespace tearline::broker
