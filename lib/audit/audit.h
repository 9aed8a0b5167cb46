// The tamper-evident audit log (docs/reliability.md, "Audit log").
//
// Every decision of the broker is one AuditEntry. Entries form a hash chain:
//   hash = BLAKE2b-256( tag("tearline/v1/audit-entry") || field(prev_hash)
//                       || u64(time_ms) || field(event) || field(node)
//                       || field(report) || field(decision) || field(detail) )
// with prev_hash of the first entry = 32 zero bytes. The broker signs a
// Checkpoint (index, hash, time) with its Ed25519 audit key every so often:
//   signature over tag("tearline/v1/audit-checkpoint") ||
//                  u64(index) || field(hash) || u64(time_ms)
// The chain locates a naive edit (modified, deleted, inserted, reordered
// entry); the signed checkpoints catch a chain recomputed after tampering.
// No plaintext of any report ever goes into an entry.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "crypto/hash.h"
#include "crypto/keys.h"

namespace tearline::audit {

inline constexpr std::string_view kEntryTag = "tearline/v1/audit-entry";

// Every event and decision the broker writes (broker/*.cc); `tearline audit
// show --event/--decision` accept these only.
inline constexpr std::array<std::string_view, 15> kEvents = {
    "broker",  "clock",  "connection", "crossing", "delivery", "heads",     "peer_checkpoint", "publish",
    "receipt", "reload", "routing",    "session",  "storage",  "subscribe", "withheld"};
inline constexpr std::array<std::string_view, 18> kDecisions = {
    "accepted", "admitted", "closed",  "covered",  "damaged", "delivered", "duplicate", "failed", "lost",
    "ok",       "received", "refused", "rejected", "routed",  "stepped",   "stopped",   "taken",  "withheld"};

struct AuditEntry {
  std::uint64_t index = 0;  // 1-based, consecutive (position; not hashed)
  std::int64_t time_ms = 0;
  std::string event;     // connection, publish, routing, delivery, withheld, session, reload, broker
  std::string node;      // the node concerned ("" when none)
  std::string report;    // report id hex ("" when none)
  std::string decision;  // admitted, refused, accepted, rejected, routed, delivered, withheld, closed, ok, failed
  std::string detail;    // codes and reasons
  crypto::Digest prev_hash{};
  crypto::Digest hash{};
};

struct Checkpoint {
  std::uint64_t index = 0;
  crypto::Digest hash{};
  std::int64_t time_ms = 0;
  crypto::Signature signature{};
};

crypto::Digest entry_hash(const AuditEntry& entry);  // uses entry.prev_hash
Bytes checkpoint_payload(std::uint64_t index, const crypto::Digest& hash, std::int64_t time_ms);
Checkpoint sign_checkpoint(const AuditEntry& last, std::int64_t time_ms, const crypto::SigningKey& key);

// Appends entries to a chain in memory: fills index, prev_hash and hash.
class ChainWriter {
 public:
  ChainWriter() = default;
  ChainWriter(std::uint64_t last_index, const crypto::Digest& last_hash) : index_(last_index), last_(last_hash) {}
  AuditEntry append(std::int64_t time_ms, std::string event, std::string node, std::string report, std::string decision,
                    std::string detail);
  std::uint64_t last_index() const { return index_; }
  const crypto::Digest& last_hash() const { return last_; }

 private:
  std::uint64_t index_ = 0;
  crypto::Digest last_{};
};

enum class Tamper { kNone, kModified, kDeleted, kInserted, kReordered, kCheckpoint };
std::string_view tamper_name(Tamper t);

struct VerifyResult {
  Tamper tamper = Tamper::kNone;
  std::uint64_t at_index = 0;  // the first entry (or checkpoint) found wrong
  std::string message;
  std::size_t entries = 0, checkpoints = 0;
  std::uint64_t protected_up_to = 0;  // index of the last verified checkpoint

  bool ok() const { return tamper == Tamper::kNone; }
};

// Verifies entries (in stored index order) and checkpoints against the
// broker's audit verify key; names the first problem.
VerifyResult verify_chain(const std::vector<AuditEntry>& entries, const std::vector<Checkpoint>& checkpoints,
                          const crypto::VerifyKey& broker_audit_key);

}  // namespace tearline::audit
