// The receiving side of a boundary (docs/federation.md, "The boundary: the
// receiving side"): whether a copy that a partner agency's broker delivered
// over a peering may enter this agency's store. Pure: no I/O; the time comes
// as an argument.
//
// The checks, in order; a copy is taken whole or refused whole, with every
// reason of the first step that fails:
//  1. the partner broker's acceptance receipt verifies, for this copy's
//     broker seq and signed by the peering's partner broker, or by the
//     copy's writer when it names another broker of the partner agency
//     sharing its store (RECEIPT_INVALID): its acceptance time is the
//     witness the revocation rule judges the originator at
//     (docs/trust-model.md, section 12);
//  1b. the path (Deliver.path: the brokers before the partner's, a report
//     in transit) verifies hop by hop, none accepted after the partner
//     (receipt::verify_path: RECEIPT_INVALID); its first hop is the
//     earliest acceptance, at which steps 2 and 2b judge;
//  2. the report verifies again, as every client verifies a copy: the
//     originator's signature under its own agency's credential, the
//     commitments of the sections that crossed sealed, the batch proof
//     (report::verify_report's codes). Nothing is re-signed: a section torn
//     off upstream verifies by its commitment;
//  2b. the time window, against the earliest acceptance time: the
//     report's created-at within clock_window_ms of it (STALE_REPORT,
//     FUTURE_REPORT: every broker refuses one outside its window, so its
//     broker must not have accepted it), and that time not beyond our own
//     clock by more than the window (FUTURE_REPORT). A copy accepted long
//     ago (a backlog after a link outage) is not stale for that;
//  3. the originator is a node of the partner agency, or the report is in
//     transit (docs/federation.md, "Transit"). One of ours is a loop
//     (CROSSING_LOOP: the report left this agency and came back); the
//     partner's own comes without a path (NO_PEERING); a third agency's
//     must come with one (NO_PEERING), whose first hop is a broker of the
//     originator's agency (RECEIPT_INVALID), that names no broker of ours
//     or of the partner's agency (CROSSING_LOOP), and that with the
//     partner's receipt names at most receipt::kMaxPathHops (HOP_LIMIT).
//     Whether the peering upstream allowed transit is the partner's to
//     judge: we are not a party to it;
//  4. every section that crossed sealed passes the peering's rules towards
//     us, judged by our own copy of the peering (either side may narrow it
//     alone, so ours may be narrower than the sender's): the topic
//     (PEERING_TOPIC), accepted since the peering has run unbroken
//     (NO_PEERING), the ceiling (ABOVE_PEERING_CEILING), releasable to our
//     country and to every country the direction requires
//     (COUNTRY_NOT_RELEASABLE), sealed to a node of ours whom its label
//     admits now (NOT_ADDRESSED): federation::decide_crossing, the
//     sender's own decision. A failure means the partner's broker let
//     through what it must not have: the copy is refused, never trimmed;
//  5. at least one section crossed sealed (NOT_ADDRESSED otherwise: a copy
//     nobody here can open is not stored).
// Loops and duplicates of a copy already taken are the store's and the
// replay guard's to find (by originator and report id, never by bytes).
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "federation/crossing.h"
#include "federation/peering.h"
#include "identity/directory.h"
#include "report/root_cache.h"
#include "report/verify.h"

namespace tearline::federation {

// One peering in effect, as the receiving broker sees it.
struct Boundary {
  const Peering* peering = nullptr;       // borrowed; never null
  const PeeringDirection* way = nullptr;  // the direction towards us
  std::string our_agency, our_country;
  std::string their_agency;
  std::string their_broker;  // the partner broker's node id: the only witness taken
  std::int64_t since = 0;    // unix seconds (federation::in_effect_since)
};

// What the partner's broker delivered: DELIVER's fields.
struct ArrivedCopy {
  std::uint64_t broker_seq = 0;  // in the partner broker's stream
  ByteView report;
  ByteView receipt;  // the partner broker's acceptance receipt
  ByteView path;     // Deliver.path: the brokers before the partner's
  // Deliver.writer: another broker of the partner's, sharing its store,
  // accepted the report (docs/protocol.md 6.14); empty: the partner broker.
  std::string_view writer;
};

struct Arrival {
  report::VerifiedReport report;
  std::int64_t accepted_ms = 0;  // by the partner broker (its receipt)
  // The serialized CrossingPath this broker stores and delivers the report
  // with: the path it came with, then the partner broker's receipt
  // (docs/federation.md, "The path").
  Bytes path;
};

struct ArrivalLimits {
  std::size_t max_sections = report::kMaxSections;
  std::size_t max_recipients = report::kMaxRecipients;
  std::int64_t clock_window_ms = 300'000;  // the receiving broker's clock_window_seconds
};

// `roots`: verified batch roots (not owned; null: verify every signature).
// `now_s`: the receiving broker's clock, for the labels' admission now.
[[nodiscard]] Result<Arrival> check_arrival(const Boundary& boundary, const ArrivedCopy& copy,
                                            const identity::Directory& directory, std::int64_t now_s,
                                            const ArrivalLimits& limits = {}, report::RootCache* roots = nullptr);

}  // namespace tearline::federation
