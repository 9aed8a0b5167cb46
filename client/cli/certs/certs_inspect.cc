// `tearline certs inspect FILE`: what a file of the PKI is, read the way the
// broker and the nodes read it. Recognises credentials, charters, revocation
// lists, trust.toml, the three secret key files (by their magic) and the
// broker's two public key files; prints the kind, the fields, the validity
// now, the signer and whether the signature verifies with a trust store
// (--directory, --pki, or the trust.toml found beside the file). A secret is
// never printed: key files show their public halves only.
//
// Exit 0: recognised (and the signature verifies, or no trust store was
// found); 1: the signature does not verify; 2: unreadable, or no kind
// tearline knows (the line says what it found).
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/canonical_proto.h"
#include "base/files.h"
#include "base/time_format.h"
#include "cli/certs/certs_args.h"
#include "cli/certs/certs_json.h"
#include "cli/common/print.h"
#include "crypto/key_file.h"
#include "identity/directory.h"

namespace tearline::cli::certs {
namespace {

namespace fs = std::filesystem;
namespace v1 = tearline::v1;
constexpr std::string_view kInspectCommand = "certs inspect";
constexpr std::size_t kMaxFileBytes = 1u << 20;  // what Directory::load reads of an object
constexpr std::string_view kKinds =
    "tearline reads credentials (.cred), charters (.charter), revocation lists (.crl), trust.toml, key files "
    "(authority, node, broker) and broker.pub / broker-audit.pub";

struct InspectOptions {
  std::string file, directory, pki;
  bool json = false;
};

// The directory whose trust store checks the file: given, or found beside it
// (DIR/trust.toml or DIR/directory/trust.toml for DIR = the file's folder
// and up to three folders above it).
std::optional<fs::path> find_directory(const InspectOptions& o) {
  if (!o.directory.empty()) return fs::path(o.directory);
  if (!o.pki.empty()) return identity::PkiPaths(o.pki).directory();
  fs::path dir = fs::absolute(fs::path(o.file)).parent_path();
  for (int up = 0; up < 4 && !dir.empty(); ++up, dir = dir.parent_path()) {
    if (path_exists(dir / "trust.toml")) return dir;
    if (path_exists(dir / "directory" / "trust.toml")) return dir / "directory";
    if (dir == dir.parent_path()) break;
  }
  return std::nullopt;
}

// What the file is checked against: the trust store, and the directory when
// it loads (for revocations and key matches).
struct Context {
  std::optional<identity::TrustStore> trust;
  identity::DirectoryPtr directory;
  std::string trust_path, missing;  // missing: why there is no trust store
};

Context load_context(const InspectOptions& o, std::int64_t now) {
  Context ctx;
  const auto dir = find_directory(o);
  if (!dir) {
    ctx.missing = "not checked: no trust.toml beside the file (give --directory or --pki)";
    return ctx;
  }
  auto trust = identity::TrustStore::load(*dir / "trust.toml");
  if (!trust) {
    if (!o.directory.empty() || !o.pki.empty()) fail(kInspectCommand, trust.status());
    ctx.missing = "not checked: " + reasons_text(trust.status());
    return ctx;
  }
  ctx.trust = std::move(trust).value();
  ctx.trust_path = (*dir / "trust.toml").string();
  identity::LoadReport ignored;
  auto loaded = identity::Directory::load(*dir, now, &ignored);
  if (loaded) ctx.directory = std::move(loaded).value();
  return ctx;
}

std::string verdict(const Status& s) { return s ? "valid" : "invalid: " + reasons_text(s); }

std::string window_text(std::int64_t not_before, std::int64_t not_after, std::int64_t now) {
  if (now < not_before) return "NOT_YET_VALID until " + format_utc_seconds(not_before);
  if (now >= not_after) return "EXPIRED since " + format_utc_seconds(not_after);
  return "VALID now, until " + format_utc_seconds(not_after);
}

std::string signers_of(const v1::SignedObject& obj) {
  std::vector<std::string> agencies;
  for (const auto& s : obj.signatures()) agencies.push_back(s.agency());
  return join(agencies, ", ", "none");
}

// ---- signed objects -----------------------------------------------------------

enum class ObjectKind { kCredential, kCharter, kRevocationList };

bool has_extension(const std::string& file, std::string_view ext) { return fs::path(file).extension().string() == ext; }

// By the file's extension; otherwise the one body type the bytes are a
// canonical, well-formed instance of.
std::optional<ObjectKind> kind_of(const std::string& file, const v1::SignedObject& obj) {
  if (has_extension(file, ".cred")) return ObjectKind::kCredential;
  if (has_extension(file, ".charter")) return ObjectKind::kCharter;
  if (has_extension(file, ".crl")) return ObjectKind::kRevocationList;
  const ByteView body = as_bytes(obj.body());
  v1::CredentialBody cred;
  if (parse_canonical(body, &cred, "body") && identity::credential_from_body(cred)) return ObjectKind::kCredential;
  v1::RevocationListBody list;
  if (parse_canonical(body, &list, "body") && list.number() > 0 && !list.agency().empty()) {
    return ObjectKind::kRevocationList;
  }
  v1::CharterBody charter;
  if (parse_canonical(body, &charter, "body") && charter.version() > 0 && !charter.unit_id().empty()) {
    return ObjectKind::kCharter;
  }
  return std::nullopt;
}

[[noreturn]] void bad_body(const std::string& file, std::string_view kind, const Status& s) {
  fail(kInspectCommand, Status::fail(s.code(), file + " is a signed object but not a well-formed " + std::string(kind) +
                                                   ": " + reasons_text(s)));
}

void inspect_credential(const std::string& file, ByteView bytes, const v1::SignedObject& obj, const Context& ctx,
                        std::int64_t now, v1::CliInspected* out) {
  v1::CredentialBody body;
  Status s = parse_canonical(as_bytes(obj.body()), &body, "credential body");
  auto cred = s ? identity::credential_from_body(body) : Result<identity::Credential>(s);
  if (!cred) bad_body(file, "credential", cred.status());
  out->set_kind("credential");
  *out->mutable_credential() = credential_message(*cred);
  std::string validity = window_text(cred->not_before, cred->not_after, now);
  if (ctx.directory) {
    const identity::RevocationList* rl = ctx.directory->revocation_list(cred->agency);
    if (const identity::Revocation* why = rl ? rl->revocation_of(cred->serial) : nullptr) {
      validity =
          "REVOKED (" + std::string(identity::revocation_reason_name(why->reason)) +
          (why->reason == identity::RevocationReason::kCompromised ? " at " + format_utc_seconds(why->compromised_at)
                                                                   : "") +
          ") by " + cred->agency + " revocation list " + std::to_string(rl->number) + "; window " + validity;
    }
  }
  out->set_validity(validity);
  if (ctx.trust) out->set_signature(verdict(identity::verify_credential(bytes, *ctx.trust).status()));
}

void inspect_charter(const std::string& file, ByteView bytes, const v1::SignedObject& obj, const Context& ctx,
                     std::int64_t now, v1::CliInspected* out) {
  v1::CharterBody body;
  if (Status s = parse_canonical(as_bytes(obj.body()), &body, "charter body"); !s) bad_body(file, "charter", s);
  identity::Charter charter;
  charter.unit_id = body.unit_id();
  charter.host_agency = body.host_agency();
  charter.version = body.version();
  charter.not_before = body.not_before();
  charter.not_after = body.not_after();
  for (const auto& m : body.members()) charter.members.push_back({m.node_id(), m.agency()});
  std::set<std::string> signed_by;
  for (const auto& sig : obj.signatures()) signed_by.insert(sig.agency());
  out->set_kind("charter");
  *out->mutable_charter() = charter_message(charter, signed_by);
  std::string validity = window_text(charter.not_before, charter.not_after, now);
  if (out->charter().missing_size() > 0) {
    std::vector<std::string> missing(out->charter().missing().begin(), out->charter().missing().end());
    validity += "; not in force until signed by " + join(missing);
  }
  if (ctx.directory) {
    for (const auto& agency : charter.required_signers()) {
      const identity::RevocationList* rl = ctx.directory->revocation_list(agency);
      if (rl != nullptr && rl->revokes_charter(charter.unit_id, charter.version)) {
        validity += "; REVOKED by " + agency + " revocation list " + std::to_string(rl->number);
      }
    }
  }
  out->set_validity(validity);
  if (!ctx.trust) return;
  const Status verified = identity::verify_charter(bytes, *ctx.trust).status();
  const auto& reasons = verified.reasons();
  const bool only_consent_missing = !verified && std::all_of(reasons.begin(), reasons.end(), [](const Reason& r) {
    return r.code == Code::MISSING_CONSENT;
  });
  // A charter on its way through cosign: what it carries verifies; the
  // validity line says whose consent is missing.
  out->set_signature(only_consent_missing ? "valid, but incomplete: " + reasons_text(verified) : verdict(verified));
}

void inspect_revocation_list(const std::string& file, ByteView bytes, const v1::SignedObject& obj, const Context& ctx,
                             v1::CliInspected* out) {
  v1::RevocationListBody body;
  if (Status s = parse_canonical(as_bytes(obj.body()), &body, "revocation list body"); !s) {
    bad_body(file, "revocation list", s);
  }
  identity::RevocationList list;
  list.agency = body.agency();
  list.number = body.number();
  list.issued_at = body.issued_at();
  for (std::uint64_t serial : body.revoked_serials()) list.revoked[serial] = {};
  for (const auto& rc : body.revoked_credentials()) {
    list.revoked[rc.serial()] = {
        rc.reason() == v1::RETIRED ? identity::RevocationReason::kRetired : identity::RevocationReason::kCompromised,
        rc.compromised_at()};
  }
  for (const auto& rc : body.revoked_charters()) list.revoked_charters.emplace_back(rc.unit_id(), rc.version());
  for (const auto& rp : body.revoked_peerings()) {
    auto& up_to = list.revoked_peerings[rp.peering_id()];
    up_to = std::max(up_to, rp.version());
  }
  out->set_kind("revocation_list");
  *out->mutable_revocation_list() = revocation_list_message(list);
  if (ctx.directory) {
    const identity::RevocationList* held = ctx.directory->revocation_list(list.agency);
    if (held != nullptr && held->number > list.number) {
      out->set_validity("superseded: the directory holds " + list.agency + " list " + std::to_string(held->number));
    } else {
      out->set_validity("current");
    }
  }
  if (ctx.trust) out->set_signature(verdict(identity::verify_revocation_list(bytes, *ctx.trust).status()));
}

// ---- keys and the trust store -------------------------------------------------

std::string mode_of(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return "";
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return text;
}

std::string node_with(const Context& ctx, const std::function<bool(const identity::Credential&)>& match) {
  if (!ctx.directory) return "";
  for (const identity::Credential* c : ctx.directory->nodes()) {
    if (match(*c)) return "the credential of " + c->node_id + " (serial " + std::to_string(c->serial) + ")";
  }
  return "no credential of the directory";
}

// A secret key file: its kind by magic, its public halves by the reader the
// tools use (which refuses a file other users can read).
bool inspect_key(const std::string& file, std::string_view magic, const Context& ctx, v1::CliInspected* out) {
  v1::CliKeyFile* key = out->mutable_key();
  key->set_mode(mode_of(file));
  auto refused = [&](std::string_view kind, const Status& s) {
    fail(kInspectCommand,
         Status::fail(s.code(), "it is " + std::string(kind) + ", refused: " + s.reasons().front().message));
  };
  if (magic == "TLAUTH1\n") {
    auto k = crypto::read_authority_key(file);
    if (!k) refused("an authority key file", k.status());
    out->set_kind("authority_key");
    const crypto::VerifyKey pub = k->public_key();
    key->set_signing_key(to_hex(pub.view()));
    if (ctx.trust) {
      std::string match = "no authority pinned in " + ctx.trust_path;
      for (const auto& [agency, a] : ctx.trust->authorities()) {
        if (a.verify_key == pub) match = "the authority " + agency + " pinned in " + ctx.trust_path;
      }
      key->set_matches(match);
    }
    return true;
  }
  if (magic == "TLNODE1\n") {
    auto k = crypto::read_node_keys(file);
    if (!k) refused("a node key file", k.status());
    out->set_kind("node_key");
    const crypto::VerifyKey pub = k->signing.public_key();
    key->set_signing_key(to_hex(pub.view()));
    key->set_sealing_key(to_hex(k->sealing.public_key().view()));
    key->set_transport_key(crypto::to_z85(k->transport.public_key()));
    key->set_matches(node_with(ctx, [&](const identity::Credential& c) { return c.signing_key == pub; }));
    return true;
  }
  if (magic == "TLBRKR1\n") {
    auto k = crypto::read_broker_keys(file);
    if (!k) refused("a broker key file", k.status());
    out->set_kind("broker_key");
    const crypto::TransportPublicKey pub = k->transport.public_key();
    key->set_transport_key(crypto::to_z85(pub));
    key->set_audit_key(to_hex(k->audit.public_key().view()));
    key->set_matches(node_with(ctx, [&](const identity::Credential& c) { return c.transport_key == pub; }));
    return true;
  }
  out->clear_key();
  return false;
}

// broker.pub (Z85) or broker-audit.pub (hex): one line of text.
bool inspect_public_key(const std::string& text, const Context& ctx, v1::CliInspected* out) {
  std::string line = text;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (auto z85 = crypto::transport_key_from_z85(line)) {
    out->set_kind("broker_public_key");
    out->mutable_key()->set_transport_key(line);
    out->mutable_key()->set_matches(
        node_with(ctx, [&](const identity::Credential& c) { return c.transport_key == *z85; }));
    return true;
  }
  Bytes raw;
  if (line.size() == 64 && from_hex(line, &raw) && raw.size() == 32) {
    crypto::VerifyKey pub;
    std::copy(raw.begin(), raw.end(), pub.bytes.begin());
    out->set_kind("broker_audit_key");
    out->mutable_key()->set_audit_key(line);
    out->mutable_key()->set_matches(
        node_with(ctx, [&](const identity::Credential& c) { return c.signing_key == pub; }));
    return true;
  }
  return false;
}

bool inspect_trust_store(const std::string& file, const std::string& text, v1::CliInspected* out) {
  const bool named = fs::path(file).filename() == "trust.toml";
  auto trust = identity::TrustStore::parse(text, file);
  if (!trust) {
    if (named) fail(kInspectCommand, trust.status());
    return false;
  }
  out->set_kind("trust_store");
  for (const auto& [agency, a] : trust->authorities()) {
    auto* m = out->add_authorities();
    m->set_agency(agency);
    m->set_country(a.country);
    m->set_verify_key(to_hex(a.verify_key.view()));
  }
  return true;
}

[[noreturn]] void unknown_kind(const std::string& file, const Bytes& bytes) {
  const std::size_t shown = std::min<std::size_t>(bytes.size(), 16);
  const std::string start(reinterpret_cast<const char*>(bytes.data()), shown);
  const std::string found = bytes.empty() ? "an empty file"
                                          : std::to_string(bytes.size()) + " bytes starting \"" + printable(start) +
                                                "\" (hex " + to_hex(ByteView(bytes.data(), shown)) + ")";
  fail(kInspectCommand,
       Status::fail(Code::BAD_ENCODING, file + " is of no kind tearline knows: " + found +
                                            ", neither a signed object, a key file nor a trust store; " +
                                            std::string(kKinds)));
}

// ---- output -----------------------------------------------------------------

void print_text(const v1::CliInspected& r) {
  std::cout << r.file() << ": " << r.kind() << "\n";
  if (r.has_credential()) {
    const auto& c = r.credential();
    std::vector<std::string> roles(c.roles().begin(), c.roles().end());
    std::cout << "  node:      " << c.node_id() << "\n"
              << "  agency:    " << c.agency() << " (" << c.country() << ")\n"
              << "  clearance: " << identity::classification_name(c.clearance()) << "\n"
              << "  roles:     [" << join(roles) << "]\n"
              << "  serial:    " << c.serial() << "\n"
              << "  window:    " << c.not_before_at() << " .. " << c.not_after_at() << "\n"
              << "  keys:      signing " << c.signing_key() << ", sealing " << c.sealing_key() << ", transport "
              << c.transport_key() << "\n";
  }
  if (r.has_charter()) {
    const auto& c = r.charter();
    std::vector<std::string> members;
    for (const auto& m : c.members()) members.push_back(m.node_id() + " (" + m.agency() + ")");
    std::vector<std::string> required(c.required_signers().begin(), c.required_signers().end());
    std::cout << "  unit:      " << c.unit_id() << " v" << c.version() << ", host " << c.host_agency() << "\n"
              << "  members:   " << join(members) << "\n"
              << "  window:    " << c.not_before_at() << " .. " << c.not_after_at() << "\n"
              << "  parties:   " << join(required) << "\n";
  }
  if (r.has_revocation_list()) {
    const auto& l = r.revocation_list();
    std::vector<std::string> serials, charters;
    for (const auto& rc : l.revoked_credentials()) {
      serials.push_back(std::to_string(rc.serial()) + " " + rc.reason() +
                        (rc.compromised_at_text().empty() ? "" : " at " + rc.compromised_at_text()));
    }
    for (const auto& c : l.revoked_charters()) charters.push_back(c.unit_id() + ":" + std::to_string(c.version()));
    std::cout << "  agency:    " << l.agency() << "\n"
              << "  number:    " << l.number() << (l.issued_at_text().empty() ? "" : ", issued " + l.issued_at_text())
              << "\n"
              << "  serials:   [" << join(serials) << "]\n"
              << "  charters:  [" << join(charters) << "]\n";
    std::vector<std::string> peerings;
    for (const auto& p : l.revoked_peerings())
      peerings.push_back(p.peering_id() + " up to v" + std::to_string(p.version()));
    if (!peerings.empty()) std::cout << "  peerings:  [" << join(peerings) << "]\n";
  }
  for (const auto& a : r.authorities()) {
    std::cout << "  authority: " << a.agency() << " (" << a.country() << ") key " << a.verify_key() << "\n";
  }
  if (r.has_key()) {
    const auto& k = r.key();
    if (!k.mode().empty()) std::cout << "  mode:      " << k.mode() << " (the secret is not shown)\n";
    if (!k.signing_key().empty()) std::cout << "  signing public key:   " << k.signing_key() << "\n";
    if (!k.sealing_key().empty()) std::cout << "  sealing public key:   " << k.sealing_key() << "\n";
    if (!k.transport_key().empty()) std::cout << "  transport public key: " << k.transport_key() << "\n";
    if (!k.audit_key().empty()) std::cout << "  audit public key:     " << k.audit_key() << "\n";
    if (!k.matches().empty()) std::cout << "  matches:   " << k.matches() << "\n";
  }
  if (!r.validity().empty()) std::cout << "  validity:  " << r.validity() << "\n";
  if (!r.signer().empty()) std::cout << "  signer:    " << r.signer() << "\n";
  if (!r.signature().empty()) {
    std::cout << "  signature: " << r.signature()
              << (r.trust_store().empty() ? "" : " (trust store " + r.trust_store() + ")") << "\n";
  }
}

void run_inspect(const InspectOptions& o) {
  auto bytes = read_file(o.file, kMaxFileBytes);
  if (!bytes) fail(kInspectCommand, bytes.status());
  const std::int64_t now = now_seconds();
  const Context ctx = load_context(o, now);
  v1::CliInspected out;
  out.set_file(o.file);
  const std::string text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  bool signed_object = false;
  v1::SignedObject obj;
  // A key file (secret or public): `out` is filled, nothing more to do here.
  const bool key = (text.size() >= 8 && inspect_key(o.file, std::string_view(text).substr(0, 8), ctx, &out)) ||
                   inspect_public_key(text, ctx, &out);
  if (key) {
  } else if (parse_strict(*bytes, &obj, "signed object") && !obj.body().empty()) {
    const auto kind = kind_of(o.file, obj);
    if (!kind) unknown_kind(o.file, *bytes);
    signed_object = true;
    out.set_signer(signers_of(obj));
    out.set_signature(ctx.missing);
    out.set_trust_store(ctx.trust_path);
    switch (*kind) {
      case ObjectKind::kCredential: inspect_credential(o.file, *bytes, obj, ctx, now, &out); break;
      case ObjectKind::kCharter: inspect_charter(o.file, *bytes, obj, ctx, now, &out); break;
      case ObjectKind::kRevocationList: inspect_revocation_list(o.file, *bytes, obj, ctx, &out); break;
    }
  } else if (!is_utf8(text) || !inspect_trust_store(o.file, text, &out)) {
    unknown_kind(o.file, *bytes);
  }
  if (o.json) {
    std::cout << to_json(out) << "\n";
  } else {
    print_text(out);
  }
  if (signed_object && out.signature().rfind("invalid", 0) == 0) {
    std::cout.flush();
    throw CommandExit(kExitFailure, std::string(kInspectCommand) + ": " + o.file + ": signature " + out.signature(),
                      Code::BAD_SIGNATURE);
  }
}

}  // namespace

void add_inspect(CLI::App& certs) {
  auto o = std::make_shared<InspectOptions>();
  auto* sub = certs.add_subcommand(
      "inspect",
      "Show what a PKI file is: a credential, charter, revocation list, trust.toml, key file or broker public key; "
      "its fields, validity now, signer and whether its signature verifies (never a secret). Exit 0 ok, 1 the "
      "signature does not verify, 2 unreadable or of no kind tearline knows");
  sub->add_option("FILE", o->file, "The file to inspect")->required();
  auto* dir = sub->add_option("--directory", o->directory,
                              "Directory folder whose trust.toml checks the signature (default: found beside FILE)")
                  ->type_name("DIR");
  sub->add_option("--pki", o->pki, "PKI folder: check with PKI/directory (instead of --directory)")
      ->type_name("DIR")
      ->excludes(dir);
  sub->add_flag("--json", o->json, "One JSON object (CliInspected in proto/tearline/v1/cli_admin.proto)");
  sub->callback([o] { run_inspect(*o); });
}

}  // namespace tearline::cli::certs
