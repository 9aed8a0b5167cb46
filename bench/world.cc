#include "bench/world.h"

#include <fstream>

#include "base/clock.h"
#include "bench/plan.h"
#include "bench/report_factory.h"
#include "identity/pki.h"
#include "identity/roster.h"

namespace tearline::bench {

Result<World> World::create(const std::filesystem::path& root, int publishers, int subscribers) {
  World w;
  w.root = root;
  w.pki = root / "pki";
  w.policy = root / "policy.toml";
  w.publishers = publishers;
  w.subscribers = subscribers;
  identity::Roster roster;
  roster.validity_days = 2;
  roster.agencies.push_back(identity::RosterAgency{"BENCH", std::string(kBenchCountry), "tearline-bench agency"});
  for (int p = 0; p < publishers; ++p) {
    roster.nodes.push_back(
        identity::RosterNode{publisher_node(p), "BENCH", "bench publisher", tearline::v1::TOP_SECRET, {}});
  }
  for (int j = 0; j < subscribers; ++j) {
    // Even subscribers are cleared for the odd (TOP SECRET) sections, odd ones are not.
    roster.nodes.push_back(identity::RosterNode{subscriber_node(j),
                                                "BENCH",
                                                "bench subscriber",
                                                cleared(1, j) ? tearline::v1::TOP_SECRET : tearline::v1::SECRET,
                                                {}});
  }
  const std::int64_t now = SystemClock::instance().now_seconds();
  Status s = identity::generate_from_roster(roster, identity::PkiPaths(w.pki), now);
  if (!s) return s;
  s = identity::init_broker(identity::PkiPaths(w.pki),
                            identity::BrokerIdentity{kSecondBroker, "BENCH", now - 60, now + std::int64_t{2} * 86400},
                            false);
  if (!s) return s;
  std::ofstream policy(w.policy);
  policy << "# tearline-bench: every node may publish and subscribe under bench.>\n"
            "[[grant]]\nto = [\"any\"]\npublish = [\"bench.>\"]\nsubscribe = [\"bench.>\"]\n";
  if (!policy) return Status::fail(Code::IO_ERROR, "cannot write " + w.policy.string());
  return w;
}

}  // namespace tearline::bench
