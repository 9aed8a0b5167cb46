// What the broker remembers of each accepted report to judge derived reports
// that cite it: originator, agency, country and the section labels. Written
// by the I/O thread on accept, read by verifier threads; guarded by a
// shared_mutex. Recovered from the durable store at start-up.
#pragma once

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "policy/label.h"

namespace tearline::broker {

struct SourceRecord {
  std::string originator, agency, country;
  std::vector<policy::Label> labels;
};

class SourceIndex {
 public:
  void add(const std::string& report_id, SourceRecord record);
  std::optional<SourceRecord> find(const std::string& report_id) const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, SourceRecord> records_;  // by raw 16-byte id
};

}  // namespace tearline::broker
