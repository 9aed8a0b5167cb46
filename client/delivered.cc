// What a session does with what the broker sends back (session_internal.h):
// a delivered report verified and opened with its acceptance receipt, the
// entry a delivery receipt makes of a copy, and an ACCEPTED's receipt
// checked against the report sent.
#include "client/session_internal.h"

namespace tearline::client {
namespace v1 = tearline::v1;

namespace {

// The digest an acceptance receipt commits to, when `report` is well formed
// enough to have one (every commitment 32 bytes: receipt::report_digest's
// precondition); nullopt otherwise.
std::optional<crypto::Digest> digest_of(const v1::Report& report) {
  for (const auto& s : report.sections()) {
    if (s.commitment().size() != crypto::Digest{}.size()) return std::nullopt;
  }
  return receipt::report_digest(report);
}

}  // namespace

Received open_delivered(ByteView bytes, std::uint64_t broker_seq, ByteView receipt, std::string_view broker_id,
                        const identity::Directory& directory, std::string_view node_id, const crypto::SealingKey& key,
                        report::RootCache* roots, report::UnwrapCache* unwraps, report::RootCache* receipts,
                        ByteView path) {
  Received r;
  r.broker_seq = broker_seq;
  r.raw.assign(bytes.begin(), bytes.end());
  r.receipt.assign(receipt.begin(), receipt.end());
  report::VerifyOptions options;
  options.roots = roots;
  auto parsed = report::parse_report_structure(bytes, options);
  if (!parsed) {
    r.verification = parsed.status();
    return r;
  }
  // The receipt first: its time is the witness the revocation rule needs.
  auto accepted = receipt::verify_acceptance(receipt, receipt::report_digest(parsed->report), directory,
                                             receipt::AcceptanceCheck{broker_seq, broker_id, receipts});
  Status refused;
  if (accepted) {
    options.accepted_ms = accepted->accepted_ms;
  } else {
    refused = accepted.status();  // never valid without it; what else fails is said too
  }
  // The path before this broker: its first acceptance is the earliest
  // witness of the report (the originator's own broker).
  receipt::PathCheck path_check;
  const identity::Credential* originator = directory.node(parsed->header.originator());
  const identity::Credential* me = directory.node(node_id);
  if (originator != nullptr) path_check.originator_agency = originator->agency;
  if (me != nullptr) path_check.home_agency = me->agency;
  if (accepted) path_check.delivered_ms = accepted->accepted_ms;
  path_check.cache = receipts;
  auto hops = receipt::verify_path(path, receipt::report_digest(parsed->report), directory, path_check);
  if (!hops) {
    refused.merge(hops.status());
  } else {
    for (const auto& h : *hops) {
      r.path.push_back(Received::Hop{h.broker_id, h.seq, h.accepted_ms});
      if (accepted && h.accepted_ms < *options.accepted_ms) options.accepted_ms = h.accepted_ms;
    }
  }
  auto verified = report::verify_parsed(std::move(parsed).value(), directory, options);
  if (!verified) refused.merge(verified.status());
  if (!refused) {
    r.verification = refused;
    return r;
  }
  r.accepted_ms = accepted->accepted_ms;
  r.report_id_hex = verified->report_id_hex();
  r.originator = verified->header.originator();
  r.topic = verified->header.topic();
  r.created_at_ms = verified->header.created_at_ms();
  for (auto& o : report::open_sections(*verified, node_id, key, unwraps)) {
    ReceivedSection s;
    s.status = from_report(o.status);
    if (o.label) s.label = from_policy(*o.label);
    s.text = to_string(o.plaintext);
    r.sections.push_back(std::move(s));
  }
  return r;
}

Result<receipt::Acceptance> check_accepted(ByteView report, std::uint64_t broker_seq, ByteView receipt,
                                           std::string_view broker_id, const identity::Directory& directory,
                                           report::RootCache* receipts) {
  v1::Report rep;
  if (report.size() > static_cast<std::size_t>(INT32_MAX) ||
      !rep.ParseFromArray(report.data(), static_cast<int>(report.size()))) {
    return Status::fail(Code::RECEIPT_INVALID, "acceptance receipt: the report sent does not parse");
  }
  auto digest = digest_of(rep);
  if (!digest) return Status::fail(Code::RECEIPT_INVALID, "acceptance receipt: the report sent is malformed");
  return receipt::verify_acceptance(receipt, *digest, directory,
                                    receipt::AcceptanceCheck{broker_seq, broker_id, receipts});
}

}  // namespace tearline::client
