#include "crypto/merkle.h"

#include <algorithm>
#include <bit>

namespace tearline::crypto {

Digest merkle_inner(std::string_view node_tag, const Digest& left, const Digest& right) {
  Blake2b256 h;
  h.update_tag(node_tag);
  h.update(ByteView(left.data(), left.size()));
  h.update(ByteView(right.data(), right.size()));
  return h.finish();
}

namespace {

// The largest power of two strictly below n (n > 1).
std::size_t split_point(std::size_t n) { return std::bit_floor(n - 1); }

Digest subtree_root(std::string_view tag, const Digest* leaves, std::size_t n) {
  if (n == 1) return leaves[0];
  const std::size_t k = split_point(n);
  return merkle_inner(tag, subtree_root(tag, leaves, k), subtree_root(tag, leaves + k, n - k));
}

void subtree_path(std::string_view tag, const Digest* leaves, std::size_t n, std::size_t index,
                  std::vector<Digest>* out) {
  if (n == 1) return;
  const std::size_t k = split_point(n);
  if (index < k) {
    subtree_path(tag, leaves, k, index, out);
    out->push_back(subtree_root(tag, leaves + k, n - k));
  } else {
    subtree_path(tag, leaves + k, n - k, index - k, out);
    out->push_back(subtree_root(tag, leaves, k));
  }
}

}  // namespace

Digest merkle_root(std::string_view node_tag, const std::vector<Digest>& leaves) {
  return subtree_root(node_tag, leaves.data(), leaves.size());
}

std::vector<Digest> merkle_path(std::string_view node_tag, const std::vector<Digest>& leaves, std::size_t index) {
  std::vector<Digest> out;
  subtree_path(node_tag, leaves.data(), leaves.size(), index, &out);
  return out;
}

MerkleTree::MerkleTree(std::string_view node_tag, std::vector<Digest> leaves) {
  levels_.push_back(std::move(leaves));
  while (levels_.back().size() > 1) {
    const std::vector<Digest>& below = levels_.back();
    std::vector<Digest> up;
    up.reserve((below.size() + 1) / 2);
    for (std::size_t i = 0; i + 1 < below.size(); i += 2) up.push_back(merkle_inner(node_tag, below[i], below[i + 1]));
    if (below.size() % 2 == 1) up.push_back(below.back());  // promoted unchanged
    levels_.push_back(std::move(up));
  }
}

std::vector<Digest> MerkleTree::path(std::size_t index) const {
  std::vector<Digest> out;
  for (std::size_t level = 0; level + 1 < levels_.size(); ++level) {
    const std::size_t sibling = index ^ 1U;
    if (sibling < levels_[level].size()) out.push_back(levels_[level][sibling]);
    index >>= 1U;
  }
  return out;
}

std::optional<Digest> merkle_root_from_path(std::string_view node_tag, const Digest& leaf, std::uint64_t index,
                                            std::uint64_t count, std::uint64_t max_count,
                                            const std::vector<ByteView>& path) {
  if (count == 0 || count > max_count || index >= count || path.size() > 64) return std::nullopt;
  std::uint64_t fn = index;
  std::uint64_t sn = count - 1;
  Digest r = leaf;
  for (ByteView p : path) {
    if (p.size() != r.size() || sn == 0) return std::nullopt;  // too long
    Digest sibling;
    std::copy(p.begin(), p.end(), sibling.begin());
    if ((fn & 1U) == 1U || fn == sn) {
      r = merkle_inner(node_tag, sibling, r);
      // A right-edge node with no right sibling at this level: climb past the
      // levels where it is promoted unchanged.
      if ((fn & 1U) == 0U) {
        while ((fn & 1U) == 0U && fn != 0) {
          fn >>= 1U;
          sn >>= 1U;
        }
      }
    } else {
      r = merkle_inner(node_tag, r, sibling);
    }
    fn >>= 1U;
    sn >>= 1U;
  }
  if (sn != 0) return std::nullopt;  // too short
  return r;
}

}  // namespace tearline::crypto
