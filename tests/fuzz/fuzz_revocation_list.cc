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
  for (const auto& [serial, why] : list->revoked) {
    require(list->revokes_serial(serial), "revokes what it lists");
    require(why.reason != identity::RevocationReason::kCompromised || why.compromised_at > 0,
            "a compromised entry has a time");
    require(why.reason != identity::RevocationReason::kRetired || why.compromised_at == 0,
            "a retired entry has no time");
  }
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(revocation_list)
