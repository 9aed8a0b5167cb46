// Ed25519 signatures over domain-separated messages. Every signature in
// tearline signs  tag || 0x00 || payload , where tag names the object type and
// version ("tearline/v1/credential", ...). A signature made for one tag never
// verifies under another.
#pragma once

#include <string_view>

#include "base/bytes.h"
#include "crypto/keys.h"

namespace tearline::crypto {

namespace tags {
inline constexpr std::string_view kCredential = "tearline/v1/credential";
inline constexpr std::string_view kCharter = "tearline/v1/charter";
inline constexpr std::string_view kRevocationList = "tearline/v1/revocation-list";
inline constexpr std::string_view kPeering = "tearline/v1/peering";
inline constexpr std::string_view kReport = "tearline/v1/report";             // format 1: one report
inline constexpr std::string_view kReportBatch = "tearline/v2/report-batch";  // format 2: a batch root
inline constexpr std::string_view kAuditCheckpoint = "tearline/v1/audit-checkpoint";
inline constexpr std::string_view kAcceptanceBatch = "tearline/v1/acceptance-batch";  // a broker's commit batch
inline constexpr std::string_view kDeliveryReceipt = "tearline/v1/delivery-receipt";  // a node's ACK
// a node's ACK of copies of another broker's stream (format 2)
inline constexpr std::string_view kStreamDeliveryReceipt = "tearline/v1/stream-delivery-receipt";
}  // namespace tags

// The exact bytes signed: tag || 0x00 || payload.
Bytes signature_input(std::string_view tag, ByteView payload);

Signature sign(const SigningKey& key, std::string_view tag, ByteView payload);

// WARNING: returns false for any mismatch, including a wrong-size signature;
// it never throws. Constant time in libsodium.
[[nodiscard]] bool verify(const VerifyKey& key, std::string_view tag, ByteView payload, ByteView signature);

}  // namespace tearline::crypto
