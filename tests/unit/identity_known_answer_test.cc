// lib/identity: known answers. The byte vectors of docs/trust-model.md
// ("Worked example"), produced by an independent encoder (hand-written
// protobuf + Python `cryptography` Ed25519) (helpers: identity_test_helpers.h).
#include <catch2/catch.hpp>

#include "identity_test_helpers.h"

namespace tearline::identity_test {

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
  // The signature verifies and every field is good, but the placeholder
  // signing key 00 01 .. 1f is not an Ed25519 point: the credential is
  // refused WEAK_KEY, for that key alone (the X25519 placeholders are of
  // full order). With real keys in place of the placeholders it loads.
  auto cred = identity::verify_credential(envelope_bytes, trust);
  REQUIRE_FALSE(cred);
  REQUIRE(cred.status().reasons().size() == 1);
  CHECK(cred.status().code() == Code::WEAK_KEY);
  CHECK(cred.status().to_string().find("credential of dea-cucuta-agent: signing_key (0001020304050607...)") !=
        std::string::npos);
  const crypto::SigningKey node = crypto::SigningKey::from_seed(as_bytes(iota_bytes(0)));
  body.set_signing_key(to_string(node.public_key().view()));
  auto real = identity::verify_credential(serialize_canonical(identity::sign_credential(body, dea, key)), trust);
  REQUIRE(real);
  CHECK(real->node_id == "dea-cucuta-agent");
  CHECK(real->clearance == v1::SECRET);
  CHECK(real->not_after == 1811808000);
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

}  // namespace tearline::identity_test
