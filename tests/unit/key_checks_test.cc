// crypto/key_checks.h: public keys that cannot be right are refused with
// WEAK_KEY (issue 16 point 8): the known small-order Ed25519 encodings, a
// point not on the curve, a point outside the prime-order subgroup, and the
// X25519 low-order points; keys made by generate() pass.
#include <catch2/catch.hpp>

#include <sodium.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "crypto/key_checks.h"
#include "crypto/keys.h"

using namespace tearline;
using namespace tearline::crypto;

namespace {

template <typename Key>
Key key_from_hex(std::string_view text) {
  Bytes raw;
  REQUIRE(from_hex(text, &raw));
  auto key = Key::from(raw, "test key");
  REQUIRE(key);
  return *key;
}

// Every small-order Ed25519 point, in its canonical and non-canonical
// encodings (libsodium's ge25519_has_small_order list, and the sign bit).
const std::vector<std::string> kEd25519SmallOrder = {
    "0100000000000000000000000000000000000000000000000000000000000000",  // identity (order 1)
    "0000000000000000000000000000000000000000000000000000000000000000",  // order 4
    "0000000000000000000000000000000000000000000000000000000000000080",  // order 4, sign bit
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p-1, order 2
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  // order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  // order 8, sign bit
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  // order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  // order 8, sign bit
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p (0), non-canonical
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p+1 (1), non-canonical
};

// Every X25519 low-order point (libsodium's blocklist), and with bit 255 set
// (ignored by X25519).
const std::vector<std::string> kX25519LowOrder = {
    "0000000000000000000000000000000000000000000000000000000000000000",  // 0
    "0100000000000000000000000000000000000000000000000000000000000000",  // 1
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p-1
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p+1
    "0000000000000000000000000000000000000000000000000000000000000080",
    "0100000000000000000000000000000000000000000000000000000000000080",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
};

}  // namespace

TEST_CASE("key checks: every small-order Ed25519 encoding is refused with WEAK_KEY naming the key") {
  for (const auto& text : kEd25519SmallOrder) {
    INFO(text);
    const auto key = key_from_hex<VerifyKey>(text);
    CHECK_FALSE(is_usable_verify_key(key));
    Status s = check_verify_key(key, "credential of x: signing_key");
    REQUIRE_FALSE(s);
    CHECK(s.code() == Code::WEAK_KEY);
    CHECK(s.to_string().find("credential of x: signing_key (" + text.substr(0, 16) + "...)") != std::string::npos);
  }
}

TEST_CASE("key checks: an Ed25519 encoding off the curve, or a point outside the prime-order subgroup, is refused") {
  // y = 2 has no x on the curve.
  CHECK_FALSE(is_usable_verify_key(
      key_from_hex<VerifyKey>("0200000000000000000000000000000000000000000000000000000000000000")));
  // A real key plus a point of order 8: on the curve, of order 8l.
  const VerifyKey real = SigningKey::generate().public_key();
  const auto t8 = key_from_hex<VerifyKey>("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05");
  VerifyKey mixed;
  REQUIRE(crypto_core_ed25519_add(mixed.bytes.data(), real.bytes.data(), t8.bytes.data()) == 0);
  CHECK_FALSE(is_usable_verify_key(mixed));
  CHECK(check_verify_key(mixed, "k").code() == Code::WEAK_KEY);
}

TEST_CASE("key checks: every X25519 low-order point is refused, as a sealing and as a transport key") {
  for (const auto& text : kX25519LowOrder) {
    INFO(text);
    Bytes raw;
    REQUIRE(from_hex(text, &raw));
    CHECK_FALSE(is_usable_x25519_key(raw));
    CHECK(check_sealing_key(key_from_hex<SealingPublicKey>(text), "sealing_key").code() == Code::WEAK_KEY);
    CHECK(check_transport_key(key_from_hex<TransportPublicKey>(text), "transport_key").code() == Code::WEAK_KEY);
  }
  CHECK_FALSE(is_usable_x25519_key(Bytes(31, 9)));  // not 32 bytes
}

TEST_CASE("key checks: generated keys always pass") {
  for (int i = 0; i < 50; ++i) {
    CHECK(check_verify_key(SigningKey::generate().public_key(), "signing"));
    CHECK(check_sealing_key(SealingKey::generate().public_key(), "sealing"));
    CHECK(check_transport_key(TransportKey::generate().public_key(), "transport"));
  }
  // The X25519 base point (u = 9) is of prime order.
  CHECK(is_usable_x25519_key(
      Bytes{9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}
