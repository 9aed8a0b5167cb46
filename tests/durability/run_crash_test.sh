#!/usr/bin/env bash
# The long crash test: tearline-broker killed with SIGKILL 200 times at random
# moments (100-700 ms apart) while 3 nodes publish and 3 durable subscribers
# read; then every guarantee of docs/reliability.md is checked. Prints the
# summary line and the machine it ran on; exits non-zero on any violation.
#
# Usage: tests/durability/run_crash_test.sh [BUILD_DIR] [extra tearline_crash_test flags...]
#   BUILD_DIR defaults to ./build; e.g. --kills 500 --seed 42 --keep
set -euo pipefail

BUILD=${1:-build}
shift || true
CRASH=$BUILD/tests/durability/tearline_crash_test
BROKER=$BUILD/broker/tearline-broker
TL=$BUILD/client/tearline
for f in "$CRASH" "$BROKER" "$TL"; do
  [[ -x $f ]] || { echo "run_crash_test: $f not built (cmake --build $BUILD --target tearline_crash_test tearline-broker tearline)" >&2; exit 2; }
done

echo "machine: $(uname -srm); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); \
$(free -g | awk '/Mem:/ {print $2 " GiB RAM"}'); tmp on $(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2}')"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit: $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)"
rc=0
/usr/bin/time -f "time: %e s wall, %U s user, %S s sys, %M KiB max RSS (test process)" \
  "$CRASH" --broker "$BROKER" --tearline "$TL" --kills 200 "$@" || rc=$?
echo "run_crash_test: exit $rc"
exit $rc
