#include "identity/countries.h"

#include <algorithm>
#include <iterator>

namespace tearline::identity {
namespace {

// Sorted, for binary search: every officially assigned ISO 3166-1 alpha-3
// code, generated at build time from Debian's iso-codes list
// (/usr/share/iso-codes/json/iso_3166-1.json, package iso-codes) by
// cmake/WriteCountries.cmake (cmake/Countries.cmake).
constexpr std::string_view kCountries[] = {
#include "identity/country_codes.inc"
};
static_assert(std::size(kCountries) >= 200, "the generated ISO 3166-1 list is incomplete");

}  // namespace

bool is_known_country(std::string_view code) {
  return std::binary_search(std::begin(kCountries), std::end(kCountries), code);
}

}  // namespace tearline::identity
