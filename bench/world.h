// The bench's world: one agency (BENCH, country USA) with P publisher and N
// subscriber nodes (clearances as plan.h says), its whole PKI generated with
// identity::generate_from_roster into WORKDIR/pki, a second broker of the
// same PKI (kSecondBroker), and a topic policy that lets every node publish
// and subscribe under bench.>.
#pragma once

#include <filesystem>

#include "base/result.h"

namespace tearline::bench {

// The PKI's second broker (RunSpec::brokers 2: two brokers on one store).
inline constexpr const char* kSecondBroker = "tearline-broker-2";

struct World {
  std::filesystem::path root;
  std::filesystem::path pki;
  std::filesystem::path policy;
  int publishers = 0;
  int subscribers = 0;

  static Result<World> create(const std::filesystem::path& root, int publishers, int subscribers);
};

}  // namespace tearline::bench
