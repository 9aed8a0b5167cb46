// ISO 3166-1 alpha-3 country codes: the officially assigned ones of Debian's
// iso-codes list (iso_3166-1.json), generated at build time (cmake/Countries.cmake).
#pragma once

#include <string_view>

namespace tearline::identity {

// True for an assigned ISO 3166-1 alpha-3 code in upper case ("COL", "USA").
bool is_known_country(std::string_view code);

}  // namespace tearline::identity
