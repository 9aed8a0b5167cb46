// Delivery receipts: a node's signed acknowledgement of the copies it
// received (docs/report-format.md, "Receipts"). One signature per ACK covers
// every entry of it:
//
//   statement = field(node_id) || field(broker_id) || u64(signed_ms as two's complement)
//               || u32(#entries) || for each entry:
//                  u64(broker_seq) || copy_hash(32) || field(report_id)
//                  || u32(#sections) || u32(section) ...
//   signature = Ed25519( tag("tearline/v1/delivery-receipt") || statement )
//
// That is format 1: the copies are of broker_id's own stream. Format 2 (a
// store several brokers share, docs/protocol.md 6.14) acknowledges copies of
// another broker's stream, `writer`, and differs in two places: field(writer)
// follows field(broker_id), and the tag is
// "tearline/v1/stream-delivery-receipt", so that no statement of one format
// is ever a statement of the other.
//
// copy_hash is the BLAKE2b-256 of the DELIVER's report bytes exactly as
// received (a redacted copy has its own hash); sections lists the indexes of
// the sections the copy carried. The broker checks each receipt against what
// it sent and keeps it in its audit log; anyone with the directory can check
// it offline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "identity/directory.h"
#include "tearline/v1/receipt.pb.h"

namespace tearline::receipt {

inline constexpr std::size_t kMaxDeliveryEntries = 1024;
inline constexpr std::size_t kMaxWriterBytes = 128;  // a broker's node id

struct DeliveredCopy {
  std::uint64_t broker_seq = 0;
  crypto::Digest copy_hash{};
  std::string report_id;                // raw 16 bytes
  std::vector<std::uint32_t> sections;  // present in the copy, ascending
};

// The hash a delivery receipt names for a copy: BLAKE2b-256 of its bytes.
crypto::Digest copy_hash(ByteView report_bytes);

// The entry a receipt gives the copy `report_bytes` a DELIVER of
// `broker_seq` carried: its hash (of the bytes exactly), its report id and
// the indexes of the sections it carried sealed. A copy that does not parse
// still gets an entry, with what can be read of it (16 zero bytes for its id
// when none): the hash alone says exactly what arrived, and the seq must be
// acknowledged all the same.
DeliveredCopy describe_copy(std::uint64_t broker_seq, ByteView report_bytes);

// The bytes signed after the tag (format 1 or 2, by receipt.format_version()).
Bytes delivery_statement(const tearline::v1::DeliveryReceipt& receipt);
// The tag the receipt's format signs under.
std::string_view delivery_tag(const tearline::v1::DeliveryReceipt& receipt);

// A signed, serialized DeliveryReceipt: format 1 when `writer` is empty
// (broker_id's own stream), else format 2 for `writer`'s stream.
// Precondition: 1..kMaxDeliveryEntries copies, broker_seq strictly
// ascending; `writer` empty or not broker_id.
Bytes sign_delivery(std::string_view node_id, std::string_view broker_id, const crypto::SigningKey& key,
                    std::int64_t signed_ms, const std::vector<DeliveredCopy>& copies, std::string_view writer = {});

// Parses and checks the receipt's shape (no signature): RECEIPT_INVALID when
// it does not parse, carries unknown fields, has a format version other than
// 1 or 2, a writer with format 1, none or broker_id itself with format 2,
// a writer longer than kMaxWriterBytes,
// no entry or more than kMaxDeliveryEntries, seqs not strictly ascending,
// a copy hash not 32 bytes, a report id not 16 bytes, sections not strictly
// ascending, or a signature not 64 bytes.
[[nodiscard]] Result<tearline::v1::DeliveryReceipt> parse_delivery(ByteView receipt);

// Verifies a parsed receipt's signature under its node's credential, with
// the revocation rule applied at `recorded_ms` (when the broker recorded it:
// identity::Directory::check_signer). RECEIPT_INVALID with the reason.
[[nodiscard]] Status verify_delivery(const tearline::v1::DeliveryReceipt& receipt, const identity::Directory& directory,
                                     std::int64_t recorded_ms);

}  // namespace tearline::receipt
