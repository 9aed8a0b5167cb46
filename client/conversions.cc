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

}  // namespace tearline::client
