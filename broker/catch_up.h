// CatchUp: sessions behind the head read what they missed from the store.
//
// Streams (docs/protocol.md 6.14): run() reads this broker's own stream,
// run_stream() another broker's that shares the store (its reports read
// back with Store::read_stream, routed to each session at its place in that
// stream, Session::place, with GAPs naming the stream); both work alike.
// A report goes to a session only once the session passed its originator's
// previous report (Router::passed_prev), in whichever stream: until then the
// session is held at it in this stream (StreamPlace::waits_seq) and skipped
// by later rounds until its place in the other stream gets there.
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
// to the head. A row whose originator's signature no longer stands
// (Router::standing, with the row's accepted_ms; audited once per read by
// Router::withhold_from_all) is skipped. Each copy carries the row's stored
// acceptance receipt.
//
// Re-check (docs/reliability.md, "Damaged records"): every row read back is
// verified again before it is routed: its structure and every section's
// commitment (report::parse_report_structure) and the originator's signature
// (report::verify_parsed, batch roots through `checks.roots`), without the
// time-window checks of ingress. A row that fails is DAMAGED: reported once
// per record and broker run (log line event=stored_record_damaged, one audit
// entry event "storage" decision "damaged", checks.damaged counter), and
// each session that would have received it gets a GAP frame (STORAGE_DAMAGED,
// docs/protocol.md 6.13) instead: the sessions Router::wants it for when its
// header still names a topic, every session reading across it otherwise.
// Its position moves past the row either way. One case is not damage: a
// signature that fails on a row accepted before its originator's current
// credential became valid was made with the key that credential replaced
// (`tearline certs issue --replace`; the directory holds one credential per
// node, so no one can verify it any more). It is logged
// event=stored_report_unverifiable, audited once as event "withheld"
// decision "withheld", not counted as damage, and its GAP carries
// ORIGINATOR_INVALID with that reason.
//
// Ownership and threads: owned by the broker's I/O thread, which alone calls
// it; borrows the store, the router and the sessions. Store errors are
// logged (once per run of failures of a stream) and the round ends; the
// next round tries again.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

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

// Where the re-check reports damaged rows; every member optional.
struct CatchUpChecks {
  report::RootCache* roots = nullptr;             // verified batch roots (not owned; thread-safe)
  Router::Audit audit;                            // receives the "storage" / "damaged" entries
  std::atomic<std::uint64_t>* damaged = nullptr;  // counts each damaged record once per run
};

class CatchUp {
 public:
  // `late_receipt`, when set, gives a receipt to each stored report without
  // one (so that clients, which refuse a copy without a receipt, still get
  // a database's older reports); unset, such a copy goes out without.
  CatchUp(Store& store, Router& router, SessionTable& sessions, const Limits& limits,
          std::shared_ptr<spdlog::logger> log, LateReceipt late_receipt = nullptr, CatchUpChecks checks = {});

  // One round of this broker's own stream up to `head` (the last committed
  // seq). Returns the copies sent.
  std::size_t run(std::uint64_t head, const TrustSnapshot& trust, std::int64_t now_s) {
    return run_stream("", head, trust, now_s);
  }
  // One round of `writer`'s stream (empty: this broker's) up to its `head`.
  std::size_t run_stream(const std::string& writer, std::uint64_t head, const TrustSnapshot& trust, std::int64_t now_s);
  // Whether some READY session, not held, is behind `head` in this
  // broker's stream (behind_in: in `writer`'s).
  bool behind(std::uint64_t head) const { return behind_in("", head); }
  bool behind_in(std::string_view writer, std::uint64_t head) const;
  // The name this broker writes under (StoreOptions::writer): a `prev` the
  // store reads back in that stream is this broker's own.
  void set_own_writer(std::string name) { own_writer_ = std::move(name); }
  // Whether the last read of `writer`'s stream failed (the caller need not
  // try again at once).
  bool failing(const std::string& writer) const { return failing_.count(writer) != 0; }
  // Store reads made so far (each serves every session behind it).
  std::uint64_t reads() const { return reads_; }
  // Distinct damaged records found since this object was made.
  std::size_t damaged() const { return reported_.size(); }

 private:
  // Logs, audits and counts a damaged row, once per seq.
  void report_damaged(const std::string& writer, std::uint64_t seq, const std::string& report_hex, const Status& why);
  // A row signed with a key its originator's credential has since replaced:
  // logged (warn) and audited as withheld, not damage; its GAP says why.
  void report_unverifiable(const std::string& writer, std::uint64_t seq, const std::string& report_hex,
                           const std::string& originator, const Status& why);

  Store& store_;
  Router& router_;
  SessionTable& sessions_;
  const std::size_t max_pending_deliveries_;
  const std::size_t max_pending_bytes_;
  std::shared_ptr<spdlog::logger> log_;
  LateReceipt late_receipt_;
  CatchUpChecks checks_;
  std::string own_writer_;
  std::set<std::string> failing_;                                 // streams whose last read failed
  std::set<std::pair<std::string, std::uint64_t>> reported_;      // damaged (writer, seq) already reported
  std::set<std::pair<std::string, std::uint64_t>> unverifiable_;  // signed with a replaced key, already reported
  std::uint64_t reads_ = 0;
};

}  // namespace tearline::broker
