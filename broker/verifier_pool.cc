#include "broker/verifier_pool.h"

namespace tearline::broker {

VerifierPool::VerifierPool(int threads, std::size_t queue_limit, zmq::context_t& context,
                           std::string notify_endpoint, Work work)
    : queue_limit_(queue_limit), context_(context), notify_endpoint_(std::move(notify_endpoint)), work_(std::move(work)) {
  for (int i = 0; i < std::max(1, threads); ++i) shards_.push_back(std::make_unique<Shard>());
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    s->thread = std::thread([this, s] { run(*s); });
  }
}

VerifierPool::~VerifierPool() {
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    stopping_ = true;
    shard->cv.notify_all();
  }
  for (auto& shard : shards_) {
    {
      std::lock_guard lock(shard->mu);
      shard->cv.notify_all();
    }
    if (shard->thread.joinable()) shard->thread.join();
  }
}

bool VerifierPool::submit(IngressJob job) {
  const std::size_t index = std::hash<std::string>{}(job.node_id) % shards_.size();
  Shard& shard = *shards_[index];
  std::lock_guard lock(shard.mu);
  if (shard.jobs.size() >= queue_limit_) return false;
  shard.jobs.push_back(std::move(job));
  shard.cv.notify_one();
  return true;
}

std::vector<IngressResult> VerifierPool::drain() {
  std::lock_guard lock(results_mu_);
  std::vector<IngressResult> out;
  out.swap(results_);
  return out;
}

void VerifierPool::run(Shard& shard) {
  zmq::socket_t notify(context_, zmq::socket_type::push);
  notify.set(zmq::sockopt::linger, 0);
  notify.set(zmq::sockopt::sndhwm, 0);
  notify.connect(notify_endpoint_);
  for (;;) {
    IngressJob job;
    {
      std::unique_lock lock(shard.mu);
      shard.cv.wait(lock, [&] { return stopping_ || !shard.jobs.empty(); });
      if (stopping_) return;
      job = std::move(shard.jobs.front());
      shard.jobs.pop_front();
    }
    IngressResult result = work_(std::move(job));
    {
      std::lock_guard lock(results_mu_);
      results_.push_back(std::move(result));
    }
    try {
      notify.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
      return;  // context closing
    }
  }
}

}  // namespace tearline::broker
