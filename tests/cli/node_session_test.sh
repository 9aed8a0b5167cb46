#!/usr/bin/env bash
# Black-box test of what a running node sees of its session (docs/nodes.md):
# where --pki/--broker/--node come from (flags, TEARLINE_*, contexts), errors
# that name their cause (wrong broker key, unknown or revoked credential, a
# key file of the wrong kind), `status` and `admin reload`, durable versus
# session-only subscriptions (issue 15 defect 3), the directory reloaded by a
# running subscriber (defect 2: DIRECTORY_CHANGED, SIGHUP, reconnect), the
# lost/regained notes, --raw, --body-file - and the label's JSON key order.
# One broker on a fixed port (restarted once, on the same port).
# Usage: node_session_test.sh PATH/TO/tearline PATH/TO/tearline-broker SOURCE_DIR
set -euo pipefail

TL=${1:?tearline}
BROKER=${2:?tearline-broker}
SRC=${3:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-node-session.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"
err_line() { one_err_line "$@"; no_out; }
# JSON is checked as text: protobuf prints fields in their numbers' order (and python3 starts slowly here).
json_node() { grep -q "^{\"node\":\"$1\"," "$WORK/out" || { cat "$WORK/out"; fail "JSON node is not $1"; }; }
# Contexts live in the test's own folder; no TEARLINE_* from the caller.
export XDG_CONFIG_HOME=$WORK/config
unset TEARLINE_PKI TEARLINE_BROKER TEARLINE_NODE TEARLINE_CONTEXT
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
EP=tcp://127.0.0.1:$PORT

"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/pki" >/dev/null
PKI=$WORK/pki
cp -r "$PKI/directory" "$WORK/stale"  # a node's copy of the directory, made before any issue
cat >"$WORK/broker.toml" <<TOML
[broker]
endpoint = "$EP"
key_file = "$PKI/keys/broker.key"
directory = "$PKI/directory"
policy = "$SRC/certs/policy.toml"
data_dir = "$WORK/data"
TOML
start_broker() {
  "$BROKER" --config "$WORK/broker.toml" 2>>"$WORK/broker.log" &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  for _ in $(seq 100); do (($(grep -c "event=started" "$WORK/broker.log") >= $1)) && return; sleep 0.1; done
  cat "$WORK/broker.log"
  fail "broker did not start"
}
start_broker 1
A=(--pki "$PKI" -s "$EP")
ADMIN=diran-cucuta-commander
SUB=dea-cucuta-agent
PUB=dea-bogota-analyst
# bg NAME ARGS...: `tearline subscribe ARGS` in the background, waiting until it has subscribed.
bg() {
  local name=$1
  shift
  timeout 60 "$TL" subscribe "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=("$!")
  eval "${name}_PID=$!"
  for _ in $(seq 100); do grep -q "^subscribed as " "$WORK/$name.err" && return; sleep 0.1; done
  cat "$WORK/$name.err"
  fail "subscriber $name did not subscribe"
}
finished() {  # finished NAME: the subscriber exits 0
  local rc=0 pid_var="${1}_PID"
  wait "${!pid_var}" || rc=$?
  [[ $rc -eq 0 ]] || { cat "$WORK/$1.out" "$WORK/$1.err"; fail "subscriber $1 exited $rc"; }
}
err_of() { # err_of NAME PATTERN: the subscriber's stderr gets a line matching PATTERN within 10 s
  for _ in $(seq 100); do grep -qE -- "$2" "$WORK/$1.err" && return; sleep 0.1; done
  cat "$WORK/$1.err"
  fail "$1: stderr lacks /$2/"
}
publish() {  # publish NODE TOPIC TEXT
  run 0 publish "${A[@]}" -n "$1" -t "$2" --classification UNCLASSIFIED --rel COL,USA --text "$3"
}

echo "== where --pki, --broker and --node come from: flag > TEARLINE_* > context > the demo's defaults"
run 0 subscriptions "${A[@]}" -n "$SUB"
out_has "^node:     $SUB$"
TEARLINE_PKI=$PKI TEARLINE_BROKER=$EP TEARLINE_NODE=$SUB run 0 subscriptions --json
json_node "$SUB"
TEARLINE_PKI=$PKI TEARLINE_BROKER=$EP TEARLINE_NODE=$SUB run 0 subscriptions --json -n "$PUB"
json_node "$PUB"
run 0 context save lab --pki "$PKI" --broker "$EP" --node "$SUB"
out_has '^saved context lab '
run 0 context use lab
run 0 context list
[[ $(cat "$WORK/out") == "* lab  pki=$PKI broker=$EP node=$SUB" ]] || { cat "$WORK/out"; fail "context list"; }
run 0 context show lab --json
[[ $(cat "$WORK/out") == "{\"name\":\"lab\",\"pki\":\"$PKI\",\"broker\":\"$EP\",\"node\":\"$SUB\",\"selected\":true}" ]] ||
  { cat "$WORK/out"; fail "context show --json"; }
run 0 subscriptions --json
json_node "$SUB"
TEARLINE_NODE=$PUB run 0 subscriptions --json
json_node "$PUB"
run 0 context rm lab
run 0 context list
no_out
run 2 context use lab
err_line "^tearline: context use: IO_ERROR: no context 'lab'"
run 2 context save 'a/b' --node x
err_line "^tearline: context save: INVALID_FIELD: context name 'a/b'"
run 2 context save lab --broker localhost:7911
err_line "give tcp://HOST:PORT, e.g. tcp://localhost:7911"

echo "== bad --pki, --broker, --node: one line naming the flag and the variable (exit 2)"
run 2 subscriptions --pki "$WORK/nope" -s "$EP" -n "$SUB"
err_line "^tearline: --pki '$WORK/nope': no such folder: give --pki DIR or set TEARLINE_PKI"
TEARLINE_PKI=$WORK/nope run 2 subscriptions -s "$EP" -n "$SUB"
err_line "^tearline: --pki '$WORK/nope' \(from TEARLINE_PKI\): no such folder"
run 2 subscriptions --pki "$WORK" -s "$EP" -n "$SUB"
err_line "not a PKI folder \(no directory/trust.toml\)"
TEARLINE_PKI=$WORK/nope run 2 explain "$WORK/broker.toml"
err_line "^tearline: explain: --pki '$WORK/nope': not a PKI folder \(no directory/trust.toml\): give --pki DIR or set TEARLINE_PKI"
run 2 publish --pki "$PKI" --broker localhost:7911 -n "$PUB" -t intel.x --classification UNCLASSIFIED --text x
err_line "^tearline: --broker 'localhost:7911' is not an endpoint: give tcp://HOST:PORT, e.g. tcp://localhost:7911$"
run 2 subscriptions "${A[@]}"
err_line "^tearline: no node given: give -n/--node NODE, set TEARLINE_NODE"

echo "== errors that say what to do"
run 2 subscriptions "${A[@]}" -n "$SUB" --key "$PKI/keys/broker.key"
err_line "KEY_FILE: key file .*broker.key is the broker's key file \(TLBRKR1\), not a node key file"
run 2 subscriptions "${A[@]}" -n nobody
err_line "UNKNOWN_NODE: node nobody has no credential in the directory"
"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/other" >/dev/null
cp -r "$PKI/directory" "$WORK/wrongkey"
cp "$WORK/other/directory/broker.pub" "$WORK/wrongkey/broker.pub"
run 1 subscriptions "${A[@]}" -n "$SUB" --directory "$WORK/wrongkey" --timeout 2000
err_line "HANDSHAKE_REFUSED: the broker's CURVE key does not match $WORK/wrongkey/broker.pub"
cp -r "$PKI" "$WORK/revoked"
SERIAL=$("$TL" certs issue --pki "$WORK/revoked" --node dea-gone --agency DEA --clearance SECRET |
  sed -n 's/.*serial \([0-9]*\)$/\1/p')
"$TL" certs revoke --pki "$WORK/revoked" --agency DEA --serial "$SERIAL" --reason retired >/dev/null
run 1 subscriptions --pki "$WORK/revoked" -s "$EP" -n dea-gone
# The broker never loaded dea-gone: it refuses the handshake, and the local directory says why.
err_line "HANDSHAKE_REFUSED: the broker at $EP refused dea-gone's transport key" \
  "REVOKED: the credential of dea-gone \(serial $SERIAL\) is revoked by DEA's revocation list [0-9]+: issue a new"

echo "== status and admin reload (admin role)"
run 0 status "${A[@]}" -n "$ADMIN"
out_has "^broker:     tearline-broker \([0-9]+\.[0-9]+\.[0-9]+"
out_has "^directory:  generation 1, digest [0-9a-f]{16} \(equal to this node's\)$"
run 0 status "${A[@]}" -n "$ADMIN" --json
out_has '^\{"version":"[0-9]+\.[0-9]+\.[0-9]+[^"]*","broker_id":"tearline-broker","started_at_ms":"[0-9]+","started_at":"[0-9T:.-]+Z","uptime_s":"[0-9]+","sessions":[1-9][0-9]*,'
out_has '"directory_digest":"[0-9a-f]{64}","directory_generation":"1",.*"directory_matches_local":true[,}]'
run 1 status "${A[@]}" -n "$SUB"
err_line "^tearline: status: "
run 1 admin reload "${A[@]}" -n "$SUB"
err_line "^tearline: admin reload: "

echo "== defect 3: a durable '>' does not leak into a later session-only subscribe"
run 0 subscribe "${A[@]}" -n "$SUB" --durable --idle-exit 300
grep -q "^subscribed as $SUB to > (durable)$" "$WORK/err" || { cat "$WORK/err"; fail "no durable note"; }
grep -q "^durable patterns of $SUB: >; delivering from after seq " "$WORK/err" || { cat "$WORK/err"; fail "no pattern note"; }
run 0 subscriptions "${A[@]}" -n "$SUB"
out_has '^durable:  >$'
bg flush "${A[@]}" -n "$SUB" -t intel.flush --json --count 1 --idle-exit 20000
publish "$PUB" intel.seizures "not for the flush subscriber"
publish "$PUB" intel.flush "flush"
finished flush
[[ $(wc -l <"$WORK/flush.out") -eq 1 ]] && grep -q '"topic":"intel.flush"' "$WORK/flush.out" ||
  { cat "$WORK/flush.out"; fail "the session-only subscriber printed another topic"; }
# A durable subscribe drains the node's mailbox: both reports the durable '>'
# kept, whatever its own --topic (hiding one would lose it: it is acknowledged).
run 0 subscribe "${A[@]}" -n "$SUB" --durable -t intel.flush --json --count 2 --idle-exit 10000
grep -q "every report of these patterns is printed" "$WORK/err" || { cat "$WORK/err"; fail "no mailbox note"; }
out_has '"topic":"intel.seizures"'
out_has '"topic":"intel.flush"'
run 0 unsubscribe "${A[@]}" -n "$SUB" --durable -t intel.flush
run 0 unsubscribe "${A[@]}" -n "$SUB" --durable -t '>'
out_has "^unsubscribed $SUB from > \(durable\)$"
run 0 subscriptions "${A[@]}" -n "$SUB"
out_has '^durable:  none$'
run 1 subscribe "${A[@]}" -n fgr-liaison -t 'unit.cucuta-jtf.>' --idle-exit 300
err_line "^tearline: subscribe: the broker refused the subscription: "

echo "== --raw, --body-file -, and the label's JSON in a stable key order"
bg raw "${A[@]}" -n "$SUB" -t 'intel.>' --raw --count 1 --idle-exit 20000
printf 'line one\nline two\n' | timeout 20 "$TL" publish "${A[@]}" -n "$PUB" -t intel.raw --classification UNCLASSIFIED \
  --rel USA --body-file - >/dev/null
finished raw
[[ $(cat "$WORK/raw.out") == $'line one\nline two' ]] || { cat "$WORK/raw.out"; fail "--raw"; }
bg json "${A[@]}" -n "$SUB" -t 'intel.>' --json --count 1 --idle-exit 20000
publish "$PUB" intel.json "labelled"
finished json
grep -qF '"label":{"classification":"UNCLASSIFIED","releasable_to":["COL","USA"],"units":[],"orcon":false}' \
  "$WORK/json.out" || { cat "$WORK/json.out"; fail "label JSON"; }

echo "== defect 2: a node issued after the subscribers started verifies (DIRECTORY_CHANGED, SIGHUP)"
bg fresh "${A[@]}" -n "$SUB" -t 'intel.>' --json --count 1 --idle-exit 30000
# diran-bogota-hq reads the stale copy: it is told, and prints NOT VERIFIED, until SIGHUP after the copy is renewed.
bg stale -s "$EP" -n diran-bogota-hq --directory "$WORK/stale" --key "$PKI/keys/nodes/diran-bogota-hq.key" \
  -t 'intel.>' --count 2 --idle-exit 30000
"$TL" certs issue --pki "$PKI" --node dea-new-agent --agency DEA --clearance SECRET --role agent >/dev/null
run 0 admin reload "${A[@]}" -n "$ADMIN"
out_has '^the broker reloaded its directory and policy$'
err_of fresh "^tearline: subscribe: reloaded the directory \(the broker announced a new directory \(generation 2\)\): digest [0-9a-f]{16} -> [0-9a-f]{16}, now equal to the broker's$"
err_of stale "^tearline: subscribe: reloaded the directory .*, not the broker's"
publish dea-new-agent intel.new "from the new node"
finished fresh
grep -q '"originator":"dea-new-agent","topic":"intel.new","created_at_ms":"[0-9]*","signature":"valid"' "$WORK/fresh.out" ||
  { cat "$WORK/fresh.out"; fail "fresh: the new node's report is not valid"; }
for _ in $(seq 100); do grep -q "NOT VERIFIED" "$WORK/stale.out" && break; sleep 0.1; done
grep -qE "^report \(broker seq [0-9]+\) NOT VERIFIED: " "$WORK/stale.out" || { cat "$WORK/stale.out"; fail "stale: no NOT VERIFIED"; }
grep -q "^  what to do: " "$WORK/stale.out" || { cat "$WORK/stale.out"; fail "stale: no advice"; }
! grep -q "REJECTED" "$WORK/stale.out" || fail "the receiving side says REJECTED"
cp "$PKI/directory/credentials/"* "$WORK/stale/credentials/"
kill -HUP "$stale_PID"
err_of stale "reloaded the directory \(SIGHUP\): .*, now equal to the broker's$"
publish dea-new-agent intel.new "again"
finished stale
grep -q "^  originator: dea-new-agent$" "$WORK/stale.out" || { cat "$WORK/stale.out"; fail "stale: not verified after SIGHUP"; }

echo "== after a broker restart: lost and regained notes, and the directory read again on re-HELLO"
bg again "${A[@]}" -n "$SUB" -t 'intel.>' --json --count 1 --idle-exit 30000
"$TL" certs issue --pki "$PKI" --node dea-newer-agent --agency DEA --clearance SECRET --role agent >/dev/null
kill -TERM "$BROKER_PID"
wait "$BROKER_PID" || true
err_of again "^tearline: subscribe: lost the broker: .*; reconnecting$"
start_broker 2
err_of again "^tearline: subscribe: regained the broker; delivery resumes after seq [0-9]+$"
err_of again "reloaded the directory \(the session said HELLO again\): .*, now equal to the broker's$"
publish dea-newer-agent intel.newer "after the restart"
finished again
grep -q '"originator":"dea-newer-agent","topic":"intel.newer","created_at_ms":"[0-9]*","signature":"valid"' "$WORK/again.out" ||
  { cat "$WORK/again.out"; fail "again: the newer node's report is not valid"; }
echo "node_session: all passed"
