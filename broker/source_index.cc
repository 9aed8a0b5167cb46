#include "broker/source_index.h"

#include <mutex>

namespace tearline::broker {

void SourceIndex::add(const std::string& report_id, SourceRecord record) {
  std::unique_lock lock(mu_);
  records_.insert_or_assign(report_id, std::move(record));
}

std::optional<SourceRecord> SourceIndex::find(const std::string& report_id) const {
  std::shared_lock lock(mu_);
  auto it = records_.find(report_id);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

}  // namespace tearline::broker
