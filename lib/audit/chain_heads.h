// Heads entries: one broker's audit entry that names the head of every
// other broker's chain in a store several brokers share (docs/scale-out.md,
// "Audit across brokers").
//
// Each broker chains its own audit log and signs its own checkpoints; a
// checkpoint proves the entries up to it, but not that a chain was not cut
// short after (its tail and the checkpoints over it deleted). So at a
// checkpoint, when another chain has moved since it last named it, a broker
// first appends one entry
//   event "heads", decision "covered",
//   detail "BROKER INDEX HASH; BROKER INDEX HASH; ..."
// (each other chain's last entry as last read: its broker's id, index and
// hash in lower-case hex; sorted by broker id), which its signed checkpoint
// then covers. verify_heads() holds every chain to what the others' signed
// heads entries saw: cutting one broker's chain short now needs another
// broker's audit key too.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"

namespace tearline::audit {

inline constexpr std::string_view kHeadsEvent = "heads";
inline constexpr std::string_view kHeadsDecision = "covered";

// A chain's last entry as read from the store.
struct ChainHead {
  std::string writer;  // the broker whose chain it is (its node id)
  std::uint64_t index = 0;
  crypto::Digest hash{};
  bool heads_entry = false;  // that entry is itself a heads entry (not in the detail)
};

bool is_heads_entry(const AuditEntry& entry);
// The detail of a heads entry naming `heads` (any order in, sorted out).
std::string heads_detail(std::vector<ChainHead> heads);
// The heads a detail names; nullopt when it is not the format above.
std::optional<std::vector<ChainHead>> parse_heads_detail(std::string_view detail);

// One chain, as read and verified on its own (verify_chain).
struct ChainRead {
  const std::vector<AuditEntry>* entries = nullptr;  // in index order
  std::uint64_t protected_up_to = 0;                 // VerifyResult::protected_up_to
};

struct HeadsResult {
  Tamper tamper = Tamper::kNone;
  std::string writer;          // the chain found wrong
  std::uint64_t at_index = 0;  // its first entry found wrong
  std::string message;
  std::size_t heads_entries = 0;  // signed heads entries checked
  // Per chain, the highest index another broker's signed heads entry named.
  std::map<std::string, std::uint64_t> covered_up_to;

  bool ok() const { return tamper == Tamper::kNone; }
};

// Checks every heads entry under its own chain's signed checkpoints
// (index <= protected_up_to) against the chains it names: kDeleted when a
// named chain is missing or ends before the index named (at the first
// missing entry), kModified when the entry there has another hash, and
// kModified at the heads entry itself when its detail does not parse.
// Chains by broker id; each must have verified on its own first.
HeadsResult verify_heads(const std::map<std::string, ChainRead>& chains);

}  // namespace tearline::audit
