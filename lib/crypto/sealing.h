// Content encryption and key wrapping for report sections.
//  - ContentKey: a fresh random 32-byte key per section.
//  - encrypt/decrypt: XChaCha20-Poly1305-IETF with associated data.
//  - wrap_key/unwrap_key: crypto_box_seal of the content key to a recipient's
//    X25519 sealing key (80 bytes: ephemeral pk || MAC || key).
#pragma once

#include <array>
#include <optional>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/keys.h"

namespace tearline::crypto {

constexpr std::size_t kContentKeyBytes = 32;
constexpr std::size_t kNonceBytes = 24;
constexpr std::size_t kAeadTagBytes = 16;
constexpr std::size_t kWrappedKeyBytes = 80;

class ContentKey {
 public:
  static ContentKey generate();
  static ContentKey from_bytes(ByteView key32);  // for known-answer tests
  const SecureBuffer<kContentKeyBytes>& secret() const { return key_; }

 private:
  SecureBuffer<kContentKeyBytes> key_;
};

using Nonce = std::array<std::uint8_t, kNonceBytes>;

Bytes encrypt(const ContentKey& key, const Nonce& nonce, ByteView associated, ByteView plaintext);

// Nothing (and no partial plaintext) when the tag does not verify.
[[nodiscard]] std::optional<Bytes> decrypt(const ContentKey& key, ByteView nonce, ByteView associated,
                                           ByteView ciphertext);

Bytes wrap_key(const SealingPublicKey& recipient, const ContentKey& key);
[[nodiscard]] std::optional<ContentKey> unwrap_key(const SealingKey& recipient, ByteView wrapped);

}  // namespace tearline::crypto
