// RefusalTally: refusals counted per (source, reason) per interval, so that a
// flood of refused handshakes or HELLOs costs one log line and one audit
// entry per source and reason every interval, never one per refusal (issue
// 16, points 7 and 9; docs/reliability.md, "Floods and session churn").
//
// An interval opens with the first refusal noted after the previous one was
// taken, and is due `interval_ms` later. Memory is bounded: at most
// `max_sources` distinct (source, reason) pairs per interval; the refusals
// of further pairs are counted together in `overflow`.
//
// Times are whatever clock the caller passes (`now_ms`), compared only with
// each other. Not thread-safe: the owner serializes calls (the broker's ZAP
// tally is under Impl::zap_events_mu, the HELLO tally on the I/O thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tearline::broker {

class RefusalTally {
 public:
  struct Entry {
    std::string source;  // an address, a node id
    std::string reason;
    std::uint64_t count = 0;
    std::string example;  // the last refused party's detail (e.g. its key), for the log
  };
  struct Interval {
    std::int64_t from_ms = 0, to_ms = 0;  // first and last refusal noted
    std::vector<Entry> entries;           // by (source, reason)
    std::uint64_t overflow = 0;           // refusals of pairs beyond max_sources
    std::uint64_t total() const;
  };

  RefusalTally(std::int64_t interval_ms, std::size_t max_sources);

  void note(const std::string& source, const std::string& reason, const std::string& example, std::int64_t now_ms);
  // The interval's tally once it is due (or at once with `force`), and a
  // fresh interval; nullopt when nothing is due.
  std::optional<Interval> take(std::int64_t now_ms, bool force = false);
  bool empty() const { return by_pair_.empty() && overflow_ == 0; }

 private:
  const std::int64_t interval_ms_;
  const std::size_t max_sources_;
  std::int64_t from_ms_ = 0, to_ms_ = 0;
  std::map<std::pair<std::string, std::string>, Entry> by_pair_;
  std::uint64_t overflow_ = 0;
};

}  // namespace tearline::broker
