// receipt::verify_path, a node's check of the path of a report that crossed
// from another agency's broker (Deliver.path, docs/federation.md "The
// path"), on arbitrary bytes against the demo world's directory (input: a
// 32-byte report digest, then the serialized CrossingPath). What must hold
// of a path that verifies:
//  - no bytes, no hop; at most kMaxPathHops hops, each a broker of the
//    directory, none twice, their times never going back;
//  - it verifies the same through a statement cache, twice, and a
//    non-empty one not for another digest;
//  - any path that does not verify is refused RECEIPT_INVALID, never
//    another code.
#include <algorithm>

#include "fuzz_target.h"
#include "fuzz_world.h"
#include "receipt/acceptance.h"

namespace tearline::fuzz {

void crossing_path(ByteView input) {
  if (input.size() < 32) return;
  crypto::Digest digest;
  std::copy(input.begin(), input.begin() + 32, digest.begin());
  const ByteView bytes = input.subspan(32);
  const identity::Directory& directory = FuzzWorld::get().directory();
  auto hops = receipt::verify_path(bytes, digest, directory);
  if (!hops) {
    require(hops.code() == Code::RECEIPT_INVALID, "a path is refused RECEIPT_INVALID only");
    return;
  }
  require(!bytes.empty() || hops->empty(), "no bytes, no hop");
  require(hops->size() <= receipt::kMaxPathHops, "at most kMaxPathHops hops");
  for (std::size_t i = 0; i < hops->size(); ++i) {
    const identity::Credential* broker = directory.node((*hops)[i].broker_id);
    require(broker != nullptr && broker->has_role(identity::kBrokerRole), "each hop is a broker");
    for (std::size_t j = 0; j < i; ++j) require((*hops)[j].broker_id != (*hops)[i].broker_id, "no broker twice");
    if (i > 0) require((*hops)[i - 1].accepted_ms <= (*hops)[i].accepted_ms, "times never go back");
  }
  report::RootCache cache;
  receipt::PathCheck check;
  check.cache = &cache;
  for (int i = 0; i < 2; ++i) {
    auto cached = receipt::verify_path(bytes, digest, directory, check);
    require(cached.is_ok() && cached->size() == hops->size(), "the cache never changes the answer");
  }
  if (hops->empty()) return;
  crypto::Digest other = digest;
  other[0] ^= 0x01;
  require(!receipt::verify_path(bytes, other, directory), "a path does not verify for another digest");
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(crossing_path)
