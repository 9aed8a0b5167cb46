# The country list of lib/identity/countries.cc, generated at build time from
# Debian's iso-codes JSON (package iso-codes, scripts/install-deps.sh) by
# cmake/WriteCountries.cmake into the build folder as country_codes.inc,
# instead of a hand-kept table. TEARLINE_ISO_3166_JSON points elsewhere (e.g.
# a vendored copy of iso-codes' data/iso_3166-1.json) on other systems.
set(TEARLINE_ISO_3166_JSON "/usr/share/iso-codes/json/iso_3166-1.json"
    CACHE FILEPATH "ISO 3166-1 list (iso-codes JSON) the country table is generated from")
if(NOT EXISTS "${TEARLINE_ISO_3166_JSON}")
  message(FATAL_ERROR "${TEARLINE_ISO_3166_JSON} not found: install the iso-codes package "
                      "(scripts/install-deps.sh) or set TEARLINE_ISO_3166_JSON")
endif()
set(TEARLINE_COUNTRIES_DIR ${PROJECT_BINARY_DIR}/generated/countries)
set(TEARLINE_COUNTRIES_INC ${TEARLINE_COUNTRIES_DIR}/identity/country_codes.inc)
add_custom_command(OUTPUT ${TEARLINE_COUNTRIES_INC}
                   COMMAND ${CMAKE_COMMAND} -DJSON=${TEARLINE_ISO_3166_JSON} -DOUT=${TEARLINE_COUNTRIES_INC}
                           -P ${PROJECT_SOURCE_DIR}/cmake/WriteCountries.cmake
                   DEPENDS ${TEARLINE_ISO_3166_JSON} ${PROJECT_SOURCE_DIR}/cmake/WriteCountries.cmake
                   COMMENT "Generating the ISO 3166-1 alpha-3 list from ${TEARLINE_ISO_3166_JSON}" VERBATIM)
add_custom_target(tearline_country_codes DEPENDS ${TEARLINE_COUNTRIES_INC})
# Hooked onto tearline_identity (lib/identity) from here, after add_subdirectory(lib).
add_dependencies(tearline_identity tearline_country_codes)
target_include_directories(tearline_identity PRIVATE ${TEARLINE_COUNTRIES_DIR})
