// Router: who receives a report, and what of it.
//
// For a report (fresh from a group commit, or read back from the store by
// CatchUp) the SubscriptionIndex names the nodes with a matching durable
// pattern; a session receives it when it is attached and its node is named,
// or when one of its own session patterns selects it (wants()). For each
// such session the one delivery decision
// (policy::decide_delivery) says which sections the node receives and why
// the others are withheld. A session receives a copy torn down to its
// sections (the exact bytes when it receives them all), or nothing.
//
// The revocation rule comes first (standing(): identity::Directory::
// check_signer at the report's created-at, witnessed by its stored
// accepted_ms, or its path's first acceptance when it crossed from another
// agency's broker, whichever is earlier): a report whose originator's signature no longer stands
// (compromised at or before its acceptance, or a legacy revocation) is
// delivered to nobody, with one entry: event "withheld", node "", decision
// "withheld", detail "seq S all nodes: <reasons>" (withhold_from_all).
//
// Streams (docs/protocol.md 6.14): a report is routed in the stream of the
// broker that accepted it (Routable::writer; empty: this broker's own), and
// every position below (delivered, acked, the copies awaiting an ACK, the
// seqs sent before attaching) is the session's place in that stream
// (Session::place). "seq S" in the audit entries below reads "WRITER seq S"
// for another broker's report.
//
// Audit entries, exactly (docs/reliability.md, "Audit log"). For one
// session (route_to, which CatchUp uses):
//   topic not readable     -> withheld "all sections: <topic reasons>"
//   credential not valid   -> nothing (the session is closed at the next
//                             housekeeping), no entry
//   otherwise, per withheld section N -> withheld "section N: <reasons>"
//   and when anything is sent -> delivery "seq S sections 1,3"
// For a report just committed (route_live), ONE entry for all the sessions
// it reaches, whatever their number: event "routing", node "", decision
// "routed", detail "seq S" followed by one clause per decision above, each
// " | NODE " and the same words ("withheld section 2: <reasons>",
// "withheld all sections: <reasons>", "delivered sections 1,3"); no entry
// when no session matched.
//
// Ownership and threads: owned by the broker's I/O thread, which alone calls
// it; borrows the index and the session table, which must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "broker/live_events.h"
#include "broker/metrics.h"
#include "broker/session_table.h"
#include "broker/subscription_index.h"
#include "broker/trust_state.h"
#include "crypto/hash.h"
#include "policy/delivery.h"
#include "report/verify.h"

namespace tearline::broker {

// "seq S" in this broker's stream (writer empty), "WRITER seq S" in
// another's: how audit entries name a report's place.
std::string place_label(std::string_view writer, std::uint64_t seq);

// A report ready to route: from a fresh verification or from the store.
// Borrowed pointers; they live as long as the routing call.
struct Routable {
  Routable(std::uint64_t seq_, const report::VerifiedReport* report_, std::string_view originator_country_,
           const Bytes* raw_, ByteView receipt_ = {}, std::int64_t accepted_ms_ = 0, std::string_view writer_ = {})
      : seq(seq_),
        report(report_),
        originator_country(originator_country_),
        raw(raw_),
        receipt(receipt_),
        accepted_ms(accepted_ms_),
        writer(writer_) {}

  std::string place_label() const { return broker::place_label(writer, seq); }

  std::uint64_t seq = 0;  // in the stream of `writer`
  const report::VerifiedReport* report = nullptr;
  std::string_view originator_country;
  const Bytes* raw = nullptr;  // the report's exact bytes
  ByteView receipt;            // the broker's acceptance receipt, sent with every copy
  std::int64_t accepted_ms = 0;
  std::string_view writer;  // the broker that accepted it, when another (its stream); empty: this broker
  // Where its originator's previous report is (StoredReport::prev): in
  // the stream of prev_writer (empty: this broker's) at prev_seq; 0: none.
  std::string_view prev_writer;
  std::uint64_t prev_seq = 0;
  // A serialized CrossingPath (receipt.proto): the brokers of other agencies
  // it passed through before this one; empty: published here.
  ByteView path;
  // BLAKE2b-256 of *raw, computed once for the sessions that get it whole.
  mutable std::optional<crypto::Digest> raw_hash;
};

class Router {
 public:
  // Receives one audit entry: (event, node, report hex, decision, detail).
  using Audit = std::function<void(std::string event, std::string node, std::string report, std::string decision,
                                   std::string detail)>;

  Router(const SubscriptionIndex& subscriptions, SessionTable& sessions, Audit audit);

  // Counts each (node, section) withheld at delivery, once per reason code
  // (the broker's metrics); null: not counted. It must outlive the Router.
  void count_withheld_in(CodeCounter* counter) { withheld_counter_ = counter; }
  // Tells each delivery decision to `live` (the live event stream); null:
  // not told. It must outlive the Router.
  void report_live_to(LiveEvents* live) { live_ = live; }

  // Whether the originator's signature stands for this report: the
  // revocation rule at its created-at, witnessed by its earliest acceptance
  // (its accepted_ms, or its path's first hop's).
  static Status standing(const TrustSnapshot& trust, const Routable& r);
  // Records that `r` goes to nobody because `why` (one audit entry).
  void withhold_from_all(const Routable& r, const Status& why);

  // The per-originator order across streams: whether `s` has passed the
  // place of r's originator's previous report (or it has none). A report
  // goes to a session only once this holds; until then the session stays
  // before it in r's stream.
  static bool passed_prev(const Session& s, const Routable& r) {
    return r.prev_seq == 0 || s.delivered_in(r.prev_writer) >= r.prev_seq;
  }

  // The nodes with a pattern matching the report's topic (sorted).
  std::vector<std::string> subscribers(const Routable& r) const;

  // Routes a report of this broker's own just committed: every READY
  // session at the head (delivered == r.seq - 1) that passed_prev() moves
  // to r.seq, whether or not it wants it (so that it does not think itself
  // behind and catch up from the store), and the sessions that want it
  // (wants()) are judged and sent their copy. Sessions behind, or not past
  // the report's prev, are left to CatchUp. Returns the copies sent.
  std::size_t route_live(const Routable& r, const TrustSnapshot& trust, std::int64_t now_s);

  // Judges `r` for one session: its delivered (in r's stream) becomes r.seq; when the
  // session wants it (wants(), with `matched` = subscribers(r)) the
  // decision is made, audited and the copy sent. True when a copy was sent.
  bool route_to(Session& s, const Routable& r, const std::vector<std::string>& matched, const TrustSnapshot& trust,
                std::int64_t now_s);

  // Whether session `s` is to receive `r` (docs/protocol.md,
  // "Subscriptions"): not when this session was sent it already before it
  // attached (that mark is consumed); yes when the session is attached and
  // its node is in `matched` (the durable set), or when one of its session
  // patterns, accepted before r.seq was committed in its stream, matches
  // the topic.
  static bool wants(Session& s, const Routable& r, const std::vector<std::string>& matched);

  // What of `r` the node receives (policy::decide_delivery with the
  // snapshot's directory and topic policy, at now_s; for a partner's
  // broker, federation::decide_crossing). A section torn off before the
  // report reached this broker (it arrived over a peering) is withheld from
  // every node, TORN_UPSTREAM.
  static policy::DeliveryDecision judge(const TrustSnapshot& trust, std::string_view node, const Routable& r,
                                        std::int64_t now_s);
  // The DELIVER frame of `r` for a decision that delivers something: the
  // exact bytes when every section is delivered, else a redacted copy; with
  // the acceptance receipt, naming r's stream when it is another broker's. `copy_hash`, when given, receives the hash
  // of the report bytes it carries (receipt::copy_hash).
  static Bytes deliver_frame(const Routable& r, const policy::DeliveryDecision& decision,
                             crypto::Digest* copy_hash = nullptr);

 private:
  // judge() for the sections of `present` (indexes of those carried sealed), in order.
  static policy::DeliveryDecision judge_present(const TrustSnapshot& trust, std::string_view node, const Routable& r,
                                                const std::vector<std::size_t>& present, std::int64_t now_s);
  // route_to's work; the audit goes to `clauses` (route_live's one entry)
  // when given, else one entry per decision.
  bool judge_and_send(Session& s, const Routable& r, const std::vector<std::string>& matched,
                      const TrustSnapshot& trust, std::int64_t now_s, std::string* clauses);

  const SubscriptionIndex& subscriptions_;
  SessionTable& sessions_;
  Audit audit_;
  CodeCounter* withheld_counter_ = nullptr;
  LiveEvents* live_ = nullptr;
};

}  // namespace tearline::broker
