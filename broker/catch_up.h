// CatchUp: sessions behind the head read what they missed from the store.
//
// A READY session is behind when its `delivered` is below the broker's head
// (it attached to its node's mailbox behind the head, docs/protocol.md 6.5,
// or its backlog kept it from live routing). Whether a row goes to a
// session is Router::wants: the node's durable set for an attached session,
// and the session's own patterns. Each round reads ONE batch of stored reports, starting after the
// session furthest behind, parses each row once, and routes it to every
// session behind that has not seen it; a session beyond that batch waits for
// the next read of the same round. Limits, per round and session:
//  - at most kCatchUpBatch reports, and no more than its backlog has room for
//    (max_pending_deliveries), so that catching up cannot itself make a
//    reading subscriber SLOW_CONSUMER;
//  - none while its backlog holds more than kCatchUpBacklogLimit frames or
//    max_pending_bytes/4 bytes, and it stops once past that byte mark.
// A session behind with nothing stored after it (retention removed it) moves
// to the head. A stored row that does not parse is skipped, and so is one
// whose originator's signature no longer stands (Router::standing, with the
// row's accepted_ms; audited once per read by Router::withhold_from_all).
// Each copy carries the row's stored acceptance receipt.
//
// Ownership and threads: owned by the broker's I/O thread, which alone calls
// it; borrows the store, the router and the sessions. Store errors are
// logged and the round ends; the next round tries again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "broker/config.h"
#include "broker/router.h"
#include "broker/session_table.h"
#include "broker/store.h"

namespace spdlog {
class logger;
}

namespace tearline::broker {

inline constexpr std::size_t kCatchUpBatch = 256;
inline constexpr std::size_t kCatchUpBacklogLimit = 64;

// Signs the receipt of a stored report that has none (seq, the report, its
// stored acceptance time): GroupCommit::receipt_for_stored.
using LateReceipt = std::function<Bytes(std::uint64_t, const report::VerifiedReport&, std::int64_t)>;

class CatchUp {
 public:
  // `late_receipt`, when set, gives a receipt to each stored report without
  // one (so that clients, which refuse a copy without a receipt, still get
  // a database's older reports); unset, such a copy goes out without.
  CatchUp(Store& store, Router& router, SessionTable& sessions, const Limits& limits,
          std::shared_ptr<spdlog::logger> log, LateReceipt late_receipt = nullptr);

  // One round up to `head` (the last committed seq). Returns the copies sent.
  std::size_t run(std::uint64_t head, const TrustSnapshot& trust, std::int64_t now_s);
  // Whether some READY session is behind `head`.
  bool behind(std::uint64_t head) const;
  // Store reads made so far (each serves every session behind it).
  std::uint64_t reads() const { return reads_; }

 private:
  Store& store_;
  Router& router_;
  SessionTable& sessions_;
  const std::size_t max_pending_deliveries_;
  const std::size_t max_pending_bytes_;
  std::shared_ptr<spdlog::logger> log_;
  LateReceipt late_receipt_;
  std::uint64_t reads_ = 0;
};

}  // namespace tearline::broker
