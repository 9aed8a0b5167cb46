#include "support/broker_fixture.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "base/clock.h"
#include "identity/roster.h"

namespace tearline::testing {
namespace {

// The broker logs to the "broker" logger when one is registered. Tests keep
// it at warn (override with TEARLINE_E2E_LOG=debug|info|...), so that a 2000
// report flood does not drown the test output.
void ensure_broker_logger() {
  if (spdlog::get("broker")) return;
  auto logger = spdlog::stderr_logger_mt("broker");
  const char* level = std::getenv("TEARLINE_E2E_LOG");
  logger->set_level(spdlog::level::from_str(level != nullptr ? level : "warn"));
  logger->set_pattern("%H:%M:%S.%e broker level=%l %v");
}

}  // namespace

BrokerFixture::BrokerFixture() : BrokerFixture(broker::StorageLimits{}) {}

BrokerFixture::BrokerFixture(const broker::StorageLimits& storage)
    : BrokerFixture([storage](broker::Config& c) { c.storage = storage; }) {}

BrokerFixture::BrokerFixture(const Configure& configure) : BrokerFixture(configure, SystemClock::instance()) {}

BrokerFixture::BrokerFixture(const Configure& configure, const Clock& clock)
    : dir_("tearline-e2e"), pki_(dir_.path() / "pki"), clock_(&clock) {
  ensure_broker_logger();
  const std::filesystem::path source(TEARLINE_SOURCE_DIR);
  auto roster = identity::load_roster(source / "certs" / "roster.toml");
  if (!roster) throw std::runtime_error("demo roster: " + roster.status().to_string());
  Status generated = identity::generate_from_roster(*roster, pki_, SystemClock::instance().now_seconds());
  if (!generated) throw std::runtime_error("demo PKI: " + generated.to_string());

  config_.endpoint = "tcp://127.0.0.1:*";
  config_.key_file = pki_.broker_key();
  config_.directory = pki_.directory();
  config_.policy = source / "certs" / "policy.toml";
  config_.data_dir = dir_.path() / "data";
  if (configure) configure(config_);
  start();
}

BrokerFixture::BrokerFixture(BrokerFixture& first, const std::string& broker_id, const std::string& agency,
                             const Configure& configure)
    : dir_("tearline-e2e"), pki_(first.pki_), broker_id_(broker_id), clock_(first.clock_) {
  identity::BrokerIdentity who;
  who.node_id = broker_id;
  who.agency = agency;
  who.not_before = SystemClock::instance().now_seconds() - 60;
  who.not_after = who.not_before + std::int64_t{365} * 86400;
  Status made = identity::init_broker(pki_, who, false);
  if (!made) throw std::runtime_error("broker " + broker_id + ": " + made.to_string());
  config_ = first.config_;
  config_.endpoint = "tcp://127.0.0.1:*";
  config_.key_file = pki_.other_broker_key(broker_id);
  config_.data_dir = dir_.path() / "data";
  if (configure) configure(config_);
  if (first.running()) first.reload();
  start();
}

BrokerFixture::~BrokerFixture() { stop(); }

void BrokerFixture::set_peers(std::vector<broker::PeerEndpoint> peers) {
  config_.peers = std::move(peers);
  if (running()) restart();
}

void BrokerFixture::start() {
  if (broker_) return;
  broker::Config config = config_;
  if (!endpoint_.empty()) config.endpoint = endpoint_;  // a restart binds the same port again
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    auto created = broker::Broker::create(config, *clock_);
    if (created) {
      broker_ = std::move(created).value();
      break;
    }
    // The old listener may linger for a moment after a restart.
    if (created.code() != Code::IO_ERROR || std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("broker: " + created.status().to_string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  endpoint_ = broker_->endpoint();
  run_status_ = Status::ok();
  thread_ = std::thread([this] { run_status_ = broker_->run(); });
}

void BrokerFixture::stop() {
  if (!broker_) return;
  broker_->stop();
  if (thread_.joinable()) thread_.join();
  if (!run_status_) std::fprintf(stderr, "broker fixture: run() failed: %s\n", run_status_.to_string().c_str());
  broker_.reset();
}

client::SessionOptions BrokerFixture::options(const std::string& node) const {
  client::SessionOptions o;
  o.endpoint = endpoint();
  o.directory = pki_.directory();
  o.key_file = pki_.node_key(node);
  o.node_id = node;
  o.broker_id = broker_id_;
  return o;
}

Result<std::unique_ptr<client::Session>> BrokerFixture::connect(const std::string& node) const {
  return client::Session::connect(options(node));
}

void BrokerFixture::revoke(const std::string& agency, const std::string& node) {
  revoke(agency, node, identity::RevocationReason::kCompromised, 0);
}

void BrokerFixture::revoke(const std::string& agency, const std::string& node, identity::RevocationReason reason,
                           std::int64_t compromised_at) {
  const std::int64_t now = SystemClock::instance().now_seconds();
  auto directory = identity::Directory::load(pki_.directory(), now, nullptr);
  if (!directory) throw std::runtime_error("directory: " + directory.status().to_string());
  const identity::Credential* credential = (*directory)->node(node);
  if (credential == nullptr) throw std::runtime_error("revoke: unknown node " + node);
  auto list = identity::revoke(pki_, agency,
                               {identity::CredentialRevocation{credential->serial, reason, compromised_at}}, {}, now);
  if (!list) throw std::runtime_error("revoke " + node + ": " + list.status().to_string());
  if (running()) reload();
}

void BrokerFixture::reload() {
  const broker::BrokerStats before = broker_->stats();
  broker_->request_reload();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    const broker::BrokerStats now = broker_->stats();
    if (now.failed_reloads != before.failed_reloads) throw std::runtime_error("broker reload failed");
    if (now.reloads != before.reloads) return;
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("broker did not reload within 5 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace tearline::testing
