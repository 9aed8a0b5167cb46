// Merkle trees of RFC 9162's (Certificate Transparency v2) shape, over
// BLAKE2b-256 leaves that the caller hashes under its own leaf tag: for n > 1
// leaves, split at the largest power of two below n; inner nodes are
//   inner = BLAKE2b-256( tag(node_tag) || left || right )
// so a tree's inner node can never pass for its leaf (distinct tags) nor for
// a node of another kind of tree (distinct node tags). Used by report batches
// (report/batch.h) and acceptance receipts (receipt/acceptance.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "crypto/hash.h"

namespace tearline::crypto {

Digest merkle_inner(std::string_view node_tag, const Digest& left, const Digest& right);

// The root of 1 or more leaves.
Digest merkle_root(std::string_view node_tag, const std::vector<Digest>& leaves);
// The sibling path of leaves[index], from the leaf upwards (RFC 9162 2.1.3.1).
std::vector<Digest> merkle_path(std::string_view node_tag, const std::vector<Digest>& leaves, std::size_t index);

// Every path of a tree at once, in O(n log n) hashes (merkle_path is O(n)
// per leaf). Built level by level: adjacent nodes are paired left to right
// and an odd last node is promoted unchanged, which is the same tree as the
// recursive definition above.
class MerkleTree {
 public:
  // Precondition: at least one leaf.
  MerkleTree(std::string_view node_tag, std::vector<Digest> leaves);
  const Digest& root() const { return levels_.back().front(); }
  std::size_t size() const { return levels_.front().size(); }
  std::vector<Digest> path(std::size_t index) const;

 private:
  std::vector<std::vector<Digest>> levels_;  // levels_[0]: the leaves; back(): the root alone
};

// The root that `path` leads to from `leaf` at `index` in a tree of `count`
// leaves (RFC 9162 2.1.3.2), or nothing when the path's length is not
// exactly the one that index and count require, when index >= count, when
// count is 0 or above max_count, or when a path entry is not 32 bytes.
std::optional<Digest> merkle_root_from_path(std::string_view node_tag, const Digest& leaf, std::uint64_t index,
                                            std::uint64_t count, std::uint64_t max_count,
                                            const std::vector<ByteView>& path);

}  // namespace tearline::crypto
