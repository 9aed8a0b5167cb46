#include "crypto/keys.h"

#include <sodium.h>
#include <zmq.h>

#include <cstring>

namespace tearline::crypto {

SigningKey SigningKey::generate() {
  ensure_sodium();
  SigningKey k;
  VerifyKey pk;
  crypto_sign_keypair(pk.bytes.data(), k.secret_.data());
  return k;
}

SigningKey SigningKey::from_seed(ByteView seed32) {
  ensure_sodium();
  SigningKey k;
  VerifyKey pk;
  crypto_sign_seed_keypair(pk.bytes.data(), k.secret_.data(), seed32.data());
  return k;
}

Result<SigningKey> SigningKey::from_secret(ByteView secret64) {
  if (secret64.size() != 64) return Result<SigningKey>::fail(Code::KEY_FILE, "signing secret must be 64 bytes");
  SigningKey k;
  std::memcpy(k.secret_.data(), secret64.data(), 64);
  return k;
}

VerifyKey SigningKey::public_key() const {
  VerifyKey pk;
  crypto_sign_ed25519_sk_to_pk(pk.bytes.data(), secret_.data());
  return pk;
}

SealingKey SealingKey::generate() {
  ensure_sodium();
  SealingKey k;
  crypto_box_keypair(k.public_.bytes.data(), k.secret_.data());
  return k;
}

SealingKey SealingKey::from_seed(ByteView seed32) {
  ensure_sodium();
  SealingKey k;
  crypto_box_seed_keypair(k.public_.bytes.data(), k.secret_.data(), seed32.data());
  return k;
}

Result<SealingKey> SealingKey::from_secret(ByteView secret32) {
  if (secret32.size() != 32) return Result<SealingKey>::fail(Code::KEY_FILE, "sealing secret must be 32 bytes");
  ensure_sodium();
  SealingKey k;
  std::memcpy(k.secret_.data(), secret32.data(), 32);
  crypto_scalarmult_base(k.public_.bytes.data(), k.secret_.data());
  return k;
}

TransportKey TransportKey::generate() {
  ensure_sodium();
  TransportKey k;
  crypto_box_keypair(k.public_.bytes.data(), k.secret_.data());
  return k;
}

Result<TransportKey> TransportKey::from_secret(ByteView secret32) {
  if (secret32.size() != 32) return Result<TransportKey>::fail(Code::KEY_FILE, "transport secret must be 32 bytes");
  ensure_sodium();
  TransportKey k;
  std::memcpy(k.secret_.data(), secret32.data(), 32);
  crypto_scalarmult_base(k.public_.bytes.data(), k.secret_.data());
  return k;
}

std::string TransportKey::secret_z85() const {
  char text[41];
  zmq_z85_encode(text, secret_.data(), 32);
  std::string out(text, 40);
  sodium_memzero(text, sizeof text);
  return out;
}

std::string to_z85(const TransportPublicKey& key) {
  char text[41];
  zmq_z85_encode(text, key.bytes.data(), 32);
  return std::string(text, 40);
}

Result<TransportPublicKey> transport_key_from_z85(std::string_view text) {
  if (text.size() != 40) return Result<TransportPublicKey>::fail(Code::INVALID_FIELD, "Z85 key must be 40 characters");
  std::string copy(text);
  TransportPublicKey key;
  if (zmq_z85_decode(key.bytes.data(), copy.c_str()) == nullptr) {
    return Result<TransportPublicKey>::fail(Code::INVALID_FIELD, "Z85 key is not valid Z85");
  }
  return key;
}

}  // namespace tearline::crypto
