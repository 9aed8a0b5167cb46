# TEARLINE_FUZZ=ON: the libFuzzer build (tests/fuzz). libFuzzer ships with
# clang, so this configuration is clang-only: `make fuzz` configures build-fuzz
# with CMAKE_CXX_COMPILER=clang++-16 and CMAKE_BUILD_TYPE=Debug. Everything is
# compiled with coverage instrumentation, ASan and UBSan (UB aborts, so the
# fuzzer sees it as a crash); tests/fuzz links each target with
# -fsanitize=fuzzer. The normal g++ builds never turn this on.
if(NOT TEARLINE_FUZZ)
  return()
endif()

if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "TEARLINE_FUZZ=ON needs clang (configure with -DCMAKE_CXX_COMPILER=clang++-16), "
                      "not ${CMAKE_CXX_COMPILER_ID}")
endif()
if(NOT TEARLINE_BUILD_TESTS)
  message(FATAL_ERROR "TEARLINE_FUZZ=ON needs TEARLINE_BUILD_TESTS=ON (the targets use the test fixtures)")
endif()

# -O1 over the Debug flags: fast enough to fuzz, and assert() stays on; -g1
# (line tables) is enough for a crash's stack.
# _GLIBCXX_ASSERTIONS bounds-checks operator[] of vector, span and string.
add_compile_options(-O1 -g1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer
                    -fsanitize-ignorelist=${PROJECT_SOURCE_DIR}/tests/fuzz/ubsan_ignorelist.txt)
add_compile_definitions(_GLIBCXX_ASSERTIONS)
add_link_options(-fsanitize=address,undefined)

# The Debian toml++ is a shared library built without coverage, so the fuzzer
# would be blind inside the TOML parser. Define the target before
# find_package(tomlplusplus) (whose config skips an existing target) as the
# header-only form, compiled, and instrumented, into each file that uses it.
# Its internal asserts stay off, as in the Debian library the other builds
# link: toml++ 3.3.0 asserts a precondition that "[" + newline (or "[[[")
# breaks, where the library, built without asserts, reports a parse error
# (tests/fuzz/README.md, "Known issues").
add_library(tomlplusplus::tomlplusplus INTERFACE IMPORTED)
target_compile_definitions(tomlplusplus::tomlplusplus INTERFACE TOML_HEADER_ONLY=1)
target_compile_options(tomlplusplus::tomlplusplus INTERFACE "-DTOML_ASSERT(expr)=static_assert(true)")
