// Peering agreements (docs/federation.md, "Peering agreements"): what two
// agencies agreed may cross between their boundary brokers, signed by both
// agencies' authorities like a joint unit's charter.
//
// A peering names its two parties (agency, boundary broker id and that
// broker's signing and transport keys), what may cross each way (topic
// patterns, a classification ceiling, the countries a crossing section must
// be releasable to, whether the receiver may pass it on), a version and a
// validity window. Its versions are judged together (effective_peering):
//   - a version signed by both authorities takes effect, whatever it says;
//   - a version signed by one of them alone takes effect only when it
//     narrows the version then in effect: same parties and keys, each
//     direction's topics covered by the old ones, a ceiling no higher, at
//     least the same releasable-to countries, no transit where there was
//     none, a validity window inside the old one. Either side can so narrow
//     alone; widening needs both;
//   - a revocation list of either agency that revokes (peering, V) voids
//     every version up to V: a new agreement needs both signatures again.
// Validity in time is the caller's question (Peering::valid_at).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/keys.h"
#include "identity/objects.h"
#include "tearline/v1/identity.pb.h"

namespace tearline::federation {

struct PeeringParty {
  std::string agency;
  std::string broker_id;
  crypto::VerifyKey signing_key;
  crypto::TransportPublicKey transport_key;

  bool operator==(const PeeringParty& o) const;
};

struct PeeringDirection {
  std::vector<std::string> topics;  // patterns
  identity::Classification ceiling = tearline::v1::CLASSIFICATION_UNSET;
  std::vector<std::string> releasable_to;  // sorted, unique
  bool transit = false;
};

struct Peering {
  std::string peering_id;
  PeeringParty first, second;
  PeeringDirection first_to_second, second_to_first;
  std::uint64_t version = 0;
  std::int64_t not_before = 0;         // unix seconds, inclusive
  std::int64_t not_after = 0;          // unix seconds, exclusive
  std::vector<std::string> signed_by;  // the parties' agencies whose signatures verified, sorted

  bool signed_by_both() const { return signed_by.size() == 2; }
  bool valid_at(std::int64_t unix_seconds) const { return not_before <= unix_seconds && unix_seconds < not_after; }
  // OK when this version narrows `base` (the rules above; the version
  // number is not compared); PEERING_WIDENED with every way it does not.
  Status narrows(const Peering& base) const;
};

// A peering version starts with no signature; each party adds its own.
tearline::v1::SignedObject new_peering(const tearline::v1::PeeringBody& body);
void cosign_peering(tearline::v1::SignedObject* peering, const identity::Authority& signer,
                    const crypto::SigningKey& key);

// The terms of one version, unsigned: the field checks (INVALID_FIELD, all
// listed), then the keys (WEAK_KEY). signed_by is left empty.
Result<Peering> read_peering_body(const tearline::v1::PeeringBody& body);

// Parses and checks one signed version (docs/trust-model.md 6.4): its fields
// (ids, key sizes, two distinct agencies, topic patterns, a ceiling, country
// codes, the window: INVALID_FIELD, all listed), then its keys (WEAK_KEY),
// then every signature: each must be a party's (WRONG_AUTHORITY otherwise),
// pinned and valid; so one party or both signed it. Whether it takes effect
// is effective_peering's question.
Result<Peering> verify_peering(ByteView signed_object, const identity::AuthorityLookup& trust);

// A peering: its id between two agencies (sorted). Versions of another pair
// under the same id are another peering.
struct PeeringKey {
  std::string peering_id;
  std::array<std::string, 2> agencies;

  bool operator==(const PeeringKey& o) const { return peering_id == o.peering_id && agencies == o.agencies; }
};
PeeringKey key_of(const Peering& p);

// The highest version of the peering revoked by the two parties' own lists
// (a list of any other agency does not count; nullptr entries are skipped);
// 0 when none.
std::uint64_t revoked_up_to(const PeeringKey& key, const std::vector<const identity::RevocationList*>& lists);

// The version in effect among `versions` (verified versions, any order) of
// the peering `key`, given `revoked_up_to`: the rules above, applied from
// the lowest version up. Versions of another key are left out
// (WRONG_AUTHORITY, in the reasons). Copies of one version number with the
// same terms count their signatures together. With different terms, the
// copies signed by both are judged first, then those signed by one side,
// which must narrow what is then in effect; of several copies that would
// take effect, the one that narrows every other does, and when none does,
// nothing does from that number on (DUPLICATE_OBJECT: the peering is
// suspended until a later version both sign). So neither the copies' order
// nor a party's conflicting copy can widen anything. NO_PEERING, with why each version does not take effect,
// when none does. A version signed by one side alone at the highest possible
// number ends the peering id for good: a new id is needed.
// `passed_over`, when given, receives why each other version does not take
// effect, also when one does.
Result<Peering> effective_peering(std::vector<Peering> versions, const PeeringKey& key, std::uint64_t revoked_up_to = 0,
                                  Status* passed_over = nullptr);

}  // namespace tearline::federation
