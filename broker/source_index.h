// What the broker knows of each accepted report to judge derived reports that
// cite it: originator, agency, country and the section labels.
//
// A bounded cache of the most recently accepted reports (FIFO eviction beyond
// `capacity`), in front of a fallback lookup (the durable store) for older
// ones, so that memory does not grow with the number of stored reports.
// Written by the I/O thread (add on commit, remove on retention), read by the
// verifier threads; guarded by a SharedMutex. The fallback is called without
// the lock held and must be thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/bytes.h"
#include "base/mutex.h"
#include "policy/label.h"

namespace tearline::broker {

struct SourceRecord {
  std::string originator, agency, country;
  std::vector<policy::Label> labels;
  // The indexes of the sections this broker holds only torn off (a report
  // that arrived over a peering): none of them may be cited here.
  std::vector<std::uint32_t> torn = {};
};

// The label a SourceRecord holds for a section the broker has only torn off
// (a report that arrived over a peering; SourceRecord::torn names it, and
// citing it is refused): the strictest its originator could have set
// (TOP_SECRET, the originator's country only, ORCON), as a second guard.
policy::Label torn_section_label(const std::string& originator_country);

// The record of a stored report (verified before it was stored): its labels
// parsed from `bytes` (none when they do not parse; torn_section_label for a
// section torn off upstream). Both stores read it so.
SourceRecord stored_source(const std::string& originator, const std::string& agency, const std::string& country,
                           const std::string& bytes);

class SourceIndex {
 public:
  using Fallback = std::function<std::optional<SourceRecord>(const std::string& report_id)>;
  static constexpr std::size_t kDefaultCapacity = 16384;

  explicit SourceIndex(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}
  // Set once, before any find() from another thread.
  void set_fallback(Fallback fallback) { fallback_ = std::move(fallback); }

  void add(const std::string& report_id, SourceRecord record);
  // Forgets reports deleted from the store (retention).
  void remove(const std::vector<std::string>& report_ids);
  // The cached record, else the fallback's answer, else nullopt.
  std::optional<SourceRecord> find(const std::string& report_id) const;
  std::size_t cached() const;

 private:
  std::size_t capacity_;
  Fallback fallback_;
  mutable SharedMutex mu_;
  std::unordered_map<std::string, SourceRecord> records_ GUARDED_BY(mu_);  // by raw 16-byte id
  std::deque<std::string> order_ GUARDED_BY(mu_);                          // insertion order, for eviction
};

}  // namespace tearline::broker
