// Types shared by the report builder and the content-key epochs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "crypto/keys.h"

namespace tearline::report {

// Randomness for report ids, batch ids, salts, nonces and content keys.
// Tests pass a deterministic one to produce known-answer vectors; production
// uses libsodium's CSPRNG (an empty function).
using RandomFill = std::function<void(std::uint8_t*, std::size_t)>;

// Fills with `random`, or with libsodium's CSPRNG when it is empty.
void fill_random(const RandomFill& random, std::uint8_t* out, std::size_t n);

// A node a section is sealed to.
struct Recipient {
  std::string node_id;
  crypto::SealingPublicKey key;
};

}  // namespace tearline::report
