# Precompiled headers for the tests of make test's build (RelWithDebInfo with
# g++) and of make asan's (Debug, ASan + UBSan, g++): parsing Catch2,
# protobuf and the standard library is most of the compile time of a test
# source. One host target compiles the headers once; every test built by
# tearline_test() reuses them (REUSE_FROM needs the same code generation
# flags: in make test's build the tests build at -O0, where GCC 12's
# -Warray-bounds false positives in inlined std::string code do not arise).
# Fuzz, TSan (clang) and tidy builds do not use them, and clang-tidy parses
# every source alone, so a missing #include is still caught.
set(TEARLINE_TEST_PCH_HEADERS
    <algorithm> <array> <chrono> <cstdint> <cstring> <filesystem> <functional> <map> <memory> <mutex>
    <optional> <set> <span> <string> <string_view> <thread> <unordered_map> <utility> <vector>
    <google/protobuf/message.h> <google/protobuf/repeated_field.h> <catch2/catch.hpp>)

set(TEARLINE_TEST_PCH OFF)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT TEARLINE_FUZZ
   AND (CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo" OR (CMAKE_BUILD_TYPE STREQUAL "Debug" AND TEARLINE_SANITIZE)))
  set(TEARLINE_TEST_PCH ON)
  file(WRITE ${PROJECT_BINARY_DIR}/pch/test_pch_host.cc "// The tests' precompiled headers' host (cmake/Pch.cmake).\n")
  add_library(tearline_test_pch STATIC ${PROJECT_BINARY_DIR}/pch/test_pch_host.cc)
  # The host carries the tests' flags: -Wpedantic changes the predefined
  # macros, and headers compiled without it are not used.
  target_link_libraries(tearline_test_pch PRIVATE protobuf::libprotobuf Catch2::Catch2 tearline_warnings)
  target_compile_options(tearline_test_pch PRIVATE $<$<CONFIG:RelWithDebInfo>:-O0 -g1>)
  target_precompile_headers(tearline_test_pch PRIVATE ${TEARLINE_TEST_PCH_HEADERS})
endif()

# Makes test target NAME reuse the precompiled headers (when they exist).
function(tearline_use_test_pch name)
  if(TEARLINE_TEST_PCH)
    target_precompile_headers(${name} REUSE_FROM tearline_test_pch)
  endif()
endfunction()
