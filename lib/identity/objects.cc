#include "identity/objects.h"

#include <algorithm>
#include <set>

#include "base/canonical_proto.h"
#include "crypto/key_checks.h"
#include "crypto/signing.h"
#include "identity/countries.h"
#include "identity/signed_object.h"

namespace tearline::identity {
namespace v1 = tearline::v1;

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength || id.front() == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

std::optional<Classification> classification_from_name(std::string_view name) {
  if (name == "UNCLASSIFIED") return v1::UNCLASSIFIED;
  if (name == "RESTRICTED") return v1::RESTRICTED;
  if (name == "CONFIDENTIAL") return v1::CONFIDENTIAL;
  if (name == "SECRET") return v1::SECRET;
  if (name == "TOP_SECRET") return v1::TOP_SECRET;
  return std::nullopt;
}

std::string_view classification_name(Classification c) {
  switch (c) {
    case v1::UNCLASSIFIED: return "UNCLASSIFIED";
    case v1::RESTRICTED: return "RESTRICTED";
    case v1::CONFIDENTIAL: return "CONFIDENTIAL";
    case v1::SECRET: return "SECRET";
    case v1::TOP_SECRET: return "TOP_SECRET";
    default: return "UNSET";
  }
}

bool Credential::has_role(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::vector<std::string> Charter::required_signers() const {
  std::set<std::string> s{host_agency};
  for (const auto& m : members) s.insert(m.agency);
  return {s.begin(), s.end()};
}

bool Charter::has_member(std::string_view node_id) const {
  return std::any_of(members.begin(), members.end(), [&](const CharterMember& m) { return m.node_id == node_id; });
}

std::string_view revocation_reason_name(RevocationReason r) {
  switch (r) {
    case RevocationReason::kLegacy: return "legacy";
    case RevocationReason::kRetired: return "retired";
    case RevocationReason::kCompromised: return "compromised";
  }
  return "legacy";
}

bool RevocationList::revokes_serial(std::uint64_t serial) const { return revoked.count(serial) != 0; }

const Revocation* RevocationList::revocation_of(std::uint64_t serial) const {
  auto it = revoked.find(serial);
  return it == revoked.end() ? nullptr : &it->second;
}

bool RevocationList::revokes_charter(std::string_view unit, std::uint64_t version) const {
  return std::any_of(revoked_charters.begin(), revoked_charters.end(),
                     [&](const auto& rc) { return rc.first == unit && rc.second == version; });
}

// ---- signing ----------------------------------------------------------------

// Shared with the other signed objects (identity/signed_object.h).

void put_signature(v1::SignedObject* obj, const Authority& signer, const crypto::SigningKey& key,
                   std::string_view tag) {
  crypto::Signature sig = sign(key, tag, as_bytes(obj->body()));
  for (auto& existing : *obj->mutable_signatures()) {
    if (existing.agency() == signer.agency) {
      existing.set_signature(sig.data(), sig.size());
      return;
    }
  }
  auto* s = obj->add_signatures();
  s->set_agency(signer.agency);
  s->set_signature(sig.data(), sig.size());
}

v1::SignedObject signed_body(const google::protobuf::Message& body) {
  v1::SignedObject obj;
  Bytes b = serialize_canonical(body);
  obj.set_body(b.data(), b.size());
  return obj;
}

v1::SignedObject sign_credential(const v1::CredentialBody& body, const Authority& issuer,
                                 const crypto::SigningKey& key) {
  v1::SignedObject obj = signed_body(body);
  put_signature(&obj, issuer, key, crypto::tags::kCredential);
  return obj;
}

v1::SignedObject sign_revocation_list(const v1::RevocationListBody& body, const Authority& issuer,
                                      const crypto::SigningKey& key) {
  v1::SignedObject obj = signed_body(body);
  put_signature(&obj, issuer, key, crypto::tags::kRevocationList);
  return obj;
}

v1::SignedObject new_charter(const v1::CharterBody& body) { return signed_body(body); }

void cosign_charter(v1::SignedObject* charter, const Authority& signer, const crypto::SigningKey& key) {
  put_signature(charter, signer, key, crypto::tags::kCharter);
}

// ---- verification -----------------------------------------------------------

// Parses the envelope and its canonical body.
Status open_envelope(ByteView bytes, std::string_view what, v1::SignedObject* obj, google::protobuf::Message* body) {
  Status s = parse_strict(bytes, obj, what);
  if (!s) return s;
  if (obj->signatures().empty()) return Status::fail(Code::BAD_SIGNATURE, std::string(what) + " carries no signature");
  return parse_canonical(as_bytes(obj->body()), body, std::string(what) + " body");
}

// Checks one signature made by `signer`, a pinned authority.
Status check_signature(const v1::SignedObject& obj, const v1::Signature& sig, const AuthorityLookup& trust,
                       std::string_view tag, std::string_view what) {
  const Authority* a = trust.authority(sig.agency());
  if (a == nullptr) {
    return Status::fail(Code::UNKNOWN_AUTHORITY,
                        std::string(what) + " is signed by '" + sig.agency() + "', which is not a pinned authority");
  }
  if (!crypto::verify(a->verify_key, tag, as_bytes(obj.body()), as_bytes(sig.signature()))) {
    return Status::fail(Code::BAD_SIGNATURE, std::string(what) + ": signature of " + sig.agency() + " does not verify");
  }
  return Status::ok();
}

Status check_window(std::int64_t not_before, std::int64_t not_after, std::string_view what) {
  if (not_after <= not_before) {
    return Status::fail(Code::INVALID_FIELD, std::string(what) + ": not_after must be later than not_before");
  }
  return Status::ok();
}

// Opens an object that one agency signs alone (a credential, a revocation
// list): the envelope and its canonical body, exactly one signature
// (BAD_SIGNATURE "<what> must carry exactly one signature, by <signer>"
// otherwise), valid under `tag` from a pinned authority. Whether that
// authority is the right one for the body is the caller's check, on
// obj->signatures(0).agency().
Status open_single_signed(ByteView bytes, std::string_view what, std::string_view signer, std::string_view tag,
                          const AuthorityLookup& trust, v1::SignedObject* obj, google::protobuf::Message* body) {
  Status s = open_envelope(bytes, what, obj, body);
  if (!s) return s;
  if (obj->signatures_size() != 1) {
    return Status::fail(Code::BAD_SIGNATURE,
                        std::string(what) + " must carry exactly one signature, by " + std::string(signer));
  }
  return check_signature(*obj, obj->signatures(0), trust, tag, what);
}

Status check_version(std::uint32_t v, std::string_view what) {
  if (v != kFormatVersion) {
    return Status::fail(Code::INVALID_FIELD,
                        std::string(what) + ": format_version " + std::to_string(v) + " is not supported (expected 1)");
  }
  return Status::ok();
}

Result<Credential> credential_from_body(const v1::CredentialBody& body) {
  Status s;
  s.merge(check_version(body.format_version(), "credential"));
  if (!is_valid_id(body.node_id())) s.add(Code::INVALID_FIELD, "credential: node_id is not a valid id");
  if (!is_valid_id(body.agency())) s.add(Code::INVALID_FIELD, "credential: agency is not a valid id");
  if (!is_known_country(body.country())) {
    s.add(Code::INVALID_FIELD, "credential: country '" + body.country() + "' is not an ISO 3166-1 alpha-3 code");
  }
  if (body.clearance() < v1::UNCLASSIFIED || body.clearance() > v1::TOP_SECRET) {
    s.add(Code::INVALID_FIELD, "credential: clearance is unset or unknown");
  }
  for (const auto& r : body.roles()) {
    if (!is_valid_id(r)) s.add(Code::INVALID_FIELD, "credential: role '" + r + "' is not a valid id");
  }
  if (body.serial() == 0) s.add(Code::INVALID_FIELD, "credential: serial must be > 0");
  s.merge(check_window(body.not_before(), body.not_after(), "credential"));
  auto sk = crypto::VerifyKey::from(as_bytes(body.signing_key()), "credential signing_key");
  auto ek = crypto::SealingPublicKey::from(as_bytes(body.sealing_key()), "credential sealing_key");
  auto tk = crypto::TransportPublicKey::from(as_bytes(body.transport_key()), "credential transport_key");
  if (!sk) s.merge(sk.status());
  if (!ek) s.merge(ek.status());
  if (!tk) s.merge(tk.status());
  if (!s) return s;
  // Keys that cannot be right (crypto/key_checks.h): WEAK_KEY, every one named.
  const std::string whose = "credential of " + body.node_id();
  s.merge(crypto::check_verify_key(*sk, whose + ": signing_key"));
  s.merge(crypto::check_sealing_key(*ek, whose + ": sealing_key"));
  s.merge(crypto::check_transport_key(*tk, whose + ": transport_key"));
  if (!s) return s;
  Credential c;
  c.node_id = body.node_id();
  c.agency = body.agency();
  c.country = body.country();
  c.clearance = body.clearance();
  c.roles.assign(body.roles().begin(), body.roles().end());
  c.signing_key = *sk;
  c.sealing_key = *ek;
  c.transport_key = *tk;
  c.serial = body.serial();
  c.not_before = body.not_before();
  c.not_after = body.not_after();
  return c;
}

Result<Credential> verify_credential(ByteView bytes, const AuthorityLookup& trust) {
  v1::SignedObject obj;
  v1::CredentialBody body;
  Status s = open_single_signed(bytes, "credential", "its home agency", crypto::tags::kCredential, trust, &obj, &body);
  if (!s) return s;
  const auto& sig = obj.signatures(0);
  if (sig.agency() != body.agency()) {
    return Status::fail(Code::WRONG_AUTHORITY, "credential of " + body.node_id() + " (agency " + body.agency() +
                                                   ") is signed by " + sig.agency() + ", not its home agency");
  }
  auto cred = credential_from_body(body);
  if (!cred) return cred.status();
  const Authority* home = trust.authority(body.agency());
  if (home->country != cred->country) {
    return Status::fail(Code::INVALID_FIELD, "credential of " + body.node_id() + " names country " + cred->country +
                                                 " but agency " + body.agency() + " is " + home->country);
  }
  return cred;
}

Result<Charter> verify_charter(ByteView bytes, const AuthorityLookup& trust) {
  v1::SignedObject obj;
  v1::CharterBody body;
  Status s = open_envelope(bytes, "charter", &obj, &body);
  if (!s) return s;
  Charter c;
  c.unit_id = body.unit_id();
  c.host_agency = body.host_agency();
  c.version = body.version();
  c.not_before = body.not_before();
  c.not_after = body.not_after();
  s.merge(check_version(body.format_version(), "charter"));
  if (!is_valid_id(c.unit_id)) s.add(Code::INVALID_FIELD, "charter: unit_id is not a valid id");
  if (!is_valid_id(c.host_agency)) s.add(Code::INVALID_FIELD, "charter: host_agency is not a valid id");
  if (c.version == 0) s.add(Code::INVALID_FIELD, "charter: version must be > 0");
  s.merge(check_window(c.not_before, c.not_after, "charter"));
  std::set<std::string> seen;
  for (const auto& m : body.members()) {
    if (!is_valid_id(m.node_id()) || !is_valid_id(m.agency())) {
      s.add(Code::INVALID_FIELD, "charter: member ids must be valid ids");
    } else if (!seen.insert(m.node_id()).second) {
      s.add(Code::INVALID_FIELD, "charter: member " + m.node_id() + " listed twice");
    }
    c.members.push_back(CharterMember{m.node_id(), m.agency()});
  }
  if (c.members.empty()) s.add(Code::INVALID_FIELD, "charter: a unit needs at least one member");
  if (!s) return s;

  const std::string what = "charter " + c.unit_id + " v" + std::to_string(c.version);
  const std::vector<std::string> required = c.required_signers();
  std::set<std::string> signed_by;
  for (const auto& sig : obj.signatures()) {
    s.merge(check_signature(obj, sig, trust, crypto::tags::kCharter, what));
    if (std::find(required.begin(), required.end(), sig.agency()) == required.end() &&
        trust.authority(sig.agency()) != nullptr) {
      s.add(Code::WRONG_AUTHORITY, what + ": " + sig.agency() + " is neither the host nor a member agency");
    }
    if (!signed_by.insert(sig.agency()).second) s.add(Code::BAD_ENCODING, what + ": " + sig.agency() + " signed twice");
  }
  for (const auto& agency : required) {
    if (signed_by.count(agency) == 0) {
      s.add(Code::MISSING_CONSENT, what + " lacks the signature of " + agency +
                                       (agency == c.host_agency ? " (the host agency)" : " (a member's home agency)"));
    }
  }
  if (!s) return s;
  return c;
}

Result<RevocationList> verify_revocation_list(ByteView bytes, const AuthorityLookup& trust) {
  v1::SignedObject obj;
  v1::RevocationListBody body;
  Status s =
      open_single_signed(bytes, "revocation list", "its agency", crypto::tags::kRevocationList, trust, &obj, &body);
  if (!s) return s;
  if (obj.signatures(0).agency() != body.agency()) {
    return Status::fail(Code::WRONG_AUTHORITY,
                        "revocation list of " + body.agency() + " is signed by " + obj.signatures(0).agency());
  }
  s.merge(check_version(body.format_version(), "revocation list"));
  if (body.number() == 0) s.add(Code::INVALID_FIELD, "revocation list: number must be > 0");
  if (!s) return s;
  RevocationList rl;
  rl.agency = body.agency();
  rl.number = body.number();
  rl.issued_at = body.issued_at();
  for (std::uint64_t serial : body.revoked_serials()) {
    if (!rl.revoked.emplace(serial, Revocation{}).second) {
      s.add(Code::INVALID_FIELD, "revocation list: serial " + std::to_string(serial) + " is listed twice");
    }
  }
  for (const auto& rc : body.revoked_credentials()) {
    const std::string what = "revocation list: serial " + std::to_string(rc.serial());
    Revocation why;
    if (rc.serial() == 0) s.add(Code::INVALID_FIELD, what + ": serial must be > 0");
    if (rc.reason() == v1::RETIRED) {
      why.reason = RevocationReason::kRetired;
      if (rc.compromised_at() != 0) s.add(Code::INVALID_FIELD, what + ": a retired entry has no compromised_at");
    } else if (rc.reason() == v1::COMPROMISED) {
      why.reason = RevocationReason::kCompromised;
      why.compromised_at = rc.compromised_at();
      if (rc.compromised_at() <= 0) s.add(Code::INVALID_FIELD, what + ": compromised_at must be > 0");
    } else {
      s.add(Code::INVALID_FIELD, what + ": reason must be RETIRED or COMPROMISED");
    }
    if (!rl.revoked.emplace(rc.serial(), why).second) s.add(Code::INVALID_FIELD, what + " is listed twice");
  }
  for (const auto& rp : body.revoked_peerings()) {
    const std::string what = "revocation list: peering '" + rp.peering_id() + "'";
    if (!is_valid_id(rp.peering_id())) s.add(Code::INVALID_FIELD, what + " is not a valid id");
    if (rp.version() == 0) s.add(Code::INVALID_FIELD, what + ": version must be > 0");
    if (!rl.revoked_peerings.emplace(rp.peering_id(), rp.version()).second) {
      s.add(Code::INVALID_FIELD, what + " is listed twice");
    }
  }
  if (!s) return s;
  for (const auto& rc : body.revoked_charters()) rl.revoked_charters.emplace_back(rc.unit_id(), rc.version());
  return rl;
}

}  // namespace tearline::identity
