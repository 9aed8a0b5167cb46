#include "broker/refusal_tally.h"

#include <algorithm>

namespace tearline::broker {

std::uint64_t RefusalTally::Interval::total() const {
  std::uint64_t n = overflow;
  for (const auto& e : entries) n += e.count;
  return n;
}

RefusalTally::RefusalTally(std::int64_t interval_ms, std::size_t max_sources)
    : interval_ms_(interval_ms), max_sources_(max_sources) {}

void RefusalTally::note(const std::string& source, const std::string& reason, const std::string& example,
                        std::int64_t now_ms) {
  if (empty()) from_ms_ = to_ms_ = now_ms;
  to_ms_ = std::max(to_ms_, now_ms);
  auto key = std::make_pair(source, reason);
  auto it = by_pair_.find(key);
  if (it == by_pair_.end()) {
    if (by_pair_.size() >= max_sources_) {
      ++overflow_;
      return;
    }
    it = by_pair_.emplace(std::move(key), Entry{source, reason, 0, {}}).first;
  }
  ++it->second.count;
  it->second.example = example;
}

std::optional<RefusalTally::Interval> RefusalTally::take(std::int64_t now_ms, bool force) {
  if (empty() || (!force && now_ms - from_ms_ < interval_ms_)) return std::nullopt;
  Interval out;
  out.from_ms = from_ms_;
  out.to_ms = to_ms_;
  out.overflow = overflow_;
  out.entries.reserve(by_pair_.size());
  for (auto& [key, e] : by_pair_) out.entries.push_back(std::move(e));
  by_pair_.clear();
  overflow_ = 0;
  return out;
}

}  // namespace tearline::broker
