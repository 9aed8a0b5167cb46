#include "broker/refusal_notice.h"

#include <algorithm>

namespace tearline::broker {

RefusalNotices::RefusalNotices(double burst, double per_second, std::size_t max_addresses, double total_burst,
                               double total_per_second)
    : burst_(burst),
      per_ms_(per_second / 1000.0),
      max_addresses_(max_addresses),
      total_burst_(total_burst),
      total_per_ms_(total_per_second / 1000.0),
      total_{total_burst, 0} {}

double RefusalNotices::refilled(const Bucket& b, std::int64_t steady_ms, double burst, double per_ms) {
  const auto elapsed = static_cast<double>(std::max<std::int64_t>(0, steady_ms - b.at_ms));
  return std::min(burst, b.tokens + elapsed * per_ms);
}

void RefusalNotices::forget_full(std::int64_t steady_ms) {
  // A flood from many addresses would rescan the whole table with each new
  // address: once per kScanIntervalMs is enough to make room.
  if (scanned_ms_ && steady_ms - *scanned_ms_ < kScanIntervalMs) return;
  scanned_ms_ = steady_ms;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    it = refilled(it->second, steady_ms, burst_, per_ms_) >= burst_ ? buckets_.erase(it) : std::next(it);
  }
}

bool RefusalNotices::tell(const std::string& address, std::int64_t steady_ms) {
  auto it = buckets_.find(address);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_addresses_) forget_full(steady_ms);
    if (buckets_.size() >= max_addresses_) return false;
    it = buckets_.emplace(address, Bucket{burst_, steady_ms}).first;
  }
  // A clock that went back refills nothing (and moves no bucket's time back).
  Bucket& b = it->second;
  b.tokens = refilled(b, steady_ms, burst_, per_ms_);
  b.at_ms = std::max(b.at_ms, steady_ms);
  total_.tokens = refilled(total_, steady_ms, total_burst_, total_per_ms_);
  total_.at_ms = std::max(total_.at_ms, steady_ms);
  if (b.tokens < 1 || total_.tokens < 1) return false;
  b.tokens -= 1;
  total_.tokens -= 1;
  return true;
}

}  // namespace tearline::broker
