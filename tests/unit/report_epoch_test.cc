// Content-key epochs at the publisher and the unwrap cache at the reader
// (docs/threat-model.md "Content-key epochs").
#include <catch2/catch.hpp>

#include "base/canonical_proto.h"
#include "crypto/key_file.h"
#include "report/builder.h"
#include "report/key_epochs.h"
#include "report/unwrap_cache.h"
#include "report/verify.h"
#include "report_test_helpers.h"
#include "support/demo_world.h"

using namespace tearline;
using tearline::testing::DemoWorld;
using tearline::testing::kCommander;
using tearline::testing::kDemoNow;
using tearline::testing::keys_of;
namespace v1 = tearline::v1;

namespace {

const policy::Label kHome{v1::SECRET, {"COL"}, {"cucuta-jtf"}, false};
const policy::Label kShared{v1::CONFIDENTIAL, {"COL", "USA"}, {"cucuta-jtf"}, false};

report::ReportDraft draft(std::uint64_t seq, std::int64_t at_ms) {
  report::ReportDraft d;
  d.topic = "narco.seizures.cucuta";
  d.created_at_ms = at_ms;
  d.sequence = seq;
  d.sections.push_back({kHome, to_bytes("informant " + std::to_string(seq))});
  d.sections.push_back({kShared, to_bytes("seizure " + std::to_string(seq))});
  return d;
}

report::BuiltReport build(report::KeyEpochs& epochs, std::uint64_t seq, std::int64_t at_ms,
                          const identity::Directory& dir = *DemoWorld::get().directory()) {
  report::BuildOptions options;
  options.epochs = &epochs;
  auto b = report::build_batch({draft(seq, at_ms)}, kCommander, keys_of(kCommander).signing, dir, options);
  REQUIRE(b.is_ok());
  return std::move(b->front());
}

std::string wraps_of(const report::BuiltReport& b, int section) {
  std::string out;
  for (const auto& w : b.report.sections(section).sealed().wraps()) out += w.sealed_key();
  return out;
}

}  // namespace

TEST_CASE("content-key epochs: same label and recipients reuse the key and wraps; nonces stay fresh") {
  report::KeyEpochs epochs;
  const std::int64_t t0 = kDemoNow * 1000;
  const auto a = build(epochs, 1, t0);
  const auto b = build(epochs, 2, t0 + 1000);
  CHECK(epochs.started() == 2);  // one per label
  CHECK(epochs.reused() == 2);
  for (int s : {0, 1}) {
    CHECK(wraps_of(a, s) == wraps_of(b, s));
    CHECK(a.report.sections(s).sealed().nonce() != b.report.sections(s).sealed().nonce());
    CHECK(a.report.sections(s).sealed().salt() != b.report.sections(s).sealed().salt());
  }
  CHECK(wraps_of(a, 0) != wraps_of(a, 1));  // two labels, two keys

  // Every recipient opens both, the second from its cache.
  for (const auto& node : a.recipients[1]) {
    INFO(node);
    report::UnwrapCache cache;
    for (const auto* built : {&a, &b}) {
      auto v = report::verify_report(built->bytes, *DemoWorld::get().directory());
      REQUIRE(v.is_ok());
      auto opened = report::open_sections(*v, node, keys_of(node).sealing, &cache);
      REQUIRE(opened[1].status == report::SectionStatus::kOpened);
      // And the same without a cache.
      auto plain = report::open_sections(*v, node, keys_of(node).sealing);
      CHECK(plain[1].plaintext == opened[1].plaintext);
    }
    CHECK(cache.hits() >= 1);
  }
}

TEST_CASE("content-key epochs end on age, on count, on time running backwards and on any change of recipients") {
  const std::int64_t t0 = kDemoNow * 1000;
  SECTION("age") {
    report::KeyEpochs epochs(report::EpochLimits{60'000, 100, 16});
    const auto a = build(epochs, 1, t0);
    CHECK(wraps_of(build(epochs, 2, t0 + 59'999), 1) == wraps_of(a, 1));
    CHECK(wraps_of(build(epochs, 3, t0 + 60'000), 1) != wraps_of(a, 1));
  }
  SECTION("count") {
    report::KeyEpochs epochs(report::EpochLimits{600'000, 2, 16});
    const auto a = build(epochs, 1, t0);
    CHECK(wraps_of(build(epochs, 2, t0), 1) == wraps_of(a, 1));
    CHECK(wraps_of(build(epochs, 3, t0), 1) != wraps_of(a, 1));
  }
  SECTION("time running backwards") {
    report::KeyEpochs epochs;
    const auto a = build(epochs, 1, t0);
    CHECK(wraps_of(build(epochs, 2, t0 - 1), 1) != wraps_of(a, 1));
  }
  SECTION("a recipient added or removed, or re-keyed") {
    report::KeyEpochs epochs;
    const crypto::SealingPublicKey k1 = crypto::SealingKey::generate().public_key();
    const crypto::SealingPublicKey k2 = crypto::SealingKey::generate().public_key();
    const crypto::SealingPublicKey k3 = crypto::SealingKey::generate().public_key();
    const std::vector<report::Recipient> two = {{"a", k1}, {"b", k2}};
    const Bytes label = policy::encode_label(kShared);
    auto first = epochs.acquire(label, two, t0, {});
    CHECK_FALSE(first.reused);
    const Bytes wrap_a = first.wraps[0];
    CHECK(epochs.acquire(label, two, t0, {}).reused);
    auto three = epochs.acquire(label, {{"a", k1}, {"b", k2}, {"c", k3}}, t0, {});
    CHECK_FALSE(three.reused);
    CHECK(three.wraps[0] != wrap_a);
    // Back to the old set: the old epoch was dropped, a new key again.
    auto back = epochs.acquire(label, two, t0, {});
    CHECK_FALSE(back.reused);
    CHECK(back.wraps[0] != wrap_a);
    auto rekeyed = epochs.acquire(label, {{"a", k1}, {"b", k3}}, t0, {});
    CHECK_FALSE(rekeyed.reused);
    CHECK(epochs.acquire(label, {{"a", k1}}, t0, {}).reused == false);
  }
  SECTION("through the builder: a node leaving the eligible set (revoked, expired) ends the epoch at once") {
    report::KeyEpochs epochs;
    const auto d = draft(1, t0);
    auto eligible = report::eligible_recipients(d, kCommander, *DemoWorld::get().directory());
    REQUIRE(eligible.is_ok());
    REQUIRE((*eligible)[1].size() >= 2);
    report::BuildOptions options;
    options.epochs = &epochs;
    const auto signing = keys_of(kCommander).signing;
    auto a = report::build_batch_to({d}, kCommander, signing, {*eligible}, options);
    REQUIRE(a.is_ok());
    auto fewer = *eligible;
    const std::string gone = fewer[1].back().node_id;
    fewer[1].pop_back();
    auto b = report::build_batch_to({draft(2, t0 + 1)}, kCommander, signing, {fewer}, options);
    REQUIRE(b.is_ok());
    const auto& wb = b->front().report.sections(1).sealed();
    CHECK(wb.wraps_size() + 1 == a->front().report.sections(1).sealed().wraps_size());
    for (const auto& w : wb.wraps()) CHECK(w.node_id() != gone);
    CHECK(wb.wraps(0).sealed_key() != a->front().report.sections(1).sealed().wraps(0).sealed_key());
    // Section 0's set did not change: its epoch goes on.
    CHECK(wraps_of(b->front(), 0) == wraps_of(a->front(), 0));
  }
}

TEST_CASE("unwrap cache: bounded, least recently used evicted, a wrap that does not open is not cached") {
  const auto reader = crypto::SealingKey::generate();
  std::vector<Bytes> wraps;
  wraps.reserve(3);
  for (int i = 0; i < 3; ++i) wraps.push_back(crypto::wrap_key(reader.public_key(), crypto::ContentKey::generate()));
  report::UnwrapCache cache(2);
  REQUIRE(cache.unwrap(reader, wraps[0]) != nullptr);
  REQUIRE(cache.unwrap(reader, wraps[1]) != nullptr);
  REQUIRE(cache.unwrap(reader, wraps[0]) != nullptr);  // hit; wraps[1] is now the oldest
  CHECK(cache.hits() == 1);
  REQUIRE(cache.unwrap(reader, wraps[2]) != nullptr);  // evicts wraps[1]
  CHECK(cache.size() == 2);
  REQUIRE(cache.unwrap(reader, wraps[1]) != nullptr);
  CHECK(cache.opens() == 4);
  const auto* key = cache.unwrap(reader, wraps[2]);
  REQUIRE(key != nullptr);
  CHECK(cache.hits() == 2);
  auto direct = crypto::unwrap_key(reader, wraps[2]);
  REQUIRE(direct.has_value());
  CHECK(to_hex(key->secret().view()) == to_hex(direct->secret().view()));

  Bytes broken = wraps[0];
  broken[40] ^= 0x01;
  CHECK(cache.unwrap(reader, broken) == nullptr);
  // Entries are keyed by the recipient key and the wrap: another key misses and fails to open.
  CHECK(cache.unwrap(crypto::SealingKey::generate(), wraps[2]) == nullptr);
  CHECK(cache.size() == 2);
}
