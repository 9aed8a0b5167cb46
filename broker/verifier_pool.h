// Verifier threads: signature verification and policy run here, off the I/O
// thread, and are shared FAIRLY between nodes.
//
// Scheduling. Each node id (IngressJob::node_id) has its own FIFO queue. A
// round-robin ring holds the nodes that have queued jobs and no job in
// progress. A free worker takes the node at the front of the ring, pops ONE
// of its jobs and runs it; while it runs the node is out of the ring, and when
// it finishes the node goes to the BACK of the ring if it still has jobs.
//  - Fairness: a node that floods delays any other node by at most one job per
//    worker thread, and every thread serves whichever node is next, so two
//    busy nodes never wait on one thread while another idles.
//  - Ordering: at most one job per node is in progress, and its result is
//    published before the node's next job can start, so drain() returns each
//    node's results in the order its jobs were submitted (the broker relies on
//    this: sequence numbers stay monotonic per node). Between nodes, results
//    come in completion order.
//  - Limits: at most `queue_limit` jobs are queued in total over all nodes
//    (jobs in progress do not count); beyond it submit() returns false and
//    the broker answers BROKER_BUSY. A node's entry is erased as soon as it
//    has no queued job and none in progress, so memory follows the nodes
//    with work, not the nodes ever seen.
//  - Wake-ups: a worker appends its result to a shared vector and, only when
//    that vector was empty before the append, sends an empty message on its
//    own PUSH socket to `notify_endpoint` (inproc, bound by the I/O thread
//    before the pool is constructed) to wake the I/O thread's zmq_poll. See
//    drain() for why that is enough.
//
// Thread-safety: submit(), drain() and cancel() are called from the I/O
// thread only; `work` runs concurrently on the worker threads (for different
// nodes) and must be safe to call that way. `context` must outlive the pool.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include "base/mutex.h"
#include "broker/ingress.h"

namespace tearline::broker {

class VerifierPool {
 public:
  using Work = std::function<IngressResult(IngressJob)>;

  // Starts max(1, threads) workers, each with a PUSH socket connected to
  // `notify_endpoint`. Throws zmq::error_t when a socket cannot be set up
  // (no thread is left running then).
  VerifierPool(int threads, std::size_t queue_limit, zmq::context_t& context, const std::string& notify_endpoint,
               Work work);
  // Stops promptly: jobs in progress finish (their results are dropped with
  // the pool), queued jobs are dropped, the workers are joined.
  ~VerifierPool();
  VerifierPool(const VerifierPool&) = delete;
  VerifierPool& operator=(const VerifierPool&) = delete;

  // Queues `job` behind the earlier jobs of its node. False, and `job` is
  // not queued, when queue_limit jobs are already queued (BROKER_BUSY).
  [[nodiscard]] bool submit(IngressJob job) EXCLUDES(mu_);

  // Every result published since the last call: per node in submission
  // order. Takes the whole vector, which is what makes "notify only when the
  // vector was empty" correct, provided the I/O thread, after each wake-up,
  // reads every pending notify message and THEN calls drain():
  //  - a result appended to an empty vector sends a notify after the append;
  //    the drain() that follows that wake-up takes it, unless an earlier
  //    drain() already did;
  //  - a result appended to a non-empty vector joins one that has not been
  //    drained yet and whose notify is sent or on its way, so the drain()
  //    after that wake-up takes both;
  //  - a notify whose result an earlier drain() already took (the result
  //    was appended between the I/O thread reading notify messages and
  //    calling drain()) only causes a spurious wake-up and an empty drain().
  std::vector<IngressResult> drain() EXCLUDES(results_mu_);

  // Removes every QUEUED job whose routing_id is `routing_id` and returns
  // them (per node in submission order), e.g. when the broker closes that
  // session and must release the node's in-flight slots. A job already in
  // progress is not stopped: its result still comes out of drain().
  std::vector<IngressJob> cancel(const std::string& routing_id) EXCLUDES(mu_);

  int threads() const { return static_cast<int>(workers_.size()); }
  // Jobs queued and not yet taken by a worker (BROKER_STATUS.verify_queue).
  std::size_t queued() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return queued_;
  }

 private:
  struct NodeQueue {
    std::deque<IngressJob> jobs;
    bool running = false;  // a job of this node is in progress
  };

  void run(zmq::socket_t notify) EXCLUDES(mu_, results_mu_);
  void stop() EXCLUDES(mu_);  // stops and joins the workers
  // Appends `result`; true when the vector was empty before (send a notify).
  bool publish(IngressResult result) EXCLUDES(results_mu_);

  const std::size_t queue_limit_;
  const Work work_;

  mutable Mutex mu_;  // guards the scheduler state below
  std::condition_variable cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  // Nodes with queued jobs or one in progress.
  std::unordered_map<std::string, NodeQueue> nodes_ GUARDED_BY(mu_);
  std::deque<std::string> ring_ GUARDED_BY(mu_);  // nodes with queued jobs and none in progress
  std::size_t queued_ GUARDED_BY(mu_) = 0;        // sum of nodes_[*].jobs.size()

  Mutex results_mu_;
  std::vector<IngressResult> results_ GUARDED_BY(results_mu_);

  std::vector<std::thread> workers_;  // last: started once everything above exists
};

}  // namespace tearline::broker
