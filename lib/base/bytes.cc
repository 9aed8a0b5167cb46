#include "base/bytes.h"

#include <sodium.h>

namespace tearline {

// Hex through libsodium: sodium_bin2hex/sodium_hex2bin run in constant time
// for a given length, so key and digest bytes never pick a branch or a table
// index.
std::string to_hex(ByteView bytes) {
  if (bytes.empty()) return {};  // libsodium's pointers are declared non-null
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();  // the terminating NUL sodium_bin2hex writes
  return out;
}

bool from_hex(std::string_view hex, Bytes* out) {
  if (hex.size() % 2 != 0) return false;
  if (hex.empty()) {  // libsodium's pointers are declared non-null
    out->clear();
    return true;
  }
  Bytes result(hex.size() / 2);
  std::size_t written = 0;
  // No ignore set and no hex_end: libsodium fails unless every character is a
  // hex digit.
  if (sodium_hex2bin(result.data(), result.size(), hex.data(), hex.size(), nullptr, &written, nullptr) != 0 ||
      written != result.size()) {
    return false;
  }
  *out = std::move(result);
  return true;
}

void ByteWriter::u32(std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void ByteWriter::u64(std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace tearline
