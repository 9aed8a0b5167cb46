#include "federation/arrival.h"

#include <algorithm>
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
  const crypto::Digest digest = receipt::report_digest(parsed->report);
  auto accepted = receipt::verify_acceptance(copy.receipt, digest, directory, witness);
  if (!accepted) return accepted.status();
  // 1b. The path: the brokers of other agencies before the partner's (a
  // report in transit), each hop's receipt verified, none after the
  // partner's acceptance; its first hop is then the earliest acceptance.
  std::vector<receipt::Acceptance> hops;
  std::vector<std::string> hop_agencies;
  if (!copy.path.empty()) {
    receipt::PathCheck check;
    check.delivered_ms = accepted->accepted_ms;
    auto verified_path = receipt::verify_path(copy.path, digest, directory, check);
    if (!verified_path) return verified_path.status();
    hops = std::move(verified_path).value();
    for (const auto& hop : hops) {
      const identity::Credential* c = directory.node(hop.broker_id);
      hop_agencies.push_back(c != nullptr ? c->agency : "");
    }
  }
  const std::int64_t at = hops.empty() ? accepted->accepted_ms : hops.front().accepted_ms;
  const std::string& first_broker = hops.empty() ? b.their_broker : hops.front().broker_id;
  // 2. The originator's signature, judged at the earliest acceptance.
  options.accepted_ms = at;
  auto verified = report::verify_parsed(std::move(parsed).value(), directory, options);
  if (!verified) return verified.status();
  // 2b. The time window, at that acceptance.
  const std::int64_t created = verified->header.created_at_ms();
  const std::string window = "; the window is " + std::to_string(limits.clock_window_ms / 1000) + " s";
  if (created < at - limits.clock_window_ms) {
    return Status::fail(Code::STALE_REPORT, "created-at is " + std::to_string((at - created) / 1000) + " s before " +
                                                first_broker + " says it accepted it" + window);
  }
  if (created > at + limits.clock_window_ms) {
    return Status::fail(Code::FUTURE_REPORT, "created-at is " + std::to_string((created - at) / 1000) + " s after " +
                                                 first_broker + " says it accepted it" + window);
  }
  if (accepted->accepted_ms > now_s * 1000 + limits.clock_window_ms) {
    return Status::fail(Code::FUTURE_REPORT, b.their_broker + " says it accepted the report " +
                                                 std::to_string((accepted->accepted_ms - now_s * 1000) / 1000) +
                                                 " s after this broker's clock" + window);
  }
  // 3. Whose report it is.
  const std::string& agency = verified->originator.agency;
  if (agency == b.our_agency) {
    return Status::fail(Code::CROSSING_LOOP, "its originator " + verified->originator.node_id + " is a node of " +
                                                 b.our_agency + ": the report left this agency and came back over " +
                                                 which);
  }
  if (agency == b.their_agency && !hops.empty()) {
    return Status::fail(Code::NO_PEERING, b.their_agency + "'s own report passed through other brokers before " +
                                              b.their_broker + " (" + hops.front().broker_id + " first)");
  }
  for (std::size_t i = 0; i < hops.size(); ++i) {
    const bool again = std::find(hop_agencies.begin(), hop_agencies.begin() + static_cast<std::ptrdiff_t>(i),
                                 hop_agencies[i]) != hop_agencies.begin() + static_cast<std::ptrdiff_t>(i);
    if (hop_agencies[i] == b.our_agency || hop_agencies[i] == b.their_agency || again) {
      return Status::fail(Code::CROSSING_LOOP, "path hop " + std::to_string(i + 1) + " is " + hops[i].broker_id +
                                                   " of " + hop_agencies[i] + ": the report passed through " +
                                                   hop_agencies[i] + " before, and does not come round again");
    }
  }
  if (agency != b.their_agency && hops.empty()) {
    return Status::fail(Code::NO_PEERING, "its originator " + verified->originator.node_id + " is a node of " + agency +
                                              ", not of " + b.their_agency + ", and it names no path: " + which +
                                              " carries " + b.their_agency +
                                              "'s reports, and others' only in transit, with the path they took");
  }
  if (!hops.empty() && hop_agencies.front() != agency) {
    return Status::fail(Code::RECEIPT_INVALID, "path hop 1 is " + hops.front().broker_id + ", not a broker of " +
                                                   agency + ", the originator's agency");
  }
  if (hops.size() + 1 > receipt::kMaxPathHops) {
    return Status::fail(Code::HOP_LIMIT, "it passed through " + std::to_string(hops.size() + 1) + " brokers: with " +
                                             b.their_broker + "'s acceptance the path would name " + "more than " +
                                             std::to_string(receipt::kMaxPathHops));
  }
  // 4. The peering's rules towards us, for what crossed sealed.
  const Crossing crossing{b.peering, b.way, b.their_agency, b.since, b.our_agency, b.our_country};
  CrossingQuestion q;
  q.topic = verified->header.topic();
  q.originator_country = verified->originator.country;
  q.originator_agency = agency;
  q.accepted_ms = accepted->accepted_ms;
  q.path_agencies = hop_agencies;
  // Whether the peering upstream let the partner pass it on is the
  // partner's to judge (ours is not a party to it): its receipt vouches.
  q.transit_allowed = true;
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
  if (!copy.path.empty() && !path.ParseFromArray(copy.path.data(), static_cast<int>(copy.path.size()))) {
    return Status::fail(Code::RECEIPT_INVALID, "the path does not parse");  // verify_path parsed it: never here
  }
  path.add_receipts(copy.receipt.data(), copy.receipt.size());
  return Arrival{std::move(verified).value(), accepted->accepted_ms, serialize_canonical(path)};
}

}  // namespace tearline::federation
