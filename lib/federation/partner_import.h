// Directories across agencies (docs/federation.md): `tearline certs import`
// brings a partner agency's published directory into this PKI's directory,
// so that its nodes seal sections end to end to the partner's eligible
// nodes and verify their signatures, and both sides' copies of a peering
// meet.
//
// What is taken from the partner's folder, and only this:
//   - its authority, pinned with `partner = true` (trust_store.h): the first
//     time only with the key and country the operator obtained out of band;
//     a key or country that differs from the pinned one is refused unless
//     given again (a rotated key: then what was signed under the old one,
//     its revocation list included, is replaced). A folder that itself pins
//     the agency as a partner is a third party's copy and is refused;
//   - its credentials: each must verify under that authority and be issued
//     by it. A credential never takes the node id or transport key of
//     another agency's node (FOREIGN_NODE). The partner's set is mirrored:
//     its credentials no longer published are removed;
//   - its revocation list, unless ours is newer (REVOCATION_ROLLBACK);
//   - the charters it hosts (a unit id of another host is refused), also
//     one that waits only for consents, ours among them (we sign it here
//     with `certs charter cosign`; signatures merge as for peerings);
//   - the peering versions between it and one of this PKI's own agencies:
//     a copy with the same body as ours adds its signatures to ours, one
//     with other terms is kept beside ours (<id>.v<N>+<AGENCY>.peering).
// A copy with the same body as ours adds the signatures ours lacks; one of
// ours that no longer verifies (its key rotated) gives way to theirs.
// Nothing of another agency is ever taken from the partner (a partner
// cannot vouch for a third agency): its folder holds the directories it
// imported itself, which are skipped. Every object refused is listed; the
// import as a whole fails only when the authority cannot be pinned or a
// file cannot be written (then the trust store is left as it was).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "crypto/keys.h"
#include "identity/directory.h"
#include "identity/pki.h"

namespace tearline::federation {

struct ImportRequest {
  std::filesystem::path from;  // the partner's published directory (its PKI's directory/)
  std::string agency;          // the partner agency
  // Its authority's key and country as obtained out of band: both required
  // to pin it the first time, each to accept a change; when given each must
  // match the folder's.
  std::optional<crypto::VerifyKey> verify_key;
  std::optional<std::string> country;
};

struct ImportSummary {
  bool pinned = false;  // the authority was pinned (first import or new key)
  std::string country;  // the partner's country
  crypto::VerifyKey verify_key;
  std::vector<std::string> credentials_added, credentials_updated, credentials_removed;  // node ids
  std::vector<std::string> charters;                                                     // files written
  std::uint64_t revocation_list = 0;  // the number held now (0: none)
  bool revocation_list_updated = false;
  std::vector<std::string> peerings;         // files written or signatures merged
  std::vector<identity::LoadIssue> refused;  // the partner's objects not imported, each with its reason
  std::vector<std::string> skipped;          // other agencies' objects in the folder, left out
};

// The header's rules. Fails (nothing written) with INVALID_FIELD when the
// folder does not pin `agency` or `agency` is one of this PKI's own agencies
// (its authority key is here) or the folder pins it as a partner, with
// WRONG_AUTHORITY when the key or country given or pinned does not match the
// folder's, with UNKNOWN_AUTHORITY when a first import comes without
// verify_key and country (the message names the folder's so the operator
// can compare them out of band); IO_ERROR when the folder has no
// credentials/ or a folder cannot be listed or a file written.
Result<ImportSummary> import_partner(const identity::PkiPaths& pki, const ImportRequest& request,
                                     std::int64_t now_seconds);

}  // namespace tearline::federation
