// A real broker on tcp://127.0.0.1:* for black-box tests, over a fresh demo
// PKI (certs/roster.toml) generated at the current time: the broker and the
// client library both ask the system clock, so a PKI pinned at kDemoNow would
// not be valid for them.
//
// The fixture writes nothing but the PKI and the broker's data_dir into its
// own temporary folder; the broker's configuration is built in code. The
// broker runs on its own thread from construction until stop() or
// destruction; start() runs a new broker on the same PKI, data_dir and
// endpoint (the port the first one bound), so that sessions of the old one
// reconnect to it by themselves, as after a broker restart in production.
//
// Errors: setup failures (roster, PKI, broker start) and failed revocations or
// reloads throw std::runtime_error, so a test stops at the first broken step.
//
// Threading: construct, use and destroy from one test thread. connect() may be
// called from any thread; each Session it returns belongs to one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "broker/broker.h"
#include "identity/pki.h"
#include "support/temp_dir.h"
#include "tearline/client.h"

namespace tearline::testing {

class BrokerFixture {
 public:
  BrokerFixture();
  // With these [storage] limits (broker/config.h) instead of the defaults.
  explicit BrokerFixture(const broker::StorageLimits& storage);
  // With the configuration changed by `configure` (e.g. lowered [limits]),
  // called after the fixture has set the endpoint, paths and defaults.
  using Configure = std::function<void(broker::Config&)>;
  explicit BrokerFixture(const Configure& configure);
  // The same with the broker asking `clock` (e.g. a FixedClock; it must
  // outlive the fixture) instead of the system clock.
  BrokerFixture(const Configure& configure, const Clock& clock);
  // A further broker of `first`'s PKI (what `tearline certs broker
  // --additional` makes): a credential `broker_id` of `agency` is issued
  // into the directory, with its keys under keys/brokers/; it gets a
  // data_dir of its own, the configuration `configure` makes of first's,
  // and `first` (when running) reloads the directory. Sessions from
  // options() name it (SessionOptions::broker_id).
  BrokerFixture(BrokerFixture& first, const std::string& broker_id, const std::string& agency,
                const Configure& configure);
  ~BrokerFixture();  // stops the broker and joins its thread
  BrokerFixture(const BrokerFixture&) = delete;
  BrokerFixture& operator=(const BrokerFixture&) = delete;

  // The endpoint the broker bound, e.g. tcp://127.0.0.1:41234 (kept while
  // the broker is stopped, and bound again by start()).
  std::string endpoint() const { return endpoint_; }
  const identity::PkiPaths& pki() const { return pki_; }
  const std::filesystem::path& root() const { return dir_.path(); }
  // The broker's data_dir and its database (DATA_DIR/tearline.db).
  std::filesystem::path data_dir() const { return config_.data_dir; }
  std::filesystem::path database() const { return config_.data_dir / "tearline.db"; }
  // The running broker's counters (they start from zero at each start()).
  // Requires a running broker.
  broker::BrokerStats stats() const { return broker_->stats(); }

  // Stops the broker cleanly (what SIGTERM does: the last audit entries and a
  // checkpoint are committed) and joins its thread. No-op when stopped.
  void stop();
  // Starts a new broker on the same PKI, data_dir and endpoint; it recovers
  // its state from the store. Throws when it cannot start (retries binding
  // the port for up to 5 s). No-op when running.
  void start();
  void restart() {
    stop();
    start();
  }
  bool running() const { return broker_ != nullptr; }
  // The partner brokers it pulls from ([[peer]]); a running broker restarts
  // to take them (same endpoint, same data).
  void set_peers(std::vector<broker::PeerEndpoint> peers);

  // Session options for `node` with its key file from this PKI.
  client::SessionOptions options(const std::string& node) const;
  // Session::connect(options(node)): a session after WELCOME, or the failure
  // (HANDSHAKE_REFUSED, SESSION_REVOKED, UNAVAILABLE, ...).
  Result<std::unique_ptr<client::Session>> connect(const std::string& node) const;

  // Adds the node's current serial to `agency`'s revocation list, then
  // reload() when the broker runs (a stopped broker reads the list when it
  // starts). Throws when the node is unknown or the list cannot be issued.
  void revoke(const std::string& agency, const std::string& node);
  // The same with a reason: RETIRED (its past signatures stand) or
  // COMPROMISED at `compromised_at` (unix seconds; 0: the list's issue time).
  void revoke(const std::string& agency, const std::string& node, identity::RevocationReason reason,
              std::int64_t compromised_at = 0);
  // Broker::request_reload() and waits until the broker has reloaded (its
  // reload counter moved); throws when the reload failed or took over 5 s.
  // When it returns, the sessions of nodes no longer valid have been sent
  // ERROR SESSION_REVOKED.
  void reload();

 private:
  TempDir dir_;
  identity::PkiPaths pki_;
  broker::Config config_;
  std::string endpoint_;
  std::string broker_id_;  // a further broker's id; empty: the PKI's first broker
  const Clock* clock_;
  std::unique_ptr<broker::Broker> broker_;
  std::thread thread_;
  Status run_status_;
};

}  // namespace tearline::testing
