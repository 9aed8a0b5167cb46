#include "report/batch.h"

#include "crypto/merkle.h"

namespace tearline::report {

crypto::Digest batch_leaf(const tearline::v1::Report& report) {
  crypto::Blake2b256 h;
  h.update_tag(kBatchLeafTag);
  h.update_field(as_bytes(report.header()));
  h.update_u32(static_cast<std::uint32_t>(report.sections_size()));
  for (const auto& section : report.sections()) h.update(as_bytes(section.commitment()));
  return h.finish();
}

crypto::Digest batch_inner(const crypto::Digest& left, const crypto::Digest& right) {
  return crypto::merkle_inner(kBatchNodeTag, left, right);
}

crypto::Digest batch_root(const std::vector<crypto::Digest>& leaves) {
  return crypto::merkle_root(kBatchNodeTag, leaves);
}

std::vector<crypto::Digest> batch_path(const std::vector<crypto::Digest>& leaves, std::size_t index) {
  return crypto::merkle_path(kBatchNodeTag, leaves, index);
}

std::optional<crypto::Digest> root_from_path(const crypto::Digest& leaf, std::uint64_t index, std::uint64_t count,
                                             const std::vector<ByteView>& path) {
  if (path.size() > kMaxPathLength) return std::nullopt;
  return crypto::merkle_root_from_path(kBatchNodeTag, leaf, index, count, kMaxBatch, path);
}

Bytes batch_statement(std::string_view originator, ByteView batch_id, std::uint32_t leaf_count,
                      const crypto::Digest& root) {
  ByteWriter w;
  w.field(originator);
  w.field(batch_id);
  w.u32(leaf_count);
  w.raw(ByteView(root.data(), root.size()));
  return w.take();
}

}  // namespace tearline::report
