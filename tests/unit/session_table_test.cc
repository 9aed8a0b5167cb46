// broker/session_table: sessions by routing id, their backlogs (the
// SLOW_CONSUMER rule), failure counting, the cooldown answer interval and
// timeouts, with a fake socket (no ZeroMQ).
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "broker/session_table.h"
#include "wire/frame.h"

namespace tearline::broker {
namespace {

// A socket whose pipes can be opened and closed per routing id.
struct FakeSocket {
  std::map<std::string, bool> full;
  std::vector<std::pair<std::string, Bytes>> sent;
  std::vector<std::string> closed_slow;

  SessionTable table(std::size_t max_frames, std::size_t max_bytes) {
    return SessionTable(
        [this](const std::string& id, const Bytes& b) {
          if (full[id]) return false;
          sent.emplace_back(id, b);
          return true;
        },
        [this](Session& s) { closed_slow.push_back(s.routing_id); }, max_frames, max_bytes, nullptr);
  }
};

Bytes frame_of(std::size_t n, std::uint8_t fill) { return Bytes(n, fill); }

TEST_CASE("session table: attach makes a NEW session per routing id, bound to its node", "[broker][sessions]") {
  FakeSocket sock;
  SessionTable t = sock.table(10, 1000);
  Session* a = t.attach("r1", "node-a", 100);
  REQUIRE(a != nullptr);
  CHECK(a->state == SessionState::kNew);
  CHECK(a->node_id == "node-a");
  CHECK(a->last_seen_ms == 100);
  CHECK(t.attach("r1", "node-a", 150) == a);
  CHECK(a->last_seen_ms == 150);
  CHECK(t.attach("r1", "node-b", 200) == nullptr);  // another node's routing id
  CHECK(a->last_seen_ms == 150);
  CHECK(t.find("r1") == a);
  CHECK(t.find("r2") == nullptr);
  CHECK(t.size() == 1);
  CHECK(t.ready_count() == 0);
  a->state = SessionState::kReady;
  CHECK(t.ready_count() == 1);
}

TEST_CASE("session table: a full pipe queues frames in order; flush sends them", "[broker][sessions]") {
  FakeSocket sock;
  SessionTable t = sock.table(10, 1000);
  Session& s = *t.attach("r1", "node-a", 0);
  CHECK(t.send(s, frame_of(5, 1)) == SessionTable::Sent::kSent);
  sock.full["r1"] = true;
  CHECK(t.send(s, frame_of(5, 2)) == SessionTable::Sent::kQueued);
  sock.full["r1"] = false;
  // Behind a backlog a frame queues even when the pipe has room: order.
  CHECK(t.send(s, frame_of(5, 3)) == SessionTable::Sent::kQueued);
  CHECK(s.backlog.size() == 2);
  CHECK(s.backlog_bytes == 10);
  CHECK(t.any_backlog());
  t.flush();
  CHECK_FALSE(t.any_backlog());
  CHECK(s.backlog_bytes == 0);
  REQUIRE(sock.sent.size() == 3);
  CHECK(sock.sent[1].second == frame_of(5, 2));
  CHECK(sock.sent[2].second == frame_of(5, 3));
}

TEST_CASE("session table: a backlog past its frame or byte limit closes the session SLOW_CONSUMER",
          "[broker][sessions]") {
  for (bool by_bytes : {false, true}) {
    FakeSocket sock;
    SessionTable t = by_bytes ? sock.table(100, 20) : sock.table(3, 1000);
    Session& s = *t.attach("r1", "node-a", 0);
    s.state = SessionState::kReady;
    sock.full["r1"] = true;
    SessionTable::Sent last = SessionTable::Sent::kQueued;
    int n = 0;
    while (last == SessionTable::Sent::kQueued) {
      last = t.send(s, frame_of(7, 1));
      ++n;
    }
    CHECK(last == SessionTable::Sent::kClosedSlowConsumer);
    CHECK(n == (by_bytes ? 3 : 4));  // 21 bytes > 20; 4 frames > 3
    CHECK(s.state == SessionState::kClosed);
    CHECK(sock.closed_slow == std::vector<std::string>{"r1"});
    // Only the SLOW_CONSUMER error remains queued.
    REQUIRE(s.backlog.size() == 1);
    auto frame = wire::decode_frame(s.backlog.front(), 1 << 20);
    REQUIRE(frame);
    REQUIRE(frame->has_error());
    CHECK(frame->error().code() == static_cast<std::uint32_t>(Code::SLOW_CONSUMER));
    REQUIRE(frame->error().reasons_size() == 1);
    CHECK(frame->error().reasons(0).message() ==
          (by_bytes ? "more than 20 bytes pending; session closed, reconnect to resume"
                    : "more than 3 frames pending; session closed, reconnect to resume"));
    sock.full["r1"] = false;
    t.flush();
    REQUIRE(sock.sent.size() == 1);
    CHECK(sock.sent[0].second == wire::encode_frame(*frame));
  }
}

TEST_CASE("session table: failures close a READY session at the limit; OK ends the run", "[broker][sessions]") {
  Session s;
  s.state = SessionState::kReady;
  const Status bad = Status::fail(Code::PROTOCOL_VIOLATION, "x");
  CHECK_FALSE(SessionTable::count_outcome(s, bad, 3));
  CHECK_FALSE(SessionTable::count_outcome(s, bad, 3));
  CHECK_FALSE(SessionTable::count_outcome(s, Status::ok(), 3));
  CHECK(s.failures == 0);
  CHECK_FALSE(SessionTable::count_outcome(s, bad, 3));
  CHECK_FALSE(SessionTable::count_outcome(s, bad, 3));
  // Codes that are the broker's state, not the client's fault, do not count.
  CHECK_FALSE(SessionTable::count_outcome(s, Status::fail(Code::RATE_LIMITED, "x"), 3));
  CHECK_FALSE(SessionTable::count_outcome(s, Status::fail(Code::BROKER_BUSY, "x"), 3));
  CHECK(s.failures == 2);
  CHECK(SessionTable::count_outcome(s, bad, 3));
  CHECK(s.failures == 3);
  // Not READY (new or closed): counted, never closed again.
  Session n;
  CHECK_FALSE(SessionTable::count_outcome(n, bad, 1));
  CHECK(n.failures == 1);
}

TEST_CASE("session table: a cooldown refusal is answered at most once a second per session", "[broker][sessions]") {
  Session s;
  CHECK(SessionTable::may_answer_cooldown(s, 10'000));
  CHECK_FALSE(SessionTable::may_answer_cooldown(s, 10'999));
  CHECK(SessionTable::may_answer_cooldown(s, 11'000));
  CHECK(s.hello_refused_ms == 11'000);
}

TEST_CASE("session table: close drops the backlog; timeouts remove silent sessions", "[broker][sessions]") {
  FakeSocket sock;
  SessionTable t = sock.table(10, 1000);
  Session& a = *t.attach("r1", "node-a", 1000);
  t.attach("r2", "node-b", 5000);
  sock.full["r1"] = true;
  t.send(a, frame_of(4, 1));
  SessionTable::close(a);
  CHECK(a.backlog.empty());
  CHECK(a.backlog_bytes == 0);
  CHECK(a.state == SessionState::kClosed);

  CHECK(t.take_timed_out(61'000, 60'000).empty());  // exactly the timeout: kept
  auto gone = t.take_timed_out(61'001, 60'000);
  REQUIRE(gone.size() == 1);
  CHECK(gone[0].routing_id == "r1");
  CHECK(t.find("r1") == nullptr);
  CHECK(t.find("r2") != nullptr);
}

}  // namespace
}  // namespace tearline::broker

namespace tearline::broker {
namespace {

TEST_CASE("session table: unacknowledged copies are remembered, bounded, and forgotten on close",
          "[broker][sessions][receipt]") {
  FakeSocket sock;
  SessionTable t = sock.table(10, 1000);
  Session& s = *t.attach("r1", "node-a", 0);
  crypto::Digest h{};
  const std::size_t cap = 10 + kUnackedSlack;
  for (std::uint64_t seq = 1; seq <= cap + 5; ++seq) {
    h[0] = static_cast<std::uint8_t>(seq);
    t.remember_delivery(s, "", seq, h);
  }
  REQUIRE(s.unacked.size() == cap);
  CHECK(s.unacked.begin()->first == 6);  // the oldest were forgotten
  CHECK(s.unacked.rbegin()->first == cap + 5);
  CHECK(s.unacked.at(cap + 5).hash[0] == static_cast<std::uint8_t>(cap + 5));
  SessionTable::close(s);
  CHECK(s.unacked.empty());
}

}  // namespace
}  // namespace tearline::broker
