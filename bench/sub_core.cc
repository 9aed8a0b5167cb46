#include "bench/sub_core.h"

#include <unistd.h>

#include <cstdio>
#include <thread>

namespace tearline::bench {

std::filesystem::path control_file(const std::filesystem::path& run_dir) { return run_dir / "control"; }
std::filesystem::path pub_records_file(const std::filesystem::path& run_dir, int pub) {
  return run_dir / ("pub-" + std::to_string(pub) + ".rec");
}
std::filesystem::path sub_records_file(const std::filesystem::path& run_dir, int sub) {
  return run_dir / ("sub-" + std::to_string(sub) + ".rec");
}

Result<std::unique_ptr<SubCore>> SubCore::open(const RoleArgs& args) {
  auto control = Control::open(control_file(args.run_dir));
  if (!control) return control.status();
  std::unique_ptr<SubCore> core(new SubCore(args, std::move(control).value()));
  for (int p = 0; p < args.shape.publishers; ++p) {
    const int fd = open_notify_fifo(notify_fifo(args.run_dir, p));
    if (fd < 0) return Status::fail(Code::IO_ERROR, "cannot open " + notify_fifo(args.run_dir, p).string());
    core->fifos_.push_back(fd);
  }
  core->last_seq_.assign(static_cast<std::size_t>(args.shape.publishers), 0);
  core->records_.reserve(1 << 16);
  return core;
}

SubCore::~SubCore() {
  for (int fd : fifos_) ::close(fd);
}

bool SubCore::over() {
  if (control_->finish.load() != 0 || control_->abort.load() != 0) return true;
  if (control_->stalled_sub.load() == args_.index && control_->stall_ns.load() != 0 &&
      mono_ns() >= control_->stall_ns.load()) {
    summary_.stalled = 1;
    while (control_->finish.load() == 0 && control_->abort.load() == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }
  return false;
}

bool SubCore::fresh(int pub, std::uint64_t seq) {
  auto& last = last_seq_[static_cast<std::size_t>(pub)];
  if (seq <= last) {
    summary_.duplicates++;
    return false;
  }
  last = seq;
  return true;
}

void SubCore::delivered(int pub, std::uint64_t seq, std::uint32_t sections) {
  records_.push_back(SubRecord{static_cast<std::uint32_t>(pub), sections, seq, mono_ns()});
  summary_.received++;
  advance(*control_, args_.shape, args_.index, pub, seq, fifos_.data());
}

int SubCore::finish() {
  Status s = write_sub_records(sub_records_file(args_.run_dir, args_.index), summary_, records_);
  control_->done_subs.fetch_add(1);
  if (!s) {
    std::fprintf(stderr, "sub %d: %s\n", args_.index, s.to_string().c_str());
    return 1;
  }
  return 0;
}

}  // namespace tearline::bench
