// The byte-exact inputs of a report's cryptography (docs/report-format.md).
// Encoding: ByteWriter (lib/base/bytes.h): tag = ASCII || 0x00; field =
// u64 little-endian length || bytes; u32 little-endian.
//
//   commitment = BLAKE2b-256( tag("tearline/v1/section-commitment")
//                             || field(salt) || field(label) || field(nonce)
//                             || field(ciphertext) || u32(#wraps)
//                             || for each wrap: field(node_id) || field(sealed_key) )
//   ad         = tag("tearline/v1/section-ad") || field(header) || u32(index)
//                || field(label)                      ; index is 0-based
//   signed     = format 1: Ed25519( tag("tearline/v1/report") || field(header)
//                         || u32(#sections) || commitment_0 || ... || commitment_n-1 )
//                format 2: the batch root, report/batch.h
// The commitment and associated-data tags keep "v1" in format 2: the
// section encoding did not change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.h"
#include "crypto/hash.h"
#include "tearline/v1/report.pb.h"

namespace tearline::report {

inline constexpr std::uint32_t kReportFormatVersion = 2;  // built; batch signatures (report/batch.h)
inline constexpr std::uint32_t kReportFormatV1 = 1;       // verified, built only on request
inline constexpr std::size_t kReportIdBytes = 16;
inline constexpr std::size_t kSaltBytes = 32;
inline constexpr std::size_t kCommitmentBytes = 32;
inline constexpr std::size_t kMaxSections = 64;
inline constexpr std::size_t kMaxRecipients = 256;
inline constexpr std::size_t kMaxSectionBytes = std::size_t{768} * 1024;
inline constexpr std::size_t kMaxSources = 16;

inline constexpr std::string_view kCommitmentTag = "tearline/v1/section-commitment";
inline constexpr std::string_view kSectionAdTag = "tearline/v1/section-ad";

crypto::Digest section_commitment(const tearline::v1::SealedSection& section);
Bytes section_associated_data(ByteView header_bytes, std::uint32_t index, ByteView label_bytes);
// The payload signed under tags::kReport (the tag is added by crypto::sign).
Bytes signature_payload(ByteView header_bytes, const tearline::v1::Report& report);

}  // namespace tearline::report
