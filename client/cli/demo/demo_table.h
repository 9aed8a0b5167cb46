// The demo's outcome as a terminal table: one row per report section, one
// column per node, each cell "delivered" or "withheld: <reasons>" (one reason
// per line) or "revoked", as the policy decided; a cell where what arrived
// differs from the policy starts with "!!". Rejected publications are one
// line each, "REJECTED <CODE>: reason". Then a summary. Pure: no I/O.
#pragma once

#include <string>
#include <vector>

#include "tearline/v1/demo.pb.h"

namespace tearline::cli::demo {

// The table and the summary, ending with a newline.
std::string render_table(const tearline::v1::DemoOutcome& outcome);
std::string render_summary(const tearline::v1::DemoOutcome& outcome);

// The cell as the table shows it, one string per line.
std::vector<std::string> cell_lines(const tearline::v1::DemoCell& cell);

}  // namespace tearline::cli::demo
