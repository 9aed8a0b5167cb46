#include "broker/store_writer.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "audit/anchor.h"

namespace tearline::broker {

StoreWriter::StoreWriter(Store& store, zmq::context_t& context, const std::string& notify_endpoint,
                         std::filesystem::path anchor, std::shared_ptr<spdlog::logger> log)
    : store_(store),
      anchor_(std::move(anchor)),
      log_(log ? std::move(log) : spdlog::default_logger()),
      notify_(context, zmq::socket_type::push) {
  // Made here, not in the thread, so that a failure reaches Broker::create.
  notify_.set(zmq::sockopt::linger, 0);
  notify_.set(zmq::sockopt::sndhwm, 0);
  notify_.connect(notify_endpoint);
  thread_ = std::thread([this] { run(); });
}

StoreWriter::~StoreWriter() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StoreWriter::submit(Batch batch) {
  busy_ = true;
  {
    MutexLock lock(mu_);
    job_ = std::move(batch);
  }
  cv_.notify_all();
}

std::optional<StoreWriter::Written> StoreWriter::take() {
  MutexLock lock(mu_);
  if (!result_) return std::nullopt;
  std::optional<Written> out = std::move(result_);
  result_.reset();
  busy_ = false;
  return out;
}

StoreWriter::Written StoreWriter::wait() {
  MutexLock lock(mu_);
  while (!result_.has_value()) cv_.wait(lock.native());
  Written out = std::move(*result_);
  result_.reset();
  busy_ = false;
  return out;
}

void StoreWriter::anchor_checkpoints(const Batch& batch) {
  if (anchor_.empty() || batch.checkpoints.empty()) return;
  Status appended = audit::append_anchor(anchor_, batch.checkpoints);
  if (!appended) {
    log_->error("event=checkpoint_anchor_failed index={} reason=\"{}\"", batch.checkpoints.back().index,
                appended.to_string());
    return;
  }
  for (const auto& c : batch.checkpoints) log_->info("event=checkpoint_anchored {}", audit::anchor_line(c));
  auto compacted = audit::compact_anchor(anchor_, batch.checkpoints);
  if (!compacted) {
    log_->warn("event=checkpoint_anchor_compact_failed reason=\"{}\"", compacted.status().to_string());
  } else if (*compacted) {
    log_->info("event=checkpoint_anchor_compacted index={}", batch.checkpoints.back().index);
  }
}

void StoreWriter::run() {
  for (;;) {
    Batch batch;
    {
      MutexLock lock(mu_);
      // A batch in flight is always written, even when stopping: the I/O
      // thread may be waiting for it.
      while (!stopping_ && !job_.has_value()) cv_.wait(lock.native());
      if (!job_) return;
      batch = std::move(*job_);
      job_.reset();
    }
    std::string clashing_id;
    std::vector<std::optional<StreamPosition>> prevs;
    std::vector<std::string> fenced;
    const auto began = std::chrono::steady_clock::now();
    Status status = store_.commit(batch, &clashing_id, &prevs, &fenced);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    if (status.is_ok()) {
      anchor_checkpoints(batch);
      // Each report's `prev` as the store found it (Written's contract).
      for (std::size_t i = 0; i < prevs.size() && i < batch.reports.size(); ++i) batch.reports[i].prev = prevs[i];
    }
    {
      MutexLock lock(mu_);
      result_ = Written{std::move(status), std::move(batch), std::move(clashing_id), std::move(fenced), seconds};
    }
    cv_.notify_all();
    try {
      notify_.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
      // Ignored: the context is closing; the result is still taken by wait().
    }
  }
}

}  // namespace tearline::broker
