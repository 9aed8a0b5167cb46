#!/usr/bin/env bash
# The matrix of docs/performance.md: N = 1, 4, 16, 64 (sealed to every
# subscriber); recipients 1, 4, 16 of 16; sections 1 and 4; sizes 1 KiB,
# 16 KiB, 256 KiB, each against the raw ZeroMQ CURVE relay and NATS over TLS,
# with latency at half the maximum for the N series.
#
# Usage: bench/run_matrix.sh [BUILD_DIR] [extra tearline-bench run flags...]
#   e.g. bench/run_matrix.sh build-bench --duration 10
# Writes BUILD_DIR/matrix.json and BUILD_DIR/matrix.log (the table and the
# markdown rows pasted into docs/performance.md). About 10 minutes with the
# default 10 s runs on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-bench}
shift || true
scripts/install-deps.sh build bench
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTEARLINE_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target tearline-bench tearline-broker
"$BUILD/bench/tearline-bench" run --matrix --json "$BUILD/matrix.json" "$@" 2>&1 | tee "$BUILD/matrix.log"
