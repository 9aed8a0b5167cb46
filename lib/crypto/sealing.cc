#include "crypto/sealing.h"

#include <sodium.h>

#include <cstring>

namespace tearline::crypto {

ContentKey ContentKey::generate() {
  ContentKey k;
  crypto_aead_xchacha20poly1305_ietf_keygen(k.key_.data());
  return k;
}

ContentKey ContentKey::from_bytes(ByteView key32) {
  ContentKey k;
  std::memcpy(k.key_.data(), key32.data(), std::min<std::size_t>(key32.size(), kContentKeyBytes));
  return k;
}

Bytes encrypt(const ContentKey& key, const Nonce& nonce, ByteView associated, ByteView plaintext) {
  Bytes out(plaintext.size() + kAeadTagBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &written, plaintext.data(), plaintext.size(),
                                             associated.data(), associated.size(), nullptr, nonce.data(),
                                             key.secret().data());
  out.resize(written);
  return out;
}

std::optional<Bytes> decrypt(const ContentKey& key, ByteView nonce, ByteView associated, ByteView ciphertext) {
  if (nonce.size() != kNonceBytes || ciphertext.size() < kAeadTagBytes) return std::nullopt;
  Bytes out(ciphertext.size() - kAeadTagBytes);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &written, nullptr, ciphertext.data(), ciphertext.size(),
                                                 associated.data(), associated.size(), nonce.data(),
                                                 key.secret().data()) != 0) {
    sodium_memzero(out.data(), out.size());
    return std::nullopt;
  }
  out.resize(written);
  return out;
}

Bytes wrap_key(const SealingPublicKey& recipient, const ContentKey& key) {
  Bytes out(kWrappedKeyBytes);
  crypto_box_seal(out.data(), key.secret().data(), kContentKeyBytes, recipient.bytes.data());
  return out;
}

std::optional<ContentKey> unwrap_key(const SealingKey& recipient, ByteView wrapped) {
  if (wrapped.size() != kWrappedKeyBytes) return std::nullopt;
  SecureBuffer<kContentKeyBytes> plain;
  if (crypto_box_seal_open(plain.data(), wrapped.data(), wrapped.size(), recipient.public_key().bytes.data(),
                           recipient.secret().data()) != 0) {
    return std::nullopt;
  }
  return ContentKey::from_bytes(plain.view());
}

}  // namespace tearline::crypto
