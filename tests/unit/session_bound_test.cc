// The session bound (SessionTable::admit_hello, mark_ready, forget: docs/
// protocol.md 6.12), RefusalTally (refusals aggregated per source and
// reason per interval, bounded) and RefusalNotices (each address's budget of
// ERRORs), without ZeroMQ.
#include <catch2/catch.hpp>

#include <string>

#include "broker/refusal_notice.h"
#include "broker/refusal_tally.h"
#include "broker/session_table.h"

namespace tearline::broker {
namespace {

SessionTable quiet_table() {
  return SessionTable([](const std::string&, const Bytes&) { return true; }, nullptr, 10, 1000, nullptr);
}

using Verdict = HelloAdmission::Verdict;

// A READY session of `node` on routing id `id`.
Session& ready(SessionTable& t, const std::string& id, const std::string& node) {
  Session& s = *t.attach(id, node, 0);
  t.mark_ready(s);
  return s;
}

TEST_CASE("session bound: a node at max_sessions_per_node replaces its oldest READY session", "[broker][sessions]") {
  SessionTable t = quiet_table();
  const SessionBound bound{100, 3, 0};
  ready(t, "a2", "node-a");
  ready(t, "a1", "node-a");  // routing ids out of order: age is the WELCOME's order, not the id's
  ready(t, "b1", "node-b");
  Session& fresh = *t.attach("a3", "node-a", 0);
  CHECK(t.admit_hello(fresh, bound).verdict == Verdict::kAdmit);
  t.mark_ready(fresh);
  CHECK(t.ready_count_of("node-a") == 3);

  Session& fourth = *t.attach("a4", "node-a", 0);
  HelloAdmission a = t.admit_hello(fourth, bound);
  REQUIRE(a.verdict == Verdict::kReplaceOldest);
  REQUIRE(a.replaced != nullptr);
  CHECK(a.replaced->routing_id == "a2");
  CHECK(t.forget("a2"));
  CHECK_FALSE(t.forget("a2"));
  t.mark_ready(fourth);
  CHECK(t.ready_count_of("node-a") == 3);
  // The next oldest is now a1; node-b's session is never a candidate.
  Session& fifth = *t.attach("a5", "node-a", 0);
  a = t.admit_hello(fifth, bound);
  REQUIRE(a.verdict == Verdict::kReplaceOldest);
  CHECK(a.replaced->routing_id == "a1");
  CHECK(t.ready_count_of("node-b") == 1);
}

TEST_CASE("session bound: NEW and CLOSED sessions hold no slot", "[broker][sessions]") {
  SessionTable t = quiet_table();
  const SessionBound bound{2, 1, 0};
  Session& closed = ready(t, "a1", "node-a");
  SessionTable::close(closed);
  t.attach("a2", "node-a", 0);  // NEW
  Session& hello = *t.attach("a3", "node-a", 0);
  CHECK(t.admit_hello(hello, bound).verdict == Verdict::kAdmit);
  CHECK(t.ready_count() == 0);
}

TEST_CASE("session bound: a full broker is BUSY, except for a node at its own bound", "[broker][sessions]") {
  SessionTable t = quiet_table();
  const SessionBound bound{3, 2, 0};
  ready(t, "a1", "node-a");
  ready(t, "a2", "node-a");
  ready(t, "b1", "node-b");
  CHECK(t.admit_hello(*t.attach("c1", "node-c", 0), bound).verdict == Verdict::kBusy);
  CHECK(t.admit_hello(*t.attach("b2", "node-b", 0), bound).verdict == Verdict::kBusy);
  // No net change: node-a swaps its oldest for the new one.
  HelloAdmission a = t.admit_hello(*t.attach("a3", "node-a", 0), bound);
  CHECK(a.verdict == Verdict::kReplaceOldest);
  CHECK(a.replaced->routing_id == "a1");
}

TEST_CASE("session bound: the reserve is kept for nodes that hold no session", "[broker][sessions]") {
  SessionTable t = quiet_table();
  const SessionBound bound{8, 8, 2};  // reserve 2 (at most 8 / 4)
  CHECK(bound.effective_reserve() == 2);
  for (int i = 0; i < 6; ++i) ready(t, "a" + std::to_string(i), "node-a");
  // 6 of 8 taken: node-a holds sessions, so the last 2 are not for it ...
  CHECK(t.admit_hello(*t.attach("a9", "node-a", 0), bound).verdict == Verdict::kReserved);
  // ... but they are for nodes without one, until the broker is full.
  Session& b = *t.attach("b1", "node-b", 0);
  REQUIRE(t.admit_hello(b, bound).verdict == Verdict::kAdmit);
  t.mark_ready(b);
  CHECK(t.admit_hello(*t.attach("b2", "node-b", 0), bound).verdict == Verdict::kReserved);
  Session& c = *t.attach("c1", "node-c", 0);
  REQUIRE(t.admit_hello(c, bound).verdict == Verdict::kAdmit);
  t.mark_ready(c);
  CHECK(t.admit_hello(*t.attach("d1", "node-d", 0), bound).verdict == Verdict::kBusy);
}

TEST_CASE("session bound: the reserve is at most a quarter of max_connections", "[broker][sessions]") {
  CHECK(SessionBound{1024, 8, 64}.effective_reserve() == 64);
  CHECK(SessionBound{16, 8, 64}.effective_reserve() == 4);
  CHECK(SessionBound{2, 8, 64}.effective_reserve() == 0);
  SessionTable t = quiet_table();
  ready(t, "a1", "node-a");
  // max_connections 2: a node's second session is still admitted.
  CHECK(t.admit_hello(*t.attach("a2", "node-a", 0), SessionBound{2, 8, 64}).verdict == Verdict::kAdmit);
}

TEST_CASE("refusal tally: one entry per source and reason per interval, with the count", "[broker][refusals]") {
  RefusalTally tally(10'000, 4);
  CHECK(tally.empty());
  CHECK_FALSE(tally.take(0));
  for (int i = 0; i < 1000; ++i) tally.note("10.0.0.1", "unknown key", "key " + std::to_string(i), 1000 + i);
  tally.note("10.0.0.2", "unknown key", "key x", 1500);
  tally.note("10.0.0.1", "expired", "node-a", 1600);
  CHECK_FALSE(tally.take(10'999));  // the interval opened at 1000
  auto due = tally.take(11'000);
  REQUIRE(due);
  CHECK(due->from_ms == 1000);
  CHECK(due->to_ms == 1999);
  REQUIRE(due->entries.size() == 3);
  CHECK(due->entries[0].source == "10.0.0.1");
  CHECK(due->entries[0].reason == "expired");
  CHECK(due->entries[0].count == 1);
  CHECK(due->entries[1].reason == "unknown key");
  CHECK(due->entries[1].count == 1000);
  CHECK(due->entries[1].example == "key 999");
  CHECK(due->entries[2].source == "10.0.0.2");
  CHECK(due->overflow == 0);
  CHECK(due->total() == 1002);
  CHECK(tally.empty());
  CHECK_FALSE(tally.take(50'000));
}

TEST_CASE("refusal tally: distinct sources beyond the cap are counted together", "[broker][refusals]") {
  RefusalTally tally(10'000, 4);
  for (int i = 0; i < 100; ++i) tally.note("10.0.0." + std::to_string(i), "unknown key", "", 0);
  tally.note("10.0.0.1", "unknown key", "", 0);  // a known pair still counts as itself
  auto all = tally.take(0, true);
  REQUIRE(all);
  CHECK(all->entries.size() == 4);
  CHECK(all->overflow == 96);
  CHECK(all->total() == 101);
}

TEST_CASE("refusal notices: each address is told why for a burst, then at the refill rate", "[broker][refusals]") {
  RefusalNotices notices(3, 2, 16);  // 3 at once, 2 a second
  for (int i = 0; i < 3; ++i) CHECK(notices.tell("10.0.0.1", 1000));
  CHECK_FALSE(notices.tell("10.0.0.1", 1000));
  CHECK(notices.tell("10.0.0.2", 1000));        // another address has its own budget
  CHECK_FALSE(notices.tell("10.0.0.1", 1400));  // 0.8 of a token
  CHECK(notices.tell("10.0.0.1", 1600));        // 1.2
  CHECK_FALSE(notices.tell("10.0.0.1", 1600));
  // Refilled to the burst, never beyond.
  for (int i = 0; i < 3; ++i) CHECK(notices.tell("10.0.0.1", 60000));
  CHECK_FALSE(notices.tell("10.0.0.1", 60000));
  // A clock that steps back refills nothing and takes nothing away.
  CHECK_FALSE(notices.tell("10.0.0.1", 0));
}

TEST_CASE("refusal notices: all addresses together share one more budget", "[broker][refusals]") {
  RefusalNotices notices(10, 0, 100, 3, 1);  // 10 per address, never refilled; 3 in all, 1 a second
  CHECK(notices.tell("10.0.0.1", 0));
  CHECK(notices.tell("10.0.0.2", 0));
  CHECK(notices.tell("10.0.0.3", 0));
  CHECK_FALSE(notices.tell("10.0.0.4", 0));  // a fresh address, but the shared budget is spent
  CHECK_FALSE(notices.tell("10.0.0.1", 500));
  CHECK(notices.tell("10.0.0.4", 1000));  // one shared token refilled
  CHECK_FALSE(notices.tell("10.0.0.1", 1000));
}

TEST_CASE("refusal notices: a full table forgets refilled addresses, else closes new ones at once",
          "[broker][refusals]") {
  RefusalNotices notices(2, 1, 2);  // at most 2 addresses
  CHECK(notices.tell("a", 0));
  CHECK(notices.tell("b", 0));
  CHECK_FALSE(notices.tell("c", 100));  // a and b still spending: c is not tracked, not told
  CHECK(notices.tracked() == 2);
  CHECK_FALSE(notices.tell("c", 200));  // within 250 ms of the last scan: no new scan
  CHECK(notices.tell("c", 1000));       // a and b full again: forgotten
  CHECK(notices.tracked() == 1);
}

}  // namespace
}  // namespace tearline::broker
