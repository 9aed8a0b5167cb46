// receipt::parse_delivery and verify_delivery, the broker's check of an
// ACK's signed receipt and `tearline audit receipts`'s, on arbitrary bytes
// against the demo world's directory, recorded at testing::kDemoNow.
// What must hold:
//  - a receipt that parses has 1..1024 entries, seqs strictly ascending,
//    32-byte copy hashes, 16-byte report ids and a 64-byte signature;
//  - one that verifies is signed by a node of the directory, and stops
//    verifying when its signed time changes;
//  - every refusal is RECEIPT_INVALID.
#include "fuzz_target.h"
#include "fuzz_world.h"
#include "receipt/delivery.h"
#include "support/demo_world.h"

namespace tearline::fuzz {

void delivery_receipt(ByteView input) {
  auto parsed = receipt::parse_delivery(input);
  if (!parsed) {
    require(parsed.code() == Code::RECEIPT_INVALID, "a receipt is refused RECEIPT_INVALID only");
    return;
  }
  const auto& r = *parsed;
  require(r.entries_size() >= 1 && static_cast<std::size_t>(r.entries_size()) <= receipt::kMaxDeliveryEntries,
          "1..1024 entries");
  for (int i = 0; i < r.entries_size(); ++i) {
    require(r.entries(i).copy_hash().size() == 32 && r.entries(i).report_id().size() == 16, "entry sizes");
    require(i == 0 || r.entries(i).broker_seq() > r.entries(i - 1).broker_seq(), "seqs strictly ascending");
  }
  require(r.signature().size() == 64, "a 64-byte signature");
  const identity::Directory& directory = FuzzWorld::get().directory();
  const std::int64_t recorded_ms = testing::kDemoNow * 1000;
  Status verified = receipt::verify_delivery(r, directory, recorded_ms);
  if (!verified) {
    require(verified.code() == Code::RECEIPT_INVALID, "a receipt is refused RECEIPT_INVALID only");
    return;
  }
  require(directory.node(r.node_id()) != nullptr, "a receipt that verifies is signed by a node of the directory");
  auto moved = r;
  moved.set_signed_ms(r.signed_ms() ^ 1);
  require(!receipt::verify_delivery(moved, directory, recorded_ms), "the signature covers the signed time");
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(delivery_receipt)
