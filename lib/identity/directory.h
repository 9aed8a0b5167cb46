// The Directory: everything a broker or a node knows about who is who, built
// from a directory on disk:
//
//   DIR/trust.toml            pinned authorities (TrustStore)
//   DIR/credentials/*.cred    SignedObject(CredentialBody)
//   DIR/charters/*.charter    SignedObject(CharterBody)
//   DIR/revocations/*.crl     SignedObject(RevocationListBody)
//
// Every signature is verified at load; an object that fails is left out and
// listed in LoadReport::rejected with its reason. Validity in time is a
// question asked with a time (check_node, units_of), because a broker keeps a
// Directory for hours. Immutable after load, so it is shared across threads
// by shared_ptr<const Directory>; a reload builds a new one.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "identity/objects.h"
#include "identity/trust_store.h"

namespace tearline::identity {

struct LoadIssue {
  std::string object;  // file name, or "unit X member Y"
  Reason reason;
};

struct LoadReport {
  std::vector<LoadIssue> rejected;  // left out
  std::vector<LoadIssue> warnings;  // loaded, but e.g. expired at load time
};

class Directory {
 public:
  // Loads DIR. Fails (no Directory at all) when the trust store is missing,
  // unreadable or empty. `previous`, when given, is the Directory this one
  // replaces: its revocation lists are carried over and a list with a lower
  // number than the one it holds is rejected (REVOCATION_ROLLBACK).
  static Result<std::shared_ptr<const Directory>> load(const std::filesystem::path& dir, std::int64_t now_seconds,
                                                       LoadReport* report, const Directory* previous = nullptr);

  // Builds from objects in memory (the same checks as load).
  struct Sources {
    std::vector<std::pair<std::string, Bytes>> credentials, charters, revocation_lists;  // (name, bytes)
  };
  static std::shared_ptr<const Directory> build(TrustStore trust, const Sources& sources, std::int64_t now_seconds,
                                                LoadReport* report, const Directory* previous = nullptr);

  const TrustStore& trust() const { return trust_; }

  // The credential of `node_id`, whatever its validity; nullptr if unknown.
  const Credential* node(std::string_view node_id) const;
  // The credential whose CURVE transport key is `key`; nullptr if none.
  const Credential* node_by_transport_key(const crypto::TransportPublicKey& key) const;
  // Every node, sorted by id.
  std::vector<const Credential*> nodes() const;

  // OK when the node's credential is valid at `t` (unix seconds); otherwise
  // every reason: UNKNOWN_NODE, NOT_YET_VALID, EXPIRED, REVOKED.
  Status check_node(std::string_view node_id, std::int64_t t) const;

  // The revocation rule (docs/trust-model.md, "Revocation in time"), one for
  // the broker, the clients and `audit verify`: whether a signature of
  // `node_id` stands, made at `signed_at` (unix seconds: the credential's
  // window is judged there) and witnessed at `witnessed_ms` (unix ms: the
  // acceptance time of a broker receipt that verified, or the broker's own
  // record of it; nullopt when no such witness exists). OK when the
  // credential is not revoked, or revoked RETIRED, or revoked COMPROMISED at
  // T with witnessed_ms < T * 1000. Otherwise every reason: UNKNOWN_NODE,
  // NOT_YET_VALID, EXPIRED, ORIGINATOR_COMPROMISED (compromised at or before
  // the witness, or no witness), REVOKED (a legacy entry: no reason given).
  Status check_signer(std::string_view node_id, std::int64_t signed_at, std::optional<std::int64_t> witnessed_ms) const;

  // The charter in force for `unit_id` at `t`: the highest version whose
  // window contains t, that is not revoked and that carries every consent.
  // Fails with the reasons the most recent candidate is not in force.
  Result<const Charter*> charter_in_force(std::string_view unit_id, std::int64_t t) const;
  // Units `node_id` belongs to at `t` through a charter in force (the node's
  // own credential validity is not judged here). Sorted.
  std::vector<std::string> units_of(std::string_view node_id, std::int64_t t) const;
  bool is_member(std::string_view node_id, std::string_view unit_id, std::int64_t t) const;
  // Every unit id named by a loaded charter, sorted.
  std::vector<std::string> unit_ids() const;

  // The revocation list held for `agency`; nullptr if none.
  const RevocationList* revocation_list(std::string_view agency) const;

  // The directory's version, as the broker announces it (WELCOME and
  // DIRECTORY_CHANGED, docs/protocol.md): BLAKE2b-256 of the tag
  // "tearline/v1/directory-digest", the trust store's TOML rendering, and the
  // sorted BLAKE2b-256 hashes of the bytes of every object loaded
  // (credentials, charters, revocation lists held). Equal for two loads of
  // the same files; any object added, replaced or removed changes it.
  const std::array<std::uint8_t, 32>& digest() const { return digest_; }

 private:
  Status charter_status(const Charter& charter, std::int64_t t) const;

  TrustStore trust_;
  std::map<std::string, Credential, std::less<>> nodes_;
  std::map<std::string, std::vector<Charter>, std::less<>> charters_;  // by unit, version ascending
  std::map<std::string, RevocationList, std::less<>> revocations_;
  std::array<std::uint8_t, 32> digest_{};
};

using DirectoryPtr = std::shared_ptr<const Directory>;

}  // namespace tearline::identity
