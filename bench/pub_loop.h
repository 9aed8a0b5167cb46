// The publisher's loop, the same for every system under test (tearline, the
// raw ZeroMQ relay, NATS), so the three are driven identically.
//
// Closed loop with a bounded window: at most `window` reports of this
// publisher are in flight, where a report leaves the window once it has its
// verdict (ACCEPTED; for NATS, which has none, once published) AND every
// subscriber entitled to it has processed it (ControlBlock progress). So the
// window bounds the whole pipeline, publisher to the last subscriber, and
// the run measures sustained throughput, never queue growth.
//
// Paced (rate > 0): report k is due at start + k / rate; it is sent when due
// if the window has room, later otherwise. Latency is measured from the due
// time (t_sched), so a stall cannot hide behind a delayed send (no
// coordinated omission).
//
// Building happens inside the measured interval, like a group commit: each
// time the loop may send, it asks the transport to prepare() as many reports
// as it may send now (the window's room in the closed loop, the reports
// already due when paced), at most kMaxBuildBatch, and sends them all; it
// never waits to fill a batch. The due/send times are taken before the
// build, so latency includes it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "bench/control.h"
#include "bench/plan.h"
#include "bench/records.h"
#include "bench/roles.h"

namespace tearline::bench {

class PubTransport {
 public:
  virtual ~PubTransport() = default;
  // Makes reports first_seq .. first_seq + count - 1 ready to send. When one
  // of them is not built yet, builds, from the first unbuilt one, max(count,
  // ahead) reports as one batch (at most kMaxBuildBatch): `ahead` is what the
  // publisher has ready to sign together (closed loop: a backlog, so a full
  // batch; paced: only what is due, so count). A transport that sends
  // prebuilt reports does nothing. A failure is fatal to the run.
  virtual Status prepare(std::uint64_t first_seq, std::size_t count, std::size_t ahead) = 0;
  // Sends report `seq` (1-based, in order, after its prepare()). A failure is
  // fatal to the run.
  virtual Status send(std::uint64_t seq) = 0;
  using Verdict = std::function<void(std::uint64_t seq, Outcome outcome, std::int32_t code)>;
  // Handles every answer already received, without blocking.
  virtual void poll(const Verdict& verdict) = 0;
  // A file descriptor that turns readable when poll() may have work, or -1.
  virtual int wait_fd() = 0;
  // True when poll() has work now (edge-triggered descriptors: ZMQ_FD).
  virtual bool pending_input() = 0;
  // True when sending is the verdict (no broker answer exists).
  virtual bool verdict_on_send() const { return false; }
  // Keeps the session alive while waiting for the start (PING).
  virtual void keepalive() {}
};

// The most reports one prepare() builds: one signed batch (report::kMaxBatch).
inline constexpr std::size_t kMaxBuildBatch = 64;

// A publisher's reports ready to send, in seq order: a prebuilt pool
// (reports 1..pool.size()), then what prepare() built. Shared by the
// transports that build (tearline, NATS), so both follow prepare()'s rule.
class ReadyReports {
 public:
  explicit ReadyReports(std::vector<Bytes> pool) : pool_(std::move(pool)), next_(pool_.size() + 1) {}
  struct Build {
    std::uint64_t first = 0;
    std::size_t count = 0;
  };
  // What prepare(first_seq, count, ahead) must build: nothing (count 0) when
  // those reports are ready; else from the first unbuilt one, max(count,
  // ahead) capped at kMaxBuildBatch.
  Build to_build(std::uint64_t first_seq, std::size_t count, std::size_t ahead) const {
    const std::uint64_t end = first_seq + count;  // exclusive
    if (end <= next_) return {};
    return {next_, std::min<std::size_t>(std::max<std::size_t>(end - next_, ahead), kMaxBuildBatch)};
  }
  // Appends the reports to_build() named, in order.
  void add(Bytes report) {
    built_.push_back(std::move(report));
    ++next_;
  }
  // Report `seq` (sent once: its memory is given up), or an error when it was
  // not prepared or not next.
  Result<Bytes> take(std::uint64_t seq) {
    Bytes out;
    if (seq <= pool_.size()) {
      out.swap(pool_[seq - 1]);
      return out;
    }
    if (built_.empty() || seq != next_ - built_.size()) {
      return Status::fail(Code::INVALID_FIELD, "report " + std::to_string(seq) + " was not prepared");
    }
    out.swap(built_.front());
    built_.pop_front();
    return out;
  }

 private:
  std::vector<Bytes> pool_;
  std::deque<Bytes> built_;  // reports next_ - built_.size() .. next_ - 1
  std::uint64_t next_;       // the first report not built
};

struct PubLoopOptions {
  int index = 0;
  Shape shape;
  double rate = 0;  // reports/s of this publisher; 0 = closed loop
  std::int64_t stall_timeout_ns = 10'000'000'000;
};

// Runs from control->start_ns to measure_end_ns, then drains its window
// (until drain_deadline_ns). Fills `records` (index seq - 1) and `summary`.
Status run_pub_loop(const PubLoopOptions& options, ControlBlock& control, int notify_fd, PubTransport& transport,
                    std::vector<PubRecord>* records, PubSummary* summary);

// What every publisher role ends with: the loop with the role's arguments,
// then its records written to pub_records_file; done_pubs is counted either
// way. The first failure is returned.
Status run_publisher(const RoleArgs& args, ControlBlock& control, int notify_fd, PubTransport& transport,
                     PubSummary& summary);

}  // namespace tearline::bench
