// lib/identity: known answers. The byte vectors of docs/trust-model.md
// ("Worked example"), produced by an independent encoder (hand-written
// protobuf + Python `cryptography` Ed25519 and X25519) (helpers:
// identity_test_helpers.h); the peering's encoder is tests/vectors/peering_kat.py.
#include <catch2/catch.hpp>

#include "federation/peering.h"
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

TEST_CASE("known answer: a peering agreement signed by both agencies") {
  const crypto::SigningKey diran_key = crypto::SigningKey::from_seed(unhex(kRfc8032Seed));
  const crypto::SigningKey dea_key = crypto::SigningKey::from_seed(Bytes(32, 0x42));
  const identity::Authority diran{"DIRAN", "COL", diran_key.public_key()};
  const identity::Authority dea{"DEA", "USA", dea_key.public_key()};
  auto party = [](v1::PeeringParty* p, const char* agency, const char* broker, int seed_from) {
    p->set_agency(agency);
    p->set_broker_id(broker);
    const auto sk = crypto::SigningKey::from_seed(as_bytes(iota_bytes(seed_from))).public_key();
    p->set_signing_key(sk.bytes.data(), sk.bytes.size());
    auto tk = crypto::TransportKey::from_secret(as_bytes(iota_bytes(seed_from + 32)));
    REQUIRE(tk);
    p->set_transport_key(tk->public_key().bytes.data(), tk->public_key().bytes.size());
  };
  v1::PeeringBody body;
  body.set_format_version(1);
  body.set_peering_id("diran-dea");
  party(body.mutable_first(), "DIRAN", "diran-broker", 0);
  party(body.mutable_second(), "DEA", "dea-broker", 64);
  body.mutable_first_to_second()->add_topics("intel.>");
  body.mutable_first_to_second()->set_ceiling(v1::SECRET);
  body.mutable_first_to_second()->add_releasable_to("USA");
  body.mutable_second_to_first()->add_topics("intel.routes.>");
  body.mutable_second_to_first()->set_ceiling(v1::CONFIDENTIAL);
  body.set_version(1);
  body.set_not_before(1780268400);
  body.set_not_after(1811808000);

  CHECK(to_hex(serialize_canonical(body)) ==
        "08011209646972616e2d6465611a590a05444952414e120c646972616e2d62726f6b65721a2003a107bff3ce10be1d70dd18e74bc099"
        "67e4d6309ba50d5f1ddc8664125531b82220358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd16625422550a03"
        "444541120a6465612d62726f6b65721a202543b92ff1095511476adc8369db6ddc933665a11978dda1404ee1066ca9559d2220675dd5"
        "74ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f2a100a07696e74656c2e3e10041a0355534132120a0e696e74"
        "656c2e726f757465732e3e1003380140f0faf2d0064880fef7df06");
  v1::SignedObject obj = federation::new_peering(body);
  federation::cosign_peering(&obj, diran, diran_key);
  federation::cosign_peering(&obj, dea, dea_key);
  const Bytes envelope_bytes = serialize_canonical(obj);
  CHECK(to_hex(envelope_bytes) ==
        "0af30108011209646972616e2d6465611a590a05444952414e120c646972616e2d62726f6b65721a2003a107bff3ce10be1d70dd18e7"
        "4bc09967e4d6309ba50d5f1ddc8664125531b82220358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd16625422"
        "550a03444541120a6465612d62726f6b65721a202543b92ff1095511476adc8369db6ddc933665a11978dda1404ee1066ca9559d2220"
        "675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f2a100a07696e74656c2e3e10041a0355534132120a0e"
        "696e74656c2e726f757465732e3e1003380140f0faf2d0064880fef7df0612490a05444952414e1240fe2ba116788f53f55e3a033a39"
        "af723ade133c53abe2aaed0416e03d501a8238a6978ce65b81823412cd449799dcf85e441e3fb3fa413a3d4bd5596d523a3f0d12470a"
        "034445411240e4e323d71b354c26439162872f45bf23f6cc577d27b6ca13512b65b97caaf117914cc0dc57ec3bc3b1864f109f06b35f"
        "9e537daeb5d62e109db11baddad57007");

  identity::TrustStore trust;
  REQUIRE(trust.add(diran));
  REQUIRE(trust.add(dea));
  auto peering = federation::verify_peering(envelope_bytes, trust);
  INFO(peering.status().to_string());
  REQUIRE(peering);
  CHECK(peering->signed_by == std::vector<std::string>{"DEA", "DIRAN"});
  CHECK(peering->first_to_second.ceiling == v1::SECRET);
  auto effective = federation::effective_peering({*peering}, federation::key_of(*peering));
  REQUIRE(effective);
  CHECK(effective->version == 1);
}

}  // namespace tearline::identity_test
