# tearline_discover_tests(TARGET [TIMEOUT seconds]): after each build of the
# Catch2 executable TARGET, registers each of its TEST_CASEs as its own ctest
# entry named "TARGET: <case name>", run as `TARGET "<case name>" --warn
# NoTests` (so a name that no longer matches fails instead of passing empty).
#
# Like Catch2 2.13's catch_discover_tests (Catch.cmake), whose helper script
# cuts names at ';' (several of ours have one) because it splits the test
# list as a CMake list. This file is both the module and, run with -P after
# the build, the script that lists the cases.

if(NOT CMAKE_SCRIPT_MODE_FILE)
  set(_TEARLINE_CATCH_TESTS_SCRIPT ${CMAKE_CURRENT_LIST_FILE})

  function(tearline_discover_tests target)
    cmake_parse_arguments(D "" "TIMEOUT" "" ${ARGN})
    set(tests_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_tests.cmake")
    add_custom_command(
      TARGET ${target} POST_BUILD
      BYPRODUCTS "${tests_file}"
      COMMAND "${CMAKE_COMMAND}" -D "EXECUTABLE=$<TARGET_FILE:${target}>" -D "PREFIX=${target}"
              -D "TIMEOUT=${D_TIMEOUT}" -D "WORKING_DIR=${CMAKE_CURRENT_BINARY_DIR}" -D "OUT=${tests_file}"
              -P "${_TEARLINE_CATCH_TESTS_SCRIPT}"
      VERBATIM)
    set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_include.cmake")
    file(WRITE "${include_file}"
         "if(EXISTS \"${tests_file}\")\n"
         "  include(\"${tests_file}\")\n"
         "else()\n"
         "  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\n"
         "endif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include_file}")
  endfunction()
  return()
endif()

# ---- script mode: list the cases of EXECUTABLE into OUT ----
execute_process(COMMAND "${EXECUTABLE}" --list-test-names-only
                OUTPUT_VARIABLE output RESULT_VARIABLE result WORKING_DIRECTORY "${WORKING_DIR}")
# Catch2 2.13 exits with the number of cases listed (modulo 256, as any exit
# status); a signal name or no case at all means something is wrong.
if(NOT result MATCHES "^[0-9]+$" OR output STREQUAL "")
  message(FATAL_ERROR "listing the test cases of ${EXECUTABLE} failed (${result}):\n${output}")
endif()

# Split at newlines only: a ';' in a name stays part of the name.
string(ASCII 31 unit_separator)
string(REPLACE ";" "${unit_separator}" output "${output}")
string(REPLACE "\n" ";" lines "${output}")
set(script "")
set(count 0)
foreach(line IN LISTS lines)
  if(line STREQUAL "")
    continue()
  endif()
  string(REPLACE "${unit_separator}" ";" name "${line}")
  # A Catch2 test spec: '\', ',' and '[' would be read as escape, separator
  # and tag, so escape them (and ']' to be safe).
  string(REGEX REPLACE "([][\\,])" "\\\\\\1" spec "${name}")
  string(APPEND script
         "add_test([==[${PREFIX}: ${name}]==] [==[${EXECUTABLE}]==] [==[${spec}]==] --warn NoTests)\n"
         "set_tests_properties([==[${PREFIX}: ${name}]==] PROPERTIES WORKING_DIRECTORY [==[${WORKING_DIR}]==]")
  if(TIMEOUT)
    string(APPEND script " TIMEOUT ${TIMEOUT}")
  endif()
  string(APPEND script ")\n")
  math(EXPR count "${count} + 1")
endforeach()
math(EXPR listed "${count} % 256")
if(NOT listed EQUAL result)
  message(FATAL_ERROR "${EXECUTABLE} reported ${result} cases, ${count} were parsed:\n${output}")
endif()
file(WRITE "${OUT}" "${script}")
