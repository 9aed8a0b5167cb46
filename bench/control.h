// The control block every process of one run maps (a file in the run
// folder, MAP_SHARED): the timeline the driver sets, readiness counters, and
// the delivery progress that closes the publishers' loop.
//
// Timeline (CLOCK_MONOTONIC ns, shared by all processes on the machine):
//   start_ns          publishers begin sending
//   measure_begin_ns  end of warm-up: counters and /proc samples start here
//   measure_end_ns    the measured interval ends; publishers stop sending
//   finish            set by the driver once publishers drained: subscribers
//                     write their records and exit
//
// Progress: progress(sub, pub) is the highest sequence of `pub` that `sub`
// has verified, opened and recorded. One publisher's reports reach one
// subscriber in order, so a publisher knows report `seq` is done once every
// subscriber entitled to it shows progress >= seq. A publisher whose window
// is full sets waiting[pub] to the sequence it waits for (its oldest report)
// and sleeps; the subscriber whose progress completes that report (every
// entitled subscriber at or past it) writes one byte to the publisher's
// notify FIFO. Both sides store, then load, all seq_cst, so at least one of
// them sees the report complete: no lost wake-up, no spinning, about one
// wake-up per completed report rather than one per delivery.
//
// Concurrency: every field is a lock-free std::atomic; a field has one
// writer (noted) except the counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>

#include "base/result.h"
#include "bench/plan.h"

namespace tearline::bench {

struct ControlBlock {
  std::atomic<std::int64_t> start_ns{0};           // driver
  std::atomic<std::int64_t> measure_begin_ns{0};   // driver
  std::atomic<std::int64_t> measure_end_ns{0};     // driver
  std::atomic<std::int64_t> drain_deadline_ns{0};  // driver: publishers give up waiting after this
  std::atomic<std::uint32_t> finish{0};            // driver
  std::atomic<std::uint32_t> abort{0};             // anyone: the run failed, everyone exits
  std::atomic<std::int32_t> stalled_sub{-1};       // driver: this subscriber stops reading at stall_ns
  std::atomic<std::int64_t> stall_ns{0};           // driver
  std::atomic<std::uint32_t> ready_subs{0};        // counters
  std::atomic<std::uint32_t> ready_pubs{0};
  std::atomic<std::uint32_t> done_pubs{0};
  std::atomic<std::uint32_t> done_subs{0};
  alignas(64) std::atomic<std::uint64_t> waiting[kMaxPublishers];  // publisher p waits for this seq; 0 = not
  alignas(64) std::atomic<std::uint64_t> progress_[kMaxSubscribers][kMaxPublishers];  // subscriber writes its row

  std::atomic<std::uint64_t>& progress(int sub, int pub) { return progress_[sub][pub]; }
};

// A mapping of the control file. The creator zero-fills it.
class Control {
 public:
  static Result<Control> create(const std::filesystem::path& file);
  static Result<Control> open(const std::filesystem::path& file);
  Control(Control&& other) noexcept : block_(other.block_) { other.block_ = nullptr; }
  Control& operator=(Control&&) = delete;
  ~Control();

  ControlBlock* operator->() const { return block_; }
  ControlBlock& operator*() const { return *block_; }

 private:
  explicit Control(ControlBlock* block) : block_(block) {}
  ControlBlock* block_;
};

// Notify FIFOs: one per publisher, created by the driver.
std::filesystem::path notify_fifo(const std::filesystem::path& run_dir, int pub);
Status make_notify_fifo(const std::filesystem::path& path);
// O_RDWR | O_NONBLOCK (never blocks, never sees EOF); -1 on failure.
int open_notify_fifo(const std::filesystem::path& path);
// Publisher side: empties the FIFO.
void drain_notify(int fd);

// Whether every subscriber entitled to report `seq` of `pub` (but the
// planned stalled one) has processed it.
bool delivered_to_all(ControlBlock& control, const Shape& shape, int pub, std::uint64_t seq);

// Subscriber side: records progress and wakes the publisher if this
// completes the report it waits for. `fifos[pub]` are the open notify FIFOs.
void advance(ControlBlock& control, const Shape& shape, int sub, int pub, std::uint64_t seq, const int* fifos);

std::int64_t mono_ns();
// CPU time of the calling thread.
std::int64_t thread_cpu_ns();

}  // namespace tearline::bench
