// A real broker on tcp://127.0.0.1:* for black-box tests, over a fresh demo
// PKI (certs/roster.toml) generated at the current time: the broker and the
// client library both ask the system clock, so a PKI pinned at kDemoNow would
// not be valid for them.
//
// The fixture writes nothing but the PKI and the broker's data_dir into its
// own temporary folder; the broker's configuration is built in code. The
// broker runs on its own thread from construction until destruction.
//
// Errors: setup failures (roster, PKI, broker start) and failed revocations or
// reloads throw std::runtime_error, so a test stops at the first broken step.
//
// Threading: construct, use and destroy from one test thread. connect() may be
// called from any thread; each Session it returns belongs to one thread.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "base/result.h"
#include "broker/broker.h"
#include "identity/pki.h"
#include "support/temp_dir.h"
#include "tearline/client.h"

namespace tearline::testing {

class BrokerFixture {
 public:
  BrokerFixture();
  ~BrokerFixture();  // stops the broker and joins its thread
  BrokerFixture(const BrokerFixture&) = delete;
  BrokerFixture& operator=(const BrokerFixture&) = delete;

  // The endpoint the broker bound, e.g. tcp://127.0.0.1:41234.
  std::string endpoint() const { return broker_->endpoint(); }
  const identity::PkiPaths& pki() const { return pki_; }
  const std::filesystem::path& root() const { return dir_.path(); }
  broker::BrokerStats stats() const { return broker_->stats(); }

  // Session options for `node` with its key file from this PKI.
  client::SessionOptions options(const std::string& node) const;
  // Session::connect(options(node)): a session after WELCOME, or the failure
  // (HANDSHAKE_REFUSED, SESSION_REVOKED, UNAVAILABLE, ...).
  Result<std::unique_ptr<client::Session>> connect(const std::string& node) const;

  // Adds the node's current serial to `agency`'s revocation list, then
  // reload(). Throws when the node is unknown or the list cannot be issued.
  void revoke(const std::string& agency, const std::string& node);
  // Broker::request_reload() and waits until the broker has reloaded (its
  // reload counter moved); throws when the reload failed or took over 5 s.
  // When it returns, the sessions of nodes no longer valid have been sent
  // ERROR SESSION_REVOKED.
  void reload();

 private:
  TempDir dir_;
  identity::PkiPaths pki_;
  std::unique_ptr<broker::Broker> broker_;
  std::thread thread_;
  Status run_status_;
};

}  // namespace tearline::testing
