// What the demo played and what the nodes saw, compared: the DemoOutcome the
// table and --json show. Pure: the expectations were computed when each
// report was published (demo_scenario.h); the observations are what each
// node process printed (demo_node.h).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "cli/demo/demo_scenario.h"
#include "tearline/v1/demo.pb.h"

namespace tearline::cli::demo {

// One publication as played.
struct PlayedPublication {
  std::size_t step = 0;
  const PublicationPlan* plan = nullptr;
  std::string report_id;                            // hex; of the report as built (also when rejected)
  std::string expected;                             // "ACCEPTED" or the expected rejection code
  std::string verdict;                              // "ACCEPTED" or the broker's code
  std::string reasons;                              // the broker's reasons when rejected
  std::vector<std::vector<ReadExpectation>> reads;  // [section][node, in scenario_nodes() order]
};

// A node revoked mid-demo whose session the broker closed as expected.
struct PlayedRevocation {
  std::size_t step = 0;
  std::string node;
};

struct Played {
  std::vector<PlayedPublication> publications;
  std::vector<PlayedRevocation> revocations;
  std::vector<std::vector<std::string>> events;  // per step of scenario()
  std::vector<std::string> problems;             // found while playing (e.g. a session not closed)
};

// What one node process printed.
struct Observed {
  std::vector<tearline::v1::DemoEvent> received;
  std::vector<std::string> problems;  // lines that were not events
};

// Every cell is a match when the node received the section, opened and
// intact, exactly when the policy said it may read it; every rejected
// publication reached no node; nothing else arrived. `observed` is keyed by
// node id and must hold every node of `nodes`.
tearline::v1::DemoOutcome compare(const Played& played, const std::map<std::string, Observed>& observed,
                                  const std::vector<tearline::v1::DemoNode>& nodes, const std::string& endpoint);

}  // namespace tearline::cli::demo
