#include "broker/verifier_pool.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <utility>

namespace tearline::broker {

VerifierPool::VerifierPool(int threads, std::size_t queue_limit, zmq::context_t& context,
                           const std::string& notify_endpoint, Work work)
    : queue_limit_(queue_limit), work_(std::move(work)) {
  // The sockets are made here so that a failure reaches the caller; each one
  // then moves to its worker (std::thread's start is the memory barrier zmq
  // asks for when a socket changes threads).
  std::vector<zmq::socket_t> sockets;
  for (int i = 0; i < std::max(1, threads); ++i) {
    zmq::socket_t notify(context, zmq::socket_type::push);
    notify.set(zmq::sockopt::linger, 0);
    notify.set(zmq::sockopt::sndhwm, 0);  // never drop a wake-up
    notify.connect(notify_endpoint);
    sockets.push_back(std::move(notify));
  }
  try {
    for (auto& notify : sockets) workers_.emplace_back([this, s = std::move(notify)]() mutable { run(std::move(s)); });
  } catch (...) {
    stop();  // the workers already started
    throw;
  }
}

VerifierPool::~VerifierPool() { stop(); }

void VerifierPool::stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

bool VerifierPool::submit(IngressJob job) {
  {
    MutexLock lock(mu_);
    if (queued_ >= queue_limit_) return false;
    auto [it, added] = nodes_.try_emplace(job.node_id);
    NodeQueue& node = it->second;
    // A node already in the ring or in progress re-enters the ring by itself.
    if (node.jobs.empty() && !node.running) ring_.push_back(job.node_id);
    node.jobs.push_back(std::move(job));
    ++queued_;
  }
  cv_.notify_one();
  return true;
}

std::vector<IngressResult> VerifierPool::drain() {
  std::vector<IngressResult> out;
  MutexLock lock(results_mu_);
  out.swap(results_);  // the whole vector: see the header
  return out;
}

std::vector<IngressJob> VerifierPool::cancel(const std::string& routing_id) {
  std::vector<IngressJob> cancelled;
  MutexLock lock(mu_);
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    NodeQueue& node = it->second;
    const bool had_jobs = !node.jobs.empty();
    std::deque<IngressJob> kept;  // in order
    for (IngressJob& job : node.jobs) {
      if (job.routing_id == routing_id) {
        cancelled.push_back(std::move(job));
      } else {
        kept.push_back(std::move(job));
      }
    }
    queued_ -= node.jobs.size() - kept.size();
    node.jobs.swap(kept);
    if (had_jobs && node.jobs.empty() && !node.running) {
      std::erase(ring_, it->first);  // it was in the ring: queued jobs, none in progress
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
  return cancelled;
}

bool VerifierPool::publish(IngressResult result) {
  MutexLock lock(results_mu_);
  const bool was_empty = results_.empty();
  results_.push_back(std::move(result));
  return was_empty;
}

void VerifierPool::run(zmq::socket_t notify) {
  MutexLock lock(mu_);
  for (;;) {
    while (!stopping_ && ring_.empty()) cv_.wait(lock.native());
    if (stopping_) return;
    std::string node_id = std::move(ring_.front());
    ring_.pop_front();
    NodeQueue& node = nodes_.at(node_id);
    assert(!node.running && !node.jobs.empty());
    IngressJob job = std::move(node.jobs.front());
    node.jobs.pop_front();
    --queued_;
    node.running = true;
    lock.unlock();

    // Published before the node can run again: this keeps its order.
    if (publish(work_(std::move(job)))) {
      try {
        notify.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::dontwait);
      } catch (const zmq::error_t&) {
        // Ignored: the context is closing; the pool is being torn down with it.
      }
    }

    lock.lock();
    // Still there: only the worker running a node erases it.
    auto it = nodes_.find(node_id);
    assert(it != nodes_.end());
    it->second.running = false;
    if (it->second.jobs.empty()) {
      nodes_.erase(it);
    } else {
      ring_.push_back(std::move(node_id));
      cv_.notify_one();  // another worker may be idle while this one loops
    }
  }
}

}  // namespace tearline::broker
