// Batch signatures (report format 2, docs/report-format.md "Batches").
//
// A publisher signs the root of a Merkle tree over the reports it has ready
// (Wong and Lam's tree-chained signatures); each report carries the signature,
// its leaf index and the sibling path. The tree is RFC 9162's (Certificate
// Transparency v2) shape: for n > 1 leaves, split at the largest power of two
// below n; leaves and inner nodes are hashed under distinct domain tags so an
// inner node can never pass for a leaf or the reverse.
//
//   leaf  = BLAKE2b-256( tag("tearline/v2/batch-leaf") || field(header)
//                        || u32(#sections) || commitment_0 || ... )
//   inner = BLAKE2b-256( tag("tearline/v2/batch-node") || left || right )
//   signed (under crypto::tags::kReportBatch) =
//           field(originator) || field(batch_id) || u32(leaf_count) || root
//
// The leaf covers only the header and the commitments, so a redacted copy
// (sections torn off to their commitments) has the same leaf and still
// verifies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "crypto/hash.h"
#include "tearline/v1/report.pb.h"

namespace tearline::report {

inline constexpr std::size_t kBatchIdBytes = 16;
inline constexpr std::size_t kMaxBatch = 64;
inline constexpr std::size_t kMaxPathLength = 6;  // ceil(log2(kMaxBatch))
inline constexpr std::string_view kBatchLeafTag = "tearline/v2/batch-leaf";
inline constexpr std::string_view kBatchNodeTag = "tearline/v2/batch-node";

// The leaf of a report: its header bytes and its sections' commitments, in
// order (each commitment must be 32 bytes; verify_report checks that first).
crypto::Digest batch_leaf(const tearline::v1::Report& report);
crypto::Digest batch_inner(const crypto::Digest& left, const crypto::Digest& right);

// The root of 1..kMaxBatch leaves.
crypto::Digest batch_root(const std::vector<crypto::Digest>& leaves);
// The sibling path of leaves[index], from the leaf upwards (RFC 9162 2.1.3.1).
std::vector<crypto::Digest> batch_path(const std::vector<crypto::Digest>& leaves, std::size_t index);

// The root that `path` leads to from `leaf` at `index` in a tree of `count`
// leaves (RFC 9162 2.1.3.2), or nothing when the path's length is not
// exactly the one that index and count require, when index >= count, or when
// count is 0 or above kMaxBatch. Each path entry must be 32 bytes.
std::optional<crypto::Digest> root_from_path(const crypto::Digest& leaf, std::uint64_t index, std::uint64_t count,
                                             const std::vector<ByteView>& path);

// The payload signed under crypto::tags::kReportBatch.
Bytes batch_statement(std::string_view originator, ByteView batch_id, std::uint32_t leaf_count,
                      const crypto::Digest& root);

}  // namespace tearline::report
