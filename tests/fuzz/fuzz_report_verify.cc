// report::verify_report against the demo world's directory, then, for a
// report that verifies, open_sections for one node: the first recipient of
// the first section that travelled sealed (the originator when none did).
// A verified report also stays verified with every section torn off, and a
// root cache never changes a verdict: the same input through the target's
// long-lived cache gets the same answer as without it.
#include "base/canonical_proto.h"
#include "fuzz_target.h"
#include "fuzz_world.h"
#include "report/verify.h"

namespace tearline::fuzz {

void report_verify(ByteView input) {
  const FuzzWorld& world = FuzzWorld::get();
  static report::RootCache roots(16, 4);
  auto verified = report::verify_report(input, world.directory());
  report::VerifyOptions cached;
  cached.roots = &roots;
  auto through_cache = report::verify_report(input, world.directory(), cached);
  require(through_cache.code() == verified.code(), "the root cache never changes a verdict");
  auto again_cached = report::verify_report(input, world.directory(), cached);
  require(again_cached.code() == verified.code(), "a cached root never changes a verdict");
  if (!verified) return;
  const std::size_t n = verified->sections.size();
  require(n > 0 && n == static_cast<std::size_t>(verified->report.sections_size()), "one result per section");
  (void)verified->report_id_hex();

  std::string reader = verified->header.originator();
  for (const auto& s : verified->sections) {
    if (s.present && !s.recipients.empty()) {
      reader = s.recipients.front();
      break;
    }
  }
  if (const crypto::NodeSecrets* keys = world.keys(reader)) {
    const auto opened = report::open_sections(*verified, reader, keys->sealing);
    require(opened.size() == n, "open_sections answers for every section");
    for (std::size_t i = 0; i < n; ++i) {
      const bool withheld = opened[i].status == report::SectionStatus::kWithheld;
      require(withheld == !verified->sections[i].present, "withheld exactly when torn off");
      require(opened[i].status == report::SectionStatus::kOpened || opened[i].plaintext.empty(),
              "no plaintext unless opened");
    }
  }

  const auto torn = report::redact(verified->report, std::vector<bool>(n, false));
  auto again = report::verify_report(serialize_canonical(torn), world.directory());
  require(again.is_ok() && again->withheld_count() == n, "a fully redacted report still verifies");
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(report_verify)
