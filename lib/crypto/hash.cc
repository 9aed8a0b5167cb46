#include "crypto/hash.h"

#include <sodium.h>

#include "crypto/secure_buffer.h"

namespace tearline::crypto {

Digest blake2b_256(ByteView data) {
  ensure_sodium();
  Digest d{};
  crypto_generichash(d.data(), d.size(), data.data(), data.size(), nullptr, 0);
  return d;
}

void random_fill(std::uint8_t* out, std::size_t n) {
  ensure_sodium();
  randombytes_buf(out, n);
}

Bytes random_bytes(std::size_t n) {
  Bytes b(n);
  random_fill(b.data(), n);
  return b;
}

std::uint32_t random_below(std::uint32_t upper) {
  ensure_sodium();
  return randombytes_uniform(upper);
}

bool equal_ct(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tearline::crypto
