#include "broker/replay_guard.h"

#include "base/bytes.h"

namespace tearline::broker {

Status check_created_at(std::int64_t created_at_ms, std::int64_t now_ms, std::int64_t window_ms) {
  if (created_at_ms < now_ms - window_ms) {
    return Status::fail(Code::STALE_REPORT, "created-at is " + std::to_string((now_ms - created_at_ms) / 1000) +
                                                " s before the broker's clock; the window is " +
                                                std::to_string(window_ms / 1000) + " s");
  }
  if (created_at_ms > now_ms + window_ms) {
    return Status::fail(Code::FUTURE_REPORT, "created-at is " + std::to_string((created_at_ms - now_ms) / 1000) +
                                                 " s after the broker's clock; the window is " +
                                                 std::to_string(window_ms / 1000) + " s");
  }
  return Status::ok();
}

Status ReplayGuard::check(const std::string& report_id, const std::string& originator, std::uint64_t sequence) const {
  Status s;
  if (ids_.count(report_id) != 0) {
    s.add(Code::REPLAYED_REPORT, "report " + to_hex(as_bytes(report_id)) + " was accepted before");
  }
  auto it = last_sequence_.find(originator);
  if (it != last_sequence_.end() && sequence <= it->second) {
    s.add(Code::SEQUENCE_REGRESSION, "sequence " + std::to_string(sequence) + " of " + originator +
                                         " does not exceed the last accepted " + std::to_string(it->second));
  }
  return s;
}

void ReplayGuard::record(const std::string& report_id, const std::string& originator, std::uint64_t sequence,
                         std::int64_t now_ms) {
  ids_.insert(report_id);
  by_time_.emplace_back(now_ms, report_id);
  auto& last = last_sequence_[originator];
  if (sequence > last) last = sequence;
}

void ReplayGuard::expire(std::int64_t now_ms) {
  while (!by_time_.empty() && by_time_.front().first < now_ms - remember_ms_) {
    ids_.erase(by_time_.front().second);
    by_time_.pop_front();
  }
}

void ReplayGuard::unrecord(const std::string& report_id, const std::string& originator,
                           std::uint64_t previous_sequence) {
  ids_.erase(report_id);
  for (auto it = by_time_.rbegin(); it != by_time_.rend(); ++it) {
    if (it->second == report_id) {
      by_time_.erase(std::next(it).base());
      break;
    }
  }
  if (previous_sequence == 0) {
    last_sequence_.erase(originator);
  } else {
    last_sequence_[originator] = previous_sequence;
  }
}

std::uint64_t ReplayGuard::last_sequence(const std::string& originator) const {
  auto it = last_sequence_.find(originator);
  return it == last_sequence_.end() ? 0 : it->second;
}

void ReplayGuard::restore_id(const std::string& report_id, std::int64_t accepted_ms) {
  if (ids_.insert(report_id).second) by_time_.emplace_back(accepted_ms, report_id);
}

void ReplayGuard::restore_sequence(const std::string& originator, std::uint64_t sequence) {
  auto& last = last_sequence_[originator];
  if (sequence > last) last = sequence;
}

}  // namespace tearline::broker
