// report::root_from_path, the batch proof check of report format 2, on
// arbitrary leaf index, leaf count and path (input: u8 index, u8 count, then
// 32-byte path entries; a short tail is a malformed entry). What must hold:
//  - an answer only for 1 <= count <= 64, index < count and a path of exactly
//    the length that index and count require (batch_path's);
//  - completeness: for a tree of `count` leaves made from the input, the
//    path batch_path gives for `index` leads to batch_root;
//  - soundness: that path with any one entry changed does not.
#include "crypto/hash.h"
#include "fuzz_target.h"
#include "report/batch.h"

namespace tearline::fuzz {

void batch_path(ByteView input) {
  if (input.size() < 2) return;
  const std::uint64_t index = input[0];
  const std::uint64_t count = input[1];
  const ByteView rest = input.subspan(2);
  std::vector<ByteView> path;
  for (std::size_t at = 0; at < rest.size(); at += 32)
    path.push_back(rest.subspan(at, std::min<std::size_t>(32, rest.size() - at)));
  const crypto::Digest leaf = crypto::blake2b_256(input);

  const auto root = report::root_from_path(leaf, index, count, path);
  const bool shape_ok = count >= 1 && count <= report::kMaxBatch && index < count;
  if (root) {
    require(shape_ok, "an answer only for a leaf inside a batch of 1..64");
    std::vector<crypto::Digest> dummy(count);
    require(path.size() == report::batch_path(dummy, index).size(), "an answer only for a path of the exact length");
    for (ByteView p : path) require(p.size() == 32, "an answer only for 32-byte entries");
  }
  if (!shape_ok) return;

  std::vector<crypto::Digest> leaves;
  for (std::uint64_t i = 0; i < count; ++i) {
    ByteWriter w;
    w.u64(i);
    w.raw(input);
    leaves.push_back(crypto::blake2b_256(w.bytes()));
  }
  const crypto::Digest expected = report::batch_root(leaves);
  const auto honest = report::batch_path(leaves, index);
  std::vector<ByteView> views;
  views.reserve(honest.size());
  for (const auto& d : honest) views.emplace_back(d.data(), d.size());
  const auto got = report::root_from_path(leaves[index], index, count, views);
  require(got.has_value() && *got == expected, "the honest path leads to the root");
  for (std::size_t i = 0; i < honest.size(); ++i) {
    crypto::Digest changed = honest[i];
    changed[input.size() % 32] ^= 0x01;
    std::vector<ByteView> bad = views;
    bad[i] = ByteView(changed.data(), changed.size());
    const auto wrong = report::root_from_path(leaves[index], index, count, bad);
    require(!wrong.has_value() || *wrong != expected, "a changed sibling never leads to the root");
  }
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(batch_path)
