#include "broker/source_index.h"

#include "report/verify.h"

namespace tearline::broker {

policy::Label torn_section_label(const std::string& originator_country) {
  return policy::Label{tearline::v1::TOP_SECRET, {originator_country}, {}, true};
}

SourceRecord stored_source(const std::string& originator, const std::string& agency, const std::string& country,
                           const std::string& bytes) {
  SourceRecord r{originator, agency, country, {}};
  auto parsed = report::parse_report_structure(as_bytes(bytes));
  if (parsed) {
    for (const auto& s : parsed->sections) {
      if (!s.present || !s.label) r.torn.push_back(static_cast<std::uint32_t>(r.labels.size()));
      r.labels.push_back(s.present && s.label ? *s.label : torn_section_label(country));
    }
  }
  return r;
}

void SourceIndex::add(const std::string& report_id, SourceRecord record) {
  WriterLock lock(mu_);
  if (records_.insert_or_assign(report_id, std::move(record)).second) order_.push_back(report_id);
  while (order_.size() > capacity_) {
    records_.erase(order_.front());  // may already be gone (remove)
    order_.pop_front();
  }
}

void SourceIndex::remove(const std::vector<std::string>& report_ids) {
  if (report_ids.empty()) return;
  WriterLock lock(mu_);
  for (const auto& id : report_ids) records_.erase(id);
}

std::optional<SourceRecord> SourceIndex::find(const std::string& report_id) const {
  {
    ReaderLock lock(mu_);
    auto it = records_.find(report_id);
    if (it != records_.end()) return it->second;
  }
  if (fallback_) return fallback_(report_id);
  return std::nullopt;
}

std::size_t SourceIndex::cached() const {
  ReaderLock lock(mu_);
  return records_.size();
}

}  // namespace tearline::broker
