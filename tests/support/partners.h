// Makes exactly `partners` the partner agencies of a trust store (trust.toml's
// `partner = true`, what `tearline certs import` pins), every other authority
// an ordinary one. Header-only: asserts with Catch2 in the calling test.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "identity/trust_store.h"

namespace tearline::testing {

inline void set_partner_agencies(const std::filesystem::path& trust_store, const std::vector<std::string>& partners) {
  const Status marked = identity::set_partner_agencies(trust_store, partners);
  INFO(marked.to_string());
  REQUIRE(marked);
}

}  // namespace tearline::testing
