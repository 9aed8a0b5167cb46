// broker/verifier_pool: fair scheduling between nodes. A fake Work records
// which job started when and can hold chosen jobs until the test releases
// them, so every order below is exact. The test thread plays the I/O thread:
// it calls drain() only after a wake-up on the notify socket, so a lost
// wake-up fails the test instead of being hidden by polling.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "broker/verifier_pool.h"

namespace tearline::broker {
namespace {

// Every wait is bounded by this; nothing below depends on how fast it runs.
constexpr auto kTimeout = std::chrono::seconds(30);
constexpr const char* kNotifyEndpoint = "inproc://verifier-pool-test";

struct Started {
  std::string node;
  std::uint64_t request = 0;
  bool operator==(const Started&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Started& s) { return os << s.node << '#' << s.request; }

std::string routing_of(const std::string& node) { return "r-" + node; }

IngressJob job(const std::string& node, std::uint64_t request, std::string routing = {}) {
  IngressJob j;
  j.routing_id = routing.empty() ? routing_of(node) : std::move(routing);
  j.node_id = node;
  j.request_id = request;
  return j;
}

// The fake verifier. Counts overlaps: a job starting while another job of
// its node is still running (the pool must never allow it).
class Recorder {
 public:
  using Hold = std::function<bool(const IngressJob&)>;
  explicit Recorder(Hold hold) : hold_(std::move(hold)) {}

  IngressResult work(const IngressJob& job) {
    {
      std::unique_lock lock(mu_);
      if (running_[job.node_id]++ > 0) ++overlaps_;
      started_.push_back({job.node_id, job.request_id});
      cv_.notify_all();
      if (hold_ && hold_(job)) cv_.wait(lock, [&] { return released_; });
    }
    for (int i = 0; i < 50; ++i) std::this_thread::yield();  // widen the window for an overlap
    IngressResult r;
    r.routing_id = job.routing_id;
    r.node_id = job.node_id;
    r.request_id = job.request_id;
    std::lock_guard lock(mu_);
    if (--running_[job.node_id] == 0) running_.erase(job.node_id);
    return r;
  }

  // False when fewer than n jobs have started within kTimeout.
  bool wait_started(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kTimeout, [&] { return started_.size() >= n; });
  }
  // Lets every held job, and every later one, run.
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::vector<Started> started() {
    std::lock_guard lock(mu_);
    return started_;
  }
  int overlaps() {
    std::lock_guard lock(mu_);
    return overlaps_;
  }

 private:
  const Hold hold_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::map<std::string, int> running_;
  int overlaps_ = 0;
  std::vector<Started> started_;
};

// Member order is destruction order in reverse: the pool goes first (after
// held jobs are released, so a failed REQUIRE cannot hang the join), then
// the PULL socket, then the context.
struct Fixture {
  Fixture(int threads, std::size_t queue_limit, Recorder::Hold hold = {})
      : wake(context, zmq::socket_type::pull), recorder(std::move(hold)) {
    wake.set(zmq::sockopt::linger, 0);
    wake.bind(kNotifyEndpoint);
    pool = std::make_unique<VerifierPool>(threads, queue_limit, context, kNotifyEndpoint,
                                          [this](const IngressJob& j) { return recorder.work(j); });
  }
  ~Fixture() {
    recorder.release();
    pool.reset();
  }

  zmq::context_t context;
  zmq::socket_t wake;  // the I/O thread's end of the wake-ups
  Recorder recorder;
  std::unique_ptr<VerifierPool> pool;
};

// Waits for a wake-up; returns how many notify messages were pending then
// (0 on timeout).
int read_wakeups(Fixture& f, std::chrono::milliseconds wait) {
  zmq::pollitem_t items[] = {{f.wake.handle(), 0, ZMQ_POLLIN, 0}};
  zmq::poll(items, 1, wait);
  int count = 0;
  zmq::message_t m;
  while (f.wake.recv(m, zmq::recv_flags::dontwait)) ++count;
  return count;
}

// The broker's I/O loop: after each wake-up, every notify message, then drain().
std::vector<IngressResult> collect(Fixture& f, std::size_t n) {
  std::vector<IngressResult> out;
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    if (read_wakeups(f, std::chrono::milliseconds(100)) == 0) continue;
    for (auto& r : f.pool->drain()) out.push_back(std::move(r));
  }
  return out;
}

std::vector<Started> as_started(const std::vector<IngressResult>& results) {
  std::vector<Started> out;
  out.reserve(results.size());
  for (const auto& r : results) out.push_back({r.node_id, r.request_id});
  return out;
}

std::vector<Started> run_of(const std::string& node, std::uint64_t first, std::uint64_t last) {
  std::vector<Started> out;
  for (std::uint64_t i = first; i <= last; ++i) out.push_back({node, i});
  return out;
}

Recorder::Hold hold_first_of(std::string node) {
  return [node = std::move(node)](const IngressJob& j) { return j.node_id == node && j.request_id == 0; };
}

TEST_CASE("each node's results come back in submission order", "[verifier_pool]") {
  Fixture f(2, 1000);
  const std::vector<std::string> nodes = {"node-a", "node-b", "node-c"};
  for (std::uint64_t i = 0; i < 200; ++i) {
    for (const auto& n : nodes) REQUIRE(f.pool->submit(job(n, i)));
  }
  const auto results = collect(f, 600);
  REQUIRE(results.size() == 600);
  std::map<std::string, std::vector<std::uint64_t>> per_node;
  for (const auto& r : results) {
    CHECK(r.routing_id == routing_of(r.node_id));
    CHECK(r.status.is_ok());
    per_node[r.node_id].push_back(r.request_id);
  }
  std::vector<std::uint64_t> in_order(200);
  std::iota(in_order.begin(), in_order.end(), std::uint64_t{0});
  for (const auto& n : nodes) CHECK(per_node[n] == in_order);
  CHECK(f.recorder.overlaps() == 0);
}

TEST_CASE("a flooding node delays another by at most one job per thread", "[verifier_pool]") {
  Fixture f(1, 1000, hold_first_of("flood"));
  REQUIRE(f.pool->submit(job("flood", 0)));
  REQUIRE(f.recorder.wait_started(1));
  for (std::uint64_t i = 1; i <= 100; ++i) REQUIRE(f.pool->submit(job("flood", i)));
  REQUIRE(f.pool->submit(job("quiet", 0)));
  f.recorder.release();

  const auto results = collect(f, 102);
  REQUIRE(results.size() == 102);
  // The quiet node's job runs right after the one that was in progress.
  std::vector<Started> expected = {{"flood", 0}, {"quiet", 0}};
  for (const auto& s : run_of("flood", 1, 100)) expected.push_back(s);
  CHECK(f.recorder.started() == expected);
  CHECK(as_started(results) == expected);  // one thread: completion order too
}

TEST_CASE("with two threads a node is served while a flooding node has jobs queued", "[verifier_pool]") {
  Fixture f(2, 1000, hold_first_of("flood"));
  for (std::uint64_t i = 0; i < 100; ++i) REQUIRE(f.pool->submit(job("flood", i)));
  REQUIRE(f.pool->submit(job("quiet", 0)));

  const auto first = collect(f, 1);
  REQUIRE(first.size() == 1);
  CHECK(first[0].node_id == "quiet");
  // flood#0 is still held, so flood#1..99 are still queued.
  CHECK(f.recorder.started() == std::vector<Started>{{"flood", 0}, {"quiet", 0}});

  f.recorder.release();
  const auto rest = collect(f, 100);
  CHECK(as_started(rest) == run_of("flood", 0, 99));
}

TEST_CASE("two flooding nodes occupy both threads", "[verifier_pool]") {
  // Each worker holds one node's first job: only possible when the two
  // nodes are served by different threads.
  Fixture f(2, 1000, [](const IngressJob& j) { return j.request_id == 0; });
  for (std::uint64_t i = 0; i < 50; ++i) {
    REQUIRE(f.pool->submit(job("flood-a", i)));
    REQUIRE(f.pool->submit(job("flood-b", i)));
  }
  REQUIRE(f.recorder.wait_started(2));
  auto started = f.recorder.started();
  REQUIRE(started.size() == 2);
  std::sort(started.begin(), started.end(), [](const Started& x, const Started& y) { return x.node < y.node; });
  CHECK(started == std::vector<Started>{{"flood-a", 0}, {"flood-b", 0}});
  f.recorder.release();
  CHECK(collect(f, 100).size() == 100);
}

TEST_CASE("queue_limit bounds the jobs queued over all nodes", "[verifier_pool]") {
  Fixture f(1, 5, hold_first_of("a"));
  REQUIRE(f.pool->submit(job("a", 0)));
  REQUIRE(f.recorder.wait_started(1));  // in progress: not queued any more
  CHECK(f.pool->submit(job("a", 1)));
  CHECK(f.pool->submit(job("a", 2)));
  CHECK(f.pool->submit(job("b", 0)));
  CHECK(f.pool->submit(job("b", 1)));
  CHECK(f.pool->submit(job("c", 0)));
  CHECK_FALSE(f.pool->submit(job("c", 1)));
  CHECK_FALSE(f.pool->submit(job("d", 0)));
  f.recorder.release();

  const auto results = collect(f, 6);
  // Round robin: a node goes to the back of the ring after each job.
  const std::vector<Started> expected = {{"a", 0}, {"b", 0}, {"c", 0}, {"a", 1}, {"b", 1}, {"a", 2}};
  CHECK(as_started(results) == expected);
  CHECK(f.pool->submit(job("c", 1)));  // room again
  CHECK(as_started(collect(f, 1)) == std::vector<Started>{{"c", 1}});
}

TEST_CASE("cancel returns a session's queued jobs, which never run", "[verifier_pool]") {
  Fixture f(1, 1000, hold_first_of("a"));
  REQUIRE(f.pool->submit(job("a", 0)));  // in progress: not cancelled
  REQUIRE(f.recorder.wait_started(1));
  REQUIRE(f.pool->submit(job("a", 1)));
  REQUIRE(f.pool->submit(job("b", 0)));
  REQUIRE(f.pool->submit(job("a", 2, "r-a-second-session")));
  REQUIRE(f.pool->submit(job("a", 3)));
  REQUIRE(f.pool->submit(job("b", 1)));
  REQUIRE(f.pool->submit(job("c", 0)));

  const auto cancelled = f.pool->cancel(routing_of("a"));
  REQUIRE(cancelled.size() == 2);
  CHECK(cancelled[0].request_id == 1);
  CHECK(cancelled[1].request_id == 3);
  for (const auto& j : cancelled) CHECK((j.node_id == "a" && j.routing_id == routing_of("a")));
  // c loses its only job: it leaves the ring and comes back on its next one.
  REQUIRE(f.pool->cancel(routing_of("c")).size() == 1);
  CHECK(f.pool->cancel("r-nobody").empty());
  REQUIRE(f.pool->submit(job("c", 1)));
  f.recorder.release();

  const std::vector<Started> expected = {{"a", 0}, {"b", 0}, {"c", 1}, {"a", 2}, {"b", 1}};
  CHECK(as_started(collect(f, 5)) == expected);
  // Sentinel: had a cancelled job been left queued, it would have run before this.
  REQUIRE(f.pool->submit(job("b", 2)));
  CHECK(as_started(collect(f, 1)) == std::vector<Started>{{"b", 2}});
  auto all = expected;
  all.push_back({"b", 2});
  CHECK(f.recorder.started() == all);
}

TEST_CASE("at most one job per node is in progress", "[verifier_pool]") {
  Fixture f(2, 1000);
  for (std::uint64_t i = 0; i < 200; ++i) REQUIRE(f.pool->submit(job("a", i)));
  const auto results = collect(f, 200);
  CHECK(as_started(results) == run_of("a", 0, 199));
  CHECK(f.recorder.overlaps() == 0);
}

TEST_CASE("only a result that finds no result waiting sends a wake-up", "[verifier_pool]") {
  // One thread: when a#5 starts, a#0..4 have been published (a#0 with a
  // wake-up, a#1..4 joining it without one).
  Fixture f(1, 1000, [](const IngressJob& j) { return j.request_id == 5; });
  for (std::uint64_t i = 0; i <= 5; ++i) REQUIRE(f.pool->submit(job("a", i)));
  REQUIRE(f.recorder.wait_started(6));
  CHECK(read_wakeups(f, std::chrono::duration_cast<std::chrono::milliseconds>(kTimeout)) == 1);
  CHECK(as_started(f.pool->drain()) == run_of("a", 0, 4));
  // a#5 lands in the now empty vector: it wakes the I/O thread again.
  f.recorder.release();
  CHECK(as_started(collect(f, 1)) == std::vector<Started>{{"a", 5}});
}

TEST_CASE("the destructor returns with a job in progress and jobs queued", "[verifier_pool]") {
  Fixture f(1, 1000, hold_first_of("a"));
  for (std::uint64_t i = 0; i <= 10; ++i) REQUIRE(f.pool->submit(job("a", i)));
  REQUIRE(f.recorder.wait_started(1));
  auto destroyed = std::async(std::launch::async, [&] { f.pool.reset(); });
  f.recorder.release();
  REQUIRE(destroyed.wait_for(kTimeout) == std::future_status::ready);
  // Whatever ran before the workers saw the stop ran in order.
  const auto started = f.recorder.started();
  REQUIRE(!started.empty());
  CHECK(started == run_of("a", 0, started.size() - 1));
}

}  // namespace
}  // namespace tearline::broker
