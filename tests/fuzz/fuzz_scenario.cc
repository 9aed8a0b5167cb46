// cli::inject::parse_scenario (tearline inject): a scenario that parses names cases
// with a sender and an expectation, whose citations point only at earlier
// cases; and check_scenario against the demo directory never crashes.
#include "cli/inject/inject_scenario.h"
#include "fuzz_target.h"
#include "fuzz_world.h"
#include "support/demo_world.h"

namespace tearline::fuzz {

void scenario(ByteView input) {
  auto parsed = cli::inject::parse_scenario(as_chars(input), "fuzz.toml");
  if (!parsed) return;
  const cli::inject::Scenario& s = *parsed;
  for (std::size_t i = 0; i < s.cases.size(); ++i) {
    const cli::inject::Case& c = s.cases[i];
    require(!c.as.empty() && !c.expect.empty(), "a case has a sender and an expectation");
    require(!c.derive_from || *c.derive_from < i, "a case derives only from an earlier case");
    require(!c.replay_of || *c.replay_of < i, "a case replays only an earlier case");
  }
  (void)cli::inject::check_scenario(s, FuzzWorld::get().directory(), testing::kDemoNow);
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(scenario)
