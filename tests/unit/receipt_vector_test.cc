// Known-answer vectors for receipts (docs/report-format.md "Receipts"):
// an acceptance batch of three reports and a delivery receipt of two copies.
// Ed25519 is deterministic and every key comes from a fixed seed
// (receipt_world.h), so every byte is reproduced here; a client in another
// language checks its leaves, root, statements and signatures against them.
// The report digests are BLAKE2b-256("report 0"), ("report 1"), ("report 2").
//
// Regenerate (only when the format changes):
//   TEARLINE_WRITE_VECTORS=1 ./test_receipt
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "crypto/merkle.h"
#include "crypto/signing.h"
#include "receipt/acceptance.h"
#include "receipt/delivery.h"
#include "receipt_world.h"

using namespace tearline;
using namespace tearline::testing::receipts;
using tearline::testing::kat::read_vector_file;
using tearline::testing::kat::unhex;

namespace {

const std::string kPath = std::string(TEARLINE_SOURCE_DIR) + "/tests/vectors/receipt_v1.txt";
constexpr std::uint64_t kFirstSeq = 41;
constexpr std::int64_t kVectorAcceptedMs = kNow * 1000 + 250;
constexpr std::int64_t kSignedMs = kNow * 1000 + 900;

std::string hex(const crypto::Digest& d) { return to_hex(ByteView(d.data(), d.size())); }

std::vector<crypto::Digest> report_digests() {
  return {digest_of("report 0"), digest_of("report 1"), digest_of("report 2")};
}

std::vector<receipt::DeliveredCopy> delivered() {
  return {{41, digest_of("copy of report 0"), std::string(16, '\x01'), {0, 1}},
          {43, digest_of("copy of report 2"), std::string(16, '\x03'), {1}}};
}

// Every vector, computed from the seeds.
std::vector<std::pair<std::string, std::string>> compute(const ReceiptWorld& w) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("authority_verify_key", to_hex(w.authority.public_key().view()));
  out.emplace_back("broker_credential", to_hex(serialize_canonical(w.credential(w.broker))));
  out.emplace_back("reader_credential", to_hex(serialize_canonical(w.credential(w.reader))));
  const auto d = report_digests();
  std::vector<crypto::Digest> leaves;
  leaves.reserve(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    leaves.push_back(receipt::receipt_leaf(kFirstSeq + i, d[i]));
    out.emplace_back("digest" + std::to_string(i), hex(d[i]));
    out.emplace_back("leaf" + std::to_string(i), hex(leaves.back()));
  }
  const crypto::Digest root = crypto::merkle_root(receipt::kReceiptNodeTag, leaves);
  out.emplace_back("root", hex(root));
  const Bytes statement = receipt::acceptance_statement("kat-broker", kFirstSeq, 3, kVectorAcceptedMs, root);
  out.emplace_back("acceptance_signature_input",
                   to_hex(crypto::signature_input(crypto::tags::kAcceptanceBatch, statement)));
  const auto receipts = receipt::sign_acceptance("kat-broker", w.broker.signing, kFirstSeq, d, kVectorAcceptedMs);
  for (std::size_t i = 0; i < receipts.size(); ++i)
    out.emplace_back("receipt" + std::to_string(i), to_hex(receipts[i]));
  const Bytes delivery = receipt::sign_delivery("kat-reader", "kat-broker", w.reader.signing, kSignedMs, delivered());
  auto parsed = receipt::parse_delivery(delivery);
  REQUIRE(parsed.is_ok());
  out.emplace_back("delivery_signature_input", to_hex(crypto::signature_input(crypto::tags::kDeliveryReceipt,
                                                                              receipt::delivery_statement(*parsed))));
  out.emplace_back("delivery_receipt", to_hex(delivery));
  // Format 2: the same copies, of the stream of broker kat-broker-2.
  const Bytes stream_delivery =
      receipt::sign_delivery("kat-reader", "kat-broker", w.reader.signing, kSignedMs, delivered(), "kat-broker-2");
  auto stream_parsed = receipt::parse_delivery(stream_delivery);
  REQUIRE(stream_parsed.is_ok());
  out.emplace_back("stream_delivery_signature_input",
                   to_hex(crypto::signature_input(crypto::tags::kStreamDeliveryReceipt,
                                                  receipt::delivery_statement(*stream_parsed))));
  out.emplace_back("stream_delivery_receipt", to_hex(stream_delivery));
  return out;
}

}  // namespace

TEST_CASE("receipt vectors: tests/vectors/receipt_v1.txt is reproduced byte for byte and verifies") {
  const ReceiptWorld w;
  const auto computed = compute(w);
  if (std::getenv("TEARLINE_WRITE_VECTORS") != nullptr) {
    std::ofstream out(kPath);
    out << "# tearline receipt known-answer vectors (docs/report-format.md \"Receipts\")\n"
        << "# keys: Ed25519 from seed BLAKE2b-256(\"tearline test seed \" + name): authority \"authority KAT\",\n"
        << "# broker \"broker signing\", reader \"reader signing\". Acceptance: broker kat-broker, first_seq 41,\n"
        << "# accepted_ms 1780272000250, digest i = BLAKE2b-256(\"report i\"). Delivery: node kat-reader,\n"
        << "# signed_ms 1780272000900, entries (41, BLAKE2b-256(\"copy of report 0\"), 16 x 0x01, [0,1]) and\n"
        << "# (43, BLAKE2b-256(\"copy of report 2\"), 16 x 0x03, [1]). Stream delivery (format 2): the same,\n"
        << "# writer kat-broker-2.\n";
    for (const auto& [k, v] : computed) out << k << " = " << v << "\n";
  }
  const auto stored = read_vector_file(kPath);
  for (const auto& [k, v] : computed) {
    INFO(k);
    REQUIRE(stored.count(k) == 1);
    CHECK(stored.at(k) == v);
  }
  // The stored receipts verify as they are.
  const auto dir = w.directory();
  const auto d = report_digests();
  for (std::size_t i = 0; i < d.size(); ++i) {
    auto ok = receipt::verify_acceptance(unhex(stored.at("receipt" + std::to_string(i))), d[i], *dir,
                                         {kFirstSeq + i, "kat-broker"});
    REQUIRE(ok.is_ok());
    CHECK(ok->accepted_ms == kVectorAcceptedMs);
  }
  auto delivery = receipt::parse_delivery(unhex(stored.at("delivery_receipt")));
  REQUIRE(delivery.is_ok());
  CHECK(receipt::verify_delivery(*delivery, *dir, kSignedMs).is_ok());
  auto stream_delivery = receipt::parse_delivery(unhex(stored.at("stream_delivery_receipt")));
  REQUIRE(stream_delivery.is_ok());
  CHECK(stream_delivery->writer() == "kat-broker-2");
  CHECK(receipt::verify_delivery(*stream_delivery, *dir, kSignedMs).is_ok());
}
