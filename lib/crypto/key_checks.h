// Public keys that cannot be right (issue 16 point 8). A key taken from
// outside (a credential, a pinned authority) is checked before it is trusted
// or signed into a credential; a failing key gives WEAK_KEY naming it.
//
//  - Ed25519 (VerifyKey): refused unless a canonical encoding of a point on
//    the curve, in the prime-order subgroup, not of small order (libsodium's
//    crypto_core_ed25519_is_valid_point). The identity point 01 00..00 and the
//    other small-order points would let one signature verify for many
//    messages and keys.
//  - X25519 (SealingPublicKey, TransportPublicKey): refused when of low order
//    (00..00, 01 00..00, the two points of order 8, p-1, p, p+1 and their
//    encodings with the top bit set): a shared secret with such a key is
//    all zeros, known to anyone. Tested by a scalar multiplication with a
//    fixed clamped scalar (a multiple of 8 kills every low-order component),
//    which libsodium refuses (-1) exactly when the result is all zeros.
//
// Pure functions; thread-safe. Keys made here by generate() always pass.
#pragma once

#include <string_view>

#include "base/result.h"
#include "crypto/keys.h"

namespace tearline::crypto {

// True for an Ed25519 public key as described above.
bool is_usable_verify_key(const VerifyKey& key);
// True for an X25519 public key that is not of low order (the raw 32 bytes).
bool is_usable_x25519_key(ByteView key32);

// OK, or WEAK_KEY "<what> is ..." with what to do.
Status check_verify_key(const VerifyKey& key, std::string_view what);
Status check_sealing_key(const SealingPublicKey& key, std::string_view what);
Status check_transport_key(const TransportPublicKey& key, std::string_view what);

}  // namespace tearline::crypto
