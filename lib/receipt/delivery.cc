#include "receipt/delivery.h"

#include <climits>

#include "crypto/signing.h"
#include "tearline/v1/report.pb.h"

namespace tearline::receipt {

namespace v1 = tearline::v1;

crypto::Digest copy_hash(ByteView report_bytes) { return crypto::blake2b_256(report_bytes); }

DeliveredCopy describe_copy(std::uint64_t broker_seq, ByteView bytes) {
  DeliveredCopy c;
  c.broker_seq = broker_seq;
  c.copy_hash = copy_hash(bytes);
  v1::Report rep;
  v1::ReportHeader header;
  if (bytes.size() <= static_cast<std::size_t>(INT32_MAX) &&
      rep.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    if (header.ParseFromString(rep.header()) && header.report_id().size() == 16) c.report_id = header.report_id();
    for (int i = 0; i < rep.sections_size(); ++i) {
      if (rep.sections(i).has_sealed()) c.sections.push_back(static_cast<std::uint32_t>(i));
    }
  }
  if (c.report_id.size() != 16) c.report_id.assign(16, '\0');
  return c;
}

Bytes delivery_statement(const v1::DeliveryReceipt& receipt) {
  ByteWriter w;
  w.field(receipt.node_id());
  w.field(receipt.broker_id());
  if (receipt.format_version() == 2) w.field(receipt.writer());
  w.u64(static_cast<std::uint64_t>(receipt.signed_ms()));
  w.u32(static_cast<std::uint32_t>(receipt.entries_size()));
  for (const auto& e : receipt.entries()) {
    w.u64(e.broker_seq());
    w.raw(e.copy_hash());
    w.field(e.report_id());
    w.u32(static_cast<std::uint32_t>(e.sections_size()));
    for (std::uint32_t s : e.sections()) w.u32(s);
  }
  return w.take();
}

std::string_view delivery_tag(const v1::DeliveryReceipt& receipt) {
  return receipt.format_version() == 2 ? crypto::tags::kStreamDeliveryReceipt : crypto::tags::kDeliveryReceipt;
}

Bytes sign_delivery(std::string_view node_id, std::string_view broker_id, const crypto::SigningKey& key,
                    std::int64_t signed_ms, const std::vector<DeliveredCopy>& copies, std::string_view writer) {
  v1::DeliveryReceipt r;
  r.set_format_version(writer.empty() ? 1 : 2);
  r.set_node_id(std::string(node_id));
  r.set_broker_id(std::string(broker_id));
  r.set_writer(std::string(writer));
  r.set_signed_ms(signed_ms);
  for (const auto& c : copies) {
    auto* e = r.add_entries();
    e->set_broker_seq(c.broker_seq);
    e->set_copy_hash(c.copy_hash.data(), c.copy_hash.size());
    e->set_report_id(c.report_id);
    for (std::uint32_t s : c.sections) e->add_sections(s);
  }
  const crypto::Signature sig = crypto::sign(key, delivery_tag(r), delivery_statement(r));
  r.set_signature(sig.data(), sig.size());
  Bytes out(r.ByteSizeLong());
  r.SerializeToArray(out.data(), static_cast<int>(out.size()));
  return out;
}

namespace {

Status delivery_invalid(const std::string& why) {
  return Status::fail(Code::RECEIPT_INVALID, "delivery receipt: " + why);
}

bool has_unknown_fields(const v1::DeliveryReceipt& r) {
  if (!r.GetReflection()->GetUnknownFields(r).empty()) return true;
  for (const auto& e : r.entries()) {
    if (!e.GetReflection()->GetUnknownFields(e).empty()) return true;
  }
  return false;
}

}  // namespace

Result<v1::DeliveryReceipt> parse_delivery(ByteView receipt) {
  v1::DeliveryReceipt r;
  if (receipt.empty()) return delivery_invalid("missing: every ACK carries the node's signed receipt");
  if (receipt.size() > static_cast<std::size_t>(INT32_MAX) ||
      !r.ParseFromArray(receipt.data(), static_cast<int>(receipt.size()))) {
    return delivery_invalid("does not parse");
  }
  if (has_unknown_fields(r)) return delivery_invalid("has unknown fields");
  if (r.format_version() != 1 && r.format_version() != 2)
    return delivery_invalid("format version " + std::to_string(r.format_version()) + " is not 1 or 2");
  if (r.format_version() == 1 && !r.writer().empty())
    return delivery_invalid("format 1 names no writer (format 2 acknowledges another broker's stream)");
  if (r.format_version() == 2 && (r.writer().empty() || r.writer() == r.broker_id()))
    return delivery_invalid("format 2 names the writer of another broker's stream, not none or broker_id");
  if (r.writer().size() > kMaxWriterBytes)
    return delivery_invalid("writer longer than " + std::to_string(kMaxWriterBytes) + " bytes");
  if (r.entries_size() == 0 || static_cast<std::size_t>(r.entries_size()) > kMaxDeliveryEntries) {
    return delivery_invalid("must name 1 to " + std::to_string(kMaxDeliveryEntries) + " copies, not " +
                            std::to_string(r.entries_size()));
  }
  if (r.signature().size() != crypto::Signature{}.size()) return delivery_invalid("signature must be 64 bytes");
  std::uint64_t previous = 0;
  for (int i = 0; i < r.entries_size(); ++i) {
    const auto& e = r.entries(i);
    const std::string what = "entry " + std::to_string(i) + ": ";
    if (i > 0 && e.broker_seq() <= previous) return delivery_invalid(what + "broker seqs must be strictly ascending");
    previous = e.broker_seq();
    if (e.copy_hash().size() != crypto::Digest{}.size()) return delivery_invalid(what + "copy hash must be 32 bytes");
    if (e.report_id().size() != 16) return delivery_invalid(what + "report id must be 16 bytes");
    for (int k = 1; k < e.sections_size(); ++k) {
      if (e.sections(k) <= e.sections(k - 1)) return delivery_invalid(what + "sections must be strictly ascending");
    }
  }
  return r;
}

Status verify_delivery(const v1::DeliveryReceipt& receipt, const identity::Directory& directory,
                       std::int64_t recorded_ms) {
  const identity::Credential* node = directory.node(receipt.node_id());
  if (node == nullptr) return delivery_invalid("signer " + receipt.node_id() + " is not in the directory");
  Status standing = directory.check_signer(receipt.node_id(), recorded_ms / 1000, recorded_ms);
  if (!standing) {
    Status st;
    for (const auto& reason : standing.reasons()) st.add(Code::RECEIPT_INVALID, "delivery receipt: " + reason.message);
    return st;
  }
  if (!crypto::verify(node->signing_key, delivery_tag(receipt), delivery_statement(receipt),
                      as_bytes(receipt.signature()))) {
    return delivery_invalid("the signature does not verify under " + receipt.node_id() + "'s signing key");
  }
  return Status::ok();
}

}  // namespace tearline::receipt
