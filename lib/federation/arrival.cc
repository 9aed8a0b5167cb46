#include "federation/arrival.h"

#include <utility>

#include "base/canonical_proto.h"
#include "identity/objects.h"
#include "receipt/acceptance.h"
#include "tearline/v1/receipt.pb.h"

namespace tearline::federation {

Result<Arrival> check_arrival(const Boundary& b, const ArrivedCopy& copy, const identity::Directory& directory,
                              std::int64_t now_s, const ArrivalLimits& limits, report::RootCache* roots) {
  const std::string which = "peering " + b.peering->peering_id + " v" + std::to_string(b.peering->version);
  report::VerifyOptions options;
  options.max_sections = limits.max_sections;
  options.max_recipients = limits.max_recipients;
  options.roots = roots;
  // 1. The witness: parsed far enough for its digest, then its receipt.
  auto parsed = report::parse_report_structure(copy.report, options);
  if (!parsed) return parsed.status();
  receipt::AcceptanceCheck witness;
  witness.seq = copy.broker_seq;
  witness.broker_id = b.their_broker;
  if (!copy.writer.empty()) {
    const identity::Credential* w = directory.node(copy.writer);
    if (w == nullptr || w->agency != b.their_agency || !w->has_role(identity::kBrokerRole)) {
      return Status::fail(Code::RECEIPT_INVALID, "the copy is of the stream of " + std::string(copy.writer) +
                                                     ", which is not a broker of " + b.their_agency +
                                                     " in this directory");
    }
    witness.broker_id = copy.writer;
  }
  witness.partner_broker = true;
  auto accepted = receipt::verify_acceptance(copy.receipt, receipt::report_digest(parsed->report), directory, witness);
  if (!accepted) return accepted.status();
  // 2. The originator's signature, judged at that acceptance time.
  options.accepted_ms = accepted->accepted_ms;
  auto verified = report::verify_parsed(std::move(parsed).value(), directory, options);
  if (!verified) return verified.status();
  // 2b. The time window, at the partner broker's acceptance.
  const std::int64_t created = verified->header.created_at_ms(), at = accepted->accepted_ms;
  const std::string window = "; the window is " + std::to_string(limits.clock_window_ms / 1000) + " s";
  if (created < at - limits.clock_window_ms) {
    return Status::fail(Code::STALE_REPORT, "created-at is " + std::to_string((at - created) / 1000) + " s before " +
                                                b.their_broker + " says it accepted it" + window);
  }
  if (created > at + limits.clock_window_ms) {
    return Status::fail(Code::FUTURE_REPORT, "created-at is " + std::to_string((created - at) / 1000) + " s after " +
                                                 b.their_broker + " says it accepted it" + window);
  }
  if (at > now_s * 1000 + limits.clock_window_ms) {
    return Status::fail(Code::FUTURE_REPORT, b.their_broker + " says it accepted the report " +
                                                 std::to_string((at - now_s * 1000) / 1000) +
                                                 " s after this broker's clock" + window);
  }
  // 3. Whose report it is.
  const std::string& agency = verified->originator.agency;
  if (agency == b.our_agency) {
    return Status::fail(Code::CROSSING_LOOP, "its originator " + verified->originator.node_id + " is a node of " +
                                                 b.our_agency + ": the report left this agency and came back over " +
                                                 which);
  }
  if (agency != b.their_agency) {
    return Status::fail(Code::NO_PEERING, "its originator " + verified->originator.node_id + " is a node of " + agency +
                                              ", not of " + b.their_agency + ": " + which + " carries " +
                                              b.their_agency + "'s reports only (no transit)");
  }
  if (!copy.path.empty()) {
    return Status::fail(Code::NO_PEERING, "it passed through other brokers before " + b.their_broker + ": " + which +
                                              " carries " + b.their_agency + "'s own reports only (no transit)");
  }
  // 4. The peering's rules towards us, for what crossed sealed.
  const Crossing crossing{b.peering, b.way, b.their_agency, b.since, b.our_agency, b.our_country};
  CrossingQuestion q;
  q.topic = verified->header.topic();
  q.originator_country = verified->originator.country;
  q.originator_agency = agency;
  q.accepted_ms = accepted->accepted_ms;
  std::vector<std::size_t> index;  // q.sections[k] is section index[k]
  for (std::size_t i = 0; i < verified->sections.size(); ++i) {
    const report::VerifiedSection& s = verified->sections[i];
    if (!s.present || !s.label) continue;
    index.push_back(i);
    q.sections.push_back(CrossingSection{
        &*s.label,
        sealed_to_admitted_partner(directory, s.recipients, *s.label, b.our_agency, q.originator_country, now_s)});
  }
  // 5. Something here to open.
  if (q.sections.empty()) {
    return Status::fail(Code::NOT_ADDRESSED, "every section was torn off before it crossed " + which +
                                                 ": nothing in it is sealed to a node of " + b.our_agency);
  }
  const policy::DeliveryDecision d = decide_crossing(crossing, q);
  Status refused;
  refused.merge(d.topic);
  for (std::size_t k = 0; k < d.sections.size(); ++k) {
    for (const auto& r : d.sections[k].denials.reasons()) {
      if (d.topic.has(r.code)) continue;  // said once, for the whole copy
      refused.add(r.code, "section " + std::to_string(index[k] + 1) + ": " + r.message);
    }
  }
  if (!refused) return refused;
  tearline::v1::CrossingPath path;
  path.add_receipts(copy.receipt.data(), copy.receipt.size());
  return Arrival{std::move(verified).value(), accepted->accepted_ms, serialize_canonical(path)};
}

}  // namespace tearline::federation
