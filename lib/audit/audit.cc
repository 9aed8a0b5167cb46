#include "audit/audit.h"

#include <map>

#include "crypto/signing.h"

namespace tearline::audit {

crypto::Digest entry_hash(const AuditEntry& e) {
  ByteWriter w;
  w.tag(kEntryTag);
  w.field(ByteView(e.prev_hash.data(), e.prev_hash.size()));
  w.u64(static_cast<std::uint64_t>(e.time_ms));
  w.field(e.event);
  w.field(e.node);
  w.field(e.report);
  w.field(e.decision);
  w.field(e.detail);
  return crypto::blake2b_256(w.bytes());
}

Bytes checkpoint_payload(std::uint64_t index, const crypto::Digest& hash, std::int64_t time_ms) {
  ByteWriter w;
  w.u64(index);
  w.field(ByteView(hash.data(), hash.size()));
  w.u64(static_cast<std::uint64_t>(time_ms));
  return w.take();
}

Checkpoint sign_checkpoint(const AuditEntry& last, std::int64_t time_ms, const crypto::SigningKey& key) {
  Checkpoint c;
  c.index = last.index;
  c.hash = last.hash;
  c.time_ms = time_ms;
  c.signature = crypto::sign(key, crypto::tags::kAuditCheckpoint, checkpoint_payload(c.index, c.hash, c.time_ms));
  return c;
}

AuditEntry ChainWriter::append(std::int64_t time_ms, std::string event, std::string node, std::string report,
                               std::string decision, std::string detail) {
  AuditEntry e;
  e.index = ++index_;
  e.time_ms = time_ms;
  e.event = std::move(event);
  e.node = std::move(node);
  e.report = std::move(report);
  e.decision = std::move(decision);
  e.detail = std::move(detail);
  e.prev_hash = last_;
  e.hash = entry_hash(e);
  last_ = e.hash;
  return e;
}

std::string_view tamper_name(Tamper t) {
  switch (t) {
    case Tamper::kNone: return "none";
    case Tamper::kModified: return "modified";
    case Tamper::kDeleted: return "deleted";
    case Tamper::kInserted: return "inserted";
    case Tamper::kReordered: return "reordered";
    case Tamper::kCheckpoint: return "checkpoint";
  }
  return "?";
}

VerifyResult verify_chain(const std::vector<AuditEntry>& entries, const std::vector<Checkpoint>& checkpoints,
                          const crypto::VerifyKey& key) {
  VerifyResult r;
  r.entries = entries.size();
  r.checkpoints = checkpoints.size();
  auto fail = [&](Tamper t, std::uint64_t at, std::string message) {
    r.tamper = t;
    r.at_index = at;
    r.message = std::move(message);
    return r;
  };
  crypto::Digest prev{};
  std::uint64_t expected = 1;
  std::map<crypto::Digest, std::uint64_t> seen;  // hash -> index, of entries already walked
  seen[prev] = 0;
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const AuditEntry& e = entries[k];
    if (entry_hash(e) != e.hash) {
      return fail(Tamper::kModified, e.index,
                  "entry " + std::to_string(e.index) + " was modified (its hash does not match its contents)");
    }
    if (e.index != expected) {
      return fail(Tamper::kDeleted, expected,
                  "entries " + std::to_string(expected) + ".." + std::to_string(e.index - 1) + " were deleted");
    }
    if (e.prev_hash != prev) {
      auto earlier = seen.find(e.prev_hash);
      if (earlier != seen.end()) {
        const std::uint64_t first = earlier->second + 1;
        return fail(Tamper::kInserted, first,
                    "entry " + std::to_string(first) + " was inserted (the chain resumes after it at entry " +
                        std::to_string(e.index) + ")");
      }
      for (std::size_t j = k + 1; j < entries.size(); ++j) {
        if (entries[j].hash == e.prev_hash) {
          return fail(Tamper::kReordered, e.index,
                      "entry " + std::to_string(e.index) + " is out of order (it follows entry " +
                          std::to_string(entries[j].index) + ", stored after it)");
        }
      }
      if (k + 1 < entries.size() && entries[k + 1].prev_hash == prev) {
        return fail(Tamper::kInserted, e.index,
                    "entry " + std::to_string(e.index) + " was inserted (the chain continues around it)");
      }
      return fail(Tamper::kDeleted, e.index,
                  "an entry before " + std::to_string(e.index) + " was deleted (the chain is broken there)");
    }
    prev = e.hash;
    seen[prev] = e.index;
    ++expected;
  }
  std::map<std::uint64_t, const AuditEntry*> by_index;
  for (const auto& e : entries) by_index[e.index] = &e;
  for (const auto& c : checkpoints) {
    if (!crypto::verify(key, crypto::tags::kAuditCheckpoint, checkpoint_payload(c.index, c.hash, c.time_ms),
                        ByteView(c.signature.data(), c.signature.size()))) {
      return fail(Tamper::kCheckpoint, c.index,
                  "checkpoint at entry " + std::to_string(c.index) + " has a bad signature");
    }
    auto it = by_index.find(c.index);
    if (it == by_index.end()) {
      // The chain above is intact, so the log is 1..size: the first entry
      // missing is size + 1.
      return fail(Tamper::kDeleted, entries.size() + 1,
                  "entries " + std::to_string(entries.size() + 1) + ".." + std::to_string(c.index) +
                      " were deleted (the signed checkpoint names entry " + std::to_string(c.index) +
                      " but the log ends at " + std::to_string(entries.size()) + ")");
    }
    if (it->second->hash != c.hash) {
      return fail(
          Tamper::kCheckpoint, c.index,
          "the chain up to entry " + std::to_string(c.index) + " differs from the signed checkpoint (rewritten)");
    }
    r.protected_up_to = std::max(r.protected_up_to, c.index);
  }
  return r;
}

}  // namespace tearline::audit
