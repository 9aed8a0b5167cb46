// Byte strings, views, hex, and the little-endian length-prefixed encoding
// used by every hash and signature input (docs/report-format.md, "Encoding").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tearline {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}
inline std::string_view as_chars(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}
inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string to_string(ByteView b) { return std::string(as_chars(b)); }

// Lower-case hex (sodium_bin2hex: constant time for a given length).
std::string to_hex(ByteView bytes);
// Any case; false, *out untouched, on odd length or a non-hex digit (sodium_hex2bin).
bool from_hex(std::string_view hex, Bytes* out);

// Appends fixed-width little-endian integers and length-prefixed fields.
class ByteWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void raw(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void raw(std::string_view s) { raw(as_bytes(s)); }
  // u64 little-endian length, then the bytes.
  void field(ByteView b) {
    u64(b.size());
    raw(b);
  }
  void field(std::string_view s) { field(as_bytes(s)); }
  // The domain tag's ASCII bytes followed by one 0x00 byte.
  void tag(std::string_view domain_tag) {
    raw(domain_tag);
    u8(0);
  }

  const Bytes& bytes() const { return out_; }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

}  // namespace tearline
