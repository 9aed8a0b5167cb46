// The client library's conversions between the public vocabulary
// (tearline/client.h) and lib/'s types (session_internal.h).
#include "client/session_internal.h"

namespace tearline::client {

std::string_view section_status_name(SectionStatus status) { return report::section_status_name(to_report(status)); }

policy::Label to_policy(const Label& label) {
  return policy::Label{static_cast<identity::Classification>(label.classification), label.releasable_to, label.units,
                       label.orcon};
}

std::optional<policy::Label> to_policy(const std::optional<Label>& label) {
  if (!label) return std::nullopt;
  return to_policy(*label);
}

Label from_policy(const policy::Label& label) {
  return Label{static_cast<Classification>(label.classification), label.releasable_to, label.units, label.orcon};
}

report::ReportDraft to_report_draft(const Draft& draft) {
  report::ReportDraft out;
  out.topic = draft.topic;
  for (const auto& s : draft.sections) out.sections.push_back({to_policy(s.label), to_bytes(s.text)});
  for (const auto& s : draft.sources) out.sources.push_back({s.report_id, s.sections});
  out.created_at_ms = draft.created_at_ms;
  out.sequence = draft.sequence;
  return out;
}

Draft from_report_draft(const report::ReportDraft& draft) {
  Draft out;
  out.topic = draft.topic;
  for (const auto& s : draft.sections) out.sections.push_back({from_policy(s.label), to_string(s.content)});
  for (const auto& s : draft.sources) out.sources.push_back({s.report_id, s.sections});
  out.created_at_ms = draft.created_at_ms;
  out.sequence = draft.sequence;
  return out;
}

SectionStatus from_report(report::SectionStatus status) {
  switch (status) {
    case report::SectionStatus::kOpened: return SectionStatus::kOpened;
    case report::SectionStatus::kWithheld: return SectionStatus::kWithheld;
    case report::SectionStatus::kNotAddressed: return SectionStatus::kNotAddressed;
    case report::SectionStatus::kOpenFailed: return SectionStatus::kOpenFailed;
  }
  return SectionStatus::kOpenFailed;
}

report::SectionStatus to_report(SectionStatus status) {
  switch (status) {
    case SectionStatus::kOpened: return report::SectionStatus::kOpened;
    case SectionStatus::kWithheld: return report::SectionStatus::kWithheld;
    case SectionStatus::kNotAddressed: return report::SectionStatus::kNotAddressed;
    case SectionStatus::kOpenFailed: return report::SectionStatus::kOpenFailed;
  }
  return report::SectionStatus::kOpenFailed;
}

Subscriptions from_wire(const tearline::v1::SubscriptionList& list) {
  Subscriptions out;
  out.durable.assign(list.durable().begin(), list.durable().end());
  out.session.assign(list.session().begin(), list.session().end());
  out.acked_seq = list.acked_seq();
  for (const auto& c : list.streams()) out.streams[c.writer()] = c.acked_seq();
  return out;
}

BrokerStatus from_wire(const tearline::v1::BrokerStatus& b) {
  BrokerStatus out;
  out.version = b.version();
  out.broker_id = b.broker_id();
  out.started_at_ms = b.started_at_ms();
  out.broker_time_ms = b.broker_time_ms();
  out.sessions = b.sessions();
  out.head_seq = b.head_seq();
  out.verify_queue = b.verify_queue();
  out.commit_queue = b.commit_queue();
  out.delivery_backlog = b.delivery_backlog();
  out.store_bytes = b.store_bytes();
  out.last_checkpoint_ms = b.last_checkpoint_ms();
  out.directory_digest_hex = to_hex(as_bytes(b.directory_digest()));
  out.directory_generation = b.directory_generation();
  out.accepted = b.accepted();
  out.rejected = b.rejected();
  out.delivered = b.delivered();
  out.damaged_records = b.damaged_records();
  out.refused_handshakes = b.refused_handshakes();
  out.refused_hellos = b.refused_hellos();
  out.wall_clock_steps = b.wall_clock_steps();
  for (const auto& c : b.rejected_by_code()) out.rejected_by_code.emplace_back(c.code(), c.count());
  for (const auto& c : b.withheld_by_reason()) out.withheld_by_reason.emplace_back(c.code(), c.count());
  out.peer_links = b.peer_links();
  out.peer_links_ready = b.peer_links_ready();
  out.crossings_taken = b.crossings_taken();
  out.crossings_refused = b.crossings_refused();
  return out;
}

}  // namespace tearline::client
