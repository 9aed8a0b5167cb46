// Verifier threads: signature verification and policy run here, off the I/O
// thread, on every core. Jobs are sharded by authenticated node id, so one
// node's reports are verified in the order they arrived and their results
// come back in that order (sequence numbers stay monotonic). Each worker
// pushes results onto a shared queue and wakes the I/O thread with an empty
// message on its own PUSH socket to `notify_endpoint` (inproc, bound by the
// I/O thread before the pool starts).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "broker/ingress.h"

namespace tearline::broker {

class VerifierPool {
 public:
  using Work = std::function<IngressResult(IngressJob)>;

  VerifierPool(int threads, std::size_t queue_limit, zmq::context_t& context, std::string notify_endpoint,
               Work work);
  ~VerifierPool();  // finishes queued jobs' current one, then stops
  VerifierPool(const VerifierPool&) = delete;
  VerifierPool& operator=(const VerifierPool&) = delete;

  // False when the node's shard already holds queue_limit jobs (BROKER_BUSY).
  bool submit(IngressJob job);
  // Every finished result, in completion order (per node: arrival order).
  std::vector<IngressResult> drain();
  int threads() const { return static_cast<int>(shards_.size()); }

 private:
  struct Shard {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<IngressJob> jobs;
    std::thread thread;
  };
  void run(Shard& shard);

  std::size_t queue_limit_;
  zmq::context_t& context_;
  std::string notify_endpoint_;
  Work work_;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Shard>> shards_;
  std::mutex results_mu_;
  std::vector<IngressResult> results_;
};

}  // namespace tearline::broker
