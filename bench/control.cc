#include "bench/control.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace tearline::bench {

static_assert(std::atomic<std::int64_t>::is_always_lock_free && std::atomic<std::uint64_t>::is_always_lock_free,
              "the control block is shared between processes: its atomics must be lock-free");

namespace {

Result<ControlBlock*> map_file(const std::filesystem::path& file, bool create) {
  const int fd = ::open(file.c_str(), create ? (O_RDWR | O_CREAT | O_EXCL) : O_RDWR, 0600);
  if (fd < 0) return Status::fail(Code::IO_ERROR, "cannot open " + file.string() + ": " + std::strerror(errno));
  if (create && ::ftruncate(fd, sizeof(ControlBlock)) != 0) {
    ::close(fd);
    return Status::fail(Code::IO_ERROR, "cannot size " + file.string() + ": " + std::strerror(errno));
  }
  void* p = ::mmap(nullptr, sizeof(ControlBlock), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return Status::fail(Code::IO_ERROR, "cannot map " + file.string() + ": " + std::strerror(errno));
  auto* block = static_cast<ControlBlock*>(p);
  if (create) new (block) ControlBlock();  // the file is zero-filled; this sets the -1 defaults
  return block;
}

}  // namespace

Result<Control> Control::create(const std::filesystem::path& file) {
  auto b = map_file(file, true);
  if (!b) return b.status();
  return Control(*b);
}

Result<Control> Control::open(const std::filesystem::path& file) {
  auto b = map_file(file, false);
  if (!b) return b.status();
  return Control(*b);
}

Control::~Control() {
  if (block_ != nullptr) ::munmap(block_, sizeof(ControlBlock));
}

std::filesystem::path notify_fifo(const std::filesystem::path& run_dir, int pub) {
  return run_dir / ("notify-" + std::to_string(pub));
}

Status make_notify_fifo(const std::filesystem::path& path) {
  if (::mkfifo(path.c_str(), 0600) != 0) {
    return Status::fail(Code::IO_ERROR, "mkfifo " + path.string() + ": " + std::strerror(errno));
  }
  return Status::ok();
}

int open_notify_fifo(const std::filesystem::path& path) { return ::open(path.c_str(), O_RDWR | O_NONBLOCK); }

void drain_notify(int fd) {
  char buf[256];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

bool delivered_to_all(ControlBlock& control, const Shape& shape, int pub, std::uint64_t seq) {
  const int stalled = control.stalled_sub.load(std::memory_order_relaxed);
  for (int j = 0; j < shape.subscribers; ++j) {
    if (j == stalled || !receives(shape, pub, seq, j)) continue;
    if (control.progress(j, pub).load(std::memory_order_seq_cst) < seq) return false;
  }
  return true;
}

void advance(ControlBlock& control, const Shape& shape, int sub, int pub, std::uint64_t seq, const int* fifos) {
  control.progress(sub, pub).store(seq, std::memory_order_seq_cst);
  std::uint64_t want = control.waiting[pub].load(std::memory_order_seq_cst);
  if (want == 0 || want > seq || !delivered_to_all(control, shape, pub, want)) return;
  if (control.waiting[pub].compare_exchange_strong(want, 0)) {
    const char one = 1;
    [[maybe_unused]] ssize_t w = ::write(fifos[pub], &one, 1);  // EAGAIN: a wake-up is already pending
  }
}

std::int64_t mono_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace tearline::bench
