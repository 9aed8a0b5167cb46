// Typed keys. Public keys are plain 32-byte values; secret keys live in
// SecureBuffer. The types keep a sealing key from being passed where a signing
// key is expected. Primitives: Ed25519 (sign), X25519 (seal, CURVE transport).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/secure_buffer.h"

namespace tearline::crypto {

constexpr std::size_t kPublicKeyBytes = 32;
constexpr std::size_t kSignatureBytes = 64;
constexpr std::size_t kSeedBytes = 32;

// A 32-byte public key with a phantom tag for its purpose.
template <typename Tag>
struct PublicKey {
  std::array<std::uint8_t, kPublicKeyBytes> bytes{};

  ByteView view() const { return ByteView(bytes.data(), bytes.size()); }
  bool operator==(const PublicKey&) const = default;
  // WRONG size gives INVALID_FIELD naming `what`.
  static Result<PublicKey> from(ByteView b, std::string_view what) {
    if (b.size() != kPublicKeyBytes) {
      return Result<PublicKey>::fail(Code::INVALID_FIELD, std::string(what) + " must be 32 bytes");
    }
    PublicKey k;
    std::copy(b.begin(), b.end(), k.bytes.begin());
    return k;
  }
};

struct VerifyTag {};
struct SealTag {};
struct TransportTag {};
using VerifyKey = PublicKey<VerifyTag>;              // Ed25519 public
using SealingPublicKey = PublicKey<SealTag>;         // X25519 public
using TransportPublicKey = PublicKey<TransportTag>;  // CURVE public

using Signature = std::array<std::uint8_t, kSignatureBytes>;

// Ed25519 secret key (64 bytes: seed || public key).
class SigningKey {
 public:
  static SigningKey generate();
  static SigningKey from_seed(ByteView seed32);
  // Wraps 64 raw secret bytes; KEY_FILE if the size is wrong.
  static Result<SigningKey> from_secret(ByteView secret64);
  VerifyKey public_key() const;
  const SecureBuffer<64>& secret() const { return secret_; }

 private:
  SecureBuffer<64> secret_;
};

// X25519 key pair for crypto_box_seal recipients.
class SealingKey {
 public:
  static SealingKey generate();
  static SealingKey from_seed(ByteView seed32);
  static Result<SealingKey> from_secret(ByteView secret32);
  const SealingPublicKey& public_key() const { return public_; }
  const SecureBuffer<32>& secret() const { return secret_; }

 private:
  SecureBuffer<32> secret_;
  SealingPublicKey public_;
};

// CURVE transport key pair (Curve25519, as ZeroMQ's CURVE mechanism uses).
class TransportKey {
 public:
  static TransportKey generate();
  static Result<TransportKey> from_secret(ByteView secret32);
  const TransportPublicKey& public_key() const { return public_; }
  const SecureBuffer<32>& secret() const { return secret_; }
  // Z85 text of the secret key (40 chars) for zmq_setsockopt. The returned
  // string is ordinary memory: callers pass it on at once and wipe it.
  std::string secret_z85() const;

 private:
  SecureBuffer<32> secret_;
  TransportPublicKey public_;
};

// Z85 encoding of a 32-byte public key (40 chars), as ZeroMQ uses.
std::string to_z85(const TransportPublicKey& key);
Result<TransportPublicKey> transport_key_from_z85(std::string_view text);

}  // namespace tearline::crypto
