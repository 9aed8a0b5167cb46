#include "federation/peering_files.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "base/canonical_proto.h"
#include "base/files.h"
#include "identity/trust_store.h"

namespace tearline::federation {
namespace fs = std::filesystem;
namespace v1 = tearline::v1;

namespace {

constexpr std::size_t kMaxPeeringFile = 1u << 20;
constexpr std::string_view kSuffix = ".peering";

fs::path peerings_folder(const fs::path& directory) { return directory / "peerings"; }

// The version N of a file named <id>.v<N>.peering or <id>.v<N>+<AGENCY>.peering.
std::optional<std::uint64_t> version_of(std::string_view name, std::string_view id) {
  const std::string prefix = std::string(id) + ".v";
  if (name.size() <= prefix.size() + kSuffix.size() || name.substr(0, prefix.size()) != prefix ||
      name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  const std::string_view rest = name.substr(prefix.size(), name.size() - prefix.size() - kSuffix.size());
  std::uint64_t v = 0;
  auto [end, err] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (err != std::errc() || end == rest.data()) return std::nullopt;
  if (end != rest.data() + rest.size() && *end != '+') return std::nullopt;
  return v;
}

// The envelope and body of a file's bytes, unverified.
Result<v1::SignedObject> parse_envelope(ByteView bytes, const std::string& name, v1::PeeringBody* body) {
  v1::SignedObject obj;
  Status s = parse_strict(bytes, &obj, name);
  if (s) s = parse_strict(as_bytes(obj.body()), body, name + " body");
  if (!s) return s;
  return obj;
}

Result<v1::SignedObject> read_envelope(const fs::path& path, v1::PeeringBody* body) {
  auto bytes = read_file(path, kMaxPeeringFile);
  if (!bytes) return bytes.status();
  return parse_envelope(*bytes, path.filename().string(), body);
}

Status write_envelope(const fs::path& path, const v1::SignedObject& obj) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Status::fail(Code::IO_ERROR, "cannot create " + path.parent_path().string() + ": " + ec.message());
  return write_file_atomic(path, serialize_canonical(obj), 0644);
}

// The party of `agency`/`broker` from the broker's credential (the header's rules).
Status fill_party(const identity::Directory& dir, const std::string& agency, const std::string& broker,
                  std::int64_t now, v1::PeeringParty* out) {
  const identity::Credential* cred = dir.node(broker);
  if (cred == nullptr) {
    return Status::fail(Code::UNKNOWN_NODE, "broker " + broker + " has no credential in the directory (a partner's " +
                                                "broker comes with its directory: tearline certs import)");
  }
  Status s;
  if (!cred->has_role(identity::kBrokerRole)) {
    s.add(Code::INVALID_FIELD, broker + " is not a broker: its credential lacks role broker");
  }
  if (cred->agency != agency) {
    s.add(Code::WRONG_AUTHORITY, "broker " + broker + " is " + cred->agency + "'s, not " + agency + "'s");
  }
  s.merge(dir.check_node(broker, now));
  if (!s) return s;
  out->set_agency(agency);
  out->set_broker_id(broker);
  out->set_signing_key(to_string(cred->signing_key.view()));
  out->set_transport_key(to_string(cred->transport_key.view()));
  return s;
}

}  // namespace

fs::path peering_file(const fs::path& directory, std::string_view id, std::uint64_t version) {
  return peerings_folder(directory) / (std::string(id) + ".v" + std::to_string(version) + std::string(kSuffix));
}

fs::path partner_copy_file(const fs::path& directory, std::string_view id, std::uint64_t version,
                           std::string_view agency) {
  return peerings_folder(directory) /
         (std::string(id) + ".v" + std::to_string(version) + "+" + std::string(agency) + std::string(kSuffix));
}

std::uint64_t latest_peering_version(const fs::path& directory, std::string_view id) {
  std::uint64_t latest = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(peerings_folder(directory), ec)) {
    if (auto v = version_of(e.path().filename().string(), id)) latest = std::max(latest, *v);
  }
  return latest;
}

Result<std::uint64_t> create_peering_file(const identity::PkiPaths& pki, const PeeringDraft& draft,
                                          std::int64_t now_seconds) {
  // The id names a file: refuse anything that is not an id before reading.
  if (!identity::is_valid_id(draft.peering_id)) {
    return Status::fail(Code::INVALID_FIELD, "peering id '" + draft.peering_id + "' is not a valid id");
  }
  auto dir = identity::Directory::load(pki.directory(), now_seconds, nullptr);
  if (!dir) return dir.status();
  const std::uint64_t version =
      draft.version != 0 ? draft.version : latest_peering_version(pki.directory(), draft.peering_id) + 1;
  v1::PeeringBody body;
  body.set_format_version(identity::kFormatVersion);
  body.set_peering_id(draft.peering_id);
  body.set_version(version);
  body.set_not_before(draft.not_before);
  body.set_not_after(draft.not_after);
  *body.mutable_first_to_second() = draft.first_to_second;
  *body.mutable_second_to_first() = draft.second_to_first;
  Status s;
  for (const std::string* agency : {&draft.first_agency, &draft.second_agency}) {
    if ((*dir)->trust().authority(*agency) == nullptr) {
      s.add(Code::UNKNOWN_AUTHORITY, "agency " + *agency + " has no authority in " + pki.trust_store().string() +
                                         " (a partner agency is pinned by tearline certs import)");
    }
  }
  s.merge(fill_party(**dir, draft.first_agency, draft.first_broker, now_seconds, body.mutable_first()));
  s.merge(fill_party(**dir, draft.second_agency, draft.second_broker, now_seconds, body.mutable_second()));
  if (s) {
    auto terms = read_peering_body(body);
    if (!terms) s.merge(terms.status());
  }
  const fs::path path = peering_file(pki.directory(), draft.peering_id, version);
  std::error_code ec;
  if (fs::exists(path, ec)) {
    s.add(Code::DUPLICATE_OBJECT, "peering " + draft.peering_id + " v" + std::to_string(version) + " exists (" +
                                      path.string() + "): a new version is v" +
                                      std::to_string(latest_peering_version(pki.directory(), draft.peering_id) + 1));
  }
  if (!s) return s;
  s = write_envelope(path, new_peering(body));
  if (!s) return s;
  return version;
}

Status cosign_peering_file(const identity::PkiPaths& pki, std::string_view id, std::uint64_t version,
                           const std::string& agency, std::int64_t now_seconds) {
  const fs::path path = peering_file(pki.directory(), id, version);
  v1::PeeringBody body;
  auto obj = read_envelope(path, &body);
  if (!obj) return obj.status();
  if (agency != body.first().agency() && agency != body.second().agency()) {
    return Status::fail(Code::WRONG_AUTHORITY, agency + " is not a party of peering " + std::string(id) + " v" +
                                                   std::to_string(version) + " (parties: " + body.first().agency() +
                                                   ", " + body.second().agency() + ")");
  }
  auto trust = identity::TrustStore::load(pki.trust_store());
  if (!trust) return trust.status();
  const identity::Authority* pinned = trust->authority(agency);
  if (pinned != nullptr && pinned->partner) {
    return Status::fail(Code::WRONG_AUTHORITY,
                        agency +
                            " is a partner agency in this PKI: it signs with its own PKI, and its signed copy "
                            "comes back with tearline certs import");
  }
  // What is signed: the terms, and our own side as our directory knows it.
  auto terms = read_peering_body(body);
  if (!terms) return terms.status();
  auto dir = identity::Directory::load(pki.directory(), now_seconds, nullptr);
  if (!dir) return dir.status();
  const v1::PeeringParty& named = agency == body.first().agency() ? body.first() : body.second();
  v1::PeeringParty expected;
  Status own = fill_party(**dir, agency, named.broker_id(), now_seconds, &expected);
  if (own && (expected.signing_key() != named.signing_key() || expected.transport_key() != named.transport_key())) {
    own.add(Code::WRONG_AUTHORITY, "peering " + std::string(id) + " v" + std::to_string(version) + " names keys for " +
                                       named.broker_id() + " that its credential here does not carry: not signed");
  }
  if (!own) return own;
  auto signer = identity::load_signer(pki, *trust, agency);
  if (!signer) return signer.status();
  cosign_peering(&obj.value(), signer->authority, signer->key);
  return write_envelope(path, *obj);
}

std::int64_t in_effect_since(const PeeringVerdict& v) {
  if (!v.in_effect) return 0;
  std::int64_t since = v.in_effect->not_before;
  for (const Peering& p : v.versions) {
    if (p.signed_by_both() && p.version > v.revoked_up_to && p.version <= v.in_effect->version) {
      since = std::min(since, p.not_before);
    }
  }
  return since;
}

const PeeringVerdict* PeeringSet::find(std::string_view peering_id) const {
  for (const auto& p : peerings) {
    if (p.key.peering_id == peering_id) return &p;
  }
  return nullptr;
}

PeeringSet load_peerings(const fs::path& directory, const identity::Directory& dir) {
  PeeringSet set;
  std::vector<fs::path> paths;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(peerings_folder(directory), ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > kSuffix.size() && name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
      paths.push_back(e.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::pair<PeeringKey, std::vector<Peering>>> grouped;
  for (const fs::path& path : paths) {
    PeeringFile file;
    file.name = path.filename().string();
    // Read once: the terms shown and the verdict come from the same bytes.
    auto bytes = read_file(path, kMaxPeeringFile);
    v1::PeeringBody body;
    auto obj = bytes ? parse_envelope(*bytes, file.name, &body) : Result<v1::SignedObject>(bytes.status());
    if (!obj) {
      file.verified = obj.status();
      set.files.push_back(std::move(file));
      continue;
    }
    for (const auto& sig : obj->signatures()) file.signatures.push_back(sig.agency());
    if (auto terms = read_peering_body(body)) file.terms = *terms;
    auto verified = verify_peering(*bytes, dir.trust());
    if (verified) {
      const PeeringKey key = key_of(*verified);
      auto it = std::find_if(grouped.begin(), grouped.end(), [&](const auto& g) { return g.first == key; });
      if (it == grouped.end()) it = grouped.insert(grouped.end(), {key, {}});
      it->second.push_back(*verified);
    } else {
      file.verified = verified.status();
    }
    set.files.push_back(std::move(file));
  }
  std::vector<const identity::RevocationList*> lists;
  for (const auto& [agency, authority] : dir.trust().authorities()) lists.push_back(dir.revocation_list(agency));
  for (auto& [key, versions] : grouped) {
    PeeringVerdict verdict;
    verdict.key = key;
    std::sort(versions.begin(), versions.end(),
              [](const Peering& a, const Peering& b) { return a.version < b.version; });
    verdict.revoked_up_to = revoked_up_to(key, lists);
    auto effective = effective_peering(versions, key, verdict.revoked_up_to, &verdict.why);
    if (effective) {
      verdict.in_effect = *effective;
    } else {
      verdict.why = effective.status();
    }
    verdict.versions = std::move(versions);
    set.peerings.push_back(std::move(verdict));
  }
  std::sort(set.peerings.begin(), set.peerings.end(), [](const PeeringVerdict& a, const PeeringVerdict& b) {
    return std::tie(a.key.peering_id, a.key.agencies) < std::tie(b.key.peering_id, b.key.agencies);
  });
  return set;
}

}  // namespace tearline::federation
