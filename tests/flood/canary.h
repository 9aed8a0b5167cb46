// The canary whose service the flood test measures: one publisher keeping
// up to `window` PUBLISHes in flight (closed loop) of reports with one
// UNCLASSIFIED section of `report_bytes` bytes sealed to the canary
// subscriber, and that subscriber, which ACKs every DELIVER. With a
// `rate` (reports per second, 0: none) the publisher also paces itself, as
// an honest node that stays under its publish_rate would.
//
// A delivery's latency runs from the PUBLISH leaving the publisher to its
// DELIVER reaching the subscriber; both ends are in this process and use the
// steady clock. The subscriber reads only the report id from a DELIVER (no
// signature check, no decryption), so that the numbers are the broker's.
//
// Threading: start() runs the publisher and the subscriber on a thread each;
// deliveries() and counters() may be called from any thread meanwhile.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "flood/raw_node.h"

namespace tearline::flood {

// Steady-clock microseconds.
std::int64_t now_us();

struct Delivery {
  std::int64_t sent_us = 0;       // PUBLISH handed to the socket
  std::int64_t delivered_us = 0;  // DELIVER read by the subscriber
};

struct CanaryCounters {
  std::uint64_t sent = 0, accepted = 0;
  std::map<std::string, std::uint64_t> rejected;  // by code name
  std::map<std::string, std::uint64_t> errors;    // ERROR frames, by code name
};

class Canary {
 public:
  // Connects both nodes and subscribes the subscriber to the canary topic.
  // Throws std::runtime_error when either cannot.
  Canary(const std::string& endpoint, const identity::PkiPaths& pki, int window, double rate, std::size_t report_bytes);
  ~Canary();  // stop()

  void start();
  void stop();
  std::vector<Delivery> deliveries() const;
  CanaryCounters counters() const;

 private:
  void publish_loop();
  void subscribe_loop();
  void ack(const tearline::v1::Deliver& d);

  std::unique_ptr<RawNode> publisher_, subscriber_;
  int window_;
  double rate_;
  std::size_t report_bytes_;
  std::atomic<bool> stop_{false};
  std::thread publishing_, subscribing_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::int64_t> sent_at_;  // report id -> sent_us, until delivered
  std::vector<Delivery> deliveries_;
  CanaryCounters counters_;
};

}  // namespace tearline::flood
