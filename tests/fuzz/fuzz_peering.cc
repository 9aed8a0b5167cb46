// federation::verify_peering against the pinned authorities of the demo
// world, then effective_peering of what verified: a peering that verifies
// has two agencies, a signature of one of them at least and nobody else's,
// and takes effect alone exactly when both signed it.
#include <algorithm>

#include "federation/peering.h"
#include "fuzz_target.h"
#include "fuzz_world.h"

namespace tearline::fuzz {

void peering(ByteView input) {
  const identity::TrustStore& trust = FuzzWorld::get().directory().trust();
  auto verified = federation::verify_peering(input, trust);
  if (!verified) return;
  const auto& p = *verified;
  require(p.first.agency != p.second.agency, "a peering joins two agencies");
  require(p.version > 0 && p.not_before < p.not_after, "a peering has a version and a window");
  require(!p.signed_by.empty() && p.signed_by.size() <= 2, "one or two parties signed");
  for (const auto& a : p.signed_by) {
    require(a == p.first.agency || a == p.second.agency, "only a party signs");
    require(trust.authority(a) != nullptr, "every signer is pinned");
  }
  for (const auto* d : {&p.first_to_second, &p.second_to_first}) {
    require(std::is_sorted(d->releasable_to.begin(), d->releasable_to.end()), "countries sorted");
  }
  require(p.narrows(p).is_ok(), "a version narrows itself");
  auto effective = federation::effective_peering({p}, federation::key_of(p));
  require(effective.is_ok() == p.signed_by_both(), "alone, a version takes effect exactly when both signed");
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(peering)
