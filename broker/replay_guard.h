// Replay protection, owned by the I/O thread: a report id is accepted once;
// each originator's sequence numbers strictly increase; created-at lies
// within +-window of the broker's clock.
//
// Ids are remembered in memory only for `remember_ms` (Config::
// replay_memory_ms, 10 s; the broker never expires the ids of reports not yet
// written). Beyond that the durable store answers: an exact copy repeats its
// sequence, and on that refused path the broker asks Store::has_report so that
// the answer is still REPLAYED_REPORT; a new report reusing a stored id is
// refused when its batch is written (Store::commit). Memory is thus bounded by
// the accepted rate times remember_ms, not by the clock window.
//
// Which clock: the created-at check compares wall times (check_created_at:
// the report's created_at with the broker's wall clock). The memory's times
// (record, expire, restore_id) are steady times (Clock::steady_ms): they only
// measure how long an id has been held. A step of the wall clock then changes
// nothing here; had the memory run on wall time, a forward step would forget
// every id at once (harmless: the store answers for them, and ids not yet
// written are never expired) and a backward step would keep every id for the
// length of the step (memory no longer bounded). Ids restored from the store
// carry their wall accepted_ms converted to steady time by the caller.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "base/result.h"

namespace tearline::broker {

// STALE_REPORT / FUTURE_REPORT when created_at_ms is outside now +- window.
Status check_created_at(std::int64_t created_at_ms, std::int64_t now_ms, std::int64_t window_ms);

class ReplayGuard {
 public:
  explicit ReplayGuard(std::int64_t remember_ms) : remember_ms_(remember_ms) {}

  // REPLAYED_REPORT (the id is remembered) or SEQUENCE_REGRESSION (both, if
  // both apply).
  Status check(const std::string& report_id, const std::string& originator, std::uint64_t sequence) const;
  // Records an accepted report.
  void record(const std::string& report_id, const std::string& originator, std::uint64_t sequence, std::int64_t now_ms);
  // Forgets ids recorded more than remember_ms ago.
  void expire(std::int64_t now_ms);
  // Undoes record() of a report whose commit failed; `previous_sequence` is
  // what last_sequence() returned before it.
  void unrecord(const std::string& report_id, const std::string& originator, std::uint64_t previous_sequence);
  std::uint64_t last_sequence(const std::string& originator) const;
  // Restores a remembered id (from the durable store).
  void restore_id(const std::string& report_id, std::int64_t accepted_ms);
  // Restores an originator's last sequence (from the durable store).
  void restore_sequence(const std::string& originator, std::uint64_t sequence);

  std::size_t remembered_ids() const { return ids_.size(); }

 private:
  std::int64_t remember_ms_;
  std::unordered_set<std::string> ids_;
  std::deque<std::pair<std::int64_t, std::string>> by_time_;
  std::unordered_map<std::string, std::uint64_t> last_sequence_;
};

}  // namespace tearline::broker
