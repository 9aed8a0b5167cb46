// identity::verify_revocation_list against the pinned authorities of the
// demo world: a list that verifies is numbered and issued by a pinned agency.
#include "fuzz_target.h"
#include "fuzz_world.h"
#include "identity/objects.h"

namespace tearline::fuzz {

void revocation_list(ByteView input) {
  const identity::TrustStore& trust = FuzzWorld::get().directory().trust();
  auto list = identity::verify_revocation_list(input, trust);
  if (!list) return;
  require(list->number > 0, "a revocation list is numbered");
  require(trust.authority(list->agency) != nullptr, "a revocation list comes from a pinned agency");
  for (std::uint64_t serial : list->revoked_serials) require(list->revokes_serial(serial), "revokes what it lists");
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(revocation_list)
