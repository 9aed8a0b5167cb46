# tearline_warnings: an interface target carrying the project's warning flags.
add_library(tearline_warnings INTERFACE)
target_compile_options(tearline_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough)
# (-Wnull-dereference is left out: with -O2 it fires inside libstdc++ 12 as
# inlined into CLI11, a false positive we cannot fix at its source.)
if(TEARLINE_WERROR)
  target_compile_options(tearline_warnings INTERFACE -Werror)
endif()
# Clang checks the lock rules written with base/thread_annotations.h.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  target_compile_options(tearline_warnings INTERFACE -Wthread-safety)
endif()
