// lib/crypto: domain-separated signatures, key wrapping, AEAD, Z85, hashing.
// Known-answer vectors were cross-checked with an independent Ed25519 /
// BLAKE2b implementation (Python `cryptography`, `hashlib`).
#include <catch2/catch.hpp>

#include <string>

#include "base/bytes.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/sealing.h"
#include "crypto/signing.h"

using namespace tearline;
using namespace tearline::crypto;

namespace {

Bytes hex(std::string_view text) {
  Bytes out;
  REQUIRE(from_hex(text, &out));
  return out;
}

// RFC 8032, section 7.1, TEST 1.
constexpr std::string_view kRfcSeed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kRfcPublic = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

}  // namespace

TEST_CASE("signature input is tag || 0x00 || payload") {
  const Bytes payload = {0x08, 0x01};
  CHECK(to_hex(signature_input(tags::kCredential, payload)) ==
        to_hex(as_bytes("tearline/v1/credential")) + "00" + "0801");
  CHECK(to_hex(signature_input("t", {})) == "7400");
}

TEST_CASE("the domain tags are the documented strings") {
  CHECK(tags::kCredential == "tearline/v1/credential");
  CHECK(tags::kCharter == "tearline/v1/charter");
  CHECK(tags::kRevocationList == "tearline/v1/revocation-list");
}

TEST_CASE("Ed25519 known answer under a domain tag") {
  const SigningKey key = SigningKey::from_seed(hex(kRfcSeed));
  CHECK(to_hex(key.public_key().view()) == kRfcPublic);
  const Bytes payload = {0x08, 0x01};
  const Signature sig = sign(key, tags::kCredential, payload);
  CHECK(to_hex(sig) ==
        "204119caa91949bbbffb4ecd127ced365753cab464092b86af1e4efe67923eb3"
        "c6ab3e65f082a7c0e5c6ea40bd8f10c2da92f01f31b22534a6723da2448ccf0c");
  CHECK(verify(key.public_key(), tags::kCredential, payload, sig));
}

TEST_CASE("a signature verifies only under its own tag, key and payload") {
  const SigningKey key = SigningKey::generate();
  const SigningKey other = SigningKey::generate();
  const Bytes payload = to_bytes("body bytes");
  const Signature sig = sign(key, tags::kCredential, payload);
  REQUIRE(verify(key.public_key(), tags::kCredential, payload, sig));

  SECTION("another tag") {
    for (auto tag : {tags::kCharter, tags::kRevocationList, tags::kReport, tags::kAuditCheckpoint}) {
      INFO(tag);
      CHECK_FALSE(verify(key.public_key(), tag, payload, sig));
    }
  }
  SECTION("a tag that is a prefix or extension of the right one") {
    CHECK_FALSE(verify(key.public_key(), "tearline/v1/credentia", payload, sig));
    CHECK_FALSE(verify(key.public_key(), "tearline/v1/credential2", payload, sig));
  }
  SECTION("another key") { CHECK_FALSE(verify(other.public_key(), tags::kCredential, payload, sig)); }
  SECTION("a changed payload") {
    Bytes changed = payload;
    changed[0] ^= 0x01;
    CHECK_FALSE(verify(key.public_key(), tags::kCredential, changed, sig));
  }
  SECTION("a changed or mis-sized signature") {
    Signature bad = sig;
    bad[63] ^= 0x80;
    CHECK_FALSE(verify(key.public_key(), tags::kCredential, payload, bad));
    CHECK_FALSE(verify(key.public_key(), tags::kCredential, payload, ByteView(sig.data(), 63)));
    CHECK_FALSE(verify(key.public_key(), tags::kCredential, payload, ByteView()));
  }
}

TEST_CASE("secret keys round-trip through their raw bytes") {
  const SigningKey key = SigningKey::generate();
  auto again = SigningKey::from_secret(key.secret().view());
  REQUIRE(again);
  CHECK(again->public_key() == key.public_key());
  CHECK(SigningKey::from_secret(Bytes(63)).code() == Code::KEY_FILE);

  const SealingKey seal = SealingKey::generate();
  auto seal2 = SealingKey::from_secret(seal.secret().view());
  REQUIRE(seal2);
  CHECK(seal2->public_key() == seal.public_key());
  CHECK(SealingKey::from_secret(Bytes(31)).code() == Code::KEY_FILE);

  const TransportKey transport = TransportKey::generate();
  auto transport2 = TransportKey::from_secret(transport.secret().view());
  REQUIRE(transport2);
  CHECK(transport2->public_key() == transport.public_key());
  CHECK(transport.secret_z85().size() == 40);
}

TEST_CASE("a wrapped content key opens only for its recipient") {
  const SealingKey alice = SealingKey::generate();
  const SealingKey bob = SealingKey::generate();
  const ContentKey key = ContentKey::generate();
  Bytes wrapped = wrap_key(alice.public_key(), key);
  REQUIRE(wrapped.size() == kWrappedKeyBytes);

  auto opened = unwrap_key(alice, wrapped);
  REQUIRE(opened.has_value());
  CHECK(equal_ct(opened->secret().view(), key.secret().view()));

  CHECK_FALSE(unwrap_key(bob, wrapped).has_value());
  Bytes tampered = wrapped;
  tampered[40] ^= 0x01;
  CHECK_FALSE(unwrap_key(alice, tampered).has_value());
  CHECK_FALSE(unwrap_key(alice, ByteView(wrapped.data(), wrapped.size() - 1)).has_value());
  // Sealing is randomized: the same key wraps differently each time.
  CHECK(wrap_key(alice.public_key(), key) != wrapped);
}

TEST_CASE("AEAD decrypts only with the same key, nonce and associated data") {
  const ContentKey key = ContentKey::generate();
  const Nonce nonce = random_array<kNonceBytes>();
  const Bytes ad = to_bytes("section header");
  const Bytes plain = to_bytes("the lab is at grid 18N 4325");
  const Bytes sealed = encrypt(key, nonce, ad, plain);
  REQUIRE(sealed.size() == plain.size() + kAeadTagBytes);

  auto opened = decrypt(key, nonce, ad, sealed);
  REQUIRE(opened.has_value());
  CHECK(*opened == plain);

  SECTION("wrong associated data") { CHECK_FALSE(decrypt(key, nonce, to_bytes("section headeR"), sealed)); }
  SECTION("empty associated data") { CHECK_FALSE(decrypt(key, nonce, {}, sealed)); }
  SECTION("wrong key") { CHECK_FALSE(decrypt(ContentKey::generate(), nonce, ad, sealed)); }
  SECTION("wrong nonce") {
    Nonce other = nonce;
    other[0] ^= 0x01;
    CHECK_FALSE(decrypt(key, other, ad, sealed));
    CHECK_FALSE(decrypt(key, ByteView(nonce.data(), 23), ad, sealed));
  }
  SECTION("tampered ciphertext or tag") {
    for (std::size_t at : {std::size_t{0}, sealed.size() - 1}) {
      Bytes bad = sealed;
      bad[at] ^= 0x01;
      CHECK_FALSE(decrypt(key, nonce, ad, bad));
    }
  }
  SECTION("shorter than a tag") { CHECK_FALSE(decrypt(key, nonce, ad, ByteView(sealed.data(), 15))); }
}

TEST_CASE("Z85 round trip and known answer") {
  TransportPublicKey key;
  // ZeroMQ RFC 32 example: 86 4F D2 6F B5 59 F7 5B encodes as "HelloWorld".
  const Bytes hello = hex("864fd26fb559f75b");
  std::copy(hello.begin(), hello.end(), key.bytes.begin());
  const std::string text = to_z85(key);
  CHECK(text == "HelloWorld000000000000000000000000000000");
  auto back = transport_key_from_z85(text);
  REQUIRE(back);
  CHECK(*back == key);

  const TransportKey random = TransportKey::generate();
  auto again = transport_key_from_z85(to_z85(random.public_key()));
  REQUIRE(again);
  CHECK(*again == random.public_key());

  CHECK(transport_key_from_z85(text.substr(1)).code() == Code::INVALID_FIELD);
  CHECK(transport_key_from_z85(text + "0").code() == Code::INVALID_FIELD);
  CHECK(transport_key_from_z85("HelloWorld00000000000000000000000000000~").code() == Code::INVALID_FIELD);
}

TEST_CASE("BLAKE2b-256 known answer and constant-time equality") {
  CHECK(to_hex(blake2b_256({})) == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  const Bytes a = to_bytes("abc"), b = to_bytes("abd");
  CHECK(equal_ct(a, a));
  CHECK_FALSE(equal_ct(a, b));
  CHECK_FALSE(equal_ct(a, ByteView(a.data(), 2)));
  CHECK(equal_ct({}, {}));
}
