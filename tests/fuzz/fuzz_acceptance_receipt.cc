// receipt::verify_acceptance, the client's and `tearline receipt verify`'s
// check of a broker's acceptance receipt, on arbitrary bytes against the
// demo world's directory (input: a 32-byte report digest, then the receipt).
// What must hold of a receipt that verifies:
//  - it names a credential with role broker, and its seq is first_seq + leaf_index;
//  - it verifies the same through a statement cache, twice (the cache never
//    changes an answer), and not for another digest;
//  - any receipt that does not verify is refused RECEIPT_INVALID, never
//    another code.
#include "fuzz_target.h"
#include "fuzz_world.h"
#include "receipt/acceptance.h"

namespace tearline::fuzz {

void acceptance_receipt(ByteView input) {
  if (input.size() < 32) return;
  crypto::Digest digest;
  std::copy(input.begin(), input.begin() + 32, digest.begin());
  const ByteView bytes = input.subspan(32);
  const identity::Directory& directory = FuzzWorld::get().directory();
  auto verified = receipt::verify_acceptance(bytes, digest, directory);
  if (!verified) {
    require(verified.code() == Code::RECEIPT_INVALID, "a receipt is refused RECEIPT_INVALID only");
    return;
  }
  const identity::Credential* broker = directory.node(verified->broker_id);
  require(broker != nullptr && broker->has_role(identity::kBrokerRole), "a receipt that verifies names a broker");
  auto parsed = receipt::parse_acceptance(bytes);
  require(parsed.is_ok() && verified->seq == parsed->first_seq() + parsed->leaf_index(),
          "the seq is first_seq + leaf_index");
  report::RootCache cache;
  for (int i = 0; i < 2; ++i) {
    auto cached = receipt::verify_acceptance(bytes, digest, directory, {verified->seq, verified->broker_id, &cache});
    require(cached.is_ok() && cached->accepted_ms == verified->accepted_ms, "the cache never changes the answer");
  }
  crypto::Digest other = digest;
  other[0] ^= 0x01;
  require(!receipt::verify_acceptance(bytes, other, directory), "a receipt does not verify for another digest");
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(acceptance_receipt)
