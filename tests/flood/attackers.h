// The three attacks of the flood test, each on its own thread:
//
//   ValidFlood      a compromised but valid node sends fresh, validly signed
//                   reports as fast as it can sign them and the broker takes
//                   them (up to `window` in flight); the broker accepts what
//                   its token bucket allows and answers RATE_LIMITED to the
//                   rest. Each report costs the attacker one signature
//                   (ReportMaker::next_resigned), not a whole build.
//   BadSignatureFlood  a valid node sends reports whose signature has one bit
//                   flipped, as fast as the broker answers; when the broker
//                   closes its session (TOO_MANY_FAILURES) it says HELLO again
//                   and again until it is re-admitted.
//   StalledHandshakes  plain TCP connections to the broker's port that never
//                   finish the ZMTP/CURVE handshake: half send nothing, half
//                   the first 10 bytes of a greeting. Each one closed by the
//                   broker (handshake_timeout_ms) is opened again at once.
//
// prepare() starts the attack's thread, which does the expensive part
// (connecting, building reports) before the measurement starts and then
// waits; start() lets it loose and stop() ends it. The thread (and the
// libzmq I/O thread of its connection, created from it) runs at the
// attacker's nice value.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "flood/raw_node.h"

namespace tearline::flood {

struct AttackCounters {
  std::uint64_t sent = 0;  // PUBLISH frames (or TCP connections opened)
  std::uint64_t accepted = 0;
  std::map<std::string, std::uint64_t> rejected;  // REJECTED by code
  std::uint64_t sessions_closed = 0;              // ERROR TOO_MANY_FAILURES (or connections closed by the broker)
  std::uint64_t hello_refused = 0;                // HELLO answered with ERROR
  double mean_lifetime_ms = 0;                    // stalled connections: open until the broker closed them

  std::uint64_t rejected_with(const std::string& code) const;
  std::uint64_t rejected_total() const;
};

class Attack {
 public:
  explicit Attack(int nice) : nice_(nice) {}
  virtual ~Attack();  // stop()
  virtual std::string name() const = 0;

  // Starts the thread and waits until its setup is done; throws
  // std::runtime_error with the reason when the setup failed.
  void prepare();
  void start();
  void stop();
  AttackCounters counters() const;

 protected:
  // On the attack's thread: setup() before start(), run() until stop_.
  virtual void setup() = 0;
  virtual void run() = 0;

  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  AttackCounters counters_;

 private:
  void thread_main();

  int nice_;
  std::thread thread_;
  std::mutex state_mu_;
  std::condition_variable state_cv_;
  bool ready_ = false, go_ = false;
  std::string setup_error_;
};

struct FloodTarget {
  std::string endpoint;
  int port = 0;
  const identity::PkiPaths* pki = nullptr;
  std::string valid_flooder, bad_signature_flooder;  // node ids
  int nice = 0;                                      // scheduling priority of the attackers' threads (0: as the canary)
};

std::unique_ptr<Attack> make_valid_flood(const FloodTarget& target, int window, std::size_t report_bytes);
std::unique_ptr<Attack> make_bad_signature_flood(const FloodTarget& target, int window, std::size_t report_bytes);
std::unique_ptr<Attack> make_stalled_handshakes(const FloodTarget& target, int connections);

}  // namespace tearline::flood
