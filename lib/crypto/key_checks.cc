#include "crypto/key_checks.h"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <string>

#include "crypto/secure_buffer.h"

namespace tearline::crypto {

namespace {

// Any clamped scalar does: bits 0-2 clear (a multiple of the cofactor 8),
// bit 254 set. This one is 8 * (1 + 2^251).
constexpr std::array<std::uint8_t, 32> kProbeScalar = {8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40};

std::string hex_prefix(ByteView key) { return to_hex(key).substr(0, 16); }

Status weak(std::string_view what, ByteView key, std::string_view why) {
  return Status::fail(Code::WEAK_KEY, std::string(what) + " (" + hex_prefix(key) + "...) " + std::string(why) +
                                          "; no real key is like this: generate a new key pair and issue again");
}

}  // namespace

bool is_usable_verify_key(const VerifyKey& key) {
  ensure_sodium();
  return crypto_core_ed25519_is_valid_point(key.bytes.data()) == 1;
}

bool is_usable_x25519_key(ByteView key32) {
  if (key32.size() != crypto_scalarmult_BYTES) return false;
  ensure_sodium();
  std::array<std::uint8_t, crypto_scalarmult_BYTES> out{};
  const bool ok = crypto_scalarmult(out.data(), kProbeScalar.data(), key32.data()) == 0;
  sodium_memzero(out.data(), out.size());
  return ok;
}

Status check_verify_key(const VerifyKey& key, std::string_view what) {
  if (is_usable_verify_key(key)) return Status::ok();
  return weak(what, key.view(), "is not an Ed25519 public key of full order (a small-order or invalid point)");
}

Status check_sealing_key(const SealingPublicKey& key, std::string_view what) {
  if (is_usable_x25519_key(key.view())) return Status::ok();
  return weak(what, key.view(), "is a low-order X25519 point (every shared secret with it is zero)");
}

Status check_transport_key(const TransportPublicKey& key, std::string_view what) {
  if (is_usable_x25519_key(key.view())) return Status::ok();
  return weak(what, key.view(), "is a low-order X25519 point (every shared secret with it is zero)");
}

}  // namespace tearline::crypto
