// Keys that cannot be right are refused when loaded and when issued (issue 16
// point 8): a credential signed properly by its authority but naming a
// small-order Ed25519 key or a low-order X25519 key is left out of the
// directory with WEAK_KEY naming the key; a pinned authority key of small
// order makes the trust store refuse to load; issuance refuses such keys and
// signs nothing. Each has a control: the same object with real keys passes.
#include <algorithm>
#include <string>
#include <vector>

#include "crypto/key_checks.h"
#include "identity_test_helpers.h"

namespace tearline::identity_test {
namespace {

constexpr std::string_view kIdentityPoint = "0100000000000000000000000000000000000000000000000000000000000000";
constexpr std::string_view kOrder8Ed25519 = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a";
constexpr std::string_view kOrder8X25519 = "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800";

std::string raw(std::string_view hex_text) {
  Bytes b;
  REQUIRE(from_hex(hex_text, &b));
  return std::string(b.begin(), b.end());
}

// dea-cucuta-agent's credential of `pki` with `change` applied to its body,
// signed properly by DEA's authority key `dea`.
template <typename Change>
Bytes agent_credential_with(const PkiPaths& pki, const crypto::SigningKey& dea, Change change) {
  const Bytes original = body_of(pki.credential("dea-cucuta-agent"));
  v1::CredentialBody body;
  REQUIRE(body.ParseFromArray(original.data(), static_cast<int>(original.size())));
  change(body);
  return make_signed(serialize_canonical(body), {{"DEA", &dea, tags::kCredential}});
}
// The same in the shared demo world.
template <typename Change>
Bytes agent_credential_with(Change change) {
  return agent_credential_with(world().pki(), key_of("DEA"), change);
}

std::vector<std::string> code_names_of(const Status& s) {
  std::vector<std::string> out;
  for (const auto& r : s.reasons()) out.emplace_back(code_name(r.code));
  return out;
}

}  // namespace

TEST_CASE("a credential naming a weak key, signed by its authority, is left out of the directory with WEAK_KEY") {
  struct Row {
    std::string what;
    Bytes credential;
    std::string names;  // the key the reason names
  };
  const std::vector<Row> rows = {
      {"identity point as signing key",
       agent_credential_with([](v1::CredentialBody& b) { b.set_signing_key(raw(kIdentityPoint)); }), "signing_key"},
      {"order-8 point as signing key",
       agent_credential_with([](v1::CredentialBody& b) { b.set_signing_key(raw(kOrder8Ed25519)); }), "signing_key"},
      {"zero sealing key",
       agent_credential_with([](v1::CredentialBody& b) { b.set_sealing_key(std::string(32, '\0')); }), "sealing_key"},
      {"order-8 transport key",
       agent_credential_with([](v1::CredentialBody& b) { b.set_transport_key(raw(kOrder8X25519)); }), "transport_key"},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    const Status verified = identity::verify_credential(row.credential, demo_trust()).status();
    CHECK(verified.code() == Code::WEAK_KEY);
    CHECK(verified.reasons().size() == 1);
    Directory::Sources sources;
    sources.credentials.emplace_back("dea-cucuta-agent.cred", row.credential);
    sources.credentials.emplace_back("dea-bogota-analyst.cred",
                                     read_bytes(world().pki().credential("dea-bogota-analyst")));
    LoadReport report;
    auto dir = Directory::build(demo_trust(), sources, kDemoNow, &report);
    REQUIRE(dir != nullptr);
    CHECK(has_issue(report.rejected, "dea-cucuta-agent.cred", Code::WEAK_KEY,
                    "credential of dea-cucuta-agent: " + row.names));
    CHECK(dir->node("dea-cucuta-agent") == nullptr);
    CHECK(dir->node("dea-bogota-analyst") != nullptr);
  }
  SECTION("control: re-signed unchanged, it loads") {
    const Bytes same = agent_credential_with([](v1::CredentialBody&) {});
    CHECK(first_rejection(Kind::kCredential, same) == Code::OK);
  }
  SECTION("every weak key is named, not only the first") {
    const Bytes all = agent_credential_with([](v1::CredentialBody& b) {
      b.set_signing_key(raw(kIdentityPoint));
      b.set_sealing_key(raw(kOrder8X25519));
      b.set_transport_key(std::string(32, '\0'));
    });
    const Status s = identity::verify_credential(all, demo_trust()).status();
    REQUIRE(s.reasons().size() == 3);
    for (const auto& r : s.reasons()) CHECK(r.code == Code::WEAK_KEY);
  }
}

TEST_CASE("a directory on disk with a weak-key credential loads without it, with WEAK_KEY in the report") {
  FreshWorld fresh;
  auto dea = crypto::read_authority_key(fresh.pki.authority_key("DEA"));
  REQUIRE(dea);
  write_bytes(
      fresh.pki.credential("dea-cucuta-agent"),
      agent_credential_with(fresh.pki, *dea, [](v1::CredentialBody& b) { b.set_signing_key(raw(kIdentityPoint)); }));
  LoadReport report;
  auto dir = load(fresh.pki, &report);
  CHECK(has_issue(report.rejected, "dea-cucuta-agent.cred", Code::WEAK_KEY, "signing_key"));
  CHECK(dir->node("dea-cucuta-agent") == nullptr);
  CHECK(dir->node("dea-bogota-analyst") != nullptr);
}

TEST_CASE("a pinned authority whose verify key is a small-order point: the trust store is refused with WEAK_KEY") {
  const std::string toml =
      "[[authority]]\nagency = \"DEA\"\ncountry = \"USA\"\nverify_key = \"" + std::string(kIdentityPoint) + "\"\n";
  auto store = identity::TrustStore::parse(toml, "trust.toml");
  REQUIRE_FALSE(store);
  CHECK(store.status().code() == Code::WEAK_KEY);
  CHECK(store.status().to_string().find("authority DEA") != std::string::npos);
  identity::TrustStore direct;
  CHECK(direct.add(identity::Authority{"DEA", "USA", {}}).code() == Code::WEAK_KEY);  // all zeros: order 4
  // Control: the real DEA key.
  const std::string real = "[[authority]]\nagency = \"DEA\"\ncountry = \"USA\"\nverify_key = \"" +
                           to_hex(demo_trust().authority("DEA")->verify_key.view()) + "\"\n";
  CHECK(identity::TrustStore::parse(real, "trust.toml"));
}

TEST_CASE("issuance refuses weak keys and signs nothing; real keys are issued") {
  FreshWorld fresh;
  identity::IssueRequest req{"dea-new-agent", "DEA", v1::SECRET, {"agent"}, kDemoNow - kDay, kDemoNow + kDay, 0};
  const identity::CredentialKeys real{crypto::SigningKey::generate().public_key(),
                                      crypto::SealingKey::generate().public_key(),
                                      crypto::TransportKey::generate().public_key()};
  identity::CredentialKeys weak = real;
  Bytes identity_point;
  REQUIRE(from_hex(kIdentityPoint, &identity_point));
  std::copy(identity_point.begin(), identity_point.end(), weak.signing.bytes.begin());
  weak.transport.bytes.fill(0);
  auto refused = identity::make_credential(fresh.pki, req, weak);
  REQUIRE_FALSE(refused);
  CHECK(code_names_of(refused.status()) == std::vector<std::string>{"WEAK_KEY", "WEAK_KEY"});
  CHECK(refused.status().to_string().find("credential of dea-new-agent: signing_key") != std::string::npos);
  CHECK(refused.status().to_string().find("credential of dea-new-agent: transport_key") != std::string::npos);
  auto issued = identity::make_credential(fresh.pki, req, real);
  REQUIRE(issued);
  CHECK(issued->first.signing_key == real.signing);
}

}  // namespace tearline::identity_test
