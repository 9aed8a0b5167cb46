// What the report tests share: the demo world's node keys and the originator
// most of them publish as.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "crypto/key_file.h"
#include "support/demo_world.h"

namespace tearline::testing {

inline const std::string kCommander = "diran-cucuta-commander";

// A demo node's secret keys (REQUIREs that they load).
inline crypto::NodeSecrets keys_of(const std::string& node) {
  auto k = crypto::read_node_keys(DemoWorld::get().pki().node_key(node));
  REQUIRE(k.is_ok());
  return std::move(k).value();
}

}  // namespace tearline::testing
