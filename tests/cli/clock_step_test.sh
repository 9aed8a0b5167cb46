#!/usr/bin/env bash
# A step of the broker's wall clock under libfaketime (issue 16 point 6), with
# the real monotonic clock (DONT_FAKE_MONOTONIC=1): a subscriber's session
# survives a +2 h step (it pings every second; before the fix every READY
# session was closed at once with event=session_timeout), a report published
# after the step is delivered to it, and the broker logs the step
# (event=wall_clock_step), counts it (`tearline status`: 1 wall-clock steps)
# and audits it (event clock, decision stepped). The clients share the
# broker's offset (the same timestamp file), as machines kept in step would.
# Needs Debian's faketime (scripts/install-deps.sh build). About 5 s.
# Usage: clock_step_test.sh PATH/TO/tearline PATH/TO/tearline-broker SOURCE_DIR
set -euo pipefail

TL=${1:?tearline}
BROKER=${2:?tearline-broker}
SRC=${3:?source dir}
LIBFAKETIME=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-clock-step.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"
[[ -f $LIBFAKETIME ]] || fail "$LIBFAKETIME is missing: install Debian's faketime (scripts/install-deps.sh build)"
# A sanitizer build (make asan) links libasan, whose runtime must be the first
# library loaded: preload it ahead of libfaketime.
PRELOAD=$LIBFAKETIME
ASAN_RUNTIME=$(ldd "$BROKER" | awk '/libasan/ { print $3 }')
[[ -z $ASAN_RUNTIME ]] || PRELOAD=$ASAN_RUNTIME:$LIBFAKETIME
export XDG_CONFIG_HOME=$WORK/config
unset TEARLINE_PKI TEARLINE_BROKER TEARLINE_NODE TEARLINE_CONTEXT
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
EP=tcp://127.0.0.1:$PORT

"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/pki" >/dev/null
PKI=$WORK/pki
cat >"$WORK/broker.toml" <<TOML
[broker]
endpoint = "$EP"
key_file = "$PKI/keys/broker.key"
directory = "$PKI/directory"
policy = "$SRC/certs/policy.toml"
data_dir = "$WORK/data"
TOML

# Every process below reads its wall-clock offset from this file at each call.
CLOCK=$WORK/faketime.rc
echo "+0" >"$CLOCK"
faked() {  # exec: a faked command run with & is the process $! names
  exec env LD_PRELOAD="$PRELOAD" FAKETIME_TIMESTAMP_FILE="$CLOCK" FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1 "$@"
}
TL_REAL=$TL
TL="$WORK/tearline-faked"  # run() (lib.sh) runs $TL: the CLI under the same offset
cat >"$TL" <<SH
#!/usr/bin/env bash
exec env LD_PRELOAD="$PRELOAD" FAKETIME_TIMESTAMP_FILE="$CLOCK" FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1 "$TL_REAL" "\$@"
SH
chmod +x "$TL"
wait_log() {  # wait_log PATTERN: the broker log gets a line matching PATTERN within 5 s
  for _ in $(seq 50); do grep -qE -- "$1" "$WORK/broker.log" && return; sleep 0.1; done
  cat "$WORK/broker.log"
  fail "broker log lacks /$1/"
}

faked "$BROKER" --config "$WORK/broker.toml" >"$WORK/broker.out" 2>"$WORK/broker.log" &
PIDS+=("$!")
wait_log "event=started"
A=(--pki "$PKI" -s "$EP")

echo "== a subscriber, then a +2 h step of every wall clock"
# (--idle-exit: it ends by itself should this script be killed)
"$TL" subscribe "${A[@]}" -n dea-cucuta-agent -t 'intel.>' --idle-exit 20000 >"$WORK/sub.out" 2>"$WORK/sub.err" &
PIDS+=("$!")
for _ in $(seq 100); do grep -q "^subscribed as " "$WORK/sub.err" && break; sleep 0.1; done
grep -q "^subscribed as " "$WORK/sub.err" || { cat "$WORK/sub.err"; fail "the subscriber did not subscribe"; }
run 0 publish "${A[@]}" -n dea-bogota-analyst -t intel.before --classification UNCLASSIFIED --rel COL,USA \
  --text "before the step"
echo "+2h" >"$CLOCK"
wait_log "event=wall_clock_step delta_ms=7[0-9]{6}"

echo "== the session lives on: a report published after the step is delivered to it"
run 0 publish "${A[@]}" -n dea-bogota-analyst -t intel.after --classification UNCLASSIFIED --rel COL,USA \
  --text "after the step"
for _ in $(seq 100); do grep -q "after the step" "$WORK/sub.out" && break; sleep 0.1; done
grep -q "after the step" "$WORK/sub.out" || { cat "$WORK/sub.out" "$WORK/sub.err"; fail "not delivered after the step"; }
grep -q "before the step" "$WORK/sub.out" || { cat "$WORK/sub.out"; fail "not delivered before the step"; }
! grep -q "event=session_timeout" "$WORK/broker.log" || { cat "$WORK/broker.log"; fail "a session timed out"; }
[[ $(grep -c "^subscribed as " "$WORK/sub.err") -eq 1 ]] || { cat "$WORK/sub.err"; fail "the subscriber lost its session"; }

echo "== counted once (status), and audited"
run 0 status "${A[@]}" -n diran-cucuta-commander
out_has "^sessions:   [1-9]"  # the subscriber's at least
out_has "^faults:     .* 1 wall-clock steps$"
[[ $(grep -c "event=wall_clock_step" "$WORK/broker.log") -eq 1 ]] || { cat "$WORK/broker.log"; fail "step logged twice"; }
kill -TERM "${PIDS[0]}"
wait "${PIDS[0]}" || fail "the broker did not stop cleanly"
run 0 audit show --db "$WORK/data/tearline.db" --event clock --decision stepped
out_has "delta_ms=7[0-9]{6}"
echo "OK"
