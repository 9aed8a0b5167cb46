#include "federation/partner_import.h"

#include <algorithm>
#include <set>

#include "base/canonical_proto.h"
#include "base/files.h"
#include "crypto/signing.h"
#include "federation/peering_files.h"
#include "identity/signed_object.h"
#include "identity/trust_store.h"

namespace tearline::federation {
namespace fs = std::filesystem;
namespace v1 = tearline::v1;

namespace {

constexpr std::size_t kMaxObject = 1u << 20;

// The regular files DIR/*ext, sorted. A folder that does not exist holds
// none; one that cannot be listed is IO_ERROR.
Result<std::vector<fs::path>> files_of(const fs::path& dir, std::string_view ext) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ext) out.push_back(it->path());
  }
  if (ec) return Status::fail(Code::IO_ERROR, "cannot list " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

void refuse(ImportSummary* sum, const std::string& object, const Status& why) {
  for (const auto& r : why.reasons()) sum->refused.push_back({object, r});
}

// Writes `bytes` to `path` unless it holds them already; true when written.
Result<bool> write_if_changed(const fs::path& path, ByteView bytes) {
  auto held = read_file(path, kMaxObject);
  if (held && std::equal(held->begin(), held->end(), bytes.begin(), bytes.end())) return false;
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Status::fail(Code::IO_ERROR, "cannot create " + path.parent_path().string() + ": " + ec.message());
  Status s = write_file_atomic(path, bytes, 0644);
  if (!s) return s;
  return true;
}

// The envelope and body of a file, unverified; nullopt when they do not parse.
template <typename Body>
std::optional<std::pair<v1::SignedObject, Body>> parse_object(ByteView bytes, const std::string& name) {
  v1::SignedObject obj;
  Body body;
  if (!parse_strict(bytes, &obj, name) || !parse_strict(as_bytes(obj.body()), &body, name)) return std::nullopt;
  return std::make_pair(std::move(obj), std::move(body));
}

// Copies of one object with the same body: ours (`held`) takes each of the
// partner's signatures it lacks, and one of its own that no longer verifies
// (signed under a key since rotated) gives way to the partner's verified
// one. A signature of ours that verifies is never replaced.
v1::SignedObject merge_signatures(v1::SignedObject held, const v1::SignedObject& theirs,
                                  const identity::TrustStore& trust, std::string_view tag) {
  for (const auto& sig : theirs.signatures()) {
    if (!identity::check_signature(theirs, sig, trust, tag, "copy")) continue;
    auto mine = std::find_if(held.mutable_signatures()->begin(), held.mutable_signatures()->end(),
                             [&](const v1::Signature& s) { return s.agency() == sig.agency(); });
    if (mine == held.mutable_signatures()->end()) {
      *held.add_signatures() = sig;
    } else if (!identity::check_signature(held, *mine, trust, tag, "copy")) {
      *mine = sig;
    }
  }
  return held;
}

// The pinning rules of the header: the authority to pin.
Result<identity::Authority> authority_to_pin(const identity::PkiPaths& pki, const identity::TrustStore& ours,
                                             const identity::TrustStore& theirs, const ImportRequest& r,
                                             ImportSummary* sum, bool* key_changed) {
  const std::string source = (r.from / "trust.toml").string();
  const identity::Authority* their = theirs.authority(r.agency);
  if (their == nullptr) {
    std::string pinned;
    for (const auto& [agency, a] : theirs.authorities()) pinned += (pinned.empty() ? "" : ", ") + agency;
    return Status::fail(Code::INVALID_FIELD, source + " pins no authority " + r.agency + " (it pins " + pinned + ")");
  }
  if (their->partner) {
    return Status::fail(Code::INVALID_FIELD, source + " pins " + r.agency +
                                                 " as a partner: it is another agency's copy; import the directory " +
                                                 r.agency + " publishes itself");
  }
  const identity::Authority* held = ours.authority(r.agency);
  std::error_code ec;
  if ((held != nullptr && !held->partner) || fs::exists(pki.authority_key(r.agency), ec)) {
    return Status::fail(Code::INVALID_FIELD, r.agency + " is one of this PKI's own agencies (its authority key is in " +
                                                 pki.keys().string() + "): import names a partner agency");
  }
  const std::string their_hex = to_hex(their->verify_key.view());
  if (r.verify_key && !(r.verify_key->bytes == their->verify_key.bytes)) {
    return Status::fail(Code::WRONG_AUTHORITY, "the authority key of " + r.agency + " in " + source + " is " +
                                                   their_hex + ", not the key given (" + to_hex(r.verify_key->view()) +
                                                   "): do not import this folder; ask " + r.agency);
  }
  if (r.country && *r.country != their->country) {
    return Status::fail(Code::WRONG_AUTHORITY, "the country of " + r.agency + " in " + source + " is " +
                                                   their->country + ", not the country given (" + *r.country +
                                                   "): do not import this folder; ask " + r.agency);
  }
  const std::string confirm = "--verify-key " + their_hex + " --country " + their->country;
  if (held == nullptr && (!r.verify_key || !r.country)) {
    return Status::fail(Code::UNKNOWN_AUTHORITY, r.agency + " is not pinned yet; in " + source +
                                                     " its authority key is " + their_hex + " and its country " +
                                                     their->country + ": check both with " + r.agency +
                                                     " out of band, then import with " + confirm);
  }
  *key_changed = held != nullptr && !(held->verify_key.bytes == their->verify_key.bytes);
  if (*key_changed && !r.verify_key) {
    return Status::fail(Code::WRONG_AUTHORITY, "the authority key of " + r.agency + " changed from " +
                                                   to_hex(held->verify_key.view()) + " (pinned) to " + their_hex +
                                                   " in " + source + ": check the new key with " + r.agency +
                                                   " out of band, then import with " + confirm);
  }
  // The country decides releasability to its nodes: a change is confirmed
  // like a new key, never taken silently.
  if (held != nullptr && held->country != their->country && !r.country) {
    return Status::fail(Code::WRONG_AUTHORITY, "the country of " + r.agency + " changed from " + held->country +
                                                   " (pinned) to " + their->country + " in " + source +
                                                   ": check it with " + r.agency + " out of band, then import with " +
                                                   confirm);
  }
  sum->pinned = held == nullptr || *key_changed || held->country != their->country;
  sum->country = their->country;
  sum->verify_key = their->verify_key;
  return identity::Authority{r.agency, their->country, their->verify_key, true};
}

// The partner's credentials (the header's rules); writes and removes files.
Status import_credentials(const identity::PkiPaths& pki, const identity::TrustStore& partner_only,
                          const identity::Directory& ours, const ImportRequest& r, ImportSummary* sum) {
  const fs::path folder = r.from / "credentials";
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    return Status::fail(Code::IO_ERROR, r.from.string() + " has no credentials/ folder: is it a published directory?");
  }
  auto files = files_of(folder, ".cred");
  if (!files) return files.status();
  std::set<std::string> listed;  // every node the partner still lists, verified or not
  for (const fs::path& path : *files) {
    const std::string name = "credentials/" + path.filename().string();
    listed.insert(path.stem().string());
    auto bytes = read_file(path, kMaxObject);
    if (!bytes) {
      refuse(sum, name, bytes.status());
      continue;
    }
    auto parsed = parse_object<v1::CredentialBody>(*bytes, name);
    if (parsed && parsed->second.agency() != r.agency) {
      sum->skipped.push_back(name);  // another agency's: not the partner's to give
      continue;
    }
    auto cred = identity::verify_credential(*bytes, partner_only);
    if (!cred) {
      refuse(sum, name, cred.status());
      continue;
    }
    if (path.filename() != cred->node_id + ".cred") {
      refuse(sum, name,
             Status::fail(Code::INVALID_FIELD,
                          "the file of " + cred->node_id + " is not named " + cred->node_id + ".cred"));
      continue;
    }
    const identity::Credential* same_id = ours.node(cred->node_id);
    const identity::Credential* same_key = ours.node_by_transport_key(cred->transport_key);
    if (same_id != nullptr && same_id->agency != r.agency) {
      const std::string hint = same_id->has_role(identity::kBrokerRole)
                                   ? " (two agencies' brokers need two ids: tearline certs broker --id)"
                                   : "";
      refuse(sum, name,
             Status::fail(Code::FOREIGN_NODE, cred->node_id + " is a node of " + same_id->agency +
                                                  " here: a partner's credential cannot take its name" + hint));
      continue;
    }
    if (same_key != nullptr && same_key->agency != r.agency) {
      refuse(sum, name,
             Status::fail(Code::FOREIGN_NODE, cred->node_id + "'s transport key is that of " + same_key->node_id +
                                                  " of " + same_key->agency + " here"));
      continue;
    }
    const bool existed = fs::exists(pki.credential(cred->node_id), ec);
    auto written = write_if_changed(pki.credential(cred->node_id), *bytes);
    if (!written) return written.status();
    if (*written) (existed ? sum->credentials_updated : sum->credentials_added).push_back(cred->node_id);
  }
  // Mirror: a held credential of the partner (by its body's agency, so also
  // one signed under a key since rotated) whose node it no longer lists at
  // all goes. A node it lists but whose file was refused keeps what we hold.
  auto held = files_of(pki.directory() / "credentials", ".cred");
  if (!held) return held.status();
  for (const fs::path& path : *held) {
    auto bytes = read_file(path, kMaxObject);
    if (!bytes) continue;
    auto parsed = parse_object<v1::CredentialBody>(*bytes, path.filename().string());
    if (!parsed || parsed->second.agency() != r.agency || listed.count(path.stem().string()) != 0) continue;
    fs::remove(path, ec);
    if (ec) return Status::fail(Code::IO_ERROR, "cannot remove " + path.string() + ": " + ec.message());
    sum->credentials_removed.push_back(path.stem().string());
  }
  return Status::ok();
}

Status import_revocation_list(const identity::PkiPaths& pki, const identity::TrustStore& partner_only,
                              const identity::Directory& ours, bool key_changed, const ImportRequest& r,
                              ImportSummary* sum) {
  // After a key rotation the list held was signed under the old key: the
  // new PKI's numbering starts again, and the old list goes.
  const identity::RevocationList* held = key_changed ? nullptr : ours.revocation_list(r.agency);
  sum->revocation_list = held != nullptr ? held->number : 0;
  const fs::path path = r.from / "revocations" / (r.agency + ".crl");
  const std::string name = "revocations/" + r.agency + ".crl";
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (key_changed) fs::remove(pki.revocation_list(r.agency), ec);
    return Status::ok();
  }
  auto bytes = read_file(path, kMaxObject);
  if (!bytes) {
    refuse(sum, name, bytes.status());
    return Status::ok();
  }
  auto list = identity::verify_revocation_list(*bytes, partner_only);
  if (!list) {
    refuse(sum, name, list.status());
    return Status::ok();
  }
  if (held != nullptr && list->number < held->number) {
    refuse(sum, name,
           Status::fail(Code::REVOCATION_ROLLBACK, "list " + std::to_string(list->number) + " is older than list " +
                                                       std::to_string(held->number) + " held; keeping the newer"));
    return Status::ok();
  }
  auto written = write_if_changed(pki.revocation_list(r.agency), *bytes);
  if (!written) return written.status();
  sum->revocation_list = list->number;
  sum->revocation_list_updated = *written;
  return Status::ok();
}

// Whether the only reasons are missing consents: a charter that waits for
// signatures (ours among them, maybe), whose present signatures verified.
bool awaits_consent(const Status& s) {
  return std::all_of(s.reasons().begin(), s.reasons().end(),
                     [](const Reason& r) { return r.code == Code::MISSING_CONSENT; });
}

Status import_charters(const identity::PkiPaths& pki, const identity::TrustStore& both, const ImportRequest& r,
                       ImportSummary* sum) {
  auto files = files_of(r.from / "charters", ".charter");
  if (!files) return files.status();
  for (const fs::path& path : *files) {
    const std::string name = "charters/" + path.filename().string();
    auto bytes = read_file(path, kMaxObject);
    if (!bytes) {
      refuse(sum, name, bytes.status());
      continue;
    }
    auto parsed = parse_object<v1::CharterBody>(*bytes, name);
    if (!parsed) {
      refuse(sum, name, Status::fail(Code::BAD_ENCODING, "not a charter"));
      continue;
    }
    const v1::CharterBody& body = parsed->second;
    if (body.host_agency() != r.agency) {
      // Our own units come back in the partner's folder: ours already.
      // Another partner's are not this partner's to give.
      const identity::Authority* host = both.authority(body.host_agency());
      if (host == nullptr || host->partner) sum->skipped.push_back(name);
      continue;
    }
    // A charter that waits only for consents (ours, say: we sign it with
    // `certs charter cosign` once it is here) is taken too.
    auto charter = identity::verify_charter(*bytes, both);
    if (!charter && !awaits_consent(charter.status())) {
      refuse(sum, name, charter.status());
      continue;
    }
    const std::string unit = body.unit_id();  // a valid id: verify_charter checked it
    // A unit of another host with that id here: labels name units by id.
    bool taken = false;
    for (std::uint64_t v = identity::latest_charter_version(pki.directory(), unit); v > 0 && !taken; --v) {
      auto held = read_file(pki.charter(unit, v), kMaxObject);
      auto held_parsed = held ? parse_object<v1::CharterBody>(*held, name) : std::nullopt;
      taken = held_parsed && held_parsed->second.host_agency() != r.agency;
    }
    if (taken) {
      refuse(sum, name,
             Status::fail(Code::DUPLICATE_OBJECT, "unit " + unit +
                                                      " is another host's unit here: unit ids are shared "
                                                      "by every agency's labels"));
      continue;
    }
    const fs::path target = pki.charter(unit, body.version());
    v1::SignedObject out = parsed->first;
    auto held = read_file(target, kMaxObject);
    if (auto mine = held ? parse_object<v1::CharterBody>(*held, name) : std::nullopt) {
      if (mine->first.body() != out.body()) {
        // Our copy may carry our consent to its terms: never replaced.
        refuse(sum, name,
               Status::fail(Code::DUPLICATE_OBJECT, "charter " + unit + " v" + std::to_string(body.version()) +
                                                        " is held here with other terms: " + r.agency +
                                                        " publishes a new version instead"));
        continue;
      }
      out = merge_signatures(mine->first, out, both, crypto::tags::kCharter);
    }
    auto written = write_if_changed(target, serialize_canonical(out));
    if (!written) return written.status();
    if (*written) sum->charters.push_back("charters/" + target.filename().string());
  }
  return Status::ok();
}

// A copy of a peering version with the same body as the one held adds its
// signatures to it; one with other terms is kept beside it.
Status import_peerings(const identity::PkiPaths& pki, const identity::TrustStore& both, const ImportRequest& r,
                       ImportSummary* sum) {
  auto files = files_of(r.from / "peerings", ".peering");
  if (!files) return files.status();
  for (const fs::path& path : *files) {
    const std::string name = "peerings/" + path.filename().string();
    auto bytes = read_file(path, kMaxObject);
    if (!bytes) {
      refuse(sum, name, bytes.status());
      continue;
    }
    if (auto parsed = parse_object<v1::PeeringBody>(*bytes, name)) {
      if (parsed->first.signatures_size() == 0) {
        sum->skipped.push_back(name);  // a draft nobody signed yet
        continue;
      }
      // Only a peering between the partner and one of this PKI's own agencies.
      const v1::PeeringBody& body = parsed->second;
      const bool theirs_first = body.first().agency() == r.agency;
      const identity::Authority* own = both.authority(theirs_first ? body.second().agency() : body.first().agency());
      if ((!theirs_first && body.second().agency() != r.agency) || own == nullptr || own->partner) {
        sum->skipped.push_back(name);
        continue;
      }
    }
    auto peering = verify_peering(*bytes, both);
    if (!peering) {
      refuse(sum, name, peering.status());
      continue;
    }
    v1::SignedObject theirs;
    if (!parse_strict(*bytes, &theirs, name)) continue;  // verified above: not reached
    const fs::path mine = peering_file(pki.directory(), peering->peering_id, peering->version);
    auto held = read_file(mine, kMaxObject);
    v1::SignedObject ours;
    fs::path target = mine;
    v1::SignedObject out = theirs;
    if (held && parse_strict(*held, &ours, name)) {
      if (ours.body() == theirs.body()) {
        out = merge_signatures(ours, theirs, both, crypto::tags::kPeering);
      } else {
        target = partner_copy_file(pki.directory(), peering->peering_id, peering->version, r.agency);
      }
    }
    auto written = write_if_changed(target, serialize_canonical(out));
    if (!written) return written.status();
    if (*written) sum->peerings.push_back("peerings/" + target.filename().string());
  }
  return Status::ok();
}

}  // namespace

Result<ImportSummary> import_partner(const identity::PkiPaths& pki, const ImportRequest& r, std::int64_t now_seconds) {
  if (!identity::is_valid_id(r.agency)) {
    return Status::fail(Code::INVALID_FIELD, "agency '" + r.agency + "' is not a valid id");
  }
  auto theirs = identity::TrustStore::load(r.from / "trust.toml");
  if (!theirs) return theirs.status();
  auto ours = identity::TrustStore::load(pki.trust_store());
  if (!ours) return ours.status();
  ImportSummary sum;
  bool key_changed = false;
  auto pin = authority_to_pin(pki, *ours, *theirs, r, &sum, &key_changed);
  if (!pin) return pin.status();

  identity::TrustStore next, partner_only;
  for (const auto& [agency, a] : ours->authorities()) {
    if (agency != r.agency) (void)next.add(a);
  }
  Status s = next.add(*pin);
  if (s) s = partner_only.add(*pin);
  if (!s) return s;
  auto dir = identity::Directory::load(pki.directory(), now_seconds, nullptr);
  if (!dir) return dir.status();

  s = import_credentials(pki, partner_only, **dir, r, &sum);
  if (s) s = import_revocation_list(pki, partner_only, **dir, key_changed, r, &sum);
  if (s) s = import_charters(pki, next, r, &sum);
  if (s) s = import_peerings(pki, next, r, &sum);
  if (!s) return s;
  // Pinned last: until then the objects written are the partner's, left
  // out at load as signed by an unknown authority.
  const std::string text = next.to_toml();
  s = write_file_atomic(pki.trust_store(), as_bytes(text), 0644);
  if (!s) return s;
  return sum;
}

}  // namespace tearline::federation
