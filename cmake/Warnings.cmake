# tearline_warnings: an interface target carrying the project's warning flags.
add_library(tearline_warnings INTERFACE)
target_compile_options(tearline_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough)
if(TEARLINE_WERROR)
  target_compile_options(tearline_warnings INTERFACE -Werror)
endif()
