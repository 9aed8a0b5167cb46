// lib/receipt: acceptance receipts (one broker signature per commit batch)
// and delivery receipts (one node signature per ACK), and the revocation
// rule in time they rest on (identity::Directory::check_signer). Every
// defect case asserts RECEIPT_INVALID next to a control that passes.
#include <catch2/catch.hpp>

#include <functional>

#include "crypto/merkle.h"
#include "receipt/acceptance.h"
#include "receipt/delivery.h"
#include "receipt_world.h"

using namespace tearline;
using namespace tearline::testing::receipts;

namespace {

constexpr std::int64_t kAcceptedMs = kNow * 1000 + 500;

std::vector<crypto::Digest> digests(std::size_t n) {
  std::vector<crypto::Digest> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(digest_of("report " + std::to_string(i)));
  return out;
}

v1::AcceptanceReceipt parsed(const Bytes& bytes) {
  auto r = receipt::parse_acceptance(bytes);
  REQUIRE(r.is_ok());
  return *r;
}

Bytes serialized(const google::protobuf::Message& m) {
  Bytes out(m.ByteSizeLong());
  REQUIRE(m.SerializeToArray(out.data(), static_cast<int>(out.size())));
  return out;
}

}  // namespace

TEST_CASE("merkle: MerkleTree's root and paths are the recursive definition's, for 1 to 70 leaves") {
  constexpr std::string_view kTag = "tearline/test/node";
  for (std::size_t n = 1; n <= 70; ++n) {
    const auto leaves = digests(n);
    const crypto::MerkleTree tree(kTag, leaves);
    INFO("leaves " << n);
    REQUIRE(tree.root() == crypto::merkle_root(kTag, leaves));
    for (std::size_t i = 0; i < n; ++i) {
      const auto path = tree.path(i);
      REQUIRE(path == crypto::merkle_path(kTag, leaves, i));
      std::vector<ByteView> views;
      views.reserve(path.size());
      for (const auto& p : path) views.emplace_back(p.data(), p.size());
      REQUIRE(crypto::merkle_root_from_path(kTag, leaves[i], i, n, 1000, views) == tree.root());
    }
  }
}

TEST_CASE("acceptance: every receipt of a commit batch verifies for its report and seq, under one signature") {
  const ReceiptWorld w;
  const auto dir = w.directory();
  for (std::size_t n : {1, 2, 3, 5, 8, 13}) {
    const auto d = digests(n);
    const auto receipts = receipt::sign_acceptance("kat-broker", w.broker.signing, 41, d, kAcceptedMs);
    REQUIRE(receipts.size() == n);
    for (std::size_t i = 0; i < n; ++i) {
      INFO("batch of " << n << ", leaf " << i);
      auto ok = receipt::verify_acceptance(receipts[i], d[i], *dir, {41 + i, "kat-broker"});
      REQUIRE(ok.is_ok());
      CHECK(ok->broker_id == "kat-broker");
      CHECK(ok->seq == 41 + i);
      CHECK(ok->accepted_ms == kAcceptedMs);
      CHECK(parsed(receipts[i]).signature() == parsed(receipts[0]).signature());
      // Another report's digest, at this leaf: refused.
      CHECK(receipt::verify_acceptance(receipts[i], digest_of("another"), *dir).code() == Code::RECEIPT_INVALID);
    }
  }
}

TEST_CASE("acceptance: through a cache, a batch's statement is verified once") {
  const ReceiptWorld w;
  const auto dir = w.directory();
  const auto d = digests(5);
  const auto receipts = receipt::sign_acceptance("kat-broker", w.broker.signing, 1, d, kAcceptedMs);
  report::RootCache cache;
  for (std::size_t i = 0; i < d.size(); ++i) {
    REQUIRE(receipt::verify_acceptance(receipts[i], d[i], *dir, {std::nullopt, {}, &cache}).is_ok());
  }
  CHECK(cache.verifies() == 1);
  CHECK(cache.hits() == 4);
  // A cached statement does not vouch for a forged path.
  v1::AcceptanceReceipt r = parsed(receipts[2]);
  r.set_path(0, std::string(32, 'x'));
  CHECK(receipt::verify_acceptance(serialized(r), d[2], *dir, {std::nullopt, {}, &cache}).code() ==
        Code::RECEIPT_INVALID);
}

TEST_CASE("acceptance: each defect is RECEIPT_INVALID; the untouched receipt passes") {
  const ReceiptWorld w;
  const auto dir = w.directory();
  const auto d = digests(3);
  const auto receipts = receipt::sign_acceptance("kat-broker", w.broker.signing, 7, d, kAcceptedMs);
  const v1::AcceptanceReceipt good = parsed(receipts[1]);
  REQUIRE(receipt::verify_acceptance(serialized(good), d[1], *dir, {8, "kat-broker"}).is_ok());

  const std::vector<std::pair<std::string, std::function<void(v1::AcceptanceReceipt&)>>> defects = {
      {"format version 2", [](auto& r) { r.set_format_version(2); }},
      {"another broker id", [](auto& r) { r.set_broker_id("kat-broker-2"); }},
      {"a node that is not a broker", [](auto& r) { r.set_broker_id("kat-reader"); }},
      {"an unknown broker", [](auto& r) { r.set_broker_id("nobody"); }},
      {"first seq moved", [](auto& r) { r.set_first_seq(8); }},
      {"leaf count changed", [](auto& r) { r.set_leaf_count(4); }},
      {"leaf count 0", [](auto& r) { r.set_leaf_count(0); }},
      {"leaf index moved", [](auto& r) { r.set_leaf_index(2); }},
      {"leaf index out of bounds", [](auto& r) { r.set_leaf_index(3); }},
      {"accepted time changed", [](auto& r) { r.set_accepted_ms(r.accepted_ms() - 1); }},
      {"root changed", [](auto& r) { r.mutable_root()->at(0) ^= 1; }},
      {"root too short", [](auto& r) { r.mutable_root()->pop_back(); }},
      {"signature changed", [](auto& r) { r.mutable_signature()->at(5) ^= 1; }},
      {"signature too short", [](auto& r) { r.mutable_signature()->pop_back(); }},
      {"path entry changed", [](auto& r) { r.mutable_path(0)->at(0) ^= 1; }},
      {"path too short", [](auto& r) { r.mutable_path()->RemoveLast(); }},
      {"path too long", [](auto& r) { r.add_path(std::string(32, 'p')); }},
      {"unknown field", [](auto& r) { r.GetReflection()->MutableUnknownFields(&r)->AddVarint(99, 1); }},
  };
  for (const auto& [name, damage] : defects) {
    v1::AcceptanceReceipt r = good;
    damage(r);
    INFO(name);
    CHECK(receipt::verify_acceptance(serialized(r), d[1], *dir).code() == Code::RECEIPT_INVALID);
  }
  CHECK(receipt::verify_acceptance({}, d[1], *dir).code() == Code::RECEIPT_INVALID);
  CHECK(receipt::verify_acceptance(as_bytes(std::string("\xff\xff")), d[1], *dir).code() == Code::RECEIPT_INVALID);
  // What the caller expects: this seq, this broker.
  CHECK(receipt::verify_acceptance(receipts[1], d[1], *dir, {9, {}}).code() == Code::RECEIPT_INVALID);
  CHECK(receipt::verify_acceptance(receipts[1], d[1], *dir, {8, "kat-broker-2"}).code() == Code::RECEIPT_INVALID);
  // The other broker's key signing as kat-broker: the signature does not verify.
  const auto forged = receipt::sign_acceptance("kat-broker", w.other_broker.signing, 7, d, kAcceptedMs);
  CHECK(receipt::verify_acceptance(forged[1], d[1], *dir).code() == Code::RECEIPT_INVALID);
}

TEST_CASE("acceptance: more than 65536 reports are signed in runs, each its own statement") {
  const ReceiptWorld w;
  const auto dir = w.directory();
  const std::size_t n = receipt::kMaxReceiptLeaves + 3;
  const auto d = digests(n);
  const auto receipts = receipt::sign_acceptance("kat-broker", w.broker.signing, 100, d, kAcceptedMs);
  REQUIRE(receipts.size() == n);
  for (std::size_t i : {std::size_t{0}, n - 4, n - 3, n - 1}) {
    INFO("report " << i);
    auto ok = receipt::verify_acceptance(receipts[i], d[i], *dir, {100 + i, "kat-broker"});
    REQUIRE(ok.is_ok());
  }
  CHECK(parsed(receipts[n - 1]).first_seq() == 100 + receipt::kMaxReceiptLeaves);
  CHECK(parsed(receipts[n - 1]).leaf_count() == 3);
  CHECK(parsed(receipts[0]).leaf_count() == receipt::kMaxReceiptLeaves);
}

TEST_CASE("revocation rule: retired stands; compromised at T stands only when witnessed before T") {
  const ReceiptWorld w;
  const std::int64_t t = kNow - 100;  // compromised 100 s before kNow
  const auto retired = w.directory({revoked(12, v1::RETIRED)});
  const auto compromised = w.directory({revoked(12, v1::COMPROMISED, t)});
  const auto legacy = w.directory({}, {12});
  const auto clean = w.directory();
  const std::int64_t created = kNow - 1000;

  CHECK(clean->check_signer("kat-reader", created, std::nullopt).is_ok());
  CHECK(retired->check_signer("kat-reader", created, std::nullopt).is_ok());
  CHECK(retired->check_signer("kat-reader", created, kNow * 1000).is_ok());
  CHECK(compromised->check_signer("kat-reader", created, t * 1000 - 1).is_ok());
  CHECK(compromised->check_signer("kat-reader", created, t * 1000).code() == Code::ORIGINATOR_COMPROMISED);
  CHECK(compromised->check_signer("kat-reader", created, t * 1000 + 1).code() == Code::ORIGINATOR_COMPROMISED);
  // No witness: a backdated created-at proves nothing.
  CHECK(compromised->check_signer("kat-reader", created, std::nullopt).code() == Code::ORIGINATOR_COMPROMISED);
  CHECK(legacy->check_signer("kat-reader", created, t * 1000 - 1).code() == Code::REVOKED);
  // The window is still judged at the signing time.
  CHECK(clean->check_signer("kat-reader", kNow + 86400, std::nullopt).code() == Code::EXPIRED);
  CHECK(clean->check_signer("kat-reader", kNow - 7200, std::nullopt).code() == Code::NOT_YET_VALID);
  CHECK(clean->check_signer("nobody", created, std::nullopt).code() == Code::UNKNOWN_NODE);
  // Sessions stay strict: any revocation is REVOKED.
  CHECK(retired->check_node("kat-reader", kNow).code() == Code::REVOKED);
}

TEST_CASE("revocation rule: a broker compromised at T; its receipts from before T stand, later ones do not") {
  const ReceiptWorld w;
  const std::int64_t t = kNow - 100;
  const auto d = digests(1);
  const auto before = receipt::sign_acceptance("kat-broker", w.broker.signing, 1, d, t * 1000 - 1);
  const auto after = receipt::sign_acceptance("kat-broker", w.broker.signing, 1, d, t * 1000);
  const auto compromised = w.directory({revoked(10, v1::COMPROMISED, t)});
  CHECK(receipt::verify_acceptance(before[0], d[0], *compromised).is_ok());
  CHECK(receipt::verify_acceptance(after[0], d[0], *compromised).code() == Code::RECEIPT_INVALID);
  const auto retired = w.directory({revoked(10, v1::RETIRED)});
  CHECK(receipt::verify_acceptance(after[0], d[0], *retired).is_ok());
}

TEST_CASE("revocation list: entries with a reason and a time are checked; each defect is INVALID_FIELD") {
  const ReceiptWorld w;
  identity::TrustStore trust;
  REQUIRE(trust.add(w.agency).is_ok());
  auto list_of = [&](const std::vector<v1::RevokedCredential>& entries, const std::vector<std::uint64_t>& legacy) {
    v1::RevocationListBody body;
    body.set_format_version(1);
    body.set_agency("KAT");
    body.set_number(3);
    for (const auto& e : entries) *body.add_revoked_credentials() = e;
    for (auto s : legacy) body.add_revoked_serials(s);
    return identity::verify_revocation_list(
        serialize_canonical(identity::sign_revocation_list(body, w.agency, w.authority)), trust);
  };
  auto good = list_of({revoked(5, v1::RETIRED), revoked(6, v1::COMPROMISED, kNow)}, {7});
  REQUIRE(good.is_ok());
  REQUIRE(good->revocation_of(5) != nullptr);
  CHECK(good->revocation_of(5)->reason == identity::RevocationReason::kRetired);
  CHECK(good->revocation_of(6)->reason == identity::RevocationReason::kCompromised);
  CHECK(good->revocation_of(6)->compromised_at == kNow);
  CHECK(good->revocation_of(7)->reason == identity::RevocationReason::kLegacy);
  CHECK(good->revocation_of(8) == nullptr);

  CHECK(list_of({revoked(5, v1::RETIRED, kNow)}, {}).code() == Code::INVALID_FIELD);
  CHECK(list_of({revoked(5, v1::COMPROMISED, 0)}, {}).code() == Code::INVALID_FIELD);
  CHECK(list_of({revoked(5, v1::COMPROMISED, -5)}, {}).code() == Code::INVALID_FIELD);
  CHECK(list_of({revoked(5, v1::REVOCATION_REASON_UNSET)}, {}).code() == Code::INVALID_FIELD);
  CHECK(list_of({revoked(0, v1::RETIRED)}, {}).code() == Code::INVALID_FIELD);
  CHECK(list_of({revoked(5, v1::RETIRED), revoked(5, v1::COMPROMISED, kNow)}, {}).code() == Code::INVALID_FIELD);
  CHECK(list_of({revoked(5, v1::RETIRED)}, {5}).code() == Code::INVALID_FIELD);
  CHECK(list_of({}, {5, 5}).code() == Code::INVALID_FIELD);
}

namespace {

std::vector<receipt::DeliveredCopy> copies() {
  return {{3, digest_of("copy 3"), std::string(16, 'a'), {0, 2}}, {9, digest_of("copy 9"), std::string(16, 'b'), {1}}};
}

v1::DeliveryReceipt parsed_delivery(const Bytes& bytes) {
  auto r = receipt::parse_delivery(bytes);
  REQUIRE(r.is_ok());
  return *r;
}

}  // namespace

TEST_CASE("delivery: a node's receipt verifies offline; each defect is RECEIPT_INVALID") {
  const ReceiptWorld w;
  const auto dir = w.directory();
  const Bytes bytes = receipt::sign_delivery("kat-reader", "kat-broker", w.reader.signing, kAcceptedMs, copies());
  const v1::DeliveryReceipt good = parsed_delivery(bytes);
  REQUIRE(receipt::verify_delivery(good, *dir, kAcceptedMs + 5).is_ok());
  CHECK(good.entries_size() == 2);
  CHECK(good.entries(0).sections_size() == 2);

  // Signed by another node's key in the reader's name.
  auto forged =
      parsed_delivery(receipt::sign_delivery("kat-reader", "kat-broker", w.broker.signing, kAcceptedMs, copies()));
  CHECK(receipt::verify_delivery(forged, *dir, kAcceptedMs).code() == Code::RECEIPT_INVALID);

  const std::vector<std::pair<std::string, std::function<void(v1::DeliveryReceipt&)>>> signed_defects = {
      {"broker id changed", [](auto& r) { r.set_broker_id("kat-broker-2"); }},
      {"node id changed", [](auto& r) { r.set_node_id("kat-broker"); }},
      {"unknown node", [](auto& r) { r.set_node_id("nobody"); }},
      {"signed time changed", [](auto& r) { r.set_signed_ms(r.signed_ms() + 1); }},
      {"a section added", [](auto& r) { r.mutable_entries(1)->add_sections(4); }},
      {"a copy hash changed", [](auto& r) { r.mutable_entries(0)->mutable_copy_hash()->at(0) ^= 1; }},
      {"an entry dropped", [](auto& r) { r.mutable_entries()->RemoveLast(); }},
  };
  for (const auto& [name, damage] : signed_defects) {
    v1::DeliveryReceipt r = good;
    damage(r);
    INFO(name);
    auto reparsed = receipt::parse_delivery(serialized(r));
    REQUIRE(reparsed.is_ok());
    CHECK(receipt::verify_delivery(*reparsed, *dir, kAcceptedMs).code() == Code::RECEIPT_INVALID);
  }
  const std::vector<std::pair<std::string, std::function<void(v1::DeliveryReceipt&)>>> shape_defects = {
      {"format version 2 without a writer", [](auto& r) { r.set_format_version(2); }},
      {"format version 3", [](auto& r) { r.set_format_version(3); }},
      {"a writer in format 1", [](auto& r) { r.set_writer("kat-broker-2"); }},
      {"no entry", [](auto& r) { r.clear_entries(); }},
      {"seqs not ascending", [](auto& r) { r.mutable_entries(1)->set_broker_seq(3); }},
      {"copy hash too short", [](auto& r) { r.mutable_entries(0)->mutable_copy_hash()->pop_back(); }},
      {"report id too long", [](auto& r) { r.mutable_entries(0)->mutable_report_id()->push_back('x'); }},
      {"sections not ascending", [](auto& r) { r.mutable_entries(0)->set_sections(1, 0); }},
      {"signature too short", [](auto& r) { r.mutable_signature()->pop_back(); }},
      {"unknown field", [](auto& r) { r.GetReflection()->MutableUnknownFields(&r)->AddVarint(99, 1); }},
      {"unknown field in an entry",
       [](auto& r) { r.GetReflection()->MutableUnknownFields(r.mutable_entries(0))->AddVarint(99, 1); }},
  };
  for (const auto& [name, damage] : shape_defects) {
    v1::DeliveryReceipt r = good;
    damage(r);
    INFO(name);
    CHECK(receipt::parse_delivery(serialized(r)).code() == Code::RECEIPT_INVALID);
  }
  CHECK(receipt::parse_delivery({}).code() == Code::RECEIPT_INVALID);
  v1::DeliveryReceipt too_many = good;
  while (static_cast<std::size_t>(too_many.entries_size()) <= receipt::kMaxDeliveryEntries) {
    auto* e = too_many.add_entries();
    *e = too_many.entries(too_many.entries_size() - 2);
    e->set_broker_seq(e->broker_seq() + 1);
  }
  CHECK(receipt::parse_delivery(serialized(too_many)).code() == Code::RECEIPT_INVALID);
}

// Format 2: copies of another broker's stream. Its statement names the
// writer and is signed under its own tag, so neither format's signature
// stands for a statement of the other.
TEST_CASE("delivery: a receipt of another broker's stream names its writer, under its own tag") {
  const ReceiptWorld w;
  const auto dir = w.directory();
  const Bytes bytes =
      receipt::sign_delivery("kat-reader", "kat-broker", w.reader.signing, kAcceptedMs, copies(), "kat-broker-2");
  const v1::DeliveryReceipt good = parsed_delivery(bytes);
  CHECK(good.format_version() == 2);
  CHECK(good.writer() == "kat-broker-2");
  REQUIRE(receipt::verify_delivery(good, *dir, kAcceptedMs + 5).is_ok());

  const auto fails = [&](const v1::DeliveryReceipt& r) {
    auto reparsed = receipt::parse_delivery(serialized(r));
    return !reparsed.is_ok() || receipt::verify_delivery(*reparsed, *dir, kAcceptedMs).code() == Code::RECEIPT_INVALID;
  };
  v1::DeliveryReceipt other_writer = good;
  other_writer.set_writer("kat-broker-3");
  CHECK(fails(other_writer));
  // The same signature presented as format 1 (writer dropped): refused.
  v1::DeliveryReceipt as_format_1 = good;
  as_format_1.set_format_version(1);
  as_format_1.clear_writer();
  CHECK(fails(as_format_1));
  // A format 1 signature made to look like format 2.
  v1::DeliveryReceipt as_format_2 =
      parsed_delivery(receipt::sign_delivery("kat-reader", "kat-broker", w.reader.signing, kAcceptedMs, copies()));
  as_format_2.set_format_version(2);
  as_format_2.set_writer("kat-broker-2");
  CHECK(fails(as_format_2));
  // The writer is never the receipt's own broker: that is format 1.
  v1::DeliveryReceipt own = good;
  own.set_writer("kat-broker");
  CHECK(receipt::parse_delivery(serialized(own)).code() == Code::RECEIPT_INVALID);
  // The statement's bytes: format 1's with field(writer) after field(broker_id).
  v1::DeliveryReceipt without = good;
  without.clear_writer();
  without.set_format_version(1);
  const Bytes v1_statement = receipt::delivery_statement(without);
  const Bytes v2_statement = receipt::delivery_statement(good);
  ByteWriter head;
  head.field(std::string_view("kat-reader"));
  head.field(std::string_view("kat-broker"));
  ByteWriter writer_field;
  writer_field.field(std::string_view("kat-broker-2"));
  const std::size_t h = head.bytes().size();
  const std::size_t wf = writer_field.bytes().size();
  REQUIRE(v2_statement.size() == v1_statement.size() + wf);
  CHECK(Bytes(v2_statement.begin(), v2_statement.begin() + static_cast<std::ptrdiff_t>(h)) == head.bytes());
  CHECK(Bytes(v2_statement.begin() + static_cast<std::ptrdiff_t>(h),
              v2_statement.begin() + static_cast<std::ptrdiff_t>(h + wf)) == writer_field.bytes());
  CHECK(Bytes(v2_statement.begin() + static_cast<std::ptrdiff_t>(h + wf), v2_statement.end()) ==
        Bytes(v1_statement.begin() + static_cast<std::ptrdiff_t>(h), v1_statement.end()));
}

TEST_CASE("delivery: a signer compromised at T; its receipts recorded before T stand, later ones do not") {
  const ReceiptWorld w;
  const std::int64_t t = kNow - 100;
  const auto dir = w.directory({revoked(12, v1::COMPROMISED, t)});
  const auto r =
      parsed_delivery(receipt::sign_delivery("kat-reader", "kat-broker", w.reader.signing, t * 1000 - 9, copies()));
  CHECK(receipt::verify_delivery(r, *dir, t * 1000 - 1).is_ok());
  CHECK(receipt::verify_delivery(r, *dir, t * 1000).code() == Code::RECEIPT_INVALID);
}
