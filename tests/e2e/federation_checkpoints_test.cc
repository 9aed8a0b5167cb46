// Signed audit checkpoints exchanged over a peering (docs/federation.md,
// "Audit checkpoints"): not where the receiving side's [[peer]] says checkpoints = false, never
// with a node, each recorded checkpoint matching the other's log.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "audit/anchor.h"
#include "audit/audit_db.h"
#include "audit/audit_reader.h"
#include "base/bytes.h"
#include "client/connection.h"
#include "crypto/key_file.h"
#include "federation_world.h"
#include "wire/frame.h"

namespace tearline {
using namespace federation_world;
using testing::label;

namespace {

// The "peer_checkpoint received" entries of a log: (the broker, its checkpoint).
std::vector<std::pair<std::string, audit::Checkpoint>> peer_checkpoints(const std::filesystem::path& database) {
  auto entries = audit::read_entries(database);
  REQUIRE(entries);
  std::vector<std::pair<std::string, audit::Checkpoint>> out;
  for (const auto& e : *entries) {
    if (e.event != "peer_checkpoint") continue;
    INFO(e.decision << " " << e.detail);
    REQUIRE(e.decision == "received");
    auto c = audit::parse_anchor_line(e.detail);
    REQUIRE(c);
    out.emplace_back(e.node, *c);
  }
  return out;
}

// The index of the log's "crossing taken" entry of `report_hex`; 0 when none.
std::uint64_t taken_at(const std::filesystem::path& database, const std::string& report_hex) {
  auto entries = audit::read_entries(database);
  REQUIRE(entries);
  for (const auto& e : *entries) {
    if (e.event == "crossing" && e.decision == "taken" && e.report == report_hex) return e.index;
  }
  return 0;
}

}  // namespace

TEST_CASE(
    "federation: the boundary brokers exchange signed audit checkpoints; each holds what the other's log "
    "held, the crossings it took included",
    "[e2e][federation]") {
  broker::StorageLimits storage;
  storage.audit_checkpoint_seconds = 1;
  Federation f(storage, true);
  auto hq = testing::must_connect(f.diran, kHq);
  auto analyst = f.subscribed_analyst();
  f.wait_for_link(*hq, *analyst);
  auto sent = hq->publish(testing::draft("intel.finance.cartel", {{testing::kEveryone, "the accountant's bank"}}));
  REQUIRE(sent);
  REQUIRE(sent->accepted);
  const std::string id = to_hex(sent->report_id);
  auto got = analyst->receive(kWaitMs);
  REQUIRE(got);
  CHECK(got->report_id_hex == id);
  // Within a few PINGs (every 5 s), DIRAN's broker holds a checkpoint of
  // DEA's that covers DEA's "crossing taken" entry of the report.
  std::uint64_t taken = 0;
  bool covered = false;
  for (int i = 0; i < 150 && !covered; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (taken == 0) taken = taken_at(f.dea->database(), id);
    for (const auto& [broker, c] : peer_checkpoints(f.diran.database())) {
      covered = covered || (broker == "dea-broker" && taken != 0 && c.index >= taken);
    }
  }
  CHECK(covered);
  analyst.reset();
  hq.reset();
  f.dea->stop();
  f.diran.stop();
  // Each side's record of the other's checkpoint matches the other's log,
  // entry for entry: the partner could not now deny what it held.
  const std::pair<BrokerFixture*, const char*> sides[2] = {{&f.diran, "dea-broker"}, {f.dea.get(), "tearline-broker"}};
  for (const auto& [recorder, partner] : sides) {
    INFO(partner);
    const auto records = peer_checkpoints(recorder->database());
    CHECK_FALSE(records.empty());
    BrokerFixture& other = recorder == &f.diran ? *f.dea : f.diran;
    auto log = audit::sqlite_audit_reader(other.database());
    auto entries = log->entries({});
    REQUIRE(entries);
    for (const auto& [broker, c] : records) {
      CHECK(broker == partner);
      REQUIRE(c.index <= entries->size());
      CHECK((*entries)[c.index - 1].hash == c.hash);
      auto check = audit::compare_with_anchor(*log, c);
      REQUIRE(check);
      CHECK_FALSE(check->truncated);
    }
  }
}

TEST_CASE(
    "federation: audit checkpoints are not exchanged where the receiving side's [[peer]] turns them off, and never "
    "with a node",
    "[e2e][federation]") {
  broker::StorageLimits storage;
  storage.audit_checkpoint_seconds = 1;
  Federation f(storage, false);  // as for a partner broker from before, which would refuse them
  auto hq = testing::must_connect(f.diran, kHq);
  auto analyst = f.subscribed_analyst();
  f.wait_for_link(*hq, *analyst);
  // A node's PING with a checkpoint (its own "signature"): ignored, and the
  // PONG carries none of the broker's.
  auto keys = crypto::read_node_keys(f.diran.pki().node_key(kHq));
  REQUIRE(keys);
  auto broker_key = client::read_broker_key(f.diran.pki().broker_public());
  REQUIRE(broker_key);
  client::ConnectionOptions options;
  options.endpoint = f.diran.endpoint();
  options.node_id = kHq;
  options.connect_timeout_ms = kWaitMs;
  auto conn = client::Connection::open(options, *broker_key, keys->transport);
  REQUIRE(conn);
  REQUIRE((*conn)->hello());
  v1::Frame ping = wire::make_ping(7);
  v1::AuditCheckpoint* c = ping.mutable_ping()->mutable_checkpoint();
  c->set_broker_id(kHq);
  c->set_index(1);
  c->set_hash(std::string(32, 'h'));
  c->set_signature(std::string(64, 's'));
  REQUIRE((*conn)->send(ping));
  std::optional<v1::Frame> pong;
  for (int i = 0; i < 50 && !pong; ++i) {
    auto event = (*conn)->next_event(100);
    if (event && event->is_ok() && event->value().has_pong()) pong = event->value();
  }
  REQUIRE(pong);
  CHECK(pong->pong().nonce() == 7);
  CHECK_FALSE(pong->pong().has_checkpoint());
  // Past a PING of DEA's link (every 5 s) and several checkpoints of each
  // broker: neither recorded the other's, as DEA's [[peer]] turned them off.
  std::this_thread::sleep_for(std::chrono::milliseconds(6000));
  analyst.reset();
  hq.reset();
  f.dea->stop();
  f.diran.stop();
  CHECK(peer_checkpoints(f.diran.database()).empty());
  CHECK(peer_checkpoints(f.dea->database()).empty());
}

}  // namespace tearline
