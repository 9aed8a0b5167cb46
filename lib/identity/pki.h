// Issuing the objects of the trust model into a PKI folder. Used by
// `tearline certs ...` and by tests. Layout (docs/trust-model.md, "Files"):
//
//   ROOT/directory/              public: what brokers and nodes load
//     trust.toml                 pinned authorities
//     credentials/<node>.cred
//     charters/<unit>.v<N>.charter
//     revocations/<AGENCY>.crl
//     peerings/<id>.v<N>.peering  (federation/peering_files.h)
//     broker.pub                 the broker's CURVE public key (Z85 text)
//     broker-audit.pub           the broker's audit checkpoint key (hex Ed25519)
//   ROOT/keys/                   secret, mode 0700, never committed
//     authorities/<AGENCY>.key   nodes/<node>.key   broker.key
//     brokers/<id>.key           further brokers (several on one store):
//                                their CURVE keys are in their credentials
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "crypto/key_file.h"
#include "identity/directory.h"
#include "identity/objects.h"
#include "identity/roster.h"

namespace tearline::identity {

class PkiPaths {
 public:
  explicit PkiPaths(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path directory() const { return root_ / "directory"; }
  std::filesystem::path keys() const { return root_ / "keys"; }
  std::filesystem::path trust_store() const { return directory() / "trust.toml"; }
  std::filesystem::path credential(std::string_view node) const;
  std::filesystem::path charter(std::string_view unit, std::uint64_t version) const;
  std::filesystem::path revocation_list(std::string_view agency) const;
  std::filesystem::path broker_public() const { return directory() / "broker.pub"; }
  // The broker's Ed25519 audit verify key (hex), for `tearline audit verify`.
  std::filesystem::path broker_audit_public() const { return directory() / "broker-audit.pub"; }
  std::filesystem::path authority_key(std::string_view agency) const;
  std::filesystem::path node_key(std::string_view node) const;
  std::filesystem::path broker_key() const { return keys() / "broker.key"; }
  // The key file of a further broker of the PKI (init_broker, not the first).
  std::filesystem::path other_broker_key(std::string_view id) const;

 private:
  std::filesystem::path root_;
};

// What a tool speaking as one node loads from a PKI folder before it
// connects: the directory (loaded as of now_seconds, no load report) and the
// node's secret keys (keys/nodes/<node>.key). The broker's public key is read
// by the connection layer (client::read_broker_key(pki.broker_public())).
struct NodeMaterial {
  std::string node_id;
  DirectoryPtr directory;
  // On the heap: the keys keep one address however the material moves.
  std::unique_ptr<crypto::NodeSecrets> keys;
};
// The directory's failure, or the key file's (KEY_FILE, IO_ERROR, ...).
// Does not check that the node is in the directory or that the keys are its.
Result<NodeMaterial> load_node_material(const PkiPaths& pki, const std::string& node_id, std::int64_t now_seconds);

// An agency's authority and its secret key (keys/authorities/<AGENCY>.key),
// for signing.
struct AuthoritySigner {
  Authority authority;
  crypto::SigningKey key;
};
// UNKNOWN_AUTHORITY when `trust` does not pin the agency; the key file's
// failure (KEY_FILE, IO_ERROR); KEY_FILE when the key is not the pinned one.
Result<AuthoritySigner> load_signer(const PkiPaths& pki, const TrustStore& trust, const std::string& agency);

// Creates an agency authority: a new key pair, its secret in keys/, its public
// key pinned in trust.toml. DUPLICATE_OBJECT if the agency exists.
Status init_authority(const PkiPaths& pki, const std::string& agency, const std::string& country);

struct IssueRequest {
  std::string node_id;
  std::string agency;
  Classification clearance = tearline::v1::CLASSIFICATION_UNSET;
  std::vector<std::string> roles;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  std::uint64_t serial = 0;  // 0: one more than the agency's highest serial
};
// The public keys a credential names.
struct CredentialKeys {
  crypto::VerifyKey signing;
  crypto::SealingPublicKey sealing;
  crypto::TransportPublicKey transport;
};
// Checks and signs the credential of `request` naming `keys` with the agency's
// authority (serial 0: the next one); writes nothing. Every issuance goes
// through here. Refused with every reason, among them WEAK_KEY naming each
// key that cannot be right (crypto/key_checks.h): nothing is signed then.
Result<std::pair<Credential, tearline::v1::SignedObject>> make_credential(const PkiPaths& pki,
                                                                          const IssueRequest& request,
                                                                          const CredentialKeys& keys);

// Generates the node's keys (keys/nodes/<node>.key, 0600) and a credential
// signed by its agency's authority. Overwrites an existing credential of the
// node with a new serial and does not revoke the old one: callers that
// re-issue use reissue_node (`tearline certs issue` refuses an existing node
// without --replace).
Result<Credential> issue_node(const PkiPaths& pki, const IssueRequest& request);

// The credential file of `node_id` verified against the PKI's trust store
// (its window is not judged). IO_ERROR when the node has no credential file;
// the verification's reasons when it does not verify.
Result<Credential> read_credential(const PkiPaths& pki, const std::string& node_id);

struct Reissued {
  Credential credential;              // the new one
  std::uint64_t retired_serial = 0;   // the old credential's serial, now revoked (retired)
  std::string retired_agency;         // the old credential's issuer, who revoked it
  std::uint64_t revocation_list = 0;  // the number of that agency's new list
};
// Replaces the existing credential of request.node_id: new keys and a new
// serial, and in the same step the old serial is revoked, reason retired
// (its past signatures stand), in a new revocation list of the old
// credential's agency issued at now_seconds. Nothing is written when any
// check fails (the old credential must verify; both agencies' keys must
// load). The revocation is written before the new credential: a failure in
// between leaves the old key revoked, never a second valid key.
Result<Reissued> reissue_node(const PkiPaths& pki, const IssueRequest& request, std::int64_t now_seconds);

// serial -> node id of every credential file of the folder issued by
// `agency` (parsed, not verified; unreadable files are skipped).
std::map<std::uint64_t, std::string> credential_serials(const PkiPaths& pki, const std::string& agency);

// The highest version N of a DIRECTORY/charters/<unit>.vN.charter file
// (`directory`: a PKI's directory() or a bare directory folder); 0 when none.
std::uint64_t latest_charter_version(const std::filesystem::path& directory, const std::string& unit);

// Writes charter <unit>.v<version> with no signature yet (version 0: one more
// than the highest present). Member agencies come from their credentials.
Result<std::uint64_t> create_charter(const PkiPaths& pki, const std::string& unit, const std::string& host,
                                     const std::vector<std::string>& members, std::int64_t not_before,
                                     std::int64_t not_after, std::uint64_t version = 0);
// Adds `agency`'s signature to the charter file, with its authority key.
Status cosign_charter_file(const PkiPaths& pki, const std::string& unit, std::uint64_t version,
                           const std::string& agency);

// One credential to revoke. `{serial}` alone: COMPROMISED from the list's
// issue time (the safe reading of an unexplained revocation).
struct CredentialRevocation {
  std::uint64_t serial = 0;
  RevocationReason reason = RevocationReason::kCompromised;
  std::int64_t compromised_at = 0;  // unix seconds; 0 with kCompromised: now_seconds
};

// Issues the agency's next revocation list: everything the current list
// revokes plus `credentials` and `charters`. A serial already listed takes
// the new reason and time (an agency may learn that a retired key was in
// fact compromised). INVALID_FIELD for kLegacy or a compromised_at < 0.
// Returns the new list number.
// `peerings` (id, version): every version of the peering up to that one is
// void (docs/federation.md); a peering already listed keeps the higher.
Result<std::uint64_t> revoke(const PkiPaths& pki, const std::string& agency,
                             const std::vector<CredentialRevocation>& credentials,
                             const std::vector<std::pair<std::string, std::uint64_t>>& charters,
                             std::int64_t now_seconds,
                             const std::vector<std::pair<std::string, std::uint64_t>>& peerings = {});

// Who the broker is in the directory: its credential, issued by `agency`
// with role "broker", names its audit key as signing key (it signs
// acceptance receipts and audit checkpoints) and its CURVE key as transport
// key. The broker finds its own credential by that transport key.
struct BrokerIdentity {
  std::string node_id = "tearline-broker";
  std::string agency;  // must have an authority in the PKI
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
};

// Generates the broker's transport and audit keys, writes broker.pub and
// broker-audit.pub, and issues its credential (credentials/<node_id>.cred).
// With `first` false, a further broker of the PKI (brokers that share one
// store, docs/scale-out.md): its keys go to keys/brokers/<id>.key and only
// its credential is published (clients find its CURVE key there); the
// first broker's files are left as they are.
Status init_broker(const PkiPaths& pki, const BrokerIdentity& who, bool first = true);

// Generates the whole PKI of a roster into an empty ROOT: authorities, node
// credentials, charters co-signed by every party, an empty revocation list
// (number 1) per agency, and the broker's keys.
Status generate_from_roster(const Roster& roster, const PkiPaths& pki, std::int64_t now_seconds);

}  // namespace tearline::identity
