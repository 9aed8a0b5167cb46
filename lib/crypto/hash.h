// BLAKE2b-256 and randomness.
#pragma once

#include <array>
#include <string_view>

#include "base/bytes.h"

namespace tearline::crypto {

using Digest = std::array<std::uint8_t, 32>;

Digest blake2b_256(ByteView data);

// BLAKE2b-256 over pieces fed one by one, without joining them first:
// Blake2b256 h; h.update(a); h.update(b); h.finish() == blake2b_256(a || b).
class Blake2b256 {
 public:
  Blake2b256();
  void update(ByteView piece);
  // The ByteWriter encodings (lib/base/bytes.h), hashed as they are written.
  void update_field(ByteView piece);      // u64 little-endian length, then the bytes
  void update_tag(std::string_view tag);  // the ASCII bytes, then 0x00
  void update_u32(std::uint32_t v);       // 4 bytes little-endian
  Digest finish();

 private:
  alignas(64) unsigned char state_[384];  // crypto_generichash_state (checked in hash.cc)
};

// Fills `out` with cryptographically random bytes.
void random_fill(std::uint8_t* out, std::size_t n);
Bytes random_bytes(std::size_t n);
template <std::size_t N>
std::array<std::uint8_t, N> random_array() {
  std::array<std::uint8_t, N> a;
  random_fill(a.data(), N);
  return a;
}
// Uniform in [0, upper).
std::uint32_t random_below(std::uint32_t upper);

// Constant-time equality of equal-length buffers; false when lengths differ.
bool equal_ct(ByteView a, ByteView b);

}  // namespace tearline::crypto
