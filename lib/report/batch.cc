#include "report/batch.h"

#include <bit>

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
  crypto::Blake2b256 h;
  h.update_tag(kBatchNodeTag);
  h.update(ByteView(left.data(), left.size()));
  h.update(ByteView(right.data(), right.size()));
  return h.finish();
}

namespace {

// The largest power of two strictly below n (n > 1).
std::size_t split_point(std::size_t n) { return std::bit_floor(n - 1); }

crypto::Digest subtree_root(const crypto::Digest* leaves, std::size_t n) {
  if (n == 1) return leaves[0];
  const std::size_t k = split_point(n);
  return batch_inner(subtree_root(leaves, k), subtree_root(leaves + k, n - k));
}

void subtree_path(const crypto::Digest* leaves, std::size_t n, std::size_t index, std::vector<crypto::Digest>* out) {
  if (n == 1) return;
  const std::size_t k = split_point(n);
  if (index < k) {
    subtree_path(leaves, k, index, out);
    out->push_back(subtree_root(leaves + k, n - k));
  } else {
    subtree_path(leaves + k, n - k, index - k, out);
    out->push_back(subtree_root(leaves, k));
  }
}

}  // namespace

crypto::Digest batch_root(const std::vector<crypto::Digest>& leaves) {
  return subtree_root(leaves.data(), leaves.size());
}

std::vector<crypto::Digest> batch_path(const std::vector<crypto::Digest>& leaves, std::size_t index) {
  std::vector<crypto::Digest> out;
  subtree_path(leaves.data(), leaves.size(), index, &out);
  return out;
}

std::optional<crypto::Digest> root_from_path(const crypto::Digest& leaf, std::uint64_t index, std::uint64_t count,
                                             const std::vector<ByteView>& path) {
  if (count == 0 || count > kMaxBatch || index >= count || path.size() > kMaxPathLength) return std::nullopt;
  std::uint64_t fn = index;
  std::uint64_t sn = count - 1;
  crypto::Digest r = leaf;
  for (ByteView p : path) {
    if (p.size() != r.size() || sn == 0) return std::nullopt;  // too long
    crypto::Digest sibling;
    std::copy(p.begin(), p.end(), sibling.begin());
    if ((fn & 1U) == 1U || fn == sn) {
      r = batch_inner(sibling, r);
      // A right-edge node with no right sibling at this level: climb past the
      // levels where it is promoted unchanged.
      if ((fn & 1U) == 0U) {
        while ((fn & 1U) == 0U && fn != 0) {
          fn >>= 1U;
          sn >>= 1U;
        }
      }
    } else {
      r = batch_inner(r, sibling);
    }
    fn >>= 1U;
    sn >>= 1U;
  }
  if (sn != 0) return std::nullopt;  // too short
  return r;
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
