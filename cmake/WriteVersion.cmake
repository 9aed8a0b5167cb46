# Writes OUT (a .cc defining tearline::version() and friends) from VERSION and
# the git revision of SOURCE_DIR, only when its text changes, so that a build
# after a new commit relinks what prints the version and nothing else.
# Run at build time: cmake -DVERSION=.. -DSOURCE_DIR=.. -DOUT=.. -P WriteVersion.cmake
find_package(Git QUIET)
set(revision "unknown")
if(GIT_FOUND AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" rev-parse --short=7 HEAD
                  OUTPUT_VARIABLE rev OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
  if(rc EQUAL 0 AND rev)
    set(revision "${rev}")
    execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" diff --quiet HEAD --
                    RESULT_VARIABLE dirty ERROR_QUIET)
    if(NOT dirty EQUAL 0)
      string(APPEND revision "-dirty")
    endif()
  endif()
endif()
set(text "// Written by cmake/WriteVersion.cmake; do not edit.
#include \"base/version.h\"

namespace tearline {

std::string_view version() { return \"${VERSION}\"; }
std::string_view git_revision() { return \"${revision}\"; }
std::string_view version_string() { return \"${VERSION} (git ${revision})\"; }

}  // namespace tearline
")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
