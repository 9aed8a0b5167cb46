// The identity objects of the trust model, as verified values, and the
// functions that sign and verify them. Each object travels as a
// tearline.v1.SignedObject: exact body bytes plus authority signatures over
// (domain tag || 0x00 || body). Byte layouts: docs/trust-model.md.
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
#include "tearline/v1/identity.pb.h"

namespace tearline::identity {

using Classification = tearline::v1::Classification;

constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kMaxIdLength = 64;  // node, agency, unit and role ids
// The role of a broker's credential: it signs acceptance receipts and is
// never a recipient of a section.
inline constexpr std::string_view kBrokerRole = "broker";

// Ids: 1..64 chars of [A-Za-z0-9_-] and '.', not starting with '.'.
bool is_valid_id(std::string_view id);

// "UNCLASSIFIED" ... "TOP_SECRET"; nullopt for unset or unknown names.
std::optional<Classification> classification_from_name(std::string_view name);
std::string_view classification_name(Classification c);

struct Authority {
  std::string agency;
  std::string country;
  crypto::VerifyKey verify_key;
  // A partner agency's, pinned by `tearline certs import` (trust_store.h):
  // its nodes are known but connect to their own agency's broker only.
  bool partner = false;
};

struct Credential {
  std::string node_id;
  std::string agency;
  std::string country;
  Classification clearance = tearline::v1::CLASSIFICATION_UNSET;
  std::vector<std::string> roles;
  crypto::VerifyKey signing_key;
  crypto::SealingPublicKey sealing_key;
  crypto::TransportPublicKey transport_key;
  std::uint64_t serial = 0;
  std::int64_t not_before = 0;  // unix seconds, inclusive
  std::int64_t not_after = 0;   // unix seconds, exclusive

  bool has_role(std::string_view role) const;
};

struct CharterMember {
  std::string node_id;
  std::string agency;
};

struct Charter {
  std::string unit_id;
  std::string host_agency;
  std::vector<CharterMember> members;
  std::uint64_t version = 0;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;

  // The host agency plus every member's agency, sorted, unique: the
  // agencies whose signatures make the charter valid.
  std::vector<std::string> required_signers() const;
  bool has_member(std::string_view node_id) const;
};

// Why a credential is revoked (docs/trust-model.md, "Revocation in time").
enum class RevocationReason {
  kLegacy,       // revoked_serials (no reason given): void from the beginning
  kRetired,      // withdrawn: its past signatures stand
  kCompromised,  // signatures from compromised_at on are void
};
std::string_view revocation_reason_name(RevocationReason r);  // "legacy", "retired", "compromised"

struct Revocation {
  RevocationReason reason = RevocationReason::kLegacy;
  std::int64_t compromised_at = 0;  // unix seconds, kCompromised only
};

struct RevocationList {
  std::string agency;
  std::uint64_t number = 0;
  std::int64_t issued_at = 0;
  std::map<std::uint64_t, Revocation> revoked;                          // serial -> why (legacy entries included)
  std::vector<std::pair<std::string, std::uint64_t>> revoked_charters;  // (unit, version)
  std::map<std::string, std::uint64_t>
      revoked_peerings;  // peering id -> its versions up to this one are void (federation/peering.h)
  std::array<std::uint8_t, 32> object_hash{};  // BLAKE2b-256 of the signed object's bytes (Directory::digest)

  bool revokes_serial(std::uint64_t serial) const;
  // nullptr when `serial` is not revoked.
  const Revocation* revocation_of(std::uint64_t serial) const;
  bool revokes_charter(std::string_view unit, std::uint64_t version) const;
};

// Looks up pinned authorities by agency id; nullptr when not pinned.
class AuthorityLookup {
 public:
  virtual ~AuthorityLookup() = default;
  virtual const Authority* authority(std::string_view agency) const = 0;
};

// ---- Signing (issuers) ----------------------------------------------------

// Serializes `body` canonically and signs it with the agency's authority key.
tearline::v1::SignedObject sign_credential(const tearline::v1::CredentialBody& body, const Authority& issuer,
                                           const crypto::SigningKey& key);
tearline::v1::SignedObject sign_revocation_list(const tearline::v1::RevocationListBody& body, const Authority& issuer,
                                                const crypto::SigningKey& key);
// A charter starts with no signature; each party adds its own with cosign_charter.
tearline::v1::SignedObject new_charter(const tearline::v1::CharterBody& body);
// Adds (or replaces) `signer`'s signature over the charter body.
void cosign_charter(tearline::v1::SignedObject* charter, const Authority& signer, const crypto::SigningKey& key);

// ---- Verification ---------------------------------------------------------
// Each returns the verified value or every reason it is rejected (see
// docs/trust-model.md for the codes). Validity windows are not judged here:
// they are questions about a time, answered by the Directory.

Result<Credential> verify_credential(ByteView signed_object, const AuthorityLookup& trust);
Result<Charter> verify_charter(ByteView signed_object, const AuthorityLookup& trust);
Result<RevocationList> verify_revocation_list(ByteView signed_object, const AuthorityLookup& trust);

// Parses a Credential from its (already verified) canonical body.
Result<Credential> credential_from_body(const tearline::v1::CredentialBody& body);

}  // namespace tearline::identity
