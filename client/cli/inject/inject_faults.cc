#include "cli/inject/inject_faults.h"

#include <algorithm>

#include "base/canonical_proto.h"
#include "crypto/signing.h"
#include "report/builder.h"
#include "report/format.h"
#include "report/verify.h"
#include "wire/frame.h"

namespace tearline::cli::inject {
namespace v1 = tearline::v1;

namespace {

constexpr std::size_t kTruncateBytes = 32;                       // less than the 64-byte signature
constexpr std::uint64_t kRawRequestId = std::uint64_t{1} << 40;  // clear of the session's own counter

// Protobuf keys: (field number << 3) | wire type.
constexpr std::uint8_t kOriginatorKey = (3 << 3) | 2;  // ReportHeader.originator, length-delimited
constexpr std::uint8_t kUnknownKey = (15 << 3) | 0;    // field 15, varint: in no tearline message

}  // namespace

Bytes flip_signature_bit(const v1::Report& report) {
  v1::Report forged = report;
  std::string signature = forged.signature();
  if (!signature.empty()) signature.back() = static_cast<char>(signature.back() ^ 0x01);
  forged.set_signature(signature);
  return serialize_canonical(forged);
}

Bytes truncate_report(ByteView report) {
  const std::size_t keep = report.size() > kTruncateBytes ? report.size() - kTruncateBytes : 0;
  return Bytes(report.begin(), report.begin() + static_cast<std::ptrdiff_t>(keep));
}

Bytes resign_with_header_suffix(const v1::Report& report, ByteView suffix, const crypto::SigningKey& key) {
  v1::Report altered = report;
  std::string header = altered.header();
  header.append(as_chars(suffix));
  altered.set_header(header);
  report::resign_alone(&altered, key);
  return serialize_canonical(altered);
}

Bytes alter_batch_proof(const v1::Report& member, BatchFault fault, const v1::Report* foreign) {
  v1::Report altered = member;
  v1::BatchProof* proof = altered.mutable_batch();
  switch (fault) {
    case BatchFault::kWrongLeafIndex: proof->set_leaf_index(proof->leaf_index() ^ 1U); break;
    case BatchFault::kSwappedSiblings:
      if (proof->path_size() >= 2) proof->mutable_path()->SwapElements(0, 1);
      break;
    case BatchFault::kPathTruncated:
      if (proof->path_size() > 0) proof->mutable_path()->RemoveLast();
      break;
    case BatchFault::kForeignLeaf:
      if (foreign != nullptr) {
        *proof = foreign->batch();
        altered.set_signature(foreign->signature());
      }
      break;
  }
  return serialize_canonical(altered);
}

Bytes duplicate_originator_field(std::string_view originator) {
  // Node ids are at most 64 bytes, so the length is a one-byte varint.
  const std::string_view value = originator.substr(0, 127);
  ByteWriter out;
  out.u8(kOriginatorKey);
  out.u8(static_cast<std::uint8_t>(value.size()));
  out.raw(value);
  return out.take();
}

Bytes unknown_field() { return Bytes{kUnknownKey, 0x01}; }

Bytes append_unknown_report_field(ByteView report) {
  ByteWriter out;
  out.raw(report);
  out.raw(unknown_field());
  return out.take();
}

Bytes garbage_frame() { return to_bytes("\xde\xad\xbe\xef not a tearline frame"); }

report::ReportDraft padded_for_oversize(report::ReportDraft draft) {
  if (draft.sections.size() == 1) draft.sections.push_back(draft.sections.front());
  if (draft.sections.empty()) return draft;
  const std::size_t each = kOversizeFrameBytes / draft.sections.size();
  for (auto& s : draft.sections) {
    if (s.content.size() < each) s.content.resize(each, 'x');
  }
  return draft;
}

Bytes publish_frame(ByteView report) { return wire::encode_frame(wire::make_publish(kRawRequestId, report)); }

Bytes flip_receipt_signature(ByteView receipt) {
  v1::DeliveryReceipt r;
  if (!r.ParseFromArray(receipt.data(), static_cast<int>(receipt.size()))) return Bytes(receipt.begin(), receipt.end());
  std::string signature = r.signature();
  if (!signature.empty()) signature.back() = static_cast<char>(signature.back() ^ 0x01);
  r.set_signature(signature);
  return serialize_canonical(r);
}

Bytes flip_acceptance_signature(const Bytes& receipt) {
  v1::AcceptanceReceipt r;
  if (!r.ParseFromArray(receipt.data(), static_cast<int>(receipt.size()))) return receipt;
  std::string signature = r.signature();
  if (!signature.empty()) signature.back() = static_cast<char>(signature.back() ^ 0x01);
  r.set_signature(signature);
  return serialize_canonical(r);
}

Bytes crossing_path(const std::vector<Bytes>& receipts) {
  v1::CrossingPath path;
  for (const auto& r : receipts) path.add_receipts(to_string(r));
  return serialize_canonical(path);
}

std::string other_broker_id(std::string_view broker_id) {
  return broker_id == "broker-elsewhere" ? "broker-elsewhere-2" : "broker-elsewhere";
}

Bytes ack_frame(std::uint64_t broker_seq, ByteView receipt) {
  return wire::encode_frame(wire::make_ack(broker_seq, receipt));
}

}  // namespace tearline::cli::inject
