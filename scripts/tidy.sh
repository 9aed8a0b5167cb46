#!/usr/bin/env bash
# clang-tidy over every project source file (.clang-tidy says which checks),
# JOBS at a time, from the compile_commands.json of BUILD_DIR. Generated
# protobuf code and system headers are not checked. Fails on any warning.
# Usage: scripts/tidy.sh BUILD_DIR [JOBS] [FILE_REGEX]  (`make tidy` configures BUILD_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: tidy.sh BUILD_DIR [JOBS] [FILE_REGEX]}
jobs=${2:-2}
root=$(pwd)
filter=${3:-"^$root/(lib|broker|client|tests|bench)/"}
log="$build/tidy.log"
# -Wno-c2y-extensions: Catch2's macros use __COUNTER__, which clang 22 calls
# a C2y extension under -Wpedantic (made an error by CI's -Werror); gcc, the
# build's compiler, accepts it as the extension every compiler has.
run-clang-tidy-22 -clang-tidy-binary clang-tidy-22 -p "$build" -j "$jobs" -quiet -extra-arg=-Wno-c2y-extensions \
  "$filter" >"$log" 2>&1 || true
# run-clang-tidy's own exit code also counts files clang-tidy could not open;
# judge by the diagnostics themselves.
warnings=$(grep -cE '^/.*:[0-9]+:[0-9]+: (warning|error):' "$log" || true)
if [ "$warnings" -gt 0 ]; then
  grep -E '^/.*:[0-9]+:[0-9]+: (warning|error):' "$log" | sort -u
  echo "tidy: $warnings diagnostic(s); full output in $log"
  exit 1
fi
echo "tidy: $(grep -c '"file"' "$build/compile_commands.json") translation units, no warnings"
