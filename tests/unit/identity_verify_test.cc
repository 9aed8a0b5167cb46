// lib/identity: verifying signed objects. The demo chain verifies; a flipped
// byte, another object type's domain tag, the wrong or an unpinned authority,
// and a non-canonical body are each rejected with their exact code
// (helpers: identity_test_helpers.h).
#include <catch2/catch.hpp>

#include "identity_test_helpers.h"

namespace tearline::identity_test {

// ---- the demo chain ----------------------------------------------------------

TEST_CASE("the demo roster's chain verifies") {
  const PkiPaths& pki = world().pki();
  LoadReport report;
  auto dir = load(pki, &report);
  CHECK(report.rejected.empty());
  CHECK(report.warnings.empty());

  REQUIRE(dir->nodes().size() == world().roster().nodes.size() + 1);  // and the broker's credential
  const identity::Credential* broker = dir->node(world().roster().broker.id);
  REQUIRE(broker != nullptr);
  CHECK(broker->has_role(identity::kBrokerRole));
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

}  // namespace tearline::identity_test
