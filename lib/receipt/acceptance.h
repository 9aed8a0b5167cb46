// Acceptance receipts: the broker's signed statement that it accepted a
// report, with its store sequence and time (docs/report-format.md,
// "Receipts"). One Ed25519 signature covers a whole commit batch:
//
//   digest    = report::batch_leaf(report)        (the same for every redacted copy)
//   leaf      = BLAKE2b-256( tag("tearline/v1/receipt-leaf") || u64(seq) || digest )
//   inner     = BLAKE2b-256( tag("tearline/v1/receipt-node") || left || right )
//   statement = field(broker_id) || u64(first_seq) || u32(leaf_count)
//               || u64(accepted_ms as two's complement) || root
//   signature = Ed25519( tag("tearline/v1/acceptance-batch") || statement )
//
// Leaf i of a batch is the report of broker seq first_seq + i; each report's
// receipt (tearline.v1.AcceptanceReceipt) carries the statement's fields, the
// signature, its leaf index and its sibling path (RFC 9162 shape,
// crypto/merkle.h). A verifier that has checked a statement once checks the
// rest of its batch with hashes only (through a RootCache).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "identity/directory.h"
#include "report/root_cache.h"
#include "tearline/v1/receipt.pb.h"
#include "tearline/v1/report.pb.h"

namespace tearline::receipt {

inline constexpr std::uint32_t kReceiptFormatVersion = 1;
inline constexpr std::string_view kReceiptLeafTag = "tearline/v1/receipt-leaf";
inline constexpr std::string_view kReceiptNodeTag = "tearline/v1/receipt-node";
inline constexpr std::uint32_t kMaxReceiptLeaves = 65536;

// What a receipt commits to for a report: the same for the report and every
// redacted copy of it (report::batch_leaf: header and commitments).
// Precondition: every section's commitment is 32 bytes (as verified reports' are).
crypto::Digest report_digest(const tearline::v1::Report& report);

crypto::Digest receipt_leaf(std::uint64_t seq, const crypto::Digest& report_digest);
Bytes acceptance_statement(std::string_view broker_id, std::uint64_t first_seq, std::uint32_t leaf_count,
                           std::int64_t accepted_ms, const crypto::Digest& root);

// Signs the reports of seqs first_seq, first_seq + 1, ... (digests[i] is
// seq first_seq + i): one signature per run of at most kMaxReceiptLeaves.
// Returns each report's serialized AcceptanceReceipt, in order.
std::vector<Bytes> sign_acceptance(std::string_view broker_id, const crypto::SigningKey& key, std::uint64_t first_seq,
                                   const std::vector<crypto::Digest>& digests, std::int64_t accepted_ms);

// What a receipt that verifies says.
struct Acceptance {
  std::string broker_id;
  std::uint64_t seq = 0;
  std::int64_t accepted_ms = 0;
};

struct AcceptanceCheck {
  std::optional<std::uint64_t> seq;    // when set, the receipt must be for this broker seq
  std::string_view broker_id;          // when not empty, the receipt must be this broker's
  report::RootCache* cache = nullptr;  // verified statements (not owned); null: verify every time
  // A receiving boundary broker checking what its peer delivered
  // (federation/arrival.h): `broker_id`, which must then be set, may be a
  // partner agency's broker. Otherwise a partner's broker witnesses nothing.
  bool partner_broker = false;
};

// Verifies `receipt` (a serialized AcceptanceReceipt) for the report whose
// digest is `report_digest`. Every failure is RECEIPT_INVALID with a reason:
// empty or malformed bytes (unknown fields, wrong sizes, format version),
// another seq or broker than `check` asks, a broker_id that is not a
// credential with role "broker" standing at accepted_ms (the revocation rule,
// identity::Directory::check_signer) or is a partner agency's broker
// (docs/federation.md: no witness here), a path that does not lead to a root
// of leaf_count leaves, a signature that does not verify.
[[nodiscard]] Result<Acceptance> verify_acceptance(ByteView receipt, const crypto::Digest& report_digest,
                                                   const identity::Directory& directory,
                                                   const AcceptanceCheck& check = {});

// The most brokers a report's path (tearline.v1.CrossingPath) may name.
inline constexpr std::size_t kMaxPathHops = 8;

struct PathCheck {
  std::string_view originator_agency;        // when set: the first hop's broker is of this agency
  std::string_view home_agency;              // when set: no hop is a broker of this (the verifier's) agency
  std::optional<std::int64_t> delivered_ms;  // when set: no hop accepted later than this (the delivering receipt's)
  report::RootCache* cache = nullptr;
};

// Verifies a serialized CrossingPath (docs/federation.md, "The path") for
// the report whose digest is `report_digest`: the brokers of other agencies
// it passed through before the one that delivered it, oldest first. Empty
// bytes: no path (the report was published to the delivering broker). Each
// receipt must verify (verify_acceptance) under its own broker's
// credential in `directory`, a partner agency's broker included (each
// signed only what it accepted); no broker may appear twice; at most
// kMaxPathHops; the times do not go back along the path; and `check`'s
// rules hold. RECEIPT_INVALID with the reason ("path hop N: ...").
[[nodiscard]] Result<std::vector<Acceptance>> verify_path(ByteView path, const crypto::Digest& report_digest,
                                                          const identity::Directory& directory,
                                                          const PathCheck& check = {});

// Parses a receipt without verifying it (for display): RECEIPT_INVALID when
// the bytes do not parse or carry unknown fields.
[[nodiscard]] Result<tearline::v1::AcceptanceReceipt> parse_acceptance(ByteView receipt);

}  // namespace tearline::receipt
