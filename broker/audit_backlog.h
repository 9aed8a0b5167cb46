// AuditBacklog: the audit events that wait while the store cannot write
// (a failed commit, typically STORAGE_FULL), kept in bounded memory
// (docs/reliability.md, section 6).
//
// A refusal of a publish (event "publish", decision "rejected") is not kept
// one by one: it is counted into a tally per (node, code), with the times of
// the first and the last, written as ONE entry "N x CODE between T1 and T2".
// Other events are kept whole, up to kMaxHeld; beyond that they are counted
// into a tally per (event, node, decision) too. So memory, and the size of
// the batch that finally writes the backlog, are bounded by kMaxHeld plus
// one entry per node and code, however long the store stays full.
//
// Owned by GroupCommit, on the broker's I/O thread; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace tearline::broker {

// An audit event not yet chained (chained when its batch is built).
struct AuditEvent {
  std::int64_t time_ms = 0;
  std::string event, node, report, decision, detail;
};

class AuditBacklog {
 public:
  static constexpr std::size_t kMaxHeld = 1024;

  // (event, node, decision, code); code is empty for a tally of overflow.
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  struct Tally {
    std::uint64_t count = 0;
    std::int64_t first_ms = 0, last_ms = 0;
  };
  // What one batch takes: the held events, then one entry per tally.
  struct Taken {
    std::vector<AuditEvent> held;
    std::map<Key, Tally> tallies;
  };

  // Whether `e` is the refusal of a publish (counted, not kept).
  static bool is_refusal(const AuditEvent& e) { return e.event == "publish" && e.decision == "rejected"; }

  void keep(AuditEvent e);
  bool empty() const { return held_.empty() && tallies_.empty(); }
  // The entries it would write now (held events and tallies).
  std::size_t size() const { return held_.size() + tallies_.size(); }
  // How many refusals the tallies count for `node` with `code`.
  std::uint64_t refusals(const std::string& node, const std::string& code) const;

  // Everything, emptied; put_back() returns it after a failed write, ahead
  // of what was kept since.
  Taken take();
  void put_back(Taken taken);
  // The audit events `taken` writes: the held ones, then one per tally.
  static std::vector<AuditEvent> entries(const Taken& taken);

 private:
  void count(Key key, std::int64_t first_ms, std::int64_t last_ms, std::uint64_t n);

  std::vector<AuditEvent> held_;
  std::map<Key, Tally> tallies_;
};

}  // namespace tearline::broker
