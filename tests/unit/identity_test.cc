// lib/identity: the trust model. Each case names the check it covers and
// asserts the exact reason code; each has a control showing the same object
// passes when the covered defect is absent, so removing the check fails it.
//
// Read-only cases use the shared DemoWorld; cases that change a PKI generate
// their own into a TempDir.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <optional>

#include "base/canonical_proto.h"
#include "base/files.h"
#include "crypto/key_file.h"
#include "crypto/signing.h"
#include "identity/directory.h"
#include "identity/pki.h"
#include "support/demo_world.h"
#include "support/temp_dir.h"

using namespace tearline;
using identity::Directory;
using identity::LoadReport;
using identity::PkiPaths;
using testing::DemoWorld;
using testing::kDemoNow;
using testing::TempDir;
namespace fs = std::filesystem;
namespace v1 = tearline::v1;
namespace tags = crypto::tags;

namespace {

constexpr std::int64_t kDay = 86400;

const DemoWorld& world() { return DemoWorld::get(); }
const identity::TrustStore& demo_trust() { return world().directory()->trust(); }

Bytes read_bytes(const fs::path& path) {
  auto bytes = read_file(path);
  REQUIRE(bytes);
  return std::move(bytes).value();
}

void write_bytes(const fs::path& path, ByteView bytes) { REQUIRE(write_file_atomic(path, bytes, 0644)); }

v1::SignedObject envelope(ByteView bytes) {
  v1::SignedObject obj;
  REQUIRE(obj.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  return obj;
}

Bytes body_of(const fs::path& path) {
  const v1::SignedObject obj = envelope(read_bytes(path));
  return to_bytes(obj.body());
}

// The demo authorities' secret keys, read once.
const crypto::SigningKey& key_of(std::string_view agency) {
  static const auto keys = [] {
    std::map<std::string, crypto::SigningKey, std::less<>> out;
    for (const auto& a : world().roster().agencies) {
      auto key = crypto::read_authority_key(world().pki().authority_key(a.id));
      if (!key) throw std::runtime_error(key.status().to_string());
      out.emplace(a.id, std::move(key).value());
    }
    return out;
  }();
  return keys.at(std::string(agency));
}

struct Signer {
  std::string agency;  // the name put in the Signature
  const crypto::SigningKey* key;
  std::string_view tag;
};

// A SignedObject over exactly `body`, signed by each signer as given.
Bytes make_signed(ByteView body, const std::vector<Signer>& signers) {
  v1::SignedObject obj;
  obj.set_body(body.data(), body.size());
  for (const auto& s : signers) {
    const crypto::Signature sig = crypto::sign(*s.key, s.tag, body);
    auto* p = obj.add_signatures();
    p->set_agency(s.agency);
    p->set_signature(sig.data(), sig.size());
  }
  return serialize_canonical(obj);
}

enum class Kind { kCredential, kCharter, kRevocationList };

Status verify_as(Kind kind, ByteView bytes, const identity::AuthorityLookup& trust) {
  switch (kind) {
    case Kind::kCredential: return identity::verify_credential(bytes, trust).status();
    case Kind::kCharter: return identity::verify_charter(bytes, trust).status();
    case Kind::kRevocationList: return identity::verify_revocation_list(bytes, trust).status();
  }
  return Status::fail(Code::INVALID_FIELD, "unknown kind");
}

// Builds a Directory from one object; the code of its first rejection, OK if
// it was not rejected.
Code first_rejection(Kind kind, const Bytes& bytes) {
  Directory::Sources sources;
  auto& list = kind == Kind::kCredential ? sources.credentials
               : kind == Kind::kCharter  ? sources.charters
                                         : sources.revocation_lists;
  list.emplace_back("object", bytes);
  LoadReport report;
  auto dir = Directory::build(demo_trust(), sources, kDemoNow, &report);
  REQUIRE(dir != nullptr);
  return report.rejected.empty() ? Code::OK : report.rejected.front().reason.code;
}

std::size_t find_in(const Bytes& hay, ByteView needle, std::size_t from = 0) {
  auto it = std::search(hay.begin() + static_cast<std::ptrdiff_t>(from), hay.end(), needle.begin(), needle.end());
  REQUIRE(it != hay.end());
  return static_cast<std::size_t>(it - hay.begin());
}

bool has_issue(const std::vector<identity::LoadIssue>& issues, std::string_view object, Code code,
               std::string_view mentions = {}) {
  return std::any_of(issues.begin(), issues.end(), [&](const identity::LoadIssue& i) {
    return i.object == object && i.reason.code == code && i.reason.message.find(mentions) != std::string::npos;
  });
}

identity::DirectoryPtr load(const PkiPaths& pki, LoadReport* report, const Directory* previous = nullptr) {
  auto dir = Directory::load(pki.directory(), kDemoNow, report, previous);
  REQUIRE(dir);
  return std::move(dir).value();
}

std::uint64_t serial_of(const Directory& dir, std::string_view node) {
  const identity::Credential* c = dir.node(node);
  REQUIRE(c != nullptr);
  return c->serial;
}

// A private demo PKI for a test that changes it.
struct FreshWorld {
  TempDir dir{"tearline-identity"};
  PkiPaths pki{dir.path() / "pki"};
  FreshWorld() { DemoWorld::generate_into(pki.root()); }
};

}  // namespace

// ---- the demo chain ----------------------------------------------------------

TEST_CASE("the demo roster's chain verifies") {
  const PkiPaths& pki = world().pki();
  LoadReport report;
  auto dir = load(pki, &report);
  CHECK(report.rejected.empty());
  CHECK(report.warnings.empty());

  REQUIRE(dir->nodes().size() == world().roster().nodes.size());
  for (const auto& n : world().roster().nodes) {
    INFO(n.id);
    const identity::Credential* c = dir->node(n.id);
    REQUIRE(c != nullptr);
    CHECK(c->agency == n.agency);
    CHECK(c->country == world().roster().agency(n.agency)->country);
    CHECK(c->clearance == n.clearance);
    CHECK(c->roles == n.roles);
    CHECK(c->not_before == kDemoNow - 3600);
    CHECK(dir->check_node(n.id, kDemoNow).is_ok());
  }

  for (const char* member : {"dea-cucuta-agent", "diran-cucuta-commander", "diran-cucuta-analyst"}) {
    INFO(member);
    CHECK(dir->is_member(member, "cucuta-jtf", kDemoNow));
    CHECK(dir->units_of(member, kDemoNow) == std::vector<std::string>{"cucuta-jtf"});
  }
  for (const char* outsider : {"dea-bogota-analyst", "diran-bogota-hq", "fudra-lab-ops", "fgr-liaison"}) {
    INFO(outsider);
    CHECK_FALSE(dir->is_member(outsider, "cucuta-jtf", kDemoNow));
    CHECK(dir->units_of(outsider, kDemoNow).empty());
  }
  auto charter = dir->charter_in_force("cucuta-jtf", kDemoNow);
  REQUIRE(charter);
  CHECK((*charter)->host_agency == "DIRAN");
  CHECK((*charter)->required_signers() == std::vector<std::string>{"DEA", "DIRAN"});
  for (const auto& a : world().roster().agencies) {
    INFO(a.id);
    REQUIRE(dir->revocation_list(a.id) != nullptr);
    CHECK(dir->revocation_list(a.id)->number == 1);
  }
  CHECK(dir->check_node("nobody", kDemoNow).code() == Code::UNKNOWN_NODE);
}

// ---- tampering ---------------------------------------------------------------

TEST_CASE("a flipped byte in a signed object is rejected with the code of where it lands") {
  struct Flip {
    std::string where;
    std::size_t offset;
    std::uint8_t mask;
    Code expected;
  };
  struct Object {
    std::string name;
    Kind kind;
    Bytes bytes;
    std::vector<Flip> flips;
  };
  std::vector<Object> objects;

  {
    const Bytes b = read_bytes(world().pki().credential("dea-cucuta-agent"));
    const v1::SignedObject obj = envelope(b);
    v1::CredentialBody body;
    REQUIRE(body.ParseFromString(obj.body()));
    const std::size_t body_at = find_in(b, as_bytes(obj.body()));
    const std::size_t body_end = body_at + obj.body().size();
    const std::size_t sig_at = find_in(b, as_bytes(obj.signatures(0).signature()), body_end);
    objects.push_back(
        {"credential",
         Kind::kCredential,
         b,
         {
             {"envelope: body field tag", 0, 0x01, Code::BAD_ENCODING},
             {"envelope: body length", 1, 0x01, Code::BAD_ENCODING},
             {"body: format_version field tag", body_at, 0x01, Code::BAD_ENCODING},
             {"body: node id character", find_in(b, as_bytes("dea-cucuta-agent"), body_at) + 4, 0x01,
              Code::BAD_SIGNATURE},
             {"body: signing key byte", find_in(b, as_bytes(body.signing_key()), body_at) + 5, 0x01,
              Code::BAD_SIGNATURE},
             {"body: transport key byte", find_in(b, as_bytes(body.transport_key()), body_at) + 31, 0x80,
              Code::BAD_SIGNATURE},
             {"body: last byte (not_after)", body_end - 1, 0x01, Code::BAD_SIGNATURE},
             {"signature: signer agency name", find_in(b, as_bytes("DEA"), body_end), 0x01, Code::UNKNOWN_AUTHORITY},
             {"signature: length", sig_at - 1, 0x01, Code::BAD_ENCODING},
             {"signature: first byte", sig_at, 0x01, Code::BAD_SIGNATURE},
             {"signature: middle byte", sig_at + 31, 0x40, Code::BAD_SIGNATURE},
             {"signature: last byte", sig_at + 63, 0x80, Code::BAD_SIGNATURE},
         }});
  }
  {
    const Bytes b = read_bytes(world().pki().charter("cucuta-jtf", 1));
    const v1::SignedObject obj = envelope(b);
    REQUIRE(obj.signatures_size() == 2);
    const std::size_t body_at = find_in(b, as_bytes(obj.body()));
    const std::size_t body_end = body_at + obj.body().size();
    const std::size_t sig0 = find_in(b, as_bytes(obj.signatures(0).signature()), body_end);
    const std::size_t sig1 = find_in(b, as_bytes(obj.signatures(1).signature()), body_end);
    objects.push_back(
        {"charter",
         Kind::kCharter,
         b,
         {
             {"envelope: body field tag", 0, 0x01, Code::BAD_ENCODING},
             {"body: format_version field tag", body_at, 0x01, Code::BAD_ENCODING},
             {"body: unit id character", find_in(b, as_bytes("cucuta-jtf"), body_at) + 1, 0x01, Code::BAD_SIGNATURE},
             {"body: member node id character", find_in(b, as_bytes("dea-cucuta-agent"), body_at) + 6, 0x01,
              Code::BAD_SIGNATURE},
             {"body: last byte (not_after)", body_end - 1, 0x01, Code::BAD_SIGNATURE},
             {"first signature: length", sig0 - 1, 0x01, Code::BAD_ENCODING},
             {"first signature: first byte", sig0, 0x01, Code::BAD_SIGNATURE},
             {"second signature: last byte", sig1 + 63, 0x01, Code::BAD_SIGNATURE},
         }});
  }
  {
    const Bytes b = read_bytes(world().pki().revocation_list("DEA"));
    const v1::SignedObject obj = envelope(b);
    const std::size_t body_at = find_in(b, as_bytes(obj.body()));
    const std::size_t body_end = body_at + obj.body().size();
    const std::size_t number_at = find_in(b, Bytes{0x18, 0x01}, body_at) + 1;  // number = 1
    const std::size_t sig_at = find_in(b, as_bytes(obj.signatures(0).signature()), body_end);
    objects.push_back({"revocation list",
                       Kind::kRevocationList,
                       b,
                       {
                           {"envelope: body field tag", 0, 0x01, Code::BAD_ENCODING},
                           {"body: format_version field tag", body_at, 0x01, Code::BAD_ENCODING},
                           {"body: agency character", find_in(b, as_bytes("DEA"), body_at), 0x01, Code::BAD_SIGNATURE},
                           {"body: number 1 -> 3", number_at, 0x02, Code::BAD_SIGNATURE},
                           // An explicit zero is not the canonical encoding (proto3 omits it).
                           {"body: number 1 -> explicit 0", number_at, 0x01, Code::BAD_ENCODING},
                           {"signature: signer agency name", find_in(b, as_bytes("DEA"), body_end) + 2, 0x01,
                            Code::UNKNOWN_AUTHORITY},
                           {"signature: length", sig_at - 1, 0x01, Code::BAD_ENCODING},
                           {"signature: first byte", sig_at, 0x01, Code::BAD_SIGNATURE},
                           {"signature: last byte", sig_at + 63, 0x01, Code::BAD_SIGNATURE},
                       }});
  }

  for (const auto& o : objects) {
    INFO(o.name);
    REQUIRE(verify_as(o.kind, o.bytes, demo_trust()).is_ok());  // control: the intact object verifies
    for (const auto& f : o.flips) {
      INFO(f.where << " (offset " << f.offset << ", mask " << int{f.mask} << ")");
      REQUIRE(f.offset < o.bytes.size());
      Bytes bad = o.bytes;
      bad[f.offset] ^= f.mask;
      const Status s = verify_as(o.kind, bad, demo_trust());
      CHECK(s.code() == f.expected);
      CHECK(std::all_of(s.reasons().begin(), s.reasons().end(), [&](const Reason& r) { return r.code == f.expected; }));
      CHECK(first_rejection(o.kind, bad) == f.expected);
    }
  }
}

TEST_CASE("a signature made under another object type's domain tag does not verify") {
  const Bytes credential = body_of(world().pki().credential("dea-cucuta-agent"));
  const Bytes charter = body_of(world().pki().charter("cucuta-jtf", 1));
  const Bytes list = body_of(world().pki().revocation_list("DEA"));
  const auto* dea = &key_of("DEA");
  const auto* diran = &key_of("DIRAN");
  struct Row {
    std::string what;
    Kind kind;
    const Bytes* body;
    std::string_view right_tag, wrong_tag;
  };
  const Row rows[] = {
      {"credential signed as a charter", Kind::kCredential, &credential, tags::kCredential, tags::kCharter},
      {"credential signed as a revocation list", Kind::kCredential, &credential, tags::kCredential,
       tags::kRevocationList},
      {"credential signed as a report", Kind::kCredential, &credential, tags::kCredential, tags::kReport},
      {"revocation list signed as a credential", Kind::kRevocationList, &list, tags::kRevocationList,
       tags::kCredential},
      {"revocation list signed as a charter", Kind::kRevocationList, &list, tags::kRevocationList, tags::kCharter},
      {"charter signed as a credential", Kind::kCharter, &charter, tags::kCharter, tags::kCredential},
      {"charter signed as a revocation list", Kind::kCharter, &charter, tags::kCharter, tags::kRevocationList},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    auto signers = [&](std::string_view tag) {
      if (row.kind == Kind::kCharter) return std::vector<Signer>{{"DIRAN", diran, tag}, {"DEA", dea, tag}};
      return std::vector<Signer>{{"DEA", dea, tag}};
    };
    CHECK(verify_as(row.kind, make_signed(*row.body, signers(row.right_tag)), demo_trust()).is_ok());
    const Bytes forged = make_signed(*row.body, signers(row.wrong_tag));
    const Status s = verify_as(row.kind, forged, demo_trust());
    CHECK(s.code() == Code::BAD_SIGNATURE);
    CHECK(first_rejection(row.kind, forged) == Code::BAD_SIGNATURE);
  }

  SECTION("the charter co-signing path cannot be used to sign a credential") {
    v1::SignedObject obj;
    obj.set_body(credential.data(), credential.size());
    identity::cosign_charter(&obj, *demo_trust().authority("DEA"), *dea);
    CHECK(identity::verify_credential(serialize_canonical(obj), demo_trust()).code() == Code::BAD_SIGNATURE);
  }
  SECTION("a charter signature moved onto the credential envelope") {
    const v1::SignedObject charter_obj = envelope(read_bytes(world().pki().charter("cucuta-jtf", 1)));
    v1::SignedObject obj = envelope(read_bytes(world().pki().credential("dea-cucuta-agent")));
    for (const auto& sig : charter_obj.signatures()) {
      if (sig.agency() == "DEA") *obj.mutable_signatures(0) = sig;
    }
    CHECK(identity::verify_credential(serialize_canonical(obj), demo_trust()).code() == Code::BAD_SIGNATURE);
  }
}

// ---- who may sign what -------------------------------------------------------

TEST_CASE("an object signed by an authority other than the required one is WRONG_AUTHORITY") {
  const Bytes credential = body_of(world().pki().credential("dea-cucuta-agent"));
  const Bytes list = body_of(world().pki().revocation_list("DEA"));
  const Bytes charter = body_of(world().pki().charter("cucuta-jtf", 1));

  SECTION("a DEA node's credential signed by DIRAN") {
    CHECK(
        identity::verify_credential(make_signed(credential, {{"DEA", &key_of("DEA"), tags::kCredential}}), demo_trust())
            .is_ok());
    const Bytes forged = make_signed(credential, {{"DIRAN", &key_of("DIRAN"), tags::kCredential}});
    CHECK(identity::verify_credential(forged, demo_trust()).code() == Code::WRONG_AUTHORITY);
    CHECK(first_rejection(Kind::kCredential, forged) == Code::WRONG_AUTHORITY);
  }
  SECTION("DEA's revocation list signed by DIRAN") {
    const Bytes forged = make_signed(list, {{"DIRAN", &key_of("DIRAN"), tags::kRevocationList}});
    CHECK(identity::verify_revocation_list(forged, demo_trust()).code() == Code::WRONG_AUTHORITY);
  }
  SECTION("a charter also signed by an agency that is no party to it") {
    const Bytes forged = make_signed(charter, {{"DIRAN", &key_of("DIRAN"), tags::kCharter},
                                               {"DEA", &key_of("DEA"), tags::kCharter},
                                               {"FGR", &key_of("FGR"), tags::kCharter}});
    const Status s = identity::verify_charter(forged, demo_trust()).status();
    CHECK(s.code() == Code::WRONG_AUTHORITY);
    CHECK(s.reasons().size() == 1);
  }
  SECTION("a charter signed twice by the same agency") {
    const Bytes forged = make_signed(charter, {{"DIRAN", &key_of("DIRAN"), tags::kCharter},
                                               {"DEA", &key_of("DEA"), tags::kCharter},
                                               {"DEA", &key_of("DEA"), tags::kCharter}});
    CHECK(identity::verify_charter(forged, demo_trust()).code() == Code::BAD_ENCODING);
  }
  SECTION("a credential with two signatures") {
    const Bytes forged = make_signed(
        credential, {{"DEA", &key_of("DEA"), tags::kCredential}, {"DEA", &key_of("DEA"), tags::kCredential}});
    CHECK(identity::verify_credential(forged, demo_trust()).code() == Code::BAD_SIGNATURE);
  }
  SECTION("a credential naming a country other than its agency's") {
    v1::CredentialBody body;
    REQUIRE(body.ParseFromArray(credential.data(), static_cast<int>(credential.size())));
    body.set_country("COL");
    const Bytes forged = make_signed(serialize_canonical(body), {{"DEA", &key_of("DEA"), tags::kCredential}});
    CHECK(identity::verify_credential(forged, demo_trust()).code() == Code::INVALID_FIELD);
  }
}

TEST_CASE("a signer that is not a pinned authority is UNKNOWN_AUTHORITY") {
  const crypto::SigningKey rogue = crypto::SigningKey::generate();
  const Bytes credential = body_of(world().pki().credential("dea-cucuta-agent"));
  const Bytes charter = body_of(world().pki().charter("cucuta-jtf", 1));
  const Bytes list = body_of(world().pki().revocation_list("DEA"));

  SECTION("credential signed by an unpinned agency") {
    const Bytes forged = make_signed(credential, {{"CIA", &rogue, tags::kCredential}});
    CHECK(identity::verify_credential(forged, demo_trust()).code() == Code::UNKNOWN_AUTHORITY);
    CHECK(first_rejection(Kind::kCredential, forged) == Code::UNKNOWN_AUTHORITY);
  }
  SECTION("credential of a node of an unpinned agency") {
    v1::CredentialBody body;
    REQUIRE(body.ParseFromArray(credential.data(), static_cast<int>(credential.size())));
    body.set_agency("CIA");
    const Bytes forged = make_signed(serialize_canonical(body), {{"CIA", &rogue, tags::kCredential}});
    CHECK(identity::verify_credential(forged, demo_trust()).code() == Code::UNKNOWN_AUTHORITY);
  }
  SECTION("a pinned name with another key is a bad signature, not an unknown one") {
    const Bytes forged = make_signed(credential, {{"DEA", &rogue, tags::kCredential}});
    CHECK(identity::verify_credential(forged, demo_trust()).code() == Code::BAD_SIGNATURE);
  }
  SECTION("charter with an extra unpinned signer") {
    const Bytes forged = make_signed(charter, {{"DIRAN", &key_of("DIRAN"), tags::kCharter},
                                               {"DEA", &key_of("DEA"), tags::kCharter},
                                               {"CIA", &rogue, tags::kCharter}});
    const Status s = identity::verify_charter(forged, demo_trust()).status();
    CHECK(s.code() == Code::UNKNOWN_AUTHORITY);
    CHECK(s.reasons().size() == 1);
  }
  SECTION("revocation list signed by an unpinned agency") {
    CHECK(identity::verify_revocation_list(make_signed(list, {{"CIA", &rogue, tags::kRevocationList}}), demo_trust())
              .code() == Code::UNKNOWN_AUTHORITY);
  }
  SECTION("a directory whose trust store lacks the agency") {
    identity::TrustStore only_diran;
    REQUIRE(only_diran.add(*demo_trust().authority("DIRAN")));
    Directory::Sources sources;
    sources.credentials.emplace_back("dea-cucuta-agent.cred", read_bytes(world().pki().credential("dea-cucuta-agent")));
    sources.credentials.emplace_back("diran-bogota-hq.cred", read_bytes(world().pki().credential("diran-bogota-hq")));
    LoadReport report;
    auto dir = Directory::build(only_diran, sources, kDemoNow, &report);
    CHECK(has_issue(report.rejected, "dea-cucuta-agent.cred", Code::UNKNOWN_AUTHORITY, "DEA"));
    CHECK(dir->node("dea-cucuta-agent") == nullptr);
    CHECK(dir->node("diran-bogota-hq") != nullptr);
  }
}

// ---- canonical encoding ------------------------------------------------------

TEST_CASE("a properly signed body that is not canonical is BAD_ENCODING") {
  const Bytes original = body_of(world().pki().credential("dea-cucuta-agent"));
  v1::CredentialBody parsed;
  REQUIRE(parsed.ParseFromArray(original.data(), static_cast<int>(original.size())));
  REQUIRE(original.size() > 2);
  REQUIRE(to_hex(ByteView(original.data(), 2)) == "0801");  // format_version = 1 comes first

  auto with_unknown_field = [&] {
    v1::CredentialBody b = parsed;
    b.GetReflection()->MutableUnknownFields(&b)->AddVarint(99, 1);
    return serialize_canonical(b);  // the unknown field is re-emitted after the known ones
  };
  auto appended = [&](Bytes extra) {
    Bytes b = original;
    b.insert(b.end(), extra.begin(), extra.end());
    return b;
  };
  Bytes duplicate_node_id = {0x12, 18};
  for (char c : std::string_view("dea-bogota-analyst")) duplicate_node_id.push_back(static_cast<std::uint8_t>(c));

  struct Row {
    std::string what;
    Bytes body;
  };
  std::vector<Row> rows = {
      {"unknown field 99 appended", with_unknown_field()},
      {"unknown field 99 appended by hand", appended({0x98, 0x06, 0x01})},
      {"node_id repeated (protobuf keeps the last)", appended(duplicate_node_id)},
      {"format_version moved to the end",
       [&] {
         Bytes b(original.begin() + 2, original.end());
         b.push_back(0x08);
         b.push_back(0x01);
         return b;
       }()},
      {"format_version as a non-minimal varint",
       [&] {
         Bytes b = original;
         b[1] = 0x81;
         b.insert(b.begin() + 2, 0x00);
         return b;
       }()},
      {"serial repeated as 0 (protobuf keeps the last)", appended({0x50, 0x00})},
  };
  const crypto::SigningKey& dea = key_of("DEA");
  CHECK(identity::verify_credential(make_signed(original, {{"DEA", &dea, tags::kCredential}}), demo_trust()).is_ok());
  for (const Row& row : rows) {
    INFO(row.what);
    REQUIRE(row.body != original);
    const Bytes signed_bytes = make_signed(row.body, {{"DEA", &dea, tags::kCredential}});
    CHECK(identity::verify_credential(signed_bytes, demo_trust()).code() == Code::BAD_ENCODING);
    CHECK(first_rejection(Kind::kCredential, signed_bytes) == Code::BAD_ENCODING);
  }

  SECTION("an unknown field nested in a charter member") {
    v1::CharterBody charter;
    const Bytes charter_bytes = body_of(world().pki().charter("cucuta-jtf", 1));
    REQUIRE(charter.ParseFromArray(charter_bytes.data(), static_cast<int>(charter_bytes.size())));
    auto* member = charter.mutable_members(2);
    member->GetReflection()->MutableUnknownFields(member)->AddLengthDelimited(7, "DIRAN");
    const Bytes body = serialize_canonical(charter);
    const Bytes forged =
        make_signed(body, {{"DIRAN", &key_of("DIRAN"), tags::kCharter}, {"DEA", &key_of("DEA"), tags::kCharter}});
    CHECK(identity::verify_charter(forged, demo_trust()).code() == Code::BAD_ENCODING);
  }
  SECTION("an unknown field in the envelope") {
    v1::SignedObject obj = envelope(read_bytes(world().pki().credential("dea-cucuta-agent")));
    obj.GetReflection()->MutableUnknownFields(&obj)->AddVarint(3, 1);
    CHECK(identity::verify_credential(serialize_canonical(obj), demo_trust()).code() == Code::BAD_ENCODING);
  }
  SECTION("an envelope with no signature") {
    CHECK(identity::verify_credential(make_signed(original, {}), demo_trust()).code() == Code::BAD_SIGNATURE);
  }
}

// ---- validity in time --------------------------------------------------------

TEST_CASE("credential validity is a question asked with a time") {
  const Directory& dir = *world().directory();
  const identity::Credential* c = dir.node("dea-cucuta-agent");
  REQUIRE(c != nullptr);
  struct Row {
    std::string what;
    std::int64_t t;
    Code expected;
  };
  const Row rows[] = {
      {"a second before not_before", c->not_before - 1, Code::NOT_YET_VALID},
      {"a year before", c->not_before - 365 * kDay, Code::NOT_YET_VALID},
      {"at not_before (inclusive)", c->not_before, Code::OK},
      {"demo now", kDemoNow, Code::OK},
      {"a second before not_after", c->not_after - 1, Code::OK},
      {"at not_after (exclusive)", c->not_after, Code::EXPIRED},
      {"ten years later", c->not_after + 3650 * kDay, Code::EXPIRED},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    CHECK(dir.check_node("dea-cucuta-agent", row.t).code() == row.expected);
  }
}

TEST_CASE("expired and not-yet-valid credentials load with a warning and fail check_node") {
  FreshWorld fresh;
  identity::IssueRequest past{"dea-retired", "DEA", v1::SECRET, {"agent"}, kDemoNow - 30 * kDay, kDemoNow - kDay, 0};
  identity::IssueRequest future{"dea-incoming", "DEA", v1::SECRET, {"agent"}, kDemoNow + kDay, kDemoNow + 30 * kDay, 0};
  REQUIRE(identity::issue_node(fresh.pki, past));
  REQUIRE(identity::issue_node(fresh.pki, future));

  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(report.rejected.empty());
  CHECK(has_issue(report.warnings, "dea-retired.cred", Code::EXPIRED));
  CHECK(has_issue(report.warnings, "dea-incoming.cred", Code::NOT_YET_VALID));
  CHECK(dir->check_node("dea-retired", kDemoNow).code() == Code::EXPIRED);
  CHECK(dir->check_node("dea-incoming", kDemoNow).code() == Code::NOT_YET_VALID);
  CHECK(dir->check_node("dea-incoming", kDemoNow + kDay).is_ok());
  CHECK(dir->check_node("dea-retired", kDemoNow - 2 * kDay).is_ok());

  identity::IssueRequest inverted{"dea-bad", "DEA", v1::SECRET, {}, kDemoNow, kDemoNow, 0};
  CHECK(identity::issue_node(fresh.pki, inverted).code() == Code::INVALID_FIELD);
  identity::IssueRequest unset{"dea-bad", "DEA", v1::CLASSIFICATION_UNSET, {}, kDemoNow, kDemoNow + kDay, 0};
  CHECK(identity::issue_node(fresh.pki, unset).code() == Code::INVALID_FIELD);
}

TEST_CASE("a charter outside its window is not in force") {
  FreshWorld fresh;
  auto v = identity::create_charter(fresh.pki, "later-cell", "DIRAN", {"diran-bogota-hq"}, kDemoNow + kDay,
                                    kDemoNow + 10 * kDay);
  REQUIRE(v);
  REQUIRE(identity::cosign_charter_file(fresh.pki, "later-cell", *v, "DIRAN"));
  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(report.rejected.empty());
  CHECK(dir->charter_in_force("later-cell", kDemoNow).code() == Code::NOT_YET_VALID);
  CHECK_FALSE(dir->is_member("diran-bogota-hq", "later-cell", kDemoNow));
  CHECK(dir->is_member("diran-bogota-hq", "later-cell", kDemoNow + kDay));
  CHECK(dir->charter_in_force("later-cell", kDemoNow + 10 * kDay).code() == Code::EXPIRED);
}

// ---- revocation --------------------------------------------------------------

TEST_CASE("a revoked serial makes check_node REVOKED, for that agency only") {
  FreshWorld fresh;
  LoadReport before_report;
  auto before = load(fresh.pki, &before_report);
  const std::uint64_t serial = serial_of(*before, "dea-cucuta-agent");
  // Serials are per agency: DIRAN's commander has the same number.
  REQUIRE(serial_of(*before, "diran-cucuta-commander") == serial);
  REQUIRE(before->check_node("dea-cucuta-agent", kDemoNow).is_ok());

  auto number = identity::revoke(fresh.pki, "DEA", {serial}, {}, kDemoNow);
  REQUIRE(number);
  CHECK(*number == 2);
  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(report.rejected.empty());
  const Status s = dir->check_node("dea-cucuta-agent", kDemoNow);
  CHECK(s.code() == Code::REVOKED);
  CHECK(s.reasons().size() == 1);
  CHECK(dir->check_node("dea-bogota-analyst", kDemoNow).is_ok());
  CHECK(dir->check_node("diran-cucuta-commander", kDemoNow).is_ok());
  REQUIRE(dir->revocation_list("DEA") != nullptr);
  CHECK(dir->revocation_list("DEA")->number == 2);

  // The next list keeps what the previous one revoked.
  REQUIRE(identity::revoke(fresh.pki, "DEA", {serial_of(*dir, "dea-bogota-analyst")}, {}, kDemoNow));
  LoadReport report3;
  auto dir3 = load(fresh.pki, &report3);
  CHECK(dir3->revocation_list("DEA")->number == 3);
  CHECK(dir3->check_node("dea-cucuta-agent", kDemoNow).code() == Code::REVOKED);
  CHECK(dir3->check_node("dea-bogota-analyst", kDemoNow).code() == Code::REVOKED);
}

TEST_CASE("a charter version revoked by a party agency is no longer in force") {
  FreshWorld fresh;
  // A non-party withdrawing "consent" it never gave changes nothing.
  REQUIRE(identity::revoke(fresh.pki, "FGR", {}, {{"cucuta-jtf", 1}}, kDemoNow));
  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(dir->is_member("dea-cucuta-agent", "cucuta-jtf", kDemoNow));

  REQUIRE(identity::revoke(fresh.pki, "DEA", {}, {{"cucuta-jtf", 1}}, kDemoNow));
  LoadReport report2;
  auto revoked = load(fresh.pki, &report2);
  CHECK(report2.rejected.empty());
  CHECK(revoked->charter_in_force("cucuta-jtf", kDemoNow).code() == Code::REVOKED);
  for (const char* member : {"dea-cucuta-agent", "diran-cucuta-commander", "diran-cucuta-analyst"}) {
    INFO(member);
    CHECK(revoked->units_of(member, kDemoNow).empty());
    CHECK_FALSE(revoked->is_member(member, "cucuta-jtf", kDemoNow));
  }
}

TEST_CASE("the highest charter version in force wins; revoking it falls back") {
  FreshWorld fresh;
  // v2 drops the DEA agent; DEA is then no party and need not sign.
  auto v2 = identity::create_charter(fresh.pki, "cucuta-jtf", "DIRAN", {"diran-cucuta-commander"}, kDemoNow - 3600,
                                     kDemoNow + 30 * kDay);
  REQUIRE(v2);
  REQUIRE(*v2 == 2);
  REQUIRE(identity::cosign_charter_file(fresh.pki, "cucuta-jtf", 2, "DIRAN"));
  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(report.rejected.empty());
  auto in_force = dir->charter_in_force("cucuta-jtf", kDemoNow);
  REQUIRE(in_force);
  CHECK((*in_force)->version == 2);
  CHECK_FALSE(dir->is_member("dea-cucuta-agent", "cucuta-jtf", kDemoNow));
  CHECK(dir->is_member("diran-cucuta-commander", "cucuta-jtf", kDemoNow));

  REQUIRE(identity::revoke(fresh.pki, "DIRAN", {}, {{"cucuta-jtf", 2}}, kDemoNow));
  LoadReport report2;
  auto fallback = load(fresh.pki, &report2);
  auto v1_in_force = fallback->charter_in_force("cucuta-jtf", kDemoNow);
  REQUIRE(v1_in_force);
  CHECK((*v1_in_force)->version == 1);
  CHECK(fallback->is_member("dea-cucuta-agent", "cucuta-jtf", kDemoNow));
}

TEST_CASE("a revocation list with a lower number than the one held is REVOCATION_ROLLBACK") {
  FreshWorld fresh;
  LoadReport r0;
  const std::uint64_t serial = serial_of(*load(fresh.pki, &r0), "dea-cucuta-agent");
  REQUIRE(identity::revoke(fresh.pki, "DEA", {}, {}, kDemoNow).is_ok());  // list 2: nothing revoked
  const Bytes list2 = read_bytes(fresh.pki.revocation_list("DEA"));
  REQUIRE(identity::revoke(fresh.pki, "DEA", {serial}, {}, kDemoNow).is_ok());  // list 3: the agent revoked
  LoadReport held_report;
  auto held = load(fresh.pki, &held_report);
  REQUIRE(held->revocation_list("DEA")->number == 3);
  REQUIRE(held->check_node("dea-cucuta-agent", kDemoNow).code() == Code::REVOKED);

  // Someone puts list 2 back.
  write_bytes(fresh.pki.revocation_list("DEA"), list2);

  // Control: a first load, with nothing held, takes list 2 at face value.
  LoadReport naive_report;
  auto naive = load(fresh.pki, &naive_report);
  CHECK(naive->revocation_list("DEA")->number == 2);
  CHECK(naive->check_node("dea-cucuta-agent", kDemoNow).is_ok());

  LoadReport report;
  auto reloaded = load(fresh.pki, &report, held.get());
  CHECK(has_issue(report.rejected, "DEA.crl", Code::REVOCATION_ROLLBACK, "older than list 3"));
  REQUIRE(reloaded->revocation_list("DEA") != nullptr);
  CHECK(reloaded->revocation_list("DEA")->number == 3);
  CHECK(reloaded->check_node("dea-cucuta-agent", kDemoNow).code() == Code::REVOKED);

  SECTION("a list with a higher number replaces the held one") {
    REQUIRE(identity::revoke(fresh.pki, "DEA", {}, {}, kDemoNow).is_ok());  // 2 + 1 = 3 again, from list 2
    REQUIRE(identity::revoke(fresh.pki, "DEA", {}, {}, kDemoNow).is_ok());  // 4, still without the agent
    LoadReport newer_report;
    auto newer = load(fresh.pki, &newer_report, held.get());
    CHECK(newer_report.rejected.empty());
    CHECK(newer->revocation_list("DEA")->number == 4);
    CHECK(newer->check_node("dea-cucuta-agent", kDemoNow).is_ok());
  }
}

// ---- consent -----------------------------------------------------------------

TEST_CASE("a charter lacking a party's consent is rejected with MISSING_CONSENT") {
  FreshWorld fresh;
  const std::int64_t from = kDemoNow - 3600, to = kDemoNow + 30 * kDay;

  // DIRAN hosts and enrolls a DEA agent; DEA never co-signs.
  auto v = identity::create_charter(fresh.pki, "border-cell", "DIRAN", {"diran-cucuta-analyst", "dea-cucuta-agent"},
                                    from, to);
  REQUIRE(v);
  REQUIRE(identity::cosign_charter_file(fresh.pki, "border-cell", *v, "DIRAN"));
  // DEA signs a unit hosted by DIRAN; DIRAN never does.
  auto w = identity::create_charter(fresh.pki, "dea-cell", "DIRAN", {"dea-bogota-analyst"}, from, to);
  REQUIRE(w);
  REQUIRE(identity::cosign_charter_file(fresh.pki, "dea-cell", *w, "DEA"));
  // Nobody signs.
  REQUIRE(identity::create_charter(fresh.pki, "empty-cell", "DIRAN", {"diran-bogota-hq"}, from, to));

  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(has_issue(report.rejected, "border-cell.v1.charter", Code::MISSING_CONSENT, "DEA"));
  CHECK(has_issue(report.rejected, "dea-cell.v1.charter", Code::MISSING_CONSENT, "DIRAN (the host agency)"));
  CHECK(has_issue(report.rejected, "empty-cell.v1.charter", Code::BAD_SIGNATURE, "no signature"));
  CHECK_FALSE(dir->is_member("dea-cucuta-agent", "border-cell", kDemoNow));
  CHECK_FALSE(dir->is_member("diran-cucuta-analyst", "border-cell", kDemoNow));
  CHECK_FALSE(dir->is_member("dea-bogota-analyst", "dea-cell", kDemoNow));
  CHECK(dir->unit_ids() == std::vector<std::string>{"cucuta-jtf"});

  // Control: once DEA co-signs, the unit takes effect.
  REQUIRE(identity::cosign_charter_file(fresh.pki, "border-cell", *v, "DEA"));
  LoadReport after;
  auto consented = load(fresh.pki, &after);
  CHECK_FALSE(has_issue(after.rejected, "border-cell.v1.charter", Code::MISSING_CONSENT));
  CHECK(consented->is_member("dea-cucuta-agent", "border-cell", kDemoNow));
}

TEST_CASE("a charter listing a node under an agency that is not its own enrolls nobody") {
  // DIRAN alone signs a charter that claims the DEA agent is a DIRAN member.
  v1::CharterBody body;
  body.set_format_version(1);
  body.set_unit_id("hijack");
  body.set_host_agency("DIRAN");
  body.set_version(1);
  body.set_not_before(kDemoNow - 3600);
  body.set_not_after(kDemoNow + kDay);
  auto* m = body.add_members();
  m->set_node_id("dea-cucuta-agent");
  m->set_agency("DIRAN");
  auto* own = body.add_members();
  own->set_node_id("diran-bogota-hq");
  own->set_agency("DIRAN");
  const Bytes charter = make_signed(serialize_canonical(body), {{"DIRAN", &key_of("DIRAN"), tags::kCharter}});
  REQUIRE(identity::verify_charter(charter, demo_trust()).is_ok());  // consistent on its own

  Directory::Sources sources;
  sources.credentials.emplace_back("dea-cucuta-agent.cred", read_bytes(world().pki().credential("dea-cucuta-agent")));
  sources.credentials.emplace_back("diran-bogota-hq.cred", read_bytes(world().pki().credential("diran-bogota-hq")));
  sources.charters.emplace_back("hijack.v1.charter", charter);
  LoadReport report;
  auto dir = Directory::build(demo_trust(), sources, kDemoNow, &report);
  CHECK(has_issue(report.rejected, "unit hijack member dea-cucuta-agent", Code::WRONG_AUTHORITY));
  CHECK_FALSE(dir->is_member("dea-cucuta-agent", "hijack", kDemoNow));
  CHECK(dir->units_of("dea-cucuta-agent", kDemoNow).empty());
  CHECK(dir->is_member("diran-bogota-hq", "hijack", kDemoNow));
}

// ---- the trust store ---------------------------------------------------------

TEST_CASE("a directory without a usable trust store does not load") {
  struct Row {
    std::string what;
    std::optional<std::string> trust_toml;  // nullopt: no file
    Code expected;
  };
  const std::string key = to_hex(demo_trust().authority("DEA")->verify_key.view());
  const Row rows[] = {
      {"missing trust store", std::nullopt, Code::IO_ERROR},
      {"empty file", "", Code::EMPTY_TRUST_STORE},
      {"comments only", "# nothing pinned yet\n", Code::EMPTY_TRUST_STORE},
      {"an empty authority list", "authority = []\n", Code::EMPTY_TRUST_STORE},
      {"not TOML", "[[authority]\nagency = \n", Code::INVALID_FIELD},
      {"short key", "[[authority]]\nagency = \"DEA\"\ncountry = \"USA\"\nverify_key = \"abcd\"\n", Code::INVALID_FIELD},
      {"unknown country", "[[authority]]\nagency = \"DEA\"\ncountry = \"XXX\"\nverify_key = \"" + key + "\"\n",
       Code::INVALID_FIELD},
      {"agency pinned twice",
       "[[authority]]\nagency = \"DEA\"\ncountry = \"USA\"\nverify_key = \"" + key +
           "\"\n[[authority]]\nagency = \"DEA\"\ncountry = \"USA\"\nverify_key = \"" + key + "\"\n",
       Code::DUPLICATE_OBJECT},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    TempDir dir;
    fs::create_directories(dir.path() / "credentials");
    fs::copy_file(world().pki().credential("dea-cucuta-agent"), dir.path() / "credentials" / "dea-cucuta-agent.cred");
    if (row.trust_toml) write_bytes(dir.path() / "trust.toml", as_bytes(*row.trust_toml));
    LoadReport report;
    auto loaded = Directory::load(dir.path(), kDemoNow, &report);
    CHECK(loaded.code() == row.expected);
  }

  // Control: the same folder with one good authority loads the credential.
  TempDir dir;
  fs::create_directories(dir.path() / "credentials");
  fs::copy_file(world().pki().credential("dea-cucuta-agent"), dir.path() / "credentials" / "dea-cucuta-agent.cred");
  write_bytes(dir.path() / "trust.toml",
              as_bytes("[[authority]]\nagency = \"DEA\"\ncountry = \"USA\"\nverify_key = \"" + key + "\"\n"));
  LoadReport report;
  auto loaded = Directory::load(dir.path(), kDemoNow, &report);
  REQUIRE(loaded);
  CHECK((*loaded)->node("dea-cucuta-agent") != nullptr);
}

// ---- issuing -----------------------------------------------------------------

TEST_CASE("issuing refuses bad input before writing anything") {
  FreshWorld fresh;
  SECTION("an authority with an unknown country is not pinned") {
    CHECK(identity::init_authority(fresh.pki, "CIA", "XXX").code() == Code::INVALID_FIELD);
    auto trust = identity::TrustStore::load(fresh.pki.trust_store());
    REQUIRE(trust);
    CHECK(trust->authority("CIA") == nullptr);
    CHECK_FALSE(fs::exists(fresh.pki.authority_key("CIA")));
  }
  SECTION("an authority with an invalid id") {
    CHECK(identity::init_authority(fresh.pki, "../CIA", "USA").code() == Code::INVALID_FIELD);
    CHECK(identity::TrustStore::load(fresh.pki.trust_store()).is_ok());
  }
  SECTION("an existing authority") {
    CHECK(identity::init_authority(fresh.pki, "DEA", "USA").code() == Code::DUPLICATE_OBJECT);
  }
  SECTION("a charter whose unit id is not an id writes no file") {
    auto v = identity::create_charter(fresh.pki, "../escape", "DIRAN", {"diran-bogota-hq"}, kDemoNow, kDemoNow + kDay);
    CHECK(v.code() == Code::INVALID_FIELD);
    CHECK_FALSE(fs::exists(fresh.pki.directory() / "escape.v1.charter"));
  }
  SECTION("a charter with an invalid host") {
    CHECK(identity::create_charter(fresh.pki, "cell", "", {"diran-bogota-hq"}, kDemoNow, kDemoNow + kDay).code() ==
          Code::INVALID_FIELD);
    CHECK_FALSE(fs::exists(fresh.pki.charter("cell", 1)));
  }
  SECTION("a charter with a member that has no credential") {
    CHECK(identity::create_charter(fresh.pki, "cell", "DIRAN", {"nobody"}, kDemoNow, kDemoNow + kDay).code() ==
          Code::UNKNOWN_NODE);
  }
  SECTION("a node of an agency with no authority") {
    identity::IssueRequest req{"cia-agent", "CIA", v1::SECRET, {}, kDemoNow, kDemoNow + kDay, 0};
    CHECK(identity::issue_node(fresh.pki, req).code() == Code::UNKNOWN_AUTHORITY);
  }
  SECTION("a node with an invalid id") {
    identity::IssueRequest req{"../x", "DEA", v1::SECRET, {}, kDemoNow, kDemoNow + kDay, 0};
    CHECK(identity::issue_node(fresh.pki, req).code() == Code::INVALID_FIELD);
  }
  SECTION("signing with an authority key file readable by others") {
    REQUIRE(::chmod(fresh.pki.authority_key("DEA").c_str(), 0644) == 0);
    CHECK(identity::revoke(fresh.pki, "DEA", {1}, {}, kDemoNow).code() == Code::KEY_FILE);
    identity::IssueRequest req{"dea-new", "DEA", v1::SECRET, {}, kDemoNow, kDemoNow + kDay, 0};
    CHECK(identity::issue_node(fresh.pki, req).code() == Code::KEY_FILE);
  }
  SECTION("signing with another authority's key file") {
    fs::copy_file(fresh.pki.authority_key("DIRAN"), fresh.pki.authority_key("DEA"),
                  fs::copy_options::overwrite_existing);
    CHECK(identity::revoke(fresh.pki, "DEA", {1}, {}, kDemoNow).code() == Code::KEY_FILE);
  }
}

TEST_CASE("issued key files are 0600 in a 0700 folder and serials count up") {
  FreshWorld fresh;
  auto mode = [](const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
  };
  CHECK(mode(fresh.pki.keys()) == 0700);
  CHECK(mode(fresh.pki.authority_key("DEA")) == 0600);
  CHECK(mode(fresh.pki.node_key("dea-cucuta-agent")) == 0600);
  CHECK(mode(fresh.pki.broker_key()) == 0600);
  CHECK(crypto::read_node_keys(fresh.pki.node_key("dea-cucuta-agent")).is_ok());

  identity::IssueRequest req{"dea-new", "DEA", v1::SECRET, {}, kDemoNow - 60, kDemoNow + kDay, 0};
  auto c = identity::issue_node(fresh.pki, req);
  REQUIRE(c);
  CHECK(c->serial == 3);  // the roster gives DEA serials 1 and 2
  auto keys = crypto::read_node_keys(fresh.pki.node_key("dea-new"));
  REQUIRE(keys);
  CHECK(keys->signing.public_key() == c->signing_key);
  CHECK(keys->sealing.public_key() == c->sealing_key);
  CHECK(keys->transport.public_key() == c->transport_key);
}

TEST_CASE("conflicting credentials for one node are all refused") {
  FreshWorld fresh;
  const fs::path creds = fresh.pki.directory() / "credentials";
  // Three valid credentials for one node (re-issued twice), under three names.
  for (int i = 1; i <= 3; ++i) {
    identity::IssueRequest req{"dea-twin", "DEA", v1::SECRET, {}, kDemoNow - 60, kDemoNow + kDay, 0};
    REQUIRE(identity::issue_node(fresh.pki, req));
    fs::rename(fresh.pki.credential("dea-twin"), creds / ("dea-twin-" + std::to_string(i) + ".cred"));
  }
  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(dir->node("dea-twin") == nullptr);
  CHECK(has_issue(report.rejected, "dea-twin-2.cred", Code::DUPLICATE_OBJECT));
  CHECK(has_issue(report.rejected, "dea-twin-3.cred", Code::DUPLICATE_OBJECT));
  CHECK(dir->node("dea-cucuta-agent") != nullptr);
}

TEST_CASE("a second node reusing another node's transport key is refused") {
  const Bytes agent = read_bytes(world().pki().credential("dea-cucuta-agent"));
  v1::CredentialBody agent_body, analyst_body;
  REQUIRE(agent_body.ParseFromString(envelope(agent).body()));
  const Bytes analyst = body_of(world().pki().credential("dea-bogota-analyst"));
  REQUIRE(analyst_body.ParseFromArray(analyst.data(), static_cast<int>(analyst.size())));
  analyst_body.set_transport_key(agent_body.transport_key());
  Directory::Sources sources;
  sources.credentials.emplace_back("a.cred", agent);
  sources.credentials.emplace_back(
      "b.cred", make_signed(serialize_canonical(analyst_body), {{"DEA", &key_of("DEA"), tags::kCredential}}));
  LoadReport report;
  auto dir = Directory::build(demo_trust(), sources, kDemoNow, &report);
  CHECK(has_issue(report.rejected, "b.cred", Code::DUPLICATE_OBJECT, "transport key"));
  CHECK(dir->node("dea-bogota-analyst") == nullptr);
  CHECK(dir->node("dea-cucuta-agent") != nullptr);
}

// ---- known answers -----------------------------------------------------------
// The byte vectors of docs/trust-model.md ("Worked example"), produced by an
// independent encoder (hand-written protobuf + Python `cryptography` Ed25519).

namespace {

constexpr std::string_view kRfc8032Seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

Bytes unhex(std::string_view text) {
  Bytes out;
  REQUIRE(from_hex(text, &out));
  return out;
}

std::string iota_bytes(int from) {
  std::string s;
  for (int i = from; i < from + 32; ++i) s.push_back(static_cast<char>(i));
  return s;
}

}  // namespace

TEST_CASE("known answer: a credential's body, signature and envelope") {
  const crypto::SigningKey key = crypto::SigningKey::from_seed(unhex(kRfc8032Seed));
  const identity::Authority dea{"DEA", "USA", key.public_key()};
  v1::CredentialBody body;
  body.set_format_version(1);
  body.set_node_id("dea-cucuta-agent");
  body.set_agency("DEA");
  body.set_country("USA");
  body.set_clearance(v1::SECRET);
  body.add_roles("agent");
  body.set_signing_key(iota_bytes(0));
  body.set_sealing_key(iota_bytes(32));
  body.set_transport_key(iota_bytes(64));
  body.set_serial(1);
  body.set_not_before(1780268400);
  body.set_not_after(1811808000);

  CHECK(to_hex(serialize_canonical(body)) ==
        "080112106465612d6375637574612d6167656e741a034445412203555341280432056167656e743a20000102030405060708090a0b0c0d"
        "0e0f101112131415161718191a1b1c1d1e1f4220202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4a2040"
        "4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f500158f0faf2d0066080fef7df06");
  const Bytes envelope_bytes = serialize_canonical(identity::sign_credential(body, dea, key));
  CHECK(to_hex(envelope_bytes) ==
        "0a9b01080112106465612d6375637574612d6167656e741a034445412203555341280432056167656e743a2000010203040506070809"
        "0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f4220202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e"
        "3f4a20404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f500158f0faf2d0066080fef7df0612470a0344"
        "45411240f9d6bbf23491ce8c6cb26c4a0e12a26a57161c1bc3c97a59da254f7e01bd6e36542bf2636d9f8fc6178173cea61c9c74c5af"
        "3d5a800e060611d61d3a9eba460a");

  identity::TrustStore trust;
  REQUIRE(trust.add(dea));
  auto cred = identity::verify_credential(envelope_bytes, trust);
  REQUIRE(cred);
  CHECK(cred->node_id == "dea-cucuta-agent");
  CHECK(cred->clearance == v1::SECRET);
  CHECK(cred->not_after == 1811808000);
}

TEST_CASE("known answer: a revocation list with packed serials") {
  const crypto::SigningKey key = crypto::SigningKey::from_seed(unhex(kRfc8032Seed));
  const identity::Authority dea{"DEA", "USA", key.public_key()};
  v1::RevocationListBody body;
  body.set_format_version(1);
  body.set_agency("DEA");
  body.set_number(2);
  body.set_issued_at(1780272000);
  body.add_revoked_serials(1);
  body.add_revoked_serials(300);
  auto* rc = body.add_revoked_charters();
  rc->set_unit_id("cucuta-jtf");
  rc->set_version(1);

  CHECK(to_hex(serialize_canonical(body)) ==
        "080112034445411802208097f3d0062a0301ac02320e0a0a6375637574612d6a74661001");
  const Bytes envelope_bytes = serialize_canonical(identity::sign_revocation_list(body, dea, key));
  CHECK(to_hex(envelope_bytes) ==
        "0a24080112034445411802208097f3d0062a0301ac02320e0a0a6375637574612d6a7466100112470a034445411240e7268c45aa1801"
        "3b0a07db4ec35e2e90b1544f7d1c6bfca3c66329af11446044dd5bbecb37f7f10f515373782f23ebcf95d23269943b879fe0abc6168c"
        "b63301");

  identity::TrustStore trust;
  REQUIRE(trust.add(dea));
  auto rl = identity::verify_revocation_list(envelope_bytes, trust);
  REQUIRE(rl);
  CHECK(rl->revokes_serial(300));
  CHECK(rl->revokes_charter("cucuta-jtf", 1));

  SECTION("the same serials unpacked are not canonical") {
    // 0x28 = field 5 as single varints instead of one packed field.
    const Bytes unpacked = unhex("080112034445411802208097f3d006280128ac02320e0a0a6375637574612d6a74661001");
    v1::SignedObject obj;
    obj.set_body(unpacked.data(), unpacked.size());
    const crypto::Signature sig = crypto::sign(key, tags::kRevocationList, unpacked);
    auto* s = obj.add_signatures();
    s->set_agency("DEA");
    s->set_signature(sig.data(), sig.size());
    CHECK(identity::verify_revocation_list(serialize_canonical(obj), trust).code() == Code::BAD_ENCODING);
  }
}
