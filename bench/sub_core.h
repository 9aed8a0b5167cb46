// What every subscriber role shares: the control block, the notify FIFOs,
// per-publisher duplicate detection, the records, and the end of the run
// (finish, or the planned stall).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "bench/control.h"
#include "bench/records.h"
#include "bench/roles.h"

namespace tearline::bench {

class SubCore {
 public:
  static Result<std::unique_ptr<SubCore>> open(const RoleArgs& args);
  ~SubCore();

  ControlBlock& control() { return *control_; }
  void ready() { control_->ready_subs.fetch_add(1); }
  // True once the run is over for this subscriber: the driver said finish,
  // or aborted. When this subscriber is the one planned to stall, it stops
  // reading at stall_ns and then waits here for the finish.
  bool over();
  // False (and counts a duplicate) when seq is not above the last one seen
  // from `pub`.
  bool fresh(int pub, std::uint64_t seq);
  // Records a processed report and advances the publisher's progress.
  void delivered(int pub, std::uint64_t seq, std::uint32_t sections);
  SubSummary& summary() { return summary_; }
  // Writes the records; returns the exit code.
  int finish();

 private:
  SubCore(const RoleArgs& args, Control control) : args_(args), control_(std::move(control)) {}
  RoleArgs args_;
  Control control_;
  std::vector<int> fifos_;
  std::vector<std::uint64_t> last_seq_;
  std::vector<SubRecord> records_;
  SubSummary summary_;
};

}  // namespace tearline::bench
