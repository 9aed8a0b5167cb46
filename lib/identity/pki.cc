#include "identity/pki.h"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "base/canonical_proto.h"
#include "base/files.h"
#include "crypto/key_file.h"
#include "identity/countries.h"

namespace tearline::identity {
namespace fs = std::filesystem;
namespace v1 = tearline::v1;

fs::path PkiPaths::credential(std::string_view node) const {
  return directory() / "credentials" / (std::string(node) + ".cred");
}
fs::path PkiPaths::charter(std::string_view unit, std::uint64_t version) const {
  return directory() / "charters" / (std::string(unit) + ".v" + std::to_string(version) + ".charter");
}
fs::path PkiPaths::revocation_list(std::string_view agency) const {
  return directory() / "revocations" / (std::string(agency) + ".crl");
}
fs::path PkiPaths::authority_key(std::string_view agency) const {
  return keys() / "authorities" / (std::string(agency) + ".key");
}
fs::path PkiPaths::node_key(std::string_view node) const { return keys() / "nodes" / (std::string(node) + ".key"); }
fs::path PkiPaths::other_broker_key(std::string_view id) const {
  return keys() / "brokers" / (std::string(id) + ".key");
}

Result<NodeMaterial> load_node_material(const PkiPaths& pki, const std::string& node_id, std::int64_t now_seconds) {
  NodeMaterial material;
  material.node_id = node_id;
  auto directory = Directory::load(pki.directory(), now_seconds, nullptr);
  if (!directory) return directory.status();
  material.directory = std::move(directory).value();
  auto keys = crypto::read_node_keys(pki.node_key(node_id));
  if (!keys) return keys.status();
  material.keys = std::make_unique<crypto::NodeSecrets>(std::move(keys).value());
  return material;
}

namespace {

Status make_dirs(const PkiPaths& pki) {
  std::error_code ec;
  for (const auto& d : {pki.directory() / "credentials", pki.directory() / "charters", pki.directory() / "revocations",
                        pki.keys() / "authorities", pki.keys() / "nodes"}) {
    fs::create_directories(d, ec);
    if (ec) return Status::fail(Code::IO_ERROR, "cannot create " + d.string() + ": " + ec.message());
  }
  ::chmod(pki.keys().c_str(), 0700);
  ::chmod((pki.keys() / "authorities").c_str(), 0700);
  ::chmod((pki.keys() / "nodes").c_str(), 0700);
  return Status::ok();
}

Result<TrustStore> load_trust_or_empty(const PkiPaths& pki) {
  std::error_code ec;
  if (!fs::exists(pki.trust_store(), ec)) return TrustStore();
  return TrustStore::load(pki.trust_store());
}

Status write_message(const fs::path& path, const google::protobuf::Message& m) {
  Bytes b = serialize_canonical(m);
  return write_file_atomic(path, b, 0644);
}

Result<v1::SignedObject> read_signed(const fs::path& path) {
  auto bytes = read_file(path, 1u << 20);
  if (!bytes) return bytes.status();
  v1::SignedObject obj;
  Status s = parse_strict(*bytes, &obj, path.filename().string());
  if (!s) return s;
  return obj;
}

}  // namespace

Result<AuthoritySigner> load_signer(const PkiPaths& pki, const TrustStore& trust, const std::string& agency) {
  const Authority* a = trust.authority(agency);
  if (a == nullptr)
    return Status::fail(Code::UNKNOWN_AUTHORITY,
                        "agency " + agency + " has no authority in " + pki.trust_store().string());
  auto key = crypto::read_authority_key(pki.authority_key(agency));
  if (!key) return key.status();
  if (!(key->public_key() == a->verify_key)) {
    return Status::fail(Code::KEY_FILE, "authority key of " + agency + " does not match the pinned key");
  }
  return AuthoritySigner{*a, std::move(key).value()};
}

namespace {

// Highest serial among the agency's credentials in the folder.
std::uint64_t highest_serial(const PkiPaths& pki, const std::string& agency) {
  std::uint64_t highest = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(pki.directory() / "credentials", ec)) {
    auto obj = read_signed(e.path());
    if (!obj) continue;
    v1::CredentialBody body;
    if (!body.ParseFromString(obj->body())) continue;
    if (body.agency() == agency) highest = std::max(highest, body.serial());
  }
  return highest;
}

}  // namespace

Status init_authority(const PkiPaths& pki, const std::string& agency, const std::string& country) {
  Status s = make_dirs(pki);
  if (!s) return s;
  auto trust = load_trust_or_empty(pki);
  if (!trust) return trust.status();
  crypto::SigningKey key = crypto::SigningKey::generate();
  s = trust->add(Authority{agency, country, key.public_key()});
  if (!s) return s;
  if (!is_valid_id(agency)) return Status::fail(Code::INVALID_FIELD, "agency '" + agency + "' is not a valid id");
  if (!is_known_country(country)) {
    return Status::fail(Code::INVALID_FIELD, "country '" + country + "' is not an ISO 3166-1 alpha-3 code");
  }
  s = crypto::write_authority_key(pki.authority_key(agency), key);
  if (!s) return s;
  std::string text = trust->to_toml();
  s = write_file_atomic(pki.trust_store(), as_bytes(text), 0644);
  if (!s) return s;
  // An empty revocation list, number 1, so that rollback has a floor.
  v1::RevocationListBody body;
  body.set_format_version(kFormatVersion);
  body.set_agency(agency);
  body.set_number(1);
  return write_message(pki.revocation_list(agency), sign_revocation_list(body, *trust->authority(agency), key));
}

Result<std::pair<Credential, v1::SignedObject>> make_credential(const PkiPaths& pki, const IssueRequest& req,
                                                                const CredentialKeys& keys) {
  auto trust = TrustStore::load(pki.trust_store());
  if (!trust) return trust.status();
  auto signer = load_signer(pki, *trust, req.agency);
  if (!signer) return signer.status();
  v1::CredentialBody body;
  body.set_format_version(kFormatVersion);
  body.set_node_id(req.node_id);
  body.set_agency(req.agency);
  body.set_country(signer->authority.country);
  body.set_clearance(req.clearance);
  for (const auto& r : req.roles) body.add_roles(r);
  body.set_signing_key(keys.signing.bytes.data(), keys.signing.bytes.size());
  body.set_sealing_key(keys.sealing.bytes.data(), keys.sealing.bytes.size());
  body.set_transport_key(keys.transport.bytes.data(), keys.transport.bytes.size());
  body.set_serial(req.serial != 0 ? req.serial : highest_serial(pki, req.agency) + 1);
  body.set_not_before(req.not_before);
  body.set_not_after(req.not_after);
  auto checked = credential_from_body(body);
  if (!checked) return checked.status();
  return std::make_pair(std::move(checked).value(), sign_credential(body, signer->authority, signer->key));
}

namespace {

crypto::NodeSecrets new_node_secrets() {
  return {crypto::SigningKey::generate(), crypto::SealingKey::generate(), crypto::TransportKey::generate()};
}
CredentialKeys public_keys_of(const crypto::NodeSecrets& secrets) {
  return {secrets.signing.public_key(), secrets.sealing.public_key(), secrets.transport.public_key()};
}
Status write_node(const PkiPaths& pki, const std::string& node_id, const crypto::NodeSecrets& secrets,
                  const v1::SignedObject& credential) {
  Status s = crypto::write_node_keys(pki.node_key(node_id), secrets);
  if (!s) return s;
  return write_message(pki.credential(node_id), credential);
}

}  // namespace

Result<Credential> issue_node(const PkiPaths& pki, const IssueRequest& req) {
  Status s = make_dirs(pki);
  if (!s) return s;
  crypto::NodeSecrets secrets = new_node_secrets();
  auto made = make_credential(pki, req, public_keys_of(secrets));
  if (!made) return made.status();
  s = write_node(pki, req.node_id, secrets, made->second);
  if (!s) return s;
  return made->first;
}

Result<Credential> read_credential(const PkiPaths& pki, const std::string& node_id) {
  auto trust = TrustStore::load(pki.trust_store());
  if (!trust) return trust.status();
  auto bytes = read_file(pki.credential(node_id), 1u << 20);
  if (!bytes) return bytes.status();
  return verify_credential(*bytes, *trust);
}

Result<Reissued> reissue_node(const PkiPaths& pki, const IssueRequest& req, std::int64_t now_seconds) {
  auto old = read_credential(pki, req.node_id);
  if (!old) return old.status();
  crypto::NodeSecrets secrets = new_node_secrets();
  auto made = make_credential(pki, req, public_keys_of(secrets));
  if (!made) return made.status();
  auto number = revoke(pki, old->agency, {{old->serial, RevocationReason::kRetired, 0}}, {}, now_seconds);
  if (!number) return number.status();
  Status s = write_node(pki, req.node_id, secrets, made->second);
  if (!s) return s;
  return Reissued{made->first, old->serial, old->agency, *number};
}

std::map<std::uint64_t, std::string> credential_serials(const PkiPaths& pki, const std::string& agency) {
  std::map<std::uint64_t, std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(pki.directory() / "credentials", ec)) {
    auto obj = read_signed(e.path());
    if (!obj) continue;
    v1::CredentialBody body;
    if (!body.ParseFromString(obj->body())) continue;
    if (body.agency() == agency) out.emplace(body.serial(), body.node_id());
  }
  return out;
}

std::uint64_t latest_charter_version(const fs::path& directory, const std::string& unit) {
  const std::string prefix = unit + ".v", suffix = ".charter";
  std::uint64_t latest = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(directory / "charters", ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    std::uint64_t v = 0;
    auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (err == std::errc() && end == digits.data() + digits.size()) latest = std::max(latest, v);
  }
  return latest;
}

Result<std::uint64_t> create_charter(const PkiPaths& pki, const std::string& unit, const std::string& host,
                                     const std::vector<std::string>& members, std::int64_t not_before,
                                     std::int64_t not_after, std::uint64_t version) {
  // The unit id names a file: refuse anything that is not an id before writing.
  if (!is_valid_id(unit)) return Status::fail(Code::INVALID_FIELD, "unit '" + unit + "' is not a valid id");
  if (!is_valid_id(host)) return Status::fail(Code::INVALID_FIELD, "host agency '" + host + "' is not a valid id");
  Status s = make_dirs(pki);
  if (!s) return s;
  if (version == 0) {
    version = 1;
    std::error_code ec;
    while (fs::exists(pki.charter(unit, version), ec)) ++version;
  }
  v1::CharterBody body;
  body.set_format_version(kFormatVersion);
  body.set_unit_id(unit);
  body.set_host_agency(host);
  body.set_version(version);
  body.set_not_before(not_before);
  body.set_not_after(not_after);
  Status problems;
  for (const auto& m : members) {
    auto obj = read_signed(pki.credential(m));
    v1::CredentialBody cred;
    if (!obj || !cred.ParseFromString(obj->body())) {
      problems.add(Code::UNKNOWN_NODE, "member " + m + " has no credential in " + pki.directory().string());
      continue;
    }
    auto* member = body.add_members();
    member->set_node_id(m);
    member->set_agency(cred.agency());
  }
  if (!problems) return problems;
  s = write_message(pki.charter(unit, version), new_charter(body));
  if (!s) return s;
  return version;
}

Status cosign_charter_file(const PkiPaths& pki, const std::string& unit, std::uint64_t version,
                           const std::string& agency) {
  auto trust = TrustStore::load(pki.trust_store());
  if (!trust) return trust.status();
  auto signer = load_signer(pki, *trust, agency);
  if (!signer) return signer.status();
  auto obj = read_signed(pki.charter(unit, version));
  if (!obj) return obj.status();
  cosign_charter(&obj.value(), signer->authority, signer->key);
  return write_message(pki.charter(unit, version), *obj);
}

Result<std::uint64_t> revoke(const PkiPaths& pki, const std::string& agency,
                             const std::vector<CredentialRevocation>& credentials,
                             const std::vector<std::pair<std::string, std::uint64_t>>& charters,
                             std::int64_t now_seconds,
                             const std::vector<std::pair<std::string, std::uint64_t>>& peerings) {
  auto trust = TrustStore::load(pki.trust_store());
  if (!trust) return trust.status();
  auto signer = load_signer(pki, *trust, agency);
  if (!signer) return signer.status();
  for (const auto& c : credentials) {
    if (c.reason == RevocationReason::kLegacy || c.compromised_at < 0 || c.serial == 0) {
      return Status::fail(
          Code::INVALID_FIELD,
          "serial " + std::to_string(c.serial) + ": give a serial > 0, reason retired or compromised, and a time >= 0");
    }
  }
  v1::RevocationListBody body;
  std::map<std::uint64_t, Revocation> revoked;
  std::map<std::string, std::uint64_t> revoked_peerings;
  std::error_code ec;
  if (fs::exists(pki.revocation_list(agency), ec)) {
    auto bytes = read_file(pki.revocation_list(agency));
    if (!bytes) return bytes.status();
    auto current = verify_revocation_list(*bytes, *trust);
    if (!current) return current.status();
    body.set_number(current->number);
    revoked = current->revoked;
    for (const auto& [u, v] : current->revoked_charters) {
      auto* rc = body.add_revoked_charters();
      rc->set_unit_id(u);
      rc->set_version(v);
    }
    revoked_peerings = current->revoked_peerings;
  }
  for (const auto& [id, up_to] : peerings) {
    if (!is_valid_id(id) || up_to == 0) {
      return Status::fail(Code::INVALID_FIELD,
                          "peering '" + id + "' v" + std::to_string(up_to) + ": give a valid id and a version > 0");
    }
    std::uint64_t& held = revoked_peerings[id];
    held = std::max(held, up_to);
  }
  for (const auto& [id, up_to] : revoked_peerings) {
    auto* rp = body.add_revoked_peerings();
    rp->set_peering_id(id);
    rp->set_version(up_to);
  }
  for (const auto& c : credentials) {
    Revocation why{c.reason, c.reason == RevocationReason::kCompromised ? c.compromised_at : 0};
    if (why.reason == RevocationReason::kCompromised && why.compromised_at == 0) why.compromised_at = now_seconds;
    revoked[c.serial] = why;
  }
  for (const auto& [serial, why] : revoked) {
    if (why.reason == RevocationReason::kLegacy) {
      body.add_revoked_serials(serial);  // carried over as it was signed
      continue;
    }
    auto* rc = body.add_revoked_credentials();
    rc->set_serial(serial);
    rc->set_reason(why.reason == RevocationReason::kRetired ? v1::RETIRED : v1::COMPROMISED);
    rc->set_compromised_at(why.compromised_at);
  }
  for (const auto& [u, v] : charters) {
    auto* rc = body.add_revoked_charters();
    rc->set_unit_id(u);
    rc->set_version(v);
  }
  body.set_format_version(kFormatVersion);
  body.set_agency(agency);
  body.set_number(body.number() + 1);
  body.set_issued_at(now_seconds);
  Status s = write_message(pki.revocation_list(agency), sign_revocation_list(body, signer->authority, signer->key));
  if (!s) return s;
  return body.number();
}

Status init_broker(const PkiPaths& pki, const BrokerIdentity& who, bool first) {
  if (!is_valid_id(who.node_id)) {
    return Status::fail(Code::INVALID_FIELD, "broker id '" + who.node_id + "' is not a valid id");
  }
  Status s = make_dirs(pki);
  if (!s) return s;
  crypto::BrokerSecrets secrets{crypto::TransportKey::generate(), crypto::SigningKey::generate()};
  // The broker opens no section: its credential's sealing key is one whose
  // secret half is dropped here, and builders never seal to a broker.
  IssueRequest req{who.node_id, who.agency, tearline::v1::UNCLASSIFIED, {"broker"}, who.not_before, who.not_after, 0};
  auto made = make_credential(
      pki, req,
      {secrets.audit.public_key(), crypto::SealingKey::generate().public_key(), secrets.transport.public_key()});
  if (!made) return made.status();
  if (!first) {
    std::error_code ec;
    std::filesystem::create_directories(pki.other_broker_key(who.node_id).parent_path(), ec);
    if (ec) return Status::fail(Code::IO_ERROR, "cannot create " + pki.keys().string() + "/brokers: " + ec.message());
  }
  s = crypto::write_broker_keys(first ? pki.broker_key() : pki.other_broker_key(who.node_id), secrets);
  if (!s) return s;
  s = write_message(pki.credential(who.node_id), made->second);
  if (!s || !first) return s;
  std::string pub = crypto::to_z85(secrets.transport.public_key()) + "\n";
  s = write_file_atomic(pki.broker_public(), as_bytes(pub), 0644);
  if (!s) return s;
  std::string audit = to_hex(secrets.audit.public_key().view()) + "\n";
  return write_file_atomic(pki.broker_audit_public(), as_bytes(audit), 0644);
}

Status generate_from_roster(const Roster& roster, const PkiPaths& pki, std::int64_t now_seconds) {
  const std::int64_t not_before = now_seconds - 3600;  // tolerate small clock skew
  const std::int64_t not_after = now_seconds + std::int64_t{roster.validity_days} * 86400;
  for (const auto& a : roster.agencies) {
    Status s = init_authority(pki, a.id, a.country);
    if (!s) return s;
  }
  for (const auto& n : roster.nodes) {
    IssueRequest req{n.id, n.agency, n.clearance, n.roles, not_before, not_after, 0};
    auto c = issue_node(pki, req);
    if (!c) return c.status();
  }
  for (const auto& u : roster.units) {
    auto version = create_charter(pki, u.id, u.host, u.members, not_before, not_after);
    if (!version) return version.status();
    std::vector<std::string> parties{u.host};
    for (const auto& m : u.members) parties.push_back(roster.node(m)->agency);
    std::sort(parties.begin(), parties.end());
    parties.erase(std::unique(parties.begin(), parties.end()), parties.end());
    for (const auto& agency : parties) {
      Status s = cosign_charter_file(pki, u.id, *version, agency);
      if (!s) return s;
    }
  }
  // The roster's default (roster.h): the first agency issues the broker's
  // credential, whether the roster came from a file or was built in code.
  const std::string broker_agency =
      roster.broker.agency.empty() && !roster.agencies.empty() ? roster.agencies.front().id : roster.broker.agency;
  return init_broker(pki, {roster.broker.id, broker_agency, not_before, not_after});
}

}  // namespace tearline::identity
