// lib/crypto: domain-separated signatures, key wrapping, AEAD, Z85, hashing.
// Known-answer vectors were cross-checked with an independent Ed25519 /
// BLAKE2b implementation (Python `cryptography`, `hashlib`).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/bytes.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/sealing.h"
#include "crypto/secure_buffer.h"
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
  CHECK(tags::kPeering == "tearline/v1/peering");
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

// secure_alloc / secure_free: small sizes come from a slab of 64-byte slots.

namespace {

template <std::size_t N>
void fill(SecureBuffer<N>& b, std::uint8_t seed) {
  for (std::size_t i = 0; i < N; ++i) b.data()[i] = static_cast<std::uint8_t>(seed + i);
}

template <std::size_t N>
bool holds(const SecureBuffer<N>& b, std::uint8_t seed) {
  for (std::size_t i = 0; i < N; ++i)
    if (b.data()[i] != static_cast<std::uint8_t>(seed + i)) return false;
  return true;
}

template <std::size_t N>
bool all_zero(const SecureBuffer<N>& b) {
  for (std::size_t i = 0; i < N; ++i)
    if (b.data()[i] != 0) return false;
  return true;
}

}  // namespace

TEST_CASE("secure buffers from several threads never share a slot") {
  constexpr int kThreads = 4;
  constexpr int kRounds = 10000;
  constexpr std::size_t kLive = 8;  // buffers each thread holds at once
  std::atomic<int> not_zero{0}, clobbered{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::unique_ptr<SecureBuffer<32>>> small(kLive);
      std::vector<std::unique_ptr<SecureBuffer<64>>> large(kLive);
      for (int r = 0; r < kRounds; ++r) {
        const std::size_t at = static_cast<std::size_t>(r) % kLive;
        // Distinct per thread, round and size, so a shared slot shows.
        const auto seed32 = static_cast<std::uint8_t>(t * 64 + r * 2);
        const auto seed64 = static_cast<std::uint8_t>(t * 64 + r * 2 + 1);
        if (small[at] && !holds(*small[at], static_cast<std::uint8_t>(seed32 - kLive * 2))) ++clobbered;
        if (large[at] && !holds(*large[at], static_cast<std::uint8_t>(seed64 - kLive * 2))) ++clobbered;
        small[at] = std::make_unique<SecureBuffer<32>>();
        large[at] = std::make_unique<SecureBuffer<64>>();
        if (!all_zero(*small[at]) || !all_zero(*large[at])) ++not_zero;
        fill(*small[at], seed32);
        fill(*large[at], seed64);
      }
      for (std::size_t i = 0; i < kLive; ++i) {
        const auto last = static_cast<std::size_t>(kRounds) - kLive + i;  // round that filled slot i
        if (!holds(*small[i], static_cast<std::uint8_t>(static_cast<std::size_t>(t) * 64 + last * 2))) ++clobbered;
        if (!holds(*large[i], static_cast<std::uint8_t>(static_cast<std::size_t>(t) * 64 + last * 2 + 1))) ++clobbered;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(clobbered.load() == 0);
  CHECK(not_zero.load() == 0);
}

TEST_CASE("a freed secure slot is wiped before it is handed out again") {
  SECTION("raw 64-byte allocation") {
    auto* first = static_cast<std::uint8_t*>(secure_alloc(64));
    std::fill(first, first + 64, std::uint8_t{0xAA});
    secure_free(first);
    auto* again = static_cast<std::uint8_t*>(secure_alloc(64));
    REQUIRE(again == first);  // LIFO free list: the same slot, so the check below is not vacuous
    CHECK(std::all_of(again, again + 64, [](std::uint8_t b) { return b == 0; }));
    secure_free(again);
  }
  SECTION("SecureBuffer<32>") {
    const std::uint8_t* address = nullptr;
    {
      SecureBuffer<32> key;
      std::fill(key.data(), key.data() + 32, std::uint8_t{0xAA});
      address = key.data();
    }
    SecureBuffer<32> next;
    REQUIRE(next.data() == address);
    CHECK(all_zero(next));
  }
}

TEST_CASE("small secure allocations are aligned, distinct and span several arenas") {
  constexpr std::size_t kCount = 300;  // several 63-slot arenas
  std::vector<SecureBuffer<64>> keys(kCount);
  std::set<const std::uint8_t*> addresses;
  for (std::size_t i = 0; i < kCount; ++i) {
    CHECK(reinterpret_cast<std::uintptr_t>(keys[i].data()) % 16 == 0);
    CHECK(all_zero(keys[i]));
    fill(keys[i], static_cast<std::uint8_t>(i));
    addresses.insert(keys[i].data());
  }
  CHECK(addresses.size() == kCount);
  for (std::size_t i = 0; i < kCount; ++i) CHECK(holds(keys[i], static_cast<std::uint8_t>(i)));
  void* tiny = secure_alloc(1);
  CHECK(reinterpret_cast<std::uintptr_t>(tiny) % 16 == 0);
  secure_free(tiny);
  secure_free(nullptr);  // ignored
}

TEST_CASE("large secure allocations still use sodium_malloc directly") {
  for (std::size_t n : {std::size_t{65}, std::size_t{4096}, std::size_t{100000}}) {
    auto* p = static_cast<std::uint8_t*>(secure_alloc(n));
    REQUIRE(p != nullptr);
    CHECK(std::all_of(p, p + n, [](std::uint8_t b) { return b == 0; }));
    std::fill(p, p + n, std::uint8_t{0x5C});
    CHECK(p[n - 1] == 0x5C);
    secure_free(p);
  }
  SecureBuffer<4096> big;
  CHECK(all_zero(big));
  fill(big, 7);
  CHECK(holds(big, 7));
}

TEST_CASE("Blake2b256 over pieces equals blake2b_256 over the ByteWriter encoding") {
  const Bytes big(3000, 0x5a);
  ByteWriter w;
  w.tag("tearline/v1/test");
  w.field(as_bytes(std::string_view("salt")));
  w.u32(0x01020304);
  w.field(big);
  w.raw(as_bytes(std::string_view("raw tail")));
  crypto::Blake2b256 h;
  h.update_tag("tearline/v1/test");
  h.update_field(as_bytes(std::string_view("salt")));
  h.update_u32(0x01020304);
  h.update_field(big);
  h.update(as_bytes(std::string_view("raw tail")));
  CHECK(h.finish() == crypto::blake2b_256(w.bytes()));
  CHECK(crypto::Blake2b256().finish() == crypto::blake2b_256({}));
}
