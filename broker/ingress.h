// The ingress checks of a PUBLISH that do not need the I/O thread's state,
// in the order of docs/protocol.md: strict parsing, originator is the
// authenticated node, signature and credential, labels, every section
// present, created-at window, may_publish (sources looked up among accepted
// reports: UNKNOWN_SOURCE when absent) and topic write permission. Replay
// (ids, sequences) is checked afterwards by the I/O thread. Pure apart from
// reading the SourceIndex; runs on verifier threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "broker/config.h"
#include "broker/source_index.h"
#include "broker/trust_state.h"
#include "report/root_cache.h"
#include "report/verify.h"

namespace tearline::broker {

// A copy a partner's broker delivered to this broker's PeerConnection
// (docs/federation.md, "The receiving boundary broker"): what it needs back
// with the result to acknowledge it.
struct ArrivalTag {
  std::string peer;                // the partner broker's node id
  std::uint64_t link_session = 0;  // PeerConnection::session() when it arrived
  std::string writer;              // Deliver.writer: the partner's stream
  std::uint64_t broker_seq = 0;    // in that stream
  Bytes receipt;                   // the partner broker's acceptance receipt
  Bytes path;                      // Deliver.path: the brokers before the partner's (none without transit)
};

// "from PEER seq N" (or "from PEER WRITER seq N"), as audit entries name a copy.
std::string arrival_place(const ArrivalTag& tag);

struct IngressJob {
  std::string routing_id;
  std::string node_id;  // authenticated (ZAP User-Id)
  std::uint64_t request_id = 0;
  Bytes report;
  std::int64_t received_ms = 0;
  std::optional<ArrivalTag> arrival;  // set: a copy from a partner's broker, not a PUBLISH
};

struct IngressResult {
  std::string routing_id;
  std::string node_id;
  std::uint64_t request_id = 0;
  Status status;  // OK: verified and allowed, pending the replay check
  // The report id (hex) whenever the header parsed, even when the report
  // was refused: the audit row of a rejected PUBLISH names it.
  std::string report_id_hex;
  std::shared_ptr<const report::VerifiedReport> report;
  Bytes raw;
  // An arrival (IngressJob::arrival): `node_id` is then the report's
  // originator once verified, and `request_id` unused.
  std::optional<ArrivalTag> arrival;
  Bytes path;  // an arrival's: the serialized CrossingPath it is stored and delivered with
};

// TOPIC_INVALID when `topic` (or pattern) is longer or deeper than the
// broker's configured limits (the grammar's own limits are checked elsewhere).
Status check_topic_limits(std::string_view topic, const Limits& limits);

// `roots`: the broker's verified batch roots (shared by the verifier threads).
IngressResult check_publish(IngressJob job, const TrustSnapshot& trust, const SourceIndex& sources,
                            const Limits& limits, std::int64_t now_ms, report::RootCache* roots);

// An arrival (job.arrival set): federation::check_arrival against the
// peering in effect now with the partner broker that delivered it
// (NO_PEERING when none is), and the topic limits. On success `node_id` is
// the originator. Pure like check_publish; runs on verifier threads.
IngressResult check_arrival_job(IngressJob job, const TrustSnapshot& trust, const Limits& limits, std::int64_t now_ms,
                                report::RootCache* roots);

}  // namespace tearline::broker
