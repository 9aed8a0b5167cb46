#include "report/format.h"

namespace tearline::report {

// Hashed as written, without joining the pieces (the ciphertext is most of it).
crypto::Digest section_commitment(const tearline::v1::SealedSection& s) {
  crypto::Blake2b256 h;
  h.update_tag(kCommitmentTag);
  h.update_field(as_bytes(s.salt()));
  h.update_field(as_bytes(s.label()));
  h.update_field(as_bytes(s.nonce()));
  h.update_field(as_bytes(s.ciphertext()));
  h.update_u32(static_cast<std::uint32_t>(s.wraps_size()));
  for (const auto& wrap : s.wraps()) {
    h.update_field(as_bytes(wrap.node_id()));
    h.update_field(as_bytes(wrap.sealed_key()));
  }
  return h.finish();
}

Bytes section_associated_data(ByteView header_bytes, std::uint32_t index, ByteView label_bytes) {
  ByteWriter w;
  w.tag(kSectionAdTag);
  w.field(header_bytes);
  w.u32(index);
  w.field(label_bytes);
  return w.take();
}

Bytes signature_payload(ByteView header_bytes, const tearline::v1::Report& report) {
  ByteWriter w;
  w.field(header_bytes);
  w.u32(static_cast<std::uint32_t>(report.sections_size()));
  for (const auto& section : report.sections()) w.raw(section.commitment());
  return w.take();
}

}  // namespace tearline::report
