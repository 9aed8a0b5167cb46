// FloodControl: the per-node limits on PUBLISH, judged before any
// verification work is spent on the node (docs/protocol.md, "Limits").
//
//  - A token bucket per node: `publish_rate` per second, `publish_burst`
//    deep. An empty bucket answers RATE_LIMITED.
//  - At most `max_inflight_per_node` PUBLISH of a node being verified at
//    once; beyond it BROKER_BUSY.
//  - A node that keeps sending into RATE_LIMITED is flooding, not bursting:
//    more than `max_rate_limited` refusals within one second cut it off
//    (its session is closed TOO_MANY_FAILURES) and start a cooldown of
//    `failure_cooldown_ms`, during which its HELLOs are refused and after
//    which its bucket refills from empty.
//  - The same cooldown follows a session closed for too many failures.
//
// State is per node, across its sessions. Ownership and threads: owned by
// the broker's I/O thread, which alone calls it; not thread-safe. Pure: the
// caller passes the time, steady time (Clock::steady_ms), so that a step of
// the wall clock neither refills a bucket nor ends or prolongs a cooldown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "base/result.h"
#include "broker/config.h"

namespace tearline::broker {

class FloodControl {
 public:
  enum class Verdict {
    kAdmit,        // a token was taken: submit the job, then call started()
    kRateLimited,  // answer REJECTED with `status`, then call rate_limited()
    kBusy,         // answer REJECTED with `status` (BROKER_BUSY)
  };
  struct Answer {
    Verdict verdict = Verdict::kAdmit;
    Status status;  // the refusal, for kRateLimited and kBusy
  };

  explicit FloodControl(const Limits& limits) : limits_(limits) {}

  // Judges one PUBLISH of `node` at `now_ms`.
  Answer admit(const std::string& node, std::int64_t now_ms);
  // The node's job was queued for verification (after kAdmit).
  void started(const std::string& node);
  // A job of the node was verified or cancelled.
  void finished(const std::string& node);
  std::size_t inflight(const std::string& node) const;

  // Counts a RATE_LIMITED answer. When it is one too many within the current
  // second and the node's session is still ready, cuts the node off: starts
  // its cooldown, empties its bucket until then, and returns the reason to
  // close the session with (TOO_MANY_FAILURES); else OK. `refused` receives
  // the count in the current second.
  Status rate_limited(const std::string& node, bool session_ready, std::int64_t now_ms, std::size_t* refused);

  // Starts the cooldown (a session closed for too many failures).
  void start_cooldown(const std::string& node, std::int64_t now_ms);
  // During a cooldown the refusal of a HELLO (TOO_MANY_FAILURES, naming how
  // long is left); OK otherwise.
  Status hello_refusal(const std::string& node, std::int64_t now_ms) const;

 private:
  struct Node {
    double tokens = -1;  // publish token bucket (-1: not started)
    std::int64_t refilled_ms = 0;
    std::size_t inflight = 0;  // PUBLISH being verified
    std::int64_t cooldown_until_ms = 0;
    std::int64_t limited_since_ms = 0;  // start of the current one-second window
    std::size_t limited = 0;            // RATE_LIMITED answers in it
  };

  const Limits limits_;
  std::map<std::string, Node> nodes_;
};

}  // namespace tearline::broker
