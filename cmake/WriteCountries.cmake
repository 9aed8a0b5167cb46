# Writes OUT, the sorted ISO 3166-1 alpha-3 codes as C++ string literals (one
# "ABW", per entry; lib/identity/countries.cc includes it into its table), from
# JSON: Debian's iso-codes file /usr/share/iso-codes/json/iso_3166-1.json
# (package iso-codes), {"3166-1": [{"alpha_3": "ABW", ...}, ...]}. Refuses a
# file without entries or with a code that is not three capital letters, so a
# broken source fails the build instead of emptying the list.
# Run at build time: cmake -DJSON=.. -DOUT=.. -P WriteCountries.cmake
file(READ "${JSON}" text)
string(JSON count ERROR_VARIABLE error LENGTH "${text}" "3166-1")
if(error OR count LESS 200)
  message(FATAL_ERROR "${JSON}: no ISO 3166-1 list (${error}${count} entries)")
endif()
math(EXPR last "${count} - 1")
set(codes "")
foreach(i RANGE ${last})
  string(JSON code GET "${text}" "3166-1" ${i} "alpha_3")
  if(NOT code MATCHES "^[A-Z][A-Z][A-Z]$")
    message(FATAL_ERROR "${JSON}: entry ${i} has alpha_3 '${code}'")
  endif()
  list(APPEND codes "${code}")
endforeach()
list(SORT codes)
list(REMOVE_DUPLICATES codes)
set(body "// Written by cmake/WriteCountries.cmake from ${JSON}; do not edit.\n")
foreach(code IN LISTS codes)
  string(APPEND body "\"${code}\",\n")
endforeach()
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL body)
  file(WRITE "${OUT}" "${body}")
endif()
