// Makes exactly `partners` the partner agencies of a trust store (trust.toml's
// `partner = true`, what `tearline certs import` pins), every other authority
// an ordinary one. Header-only: asserts with Catch2 in the calling test.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/files.h"
#include "identity/trust_store.h"

namespace tearline::testing {

inline void set_partner_agencies(const std::filesystem::path& trust_store, const std::vector<std::string>& partners) {
  auto trust = identity::TrustStore::load(trust_store);
  REQUIRE(trust);
  identity::TrustStore next;
  for (auto [id, a] : trust->authorities()) {
    a.partner = std::find(partners.begin(), partners.end(), id) != partners.end();
    REQUIRE(next.add(a));
  }
  REQUIRE(write_file_atomic(trust_store, as_bytes(next.to_toml()), 0644));
}

}  // namespace tearline::testing
