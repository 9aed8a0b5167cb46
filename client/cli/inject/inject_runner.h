// Runs an injection scenario against a live broker (docs/injection.md).
//
// Before the first case the runner connects one Session per node of the
// directory that is valid now, each subscribed to ">". For each case a fresh
// session of the sender sends the case's message (so a run of faults never
// trips the broker's consecutive-failure limit on a session that matters);
// then sentinel_from publishes a sentinel report every held node may read,
// and every held session is read up to the sentinel: what came before it is
// exactly what the case delivered (deliveries on one session keep broker
// order). Every wait is bounded by the timeout.
//
// State carried from case to case: each case's report id and bytes (for
// derive_from and replay_of), each node's last sequence, and the PKI itself:
// revoked_node writes a new revocation list into PKI/directory and reloads
// the broker, after which the revoked node's held session is dropped.
//
// Threading: one thread; a Runner is not shared.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "cli/inject/inject_scenario.h"
#include "cli/node/node_options.h"

namespace tearline::cli::inject {

struct CaseResult {
  std::string name;
  std::string report_id_hex;  // the case's report (empty when it sends none)
  std::string expected;
  std::string got;  // "accepted", or the code of the broker's answer / the connection failure
  Status reasons;   // every reason behind `got` (OK when accepted)
  std::vector<std::string> delivery_problems;  // one line each; empty = exactly as expected

  bool deliveries_ok() const { return delivery_problems.empty(); }
  bool passed() const { return got == expected && deliveries_ok(); }
};

class Runner {
 public:
  // `options`: pki, broker and timeout_ms are used (node and key are not).
  // `serve`: partner broker id -> endpoint where the runner serves as it
  // (PartnerServer). The scenario must outlive the Runner and have passed
  // check_scenario.
  Runner(const Scenario& scenario, NodeOptions options, std::map<std::string, std::string> serve = {});
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Loads the directory, binds each served endpoint (IO_ERROR when it
  // cannot) and connects the held sessions. Fails with UNAVAILABLE when the
  // broker does not answer, or the connection's reasons.
  Status start();

  // Runs case `index` (cases must run in order). A failed Result means the
  // run cannot go on: UNAVAILABLE when the broker stopped answering the
  // runner's own sessions (the sentinel). A mismatch is a CaseResult.
  Result<CaseResult> run(std::size_t index);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tearline::cli::inject
