// broker/group_commit in a store several brokers share: a checkpoint is
// preceded by one heads entry naming the other brokers' chains when one
// moved since the last heads entry; such a move makes a checkpoint due once
// the interval passed, even with no entry of this broker's; another
// broker's own heads entry alone is no news (two idle brokers do not name
// each other's heads entries for ever).
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "audit/chain_heads.h"
#include "broker/group_commit.h"
#include "crypto/signing.h"

namespace tearline::broker {
namespace {

constexpr std::int64_t kWallClock = 1'700'000'000'000;

audit::ChainHead chain_at(const std::string& writer, std::uint64_t index, std::uint8_t fill, bool heads_entry = false) {
  audit::ChainHead h;
  h.writer = writer;
  h.index = index;
  h.hash.fill(fill);
  h.heads_entry = heads_entry;
  return h;
}

struct HeadsFixture {
  ReplayGuard replay{600'000};
  crypto::SigningKey key = crypto::SigningKey::generate();
  StorageLimits storage = [] {
    StorageLimits s;
    s.audit_checkpoint_entries = 1000;
    s.audit_checkpoint_seconds = 10;
    return s;
  }();
  GroupCommit gc{storage, replay, key, "broker-a", nullptr};
  std::map<std::string, std::uint64_t> cursors;

  HeadsFixture() { gc.restore(0, audit::ChainWriter(), 0, 0); }

  // Builds at steady `at` and writes the batch; nullopt when none was due.
  std::optional<Batch> write(std::int64_t at) {
    auto batch = gc.build(kWallClock + at, at, cursors);
    if (!batch) return std::nullopt;
    Batch copy = *batch;
    gc.finish(StoreWriter::Written{Status::ok(), std::move(*batch), "", {}}, at);
    return copy;
  }
};

std::vector<const audit::AuditEntry*> heads_entries(const Batch& b) {
  std::vector<const audit::AuditEntry*> out;
  for (const auto& e : b.audit) {
    if (audit::is_heads_entry(e)) out.push_back(&e);
  }
  return out;
}

TEST_CASE("group commit heads: the other chains named before the checkpoint that covers them",
          "[broker][commit][heads]") {
  HeadsFixture f;
  f.gc.other_chains({chain_at("broker-c", 3, 0xcc), chain_at("broker-b", 7, 0xbb)});
  CHECK_FALSE(f.write(9'999));  // nothing of its own, the interval not passed
  auto batch = f.write(10'000);
  REQUIRE(batch);
  REQUIRE(batch->audit.size() == 1);
  const auto& e = batch->audit[0];
  CHECK(audit::is_heads_entry(e));
  CHECK(e.detail == "broker-b 7 " + std::string(64, 'b') + "; broker-c 3 " + std::string(64, 'c'));
  REQUIRE(batch->checkpoints.size() == 1);
  CHECK(batch->checkpoints[0].index == e.index);
  CHECK(crypto::verify(f.key.public_key(), crypto::tags::kAuditCheckpoint,
                       audit::checkpoint_payload(e.index, e.hash, batch->checkpoints[0].time_ms),
                       ByteView(batch->checkpoints[0].signature.data(), batch->checkpoints[0].signature.size())));

  INFO("nothing moved: no heads entry, no batch");
  CHECK_FALSE(f.write(30'000));

  INFO("another broker's own heads entry right after what was named is no news");
  f.gc.other_chains({chain_at("broker-b", 8, 0xb8, true), chain_at("broker-c", 3, 0xcc)});
  CHECK_FALSE(f.write(40'000));

  INFO("its heads entry after entries of its own is: named at the next checkpoint");
  f.gc.other_chains({chain_at("broker-b", 10, 0xba, true), chain_at("broker-c", 3, 0xcc)});
  f.gc.audit(AuditEvent{kWallClock, "delivery", "n", "r", "delivered", "x"});
  batch = f.write(40'100);  // the lazy entry is due; the interval since the last checkpoint passed
  REQUIRE(batch);
  REQUIRE(heads_entries(*batch).size() == 1);
  CHECK(batch->audit.back().detail.rfind("broker-b 10 ", 0) == 0);
  CHECK(batch->checkpoints.size() == 1);
}

TEST_CASE("group commit heads: a checkpoint due by the entry count names moved chains; a failed batch names them again",
          "[broker][commit][heads]") {
  HeadsFixture f;
  f.storage.audit_checkpoint_entries = 2;
  GroupCommit gc(f.storage, f.replay, f.key, "broker-a", nullptr);
  gc.restore(0, audit::ChainWriter(), 0, 0);
  gc.other_chains({chain_at("broker-b", 1, 0x01)});
  gc.audit(AuditEvent{kWallClock, "delivery", "n", "r", "delivered", "x1"});
  gc.audit(AuditEvent{kWallClock, "delivery", "n", "r", "delivered", "x2"});
  auto batch = gc.build(kWallClock, 100, f.cursors);
  REQUIRE(batch);
  REQUIRE(batch->audit.size() == 3);  // two entries make a checkpoint due: the heads entry goes last
  CHECK(audit::is_heads_entry(batch->audit[2]));
  REQUIRE(batch->checkpoints.size() == 1);
  CHECK(batch->checkpoints[0].index == 3);
  gc.finish(StoreWriter::Written{Status::fail(Code::STORAGE_FAILED, "lost"), std::move(*batch), "", {}}, 100);

  gc.audit(AuditEvent{kWallClock, "delivery", "n", "r", "delivered", "y"});
  batch = gc.build(kWallClock, 300, f.cursors);
  REQUIRE(batch);
  CHECK(heads_entries(*batch).size() == 1);  // not written before: named again
  gc.finish(StoreWriter::Written{Status::ok(), std::move(*batch), "", {}}, 300);
  gc.audit(AuditEvent{kWallClock, "delivery", "n", "r", "delivered", "z"});
  gc.audit(AuditEvent{kWallClock, "delivery", "n", "r", "delivered", "w"});
  batch = gc.build(kWallClock, 500, f.cursors);
  REQUIRE(batch);
  CHECK(batch->checkpoints.size() == 1);
  CHECK(heads_entries(*batch).empty());  // written already, not moved since
}

TEST_CASE("group commit heads: no heads-only batch again while the store fails", "[broker][commit][heads]") {
  HeadsFixture f;
  f.gc.other_chains({chain_at("broker-b", 5, 0x05)});
  auto batch = f.gc.build(kWallClock + 10'000, 10'000, f.cursors);
  REQUIRE(batch);  // the heads entry alone, with its checkpoint
  REQUIRE(heads_entries(*batch).size() == 1);
  f.gc.finish(StoreWriter::Written{Status::fail(Code::STORAGE_HALTED, "halted"), std::move(*batch), "", {}}, 10'000);
  // Not built again and again while nothing can be written (a halted store
  // refuses at once: that would spin both threads).
  CHECK_FALSE(f.gc.build(kWallClock + 10'001, 10'001, f.cursors));
  CHECK_FALSE(f.gc.build(kWallClock + 60'000, 60'000, f.cursors));
  INFO("a batch written again (the store came back) brings the heads entry back");
  f.gc.reply_after_commit("r", 1);
  batch = f.gc.build(kWallClock + 60'100, 60'100, f.cursors);
  REQUIRE(batch);
  f.gc.finish(StoreWriter::Written{Status::ok(), std::move(*batch), "", {}}, 60'100);
  batch = f.gc.build(kWallClock + 60'200, 60'200, f.cursors);
  REQUIRE(batch);
  CHECK(heads_entries(*batch).size() == 1);
}

TEST_CASE("group commit heads: two brokers naming each other stop once neither has news", "[broker][commit][heads]") {
  // Two GroupCommits, each reading the other's chain head every 500 ms of
  // steady time as its broker would; each starts with one entry of its own.
  struct Broker {
    std::string name;
    ReplayGuard replay{600'000};
    crypto::SigningKey key = crypto::SigningKey::generate();
    StorageLimits storage;
    std::unique_ptr<GroupCommit> gc;
    audit::ChainHead head;  // its chain's last entry, as the other reads it
    int heads_entries = 0;
    std::int64_t last_batch = -1;
  };
  Broker brokers[2];
  for (int i = 0; i < 2; ++i) {
    Broker& b = brokers[i];
    b.name = i == 0 ? "broker-a" : "broker-b";
    b.storage.audit_checkpoint_seconds = 10;
    b.gc = std::make_unique<GroupCommit>(b.storage, b.replay, b.key, b.name, nullptr);
    b.gc->restore(0, audit::ChainWriter(), 0, 0);
    b.gc->audit(AuditEvent{kWallClock, "broker", "", "", "ok", "started"});
    b.head.writer = b.name;
  }
  std::map<std::string, std::uint64_t> cursors;
  for (std::int64_t t = 0; t <= 300'000; t += 500) {
    for (int i = 0; i < 2; ++i) {
      Broker& b = brokers[i];
      b.gc->other_chains(brokers[1 - i].head.index == 0 ? std::vector<audit::ChainHead>{}
                                                        : std::vector<audit::ChainHead>{brokers[1 - i].head});
      auto batch = b.gc->build(kWallClock + t, t, cursors);
      if (!batch) continue;
      for (const auto& e : batch->audit) {
        b.heads_entries += audit::is_heads_entry(e) ? 1 : 0;
        b.head.index = e.index;
        b.head.hash = e.hash;
        b.head.heads_entry = audit::is_heads_entry(e);
      }
      b.last_batch = t;
      b.gc->finish(StoreWriter::Written{Status::ok(), std::move(*batch), "", {}}, t);
    }
  }
  for (const Broker& b : brokers) {
    INFO(b.name);
    CHECK(b.heads_entries >= 1);  // each named the other
    CHECK(b.heads_entries <= 2);
    CHECK(b.last_batch <= 30'000);  // then nothing more, for minutes
  }
}

}  // namespace
}  // namespace tearline::broker
