#!/usr/bin/env bash
# The long run of issue 16 point 7 (docs/reliability.md, "Floods and session
# churn"): refused CURVE handshakes at RATE a second for SECONDS against a
# broker limited to 1,024 descriptors, while a legitimate node connects every
# 100 ms; prints the figures as JSON (tests/flood/handshake_flood.cc).
#
#   scripts/handshake-flood.sh [BUILD_DIR] [SECONDS] [RATE] [HOLD_MS]
#
# BUILD_DIR defaults to ./build (tearline_handshake_flood and tearline-broker
# built there); SECONDS 60, RATE 1000, HOLD_MS 100 (how long each attacker
# connection is kept open by the attacker).
set -euo pipefail
build=${1:-build}
seconds=${2:-60}
rate=${3:-1000}
hold=${4:-100}
exec "$build/tests/flood/tearline_handshake_flood" --broker "$build/broker/tearline-broker" \
  --seconds "$seconds" --rate "$rate" --hold-ms "$hold" --nofile 1024 --settle 5 --enforce
