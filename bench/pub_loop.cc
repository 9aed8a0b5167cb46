#include "bench/pub_loop.h"

#include <poll.h>

#include <algorithm>
#include <deque>
#include <thread>

namespace tearline::bench {
namespace {

struct InFlight {
  std::uint64_t seq;
  std::vector<int> receivers;
};

void wait_until(std::int64_t deadline_ns, int fd_a, int fd_b) {
  const std::int64_t left = deadline_ns - mono_ns();
  if (left <= 0) return;
  pollfd fds[2];
  nfds_t n = 0;
  for (int fd : {fd_a, fd_b}) {
    if (fd >= 0) fds[n++] = pollfd{fd, POLLIN, 0};
  }
  timespec ts{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
  ::ppoll(fds, n, &ts, nullptr);
}

}  // namespace

Status run_pub_loop(const PubLoopOptions& o, ControlBlock& control, int notify_fd, PubTransport& transport,
                    std::vector<PubRecord>* records, PubSummary* summary) {
  // Wait for the driver's start (it sets it once every process is ready).
  std::int64_t last_keepalive = mono_ns();
  while (control.start_ns.load() == 0 || mono_ns() < control.start_ns.load()) {
    if (control.abort.load()) return Status::fail(Code::UNAVAILABLE, "run aborted before the start");
    transport.poll([](std::uint64_t, Outcome, std::int32_t) {});
    if (mono_ns() - last_keepalive > 5'000'000'000) {
      transport.keepalive();
      last_keepalive = mono_ns();
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const std::int64_t start = control.start_ns.load();
  const std::int64_t stop = control.measure_end_ns.load();
  const std::int64_t period_ns = o.rate > 0 ? static_cast<std::int64_t>(1e9 / o.rate) : 0;
  // Stagger paced publishers so they do not send in lockstep.
  std::int64_t next_due = start + (period_ns * o.index) / std::max(1, o.shape.publishers);
  const int stalled = control.stalled_sub.load();
  const auto window = static_cast<std::size_t>(o.shape.window);

  std::deque<InFlight> inflight;
  std::uint64_t next_seq = 1;
  auto verdict = [&](std::uint64_t seq, Outcome outcome, std::int32_t code) {
    if (seq == 0 || seq > records->size()) return;
    PubRecord& r = (*records)[seq - 1];
    if (r.outcome != Outcome::kPending) return;
    r.outcome = outcome;
    r.code = code;
    r.t_done = mono_ns();
  };
  auto retire = [&](std::int64_t now) {
    while (!inflight.empty()) {
      const InFlight& f = inflight.front();
      const PubRecord& r = (*records)[f.seq - 1];
      bool done = r.outcome == Outcome::kRejected;
      if (r.outcome == Outcome::kAccepted) {
        done = true;
        for (int j : f.receivers) {
          if (j != stalled && control.progress(j, o.index).load(std::memory_order_seq_cst) < f.seq) {
            done = false;
            break;
          }
        }
      }
      if (!done && now - r.t_send > o.stall_timeout_ns) {
        summary->stalled++;
        done = true;
      }
      if (!done) return;
      inflight.pop_front();
    }
  };

  for (;;) {
    if (control.abort.load()) return Status::fail(Code::UNAVAILABLE, "run aborted");
    std::int64_t now = mono_ns();
    const bool sending = now < stop;
    if (!sending && inflight.empty()) break;
    if (!sending && now > control.drain_deadline_ns.load()) {
      summary->stalled += inflight.size();
      break;
    }
    transport.poll(verdict);
    retire(now);
    const bool due = o.rate <= 0 || now >= next_due;
    if (sending && due && inflight.size() < window) {
      // Everything that may go now, built as one batch: the window's room,
      // and when paced only what is already due.
      std::size_t count = std::min(window - inflight.size(), kMaxBuildBatch);
      if (o.rate > 0) {
        const auto due_now = static_cast<std::size_t>(1 + (now - next_due) / std::max<std::int64_t>(1, period_ns));
        count = std::min(count, due_now);
      }
      // Closed loop: the publisher always has more to say (a backlog), so it
      // signs a full batch whenever it builds; paced: only what is due.
      const std::size_t ahead = o.rate > 0 ? count : kMaxBuildBatch;
      Status built = transport.prepare(next_seq, count, ahead);
      if (!built) return built;
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint64_t seq = next_seq++;
        PubRecord r;
        r.seq = seq;
        r.t_sched = o.rate > 0 ? next_due : now;
        r.t_send = mono_ns();
        records->push_back(r);
        Status sent = transport.send(seq);
        if (!sent) return sent;
        if (transport.verdict_on_send()) verdict(seq, Outcome::kAccepted, 0);
        inflight.push_back(InFlight{seq, receivers(o.shape, o.index, seq)});
        if (o.rate > 0) next_due += period_ns;
      }
      continue;
    }
    // Nothing to send now: sleep until an answer, the oldest report's
    // completion (when the window is full or draining), or the next due time.
    std::int64_t deadline = now + 5'000'000;
    if (sending && o.rate > 0 && inflight.size() < window) deadline = std::min(deadline, next_due);
    if (!sending) deadline = std::min(deadline, control.drain_deadline_ns.load());
    const bool blocked = !inflight.empty() && (!sending || inflight.size() >= window);
    if (blocked) control.waiting[o.index].store(inflight.front().seq, std::memory_order_seq_cst);
    const std::size_t before = inflight.size();
    retire(mono_ns());
    if (inflight.size() == before && !transport.pending_input()) {
      const std::int64_t t0 = mono_ns();
      wait_until(deadline, transport.wait_fd(), notify_fd);
      if (sending && o.rate > 0 && inflight.size() >= window && t0 >= next_due) {
        summary->window_full_ns += static_cast<std::uint64_t>(mono_ns() - t0);
      }
    }
    if (blocked) control.waiting[o.index].store(0, std::memory_order_seq_cst);
    drain_notify(notify_fd);
  }
  return Status::ok();
}

Status run_publisher(const RoleArgs& args, ControlBlock& control, int notify_fd, PubTransport& transport,
                     PubSummary& summary) {
  PubLoopOptions options;
  options.index = args.index;
  options.shape = args.shape;
  options.rate = args.rate;
  std::vector<PubRecord> records;
  records.reserve(args.pool + 4096);
  Status ran = run_pub_loop(options, control, notify_fd, transport, &records, &summary);
  Status written = write_pub_records(pub_records_file(args.run_dir, args.index), summary, records);
  control.done_pubs.fetch_add(1);
  return ran ? written : ran;
}

}  // namespace tearline::bench
