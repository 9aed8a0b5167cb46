// StreamFeed: the heads of the other brokers' streams in a store several
// brokers share (docs/scale-out.md, docs/protocol.md 6.14), for the I/O
// thread to route what they accepted (CatchUp::run_stream).
//
// A thread waits on the store's watch (Store::watch): a wake-up raises a
// flag and pokes the I/O thread's poll with an empty message on `notify`
// (the socket the StoreWriter and the verifiers poke). refresh() reads the
// heads when the flag is up, and at least every kRereadMs besides: a
// notification is only a hint (it is lost when the watch's connection
// drops), so the heads themselves are the truth. A store with one writer
// has no watch: then there is no thread and no stream but the broker's own.
//
// Ownership and threads: owned by the I/O thread, which alone calls
// refresh() and heads(); the thread touches only the atomics and its socket.
// The store must outlive it; the destructor stops the thread (within the
// watch's wait, kWaitMs, or the connection attempt the watch is making).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "broker/store.h"

namespace spdlog {
class logger;
}

namespace tearline::broker {

class StreamFeed {
 public:
  static constexpr std::int64_t kRereadMs = 1000;  // heads read at least this often
  static constexpr std::int64_t kWaitMs = 200;     // one wait on the watch

  using Heads = std::map<std::string, std::uint64_t, std::less<>>;

  // Throws zmq::error_t when the notify socket cannot be made.
  StreamFeed(Store& store, std::string own_writer, zmq::context_t& context, const std::string& notify_endpoint,
             std::shared_ptr<spdlog::logger> log);
  ~StreamFeed();
  StreamFeed(const StreamFeed&) = delete;
  StreamFeed& operator=(const StreamFeed&) = delete;

  // Reads the heads when a wake-up came or kRereadMs passed since the last
  // read (steady time); true when one moved or a new writer appeared. A
  // failed read is logged (once per run of failures) and keeps the heads.
  bool refresh(std::int64_t steady_ms);
  // The other writers' heads as last read, by writer name (this broker's
  // own is not among them).
  const Heads& heads() const { return heads_; }

 private:
  void run();

  Store& store_;
  const std::string own_writer_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<StoreWatch> watch_;
  zmq::socket_t notify_;  // made in the constructor, used by the thread
  Heads heads_;
  std::int64_t next_read_ms_ = 0;
  bool failing_ = false;
  std::atomic<bool> woken_{true};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tearline::broker
