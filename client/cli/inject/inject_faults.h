// The byte-level faults of `tearline inject` (docs/injection.md): pure
// functions from a built report (or nothing) to the bytes that are sent.
// None of them checks its input: a tester asks for broken bytes and gets them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/keys.h"
#include "receipt/delivery.h"
#include "report/builder.h"
#include "tearline/v1/report.pb.h"

namespace tearline::cli::inject {

// The report with the lowest bit of its signature's last byte flipped.
Bytes flip_signature_bit(const tearline::v1::Report& report);

// The report bytes without their last 32 bytes: the cut falls inside the
// 64-byte signature, the last field, so the bytes no longer parse.
Bytes truncate_report(ByteView report);

// The report whose header has `suffix` appended (raw protobuf bytes), signed
// again with `key` over the new header and the unchanged commitments, so the
// signature is valid and only the header's encoding is at fault.
Bytes resign_with_header_suffix(const tearline::v1::Report& report, ByteView suffix, const crypto::SigningKey& key);

// Header suffixes: a second `originator` (field 3) with the same value, and
// an unknown field 15 (varint 1).
Bytes duplicate_originator_field(std::string_view originator);
Bytes unknown_field();

// The report with the unknown field 15 appended to its container, outside
// anything signed.
Bytes append_unknown_report_field(ByteView report);

// Faults of a format 2 batch proof, on a member of a batch of at least 4
// (leaf 0: a path of two entries). `foreign` is a member of another batch
// (kForeignLeaf only).
enum class BatchFault { kWrongLeafIndex, kSwappedSiblings, kPathTruncated, kForeignLeaf };
inline constexpr std::size_t kFaultBatchSize = 4;
Bytes alter_batch_proof(const tearline::v1::Report& member, BatchFault fault,
                        const tearline::v1::Report* foreign = nullptr);

// Bytes that are not a tearline frame.
Bytes garbage_frame();

// The frame size oversize_frame aims for: above the broker's default 1 MiB
// application limit, well below its transport limit (docs/protocol.md).
inline constexpr std::size_t kOversizeFrameBytes = std::size_t{1400} * 1024;

// `draft` with at least two sections (the first repeated when it has one),
// each padded with 'x' so that the PUBLISH frame comes to about
// kOversizeFrameBytes.
report::ReportDraft padded_for_oversize(report::ReportDraft draft);

// A PUBLISH frame carrying `report`, encoded.
Bytes publish_frame(ByteView report);

// ---- ACK faults ----------------------------------------------------------------
// The delivery receipt a node signs for one DELIVER (receipt/delivery.h),
// then altered. `report` is the copy's bytes exactly as delivered.

// A serialized DeliveryReceipt with the lowest bit of its signature's last
// byte flipped: the shape stays valid, the signature does not verify.
Bytes flip_receipt_signature(ByteView receipt);

// A serialized AcceptanceReceipt (a hop stamp) with one bit of its signature flipped.
Bytes flip_acceptance_signature(const Bytes& receipt);

// A serialized CrossingPath of `receipts` (serialized AcceptanceReceipts, the first broker's first).
Bytes crossing_path(const std::vector<Bytes>& receipts);

// A broker id that is not `broker_id` (and is a valid id).
std::string other_broker_id(std::string_view broker_id);

// An ACK frame for `broker_seq` carrying `receipt`, encoded.
Bytes ack_frame(std::uint64_t broker_seq, ByteView receipt);

}  // namespace tearline::cli::inject
