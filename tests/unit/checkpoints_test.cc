// lib/federation/checkpoints: a partner broker's signed audit checkpoint,
// checked before it is recorded. Real keys of the demo PKI: DIRAN's broker
// (tearline-broker) signs with its audit key, the one its credential names.
#include <catch2/catch.hpp>

#include "audit/audit.h"
#include "base/clock.h"
#include "crypto/key_file.h"
#include "federation/checkpoints.h"
#include "identity/pki.h"
#include "support/demo_world.h"
#include "support/temp_dir.h"

namespace tearline::checkpoints_test {
namespace {

std::vector<Code> codes_of(const Status& s) {
  std::vector<Code> out;
  for (const auto& r : s.reasons()) out.push_back(r.code);
  return out;
}

}  // namespace

TEST_CASE("peer checkpoint: the partner broker's own, signed by its audit key, or refused with the reason",
          "[federation]") {
  testing::TempDir dir;
  testing::DemoWorld::generate_into(dir.path());
  const identity::PkiPaths pki(dir.path());
  auto directory = identity::Directory::load(pki.directory(), SystemClock::instance().now_seconds(), nullptr);
  REQUIRE(directory);
  auto keys = crypto::read_broker_keys(pki.broker_key());
  REQUIRE(keys);
  audit::AuditEntry last;
  last.index = 42;
  last.hash.fill(0x5a);
  const audit::Checkpoint signed_c = audit::sign_checkpoint(last, 1'780'000'000'000, keys->audit);
  const tearline::v1::AuditCheckpoint m = federation::checkpoint_message("tearline-broker", signed_c);

  auto ok = federation::check_peer_checkpoint(m, "tearline-broker", **directory);
  INFO(ok.status().to_string());
  REQUIRE(ok);
  CHECK(ok->index == 42);
  CHECK(ok->hash == last.hash);
  CHECK(ok->time_ms == 1'780'000'000'000);
  CHECK(ok->signature == signed_c.signature);

  // Another broker's name, or no broker at all.
  CHECK(codes_of(federation::check_peer_checkpoint(m, "dea-broker", **directory).status()) ==
        std::vector<Code>{Code::WRONG_AUTHORITY});
  auto by_node = m;
  by_node.set_broker_id("diran-bogota-hq");
  CHECK(codes_of(federation::check_peer_checkpoint(by_node, "diran-bogota-hq", **directory).status()) ==
        std::vector<Code>{Code::UNKNOWN_NODE});
  // Malformed: every problem named.
  auto malformed = m;
  malformed.set_index(0);
  malformed.set_hash("short");
  malformed.set_signature("");
  CHECK(codes_of(federation::check_peer_checkpoint(malformed, "tearline-broker", **directory).status()) ==
        std::vector<Code>{Code::INVALID_FIELD, Code::INVALID_FIELD, Code::INVALID_FIELD});
  // Any signed field changed, or another key: BAD_SIGNATURE.
  for (int field = 0; field < 4; ++field) {
    INFO("field " << field);
    auto changed = m;
    if (field == 0) changed.set_index(43);
    if (field == 1) (*changed.mutable_hash())[0] = 0x5b;
    if (field == 2) changed.set_time_ms(m.time_ms() + 1);
    if (field == 3) (*changed.mutable_signature())[63] = static_cast<char>(m.signature()[63] ^ 1);
    CHECK(codes_of(federation::check_peer_checkpoint(changed, "tearline-broker", **directory).status()) ==
          std::vector<Code>{Code::BAD_SIGNATURE});
  }
  auto node_keys = crypto::read_node_keys(pki.node_key("diran-bogota-hq"));
  REQUIRE(node_keys);
  const tearline::v1::AuditCheckpoint other_key = federation::checkpoint_message(
      "tearline-broker", audit::sign_checkpoint(last, 1'780'000'000'000, node_keys->signing));
  CHECK(codes_of(federation::check_peer_checkpoint(other_key, "tearline-broker", **directory).status()) ==
        std::vector<Code>{Code::BAD_SIGNATURE});
}

}  // namespace tearline::checkpoints_test
