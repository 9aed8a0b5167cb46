#include "identity/directory.h"

#include <algorithm>
#include <set>

#include "base/files.h"
#include "base/time_format.h"
#include "crypto/hash.h"

namespace tearline::identity {
namespace fs = std::filesystem;

namespace {

// Reads DIR/sub/*.ext, sorted by name. A missing folder is no object.
void read_objects(const fs::path& dir, std::string_view ext, std::vector<std::pair<std::string, Bytes>>* out,
                  LoadReport* report) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ext) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto bytes = read_file(f, 1u << 20);
    if (!bytes) {
      report->rejected.push_back({f.filename().string(), bytes.status().reasons().front()});
      continue;
    }
    out->emplace_back(f.filename().string(), std::move(bytes).value());
  }
}

void note(std::vector<LoadIssue>* list, const std::string& object, const Status& status) {
  for (const auto& r : status.reasons()) list->push_back({object, r});
}

}  // namespace

Result<DirectoryPtr> Directory::load(const fs::path& dir, std::int64_t now_seconds, LoadReport* report,
                                     const Directory* previous) {
  LoadReport local;
  if (report == nullptr) report = &local;
  auto trust = TrustStore::load(dir / "trust.toml");
  if (!trust) return trust.status();
  Sources sources;
  read_objects(dir / "credentials", ".cred", &sources.credentials, report);
  read_objects(dir / "charters", ".charter", &sources.charters, report);
  read_objects(dir / "revocations", ".crl", &sources.revocation_lists, report);
  return build(std::move(trust).value(), sources, now_seconds, report, previous);
}

DirectoryPtr Directory::build(TrustStore trust, const Sources& sources, std::int64_t now_seconds, LoadReport* report,
                              const Directory* previous) {
  LoadReport local;
  if (report == nullptr) report = &local;
  auto d = std::make_shared<Directory>();
  d->trust_ = std::move(trust);

  // Revocation lists first: held lists carry over; the highest number wins.
  if (previous != nullptr) {
    for (const auto& [agency, list] : previous->revocations_) {
      if (d->trust_.authority(agency) != nullptr) d->revocations_.emplace(agency, list);
    }
  }
  for (const auto& [name, bytes] : sources.revocation_lists) {
    auto rl = verify_revocation_list(bytes, d->trust_);
    if (!rl) {
      note(&report->rejected, name, rl.status());
      continue;
    }
    auto it = d->revocations_.find(rl->agency);
    if (it != d->revocations_.end() && rl->number < it->second.number) {
      report->rejected.push_back(
          {name, Reason{Code::REVOCATION_ROLLBACK,
                        "revocation list " + std::to_string(rl->number) + " of " + rl->agency + " is older than list " +
                            std::to_string(it->second.number) + " already held; keeping the newer list"}});
      continue;
    }
    std::string agency = rl->agency;
    rl->object_hash = crypto::blake2b_256(bytes);
    d->revocations_.insert_or_assign(agency, std::move(rl).value());
  }

  std::set<std::string> transport_keys;
  std::set<std::string> conflicting;                        // node ids with more than one credential: none is trusted
  std::map<std::string, crypto::Digest> credential_hashes;  // of the credentials kept, by node id
  std::vector<crypto::Digest> charter_hashes;
  for (const auto& [name, bytes] : sources.credentials) {
    auto cred = verify_credential(bytes, d->trust_);
    if (!cred) {
      note(&report->rejected, name, cred.status());
      continue;
    }
    if (d->nodes_.count(cred->node_id) != 0 || conflicting.count(cred->node_id) != 0) {
      report->rejected.push_back({name, Reason{Code::DUPLICATE_OBJECT, "more than one credential for node " +
                                                                           cred->node_id + "; all refused"}});
      d->nodes_.erase(cred->node_id);
      credential_hashes.erase(cred->node_id);
      conflicting.insert(cred->node_id);
      continue;
    }
    const std::string tk = to_string(cred->transport_key.view());
    if (!transport_keys.insert(tk).second) {
      report->rejected.push_back(
          {name, Reason{Code::DUPLICATE_OBJECT, "node " + cred->node_id + " reuses another node's transport key"}});
      continue;
    }
    if (cred->not_after <= now_seconds) {
      report->warnings.push_back({name, Reason{Code::EXPIRED, "credential of " + cred->node_id + " has expired"}});
    } else if (cred->not_before > now_seconds) {
      report->warnings.push_back(
          {name, Reason{Code::NOT_YET_VALID, "credential of " + cred->node_id + " is not valid yet"}});
    }
    std::string id = cred->node_id;
    credential_hashes[id] = crypto::blake2b_256(bytes);
    d->nodes_.emplace(std::move(id), std::move(cred).value());
  }

  for (const auto& [name, bytes] : sources.charters) {
    auto charter = verify_charter(bytes, d->trust_);
    if (!charter) {
      note(&report->rejected, name, charter.status());
      continue;
    }
    auto& versions = d->charters_[charter->unit_id];
    if (std::any_of(versions.begin(), versions.end(),
                    [&](const Charter& c) { return c.version == charter->version; })) {
      report->rejected.push_back(
          {name, Reason{Code::DUPLICATE_OBJECT, "charter " + charter->unit_id + " version " +
                                                    std::to_string(charter->version) + " appears twice"}});
      continue;
    }
    // A member whose credential names another agency than the charter does
    // is not a member: its home agency never consented.
    for (const auto& m : charter->members) {
      const Credential* c = d->node(m.node_id);
      if (c != nullptr && c->agency != m.agency) {
        report->rejected.push_back({"unit " + charter->unit_id + " member " + m.node_id,
                                    Reason{Code::WRONG_AUTHORITY, "charter names agency " + m.agency + " but " +
                                                                      m.node_id + " belongs to " + c->agency}});
      }
    }
    if (charter->not_after <= now_seconds) {
      report->warnings.push_back({name, Reason{Code::EXPIRED, "charter " + charter->unit_id + " has expired"}});
    }
    versions.push_back(std::move(charter).value());
    std::sort(versions.begin(), versions.end(),
              [](const Charter& a, const Charter& b) { return a.version < b.version; });
    charter_hashes.push_back(crypto::blake2b_256(bytes));
  }

  std::vector<crypto::Digest> hashes = std::move(charter_hashes);
  hashes.reserve(hashes.size() + credential_hashes.size() + d->revocations_.size());
  for (const auto& [id, h] : credential_hashes) hashes.push_back(h);
  for (const auto& [agency, list] : d->revocations_) hashes.push_back(list.object_hash);
  std::sort(hashes.begin(), hashes.end());
  crypto::Blake2b256 digest;
  digest.update_tag("tearline/v1/directory-digest");
  digest.update_field(as_bytes(d->trust_.to_toml()));
  for (const auto& h : hashes) digest.update(h);
  d->digest_ = digest.finish();
  return d;
}

const Credential* Directory::node(std::string_view node_id) const {
  auto it = nodes_.find(node_id);
  return it == nodes_.end() ? nullptr : &it->second;
}

const Credential* Directory::node_by_transport_key(const crypto::TransportPublicKey& key) const {
  for (const auto& [id, c] : nodes_) {
    if (c.transport_key == key) return &c;
  }
  return nullptr;
}

std::vector<const Credential*> Directory::nodes() const {
  std::vector<const Credential*> out;
  out.reserve(nodes_.size());
  for (const auto& [id, c] : nodes_) out.push_back(&c);
  return out;
}

namespace {

Status unknown_node(std::string_view node_id) {
  return Status::fail(Code::UNKNOWN_NODE, "node " + std::string(node_id) + " is not in the directory");
}

// NOT_YET_VALID / EXPIRED of the credential's window at `t` (unix seconds).
Status window_status(const Credential& c, std::int64_t t) {
  Status s;
  if (t < c.not_before) s.add(Code::NOT_YET_VALID, "credential of " + c.node_id + " is not valid yet");
  if (t >= c.not_after) s.add(Code::EXPIRED, "credential of " + c.node_id + " has expired");
  return s;
}

}  // namespace

Status Directory::check_node(std::string_view node_id, std::int64_t t) const {
  const Credential* c = node(node_id);
  if (c == nullptr) return unknown_node(node_id);
  Status s = window_status(*c, t);
  const RevocationList* rl = revocation_list(c->agency);
  if (rl != nullptr && rl->revokes_serial(c->serial)) {
    s.add(Code::REVOKED, "credential of " + c->node_id + " (serial " + std::to_string(c->serial) + ") is revoked by " +
                             c->agency + " list " + std::to_string(rl->number));
  }
  return s;
}

Status Directory::check_signer(std::string_view node_id, std::int64_t signed_at,
                               std::optional<std::int64_t> witnessed_ms) const {
  const Credential* c = node(node_id);
  if (c == nullptr) return unknown_node(node_id);
  Status s = window_status(*c, signed_at);
  const RevocationList* rl = revocation_list(c->agency);
  const Revocation* why = rl == nullptr ? nullptr : rl->revocation_of(c->serial);
  if (why == nullptr || why->reason == RevocationReason::kRetired) return s;
  const std::string which = "credential of " + c->node_id + " (serial " + std::to_string(c->serial) + ")";
  const std::string list = c->agency + " list " + std::to_string(rl->number);
  if (why->reason == RevocationReason::kLegacy) {
    s.add(Code::REVOKED, which + " is revoked by " + list + " with no reason given: every signature of it is void");
    return s;
  }
  const std::int64_t from_ms = why->compromised_at * 1000;
  if (!witnessed_ms.has_value()) {
    s.add(Code::ORIGINATOR_COMPROMISED, which + " was compromised at " + format_utc_seconds(why->compromised_at) +
                                            " (" + list + ") and no verified broker receipt shows the signature older");
  } else if (*witnessed_ms >= from_ms) {
    s.add(Code::ORIGINATOR_COMPROMISED, which + " was compromised at " + format_utc_seconds(why->compromised_at) +
                                            " (" + list + "), at or before its acceptance at " +
                                            format_utc_ms(*witnessed_ms));
  }
  return s;
}

Status Directory::charter_status(const Charter& charter, std::int64_t t) const {
  Status s;
  const std::string what = "charter " + charter.unit_id + " v" + std::to_string(charter.version);
  if (t < charter.not_before) s.add(Code::NOT_YET_VALID, what + " is not valid yet");
  if (t >= charter.not_after) s.add(Code::EXPIRED, what + " has expired");
  for (const auto& agency : charter.required_signers()) {
    const RevocationList* rl = revocation_list(agency);
    if (rl != nullptr && rl->revokes_charter(charter.unit_id, charter.version)) {
      s.add(Code::REVOKED, what + " is revoked by " + agency);
    }
  }
  return s;
}

Result<const Charter*> Directory::charter_in_force(std::string_view unit_id, std::int64_t t) const {
  auto it = charters_.find(unit_id);
  if (it == charters_.end() || it->second.empty()) {
    return Status::fail(Code::UNKNOWN_NODE, "no valid charter for unit " + std::string(unit_id));
  }
  for (auto v = it->second.rbegin(); v != it->second.rend(); ++v) {
    if (charter_status(*v, t).is_ok()) return &*v;
  }
  return charter_status(it->second.back(), t);
}

std::vector<std::string> Directory::units_of(std::string_view node_id, std::int64_t t) const {
  std::vector<std::string> out;
  const Credential* c = node(node_id);
  if (c == nullptr) return out;
  for (const auto& [unit, versions] : charters_) {
    auto in_force = charter_in_force(unit, t);
    if (!in_force) continue;
    for (const auto& m : (*in_force)->members) {
      if (m.node_id == node_id && m.agency == c->agency) {
        out.push_back(unit);
        break;
      }
    }
  }
  return out;
}

bool Directory::is_member(std::string_view node_id, std::string_view unit_id, std::int64_t t) const {
  const Credential* c = node(node_id);
  if (c == nullptr) return false;
  auto in_force = charter_in_force(unit_id, t);
  if (!in_force) return false;
  const auto& members = (*in_force)->members;
  return std::any_of(members.begin(), members.end(),
                     [&](const CharterMember& m) { return m.node_id == node_id && m.agency == c->agency; });
}

std::vector<std::string> Directory::unit_ids() const {
  std::vector<std::string> out;
  out.reserve(charters_.size());
  for (const auto& [unit, versions] : charters_) out.push_back(unit);
  return out;
}

const RevocationList* Directory::revocation_list(std::string_view agency) const {
  auto it = revocations_.find(agency);
  return it == revocations_.end() ? nullptr : &it->second;
}

}  // namespace tearline::identity
