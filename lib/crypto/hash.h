// BLAKE2b-256 and randomness.
#pragma once

#include <array>

#include "base/bytes.h"

namespace tearline::crypto {

using Digest = std::array<std::uint8_t, 32>;

Digest blake2b_256(ByteView data);

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
