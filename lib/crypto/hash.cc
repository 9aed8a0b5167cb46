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

static_assert(sizeof(crypto_generichash_state) <= 384, "Blake2b256::state_ holds a crypto_generichash_state");

Blake2b256::Blake2b256() {
  ensure_sodium();
  crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(state_), nullptr, 0, 32);
}

void Blake2b256::update(ByteView piece) {
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(state_), piece.data(), piece.size());
}

void Blake2b256::update_field(ByteView piece) {
  std::uint8_t length[8];
  std::uint64_t n = piece.size();
  for (auto& b : length) {
    b = static_cast<std::uint8_t>(n & 0xffU);
    n >>= 8U;
  }
  update(ByteView(length, sizeof length));
  update(piece);
}

void Blake2b256::update_tag(std::string_view tag) {
  update(as_bytes(tag));
  const std::uint8_t zero = 0;
  update(ByteView(&zero, 1));
}

void Blake2b256::update_u32(std::uint32_t v) {
  const std::uint8_t le[4] = {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8U),
                              static_cast<std::uint8_t>(v >> 16U), static_cast<std::uint8_t>(v >> 24U)};
  update(ByteView(le, sizeof le));
}

Digest Blake2b256::finish() {
  Digest d{};
  crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(state_), d.data(), d.size());
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
