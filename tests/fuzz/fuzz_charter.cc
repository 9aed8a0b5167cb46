// identity::verify_charter against the pinned authorities of the demo world:
// a charter that verifies has members and the consent of every party.
#include <algorithm>

#include "fuzz_target.h"
#include "fuzz_world.h"
#include "identity/objects.h"

namespace tearline::fuzz {

void charter(ByteView input) {
  const identity::TrustStore& trust = FuzzWorld::get().directory().trust();
  auto verified = identity::verify_charter(input, trust);
  if (!verified) return;
  require(!verified->members.empty() && verified->version > 0, "a charter has members and a version");
  require(verified->not_before < verified->not_after, "a charter has a window");
  const auto signers = verified->required_signers();
  require(std::find(signers.begin(), signers.end(), verified->host_agency) != signers.end(),
          "the host agency must consent");
  for (const auto& agency : signers) require(trust.authority(agency) != nullptr, "every party is pinned");
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(charter)
