#include "crypto/signing.h"

#include <sodium.h>

namespace tearline::crypto {

Bytes signature_input(std::string_view tag, ByteView payload) {
  ByteWriter w;
  w.tag(tag);
  w.raw(payload);
  return w.take();
}

Signature sign(const SigningKey& key, std::string_view tag, ByteView payload) {
  Bytes input = signature_input(tag, payload);
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, input.data(), input.size(), key.secret().data());
  return sig;
}

bool verify(const VerifyKey& key, std::string_view tag, ByteView payload, ByteView signature) {
  ensure_sodium();
  if (signature.size() != kSignatureBytes) return false;
  Bytes input = signature_input(tag, payload);
  return crypto_sign_verify_detached(signature.data(), input.data(), input.size(), key.bytes.data()) == 0;
}

}  // namespace tearline::crypto
