#include "report/format.h"

namespace tearline::report {

crypto::Digest section_commitment(const tearline::v1::SealedSection& s) {
  ByteWriter w;
  w.tag(kCommitmentTag);
  w.field(s.salt());
  w.field(s.label());
  w.field(s.nonce());
  w.field(s.ciphertext());
  w.u32(static_cast<std::uint32_t>(s.wraps_size()));
  for (const auto& wrap : s.wraps()) {
    w.field(wrap.node_id());
    w.field(wrap.sealed_key());
  }
  return crypto::blake2b_256(w.bytes());
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
