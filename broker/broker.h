// tearline-broker: the daemon agency nodes connect to.
//
// Design (docs/architecture.md): one I/O thread owns the ROUTER socket, the
// sessions, the subscriptions, replay state and routing; a ZAP thread decides
// admission; verifier threads (VerifierPool) verify signatures and judge
// may_publish on every core. The broker never sees plaintext: it routes on
// labels and forwards sealed sections, each subscriber receiving a copy torn
// down to the sections it may read and that are sealed to it.
//
// Threading contract: create() and the public methods marked thread-safe may
// be called from any thread; run() is called once, on the thread that then
// owns the sockets until it returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "broker/config.h"

namespace tearline::broker {

struct BrokerStats {
  std::uint64_t accepted = 0, rejected = 0, delivered = 0, sessions = 0, closed_sessions = 0;
  std::uint64_t reloads = 0, failed_reloads = 0;
  std::uint64_t damaged_records = 0;     // stored records that failed their re-check (GAP sent)
  std::uint64_t refused_handshakes = 0;  // CURVE handshakes refused by ZAP
  std::uint64_t refused_hellos = 0;      // HELLOs refused (BROKER_BUSY, cooldown, revoked)
  std::uint64_t wall_clock_steps = 0;    // wall-clock steps detected
};

class Broker {
 public:
  // Loads keys, directory and policy, binds the ZAP handler and then the
  // ROUTER. Fails with one clear reason when anything is missing or unsafe
  // (bad key permissions, empty trust store, bad policy, endpoint in use): a
  // broker never starts half-secured.
  static Result<std::unique_ptr<Broker>> create(const Config& config, const Clock& clock = SystemClock::instance());
  ~Broker();

  // Serves until stop(). Returns OK on a clean stop.
  Status run();

  void stop();            // thread-safe, async-signal-safe (sets a flag)
  void request_reload();  // thread-safe, async-signal-safe (sets a flag)
  // The endpoint actually bound (the port resolved for tcp://127.0.0.1:*).
  std::string endpoint() const;  // thread-safe
  BrokerStats stats() const;     // thread-safe; `sessions` left 0

  struct Impl;

 private:
  explicit Broker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tearline::broker
