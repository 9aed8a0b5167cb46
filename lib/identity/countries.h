// ISO 3166-1 alpha-3 country codes.
#pragma once

#include <string_view>

namespace tearline::identity {

// True for an assigned ISO 3166-1 alpha-3 code in upper case ("COL", "USA").
bool is_known_country(std::string_view code);

}  // namespace tearline::identity
