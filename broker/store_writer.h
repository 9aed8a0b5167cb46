// The store's writer thread: runs Store::commit (the group commit, with its
// sync) off the I/O thread, so that the broker keeps receiving, verifying and
// routing while a batch is written. One batch at a time: the I/O thread
// submits a batch when the writer is idle, collects the result when the
// writer signals, and only then builds the next batch from what accumulated
// meanwhile (docs/architecture.md, "Group commit").
//
// Signalling: after each commit the writer sends an empty message on its own
// PUSH socket to `notify_endpoint` (inproc, bound by the I/O thread), which
// wakes the I/O thread's poll.
//
// The audit anchor (broker/anchor.h): after a commit that succeeded and held
// checkpoints, the writer thread appends them to `anchor` and fsyncs it
// before it signals the result, and logs event=checkpoint_anchored (a
// failure to append is logged as event=checkpoint_anchor_failed and does not
// change the commit's result: the anchor then lags, it never leads).
//
// submit(), take() and wait() are called by the I/O thread only. While a
// batch is in flight the writer thread owns the store's write connection;
// the I/O thread may use it (retention) only while !busy().
#pragma once

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "base/mutex.h"
#include "broker/store.h"

namespace spdlog {
class logger;
}

namespace tearline::broker {

class StoreWriter {
 public:
  struct Written {
    Status status;                    // Store::commit's answer
    Batch batch;                      // the batch, handed back; written, each report's `prev` as the store found it
    std::string clashing_id;          // with REPLAYED_REPORT (SEQUENCE_REGRESSION): the report id refused
    std::vector<std::string> fenced;  // written: the nodes Batch::fences kept out (Store::commit)
    double seconds = 0;               // how long Store::commit took
  };

  // Throws zmq::error_t when the notify socket cannot be made. An empty
  // `anchor` keeps no anchor.
  StoreWriter(Store& store, zmq::context_t& context, const std::string& notify_endpoint,
              std::filesystem::path anchor = {}, std::shared_ptr<spdlog::logger> log = nullptr);
  ~StoreWriter();  // finishes the batch in flight, then stops
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // A batch was submitted and its result not yet taken.
  bool busy() const { return busy_; }
  // Precondition: !busy().
  void submit(Batch batch) EXCLUDES(mu_);
  // The result of the batch in flight once it is written (then !busy()), or
  // nullopt while it is still being written.
  std::optional<Written> take() EXCLUDES(mu_);
  // Blocks until the batch in flight is written; its result. Precondition: busy().
  Written wait() EXCLUDES(mu_);

 private:
  void run() EXCLUDES(mu_);
  void anchor_checkpoints(const Batch& batch);

  Store& store_;
  const std::filesystem::path anchor_;
  std::shared_ptr<spdlog::logger> log_;
  zmq::socket_t notify_;  // built and connected in the constructor, used by the thread
  bool busy_ = false;     // I/O thread only
  Mutex mu_;
  std::condition_variable cv_;
  std::optional<Batch> job_ GUARDED_BY(mu_);
  std::optional<Written> result_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tearline::broker
