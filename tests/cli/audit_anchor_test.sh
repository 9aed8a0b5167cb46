#!/usr/bin/env bash
# Issue 16 point 3: the audit anchor outside the store. A broker with a
# checkpoint per audit entry stores reports, stops cleanly (the WAL is merged
# into the database), stores more and is SIGKILLed (the later commits stay
# in the WAL). Copies of its data dir are damaged: WAL deleted, truncated,
# one bit of a WAL frame flipped. On each copy the broker refuses to start
# (exit 4, one STORAGE_TRUNCATED line) exactly when committed audit entries
# were lost (the store's last entry, read with sqlite3, is below the anchor's
# last checkpoint), and starts normally otherwise; --accept-loss starts,
# audits the loss and re-anchors; `audit verify --anchor` says truncated
# where `audit verify` alone says OK.
# Usage: audit_anchor_test.sh PATH/TO/tearline PATH/TO/tearline-broker SOURCE_DIR
set -euo pipefail

TL=${1:?tearline}
BROKER=${2:?tearline-broker}
SRC=${3:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-anchor.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
EP=tcp://127.0.0.1:$PORT
"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/pki" >/dev/null
PKI=$WORK/pki
config() {  # config DATA_DIR
  cat >"$WORK/broker.toml" <<TOML
[broker]
endpoint = "$EP"
key_file = "$PKI/keys/broker.key"
directory = "$PKI/directory"
policy = "$SRC/certs/policy.toml"
data_dir = "$1"
[storage]
audit_checkpoint_entries = 1
audit_checkpoint_seconds = 1
TOML
}
# start_broker LOG [FLAGS]: waits for event=started.
start_broker() {
  local log=$1
  shift
  "$BROKER" --config "$WORK/broker.toml" "$@" 2>"$log" &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  for _ in $(seq 100); do grep -q "event=started" "$log" && return; sleep 0.1; done
  cat "$log"
  fail "broker did not start"
}
A=(--pki "$PKI" -s "$EP")
PUB=dea-bogota-analyst
publish() { run 0 publish "${A[@]}" -n "$PUB" -t "intel.anchor.$1" --classification UNCLASSIFIED --rel COL,USA --text "r$1"; }

echo "== a populated data dir: a clean stop, then more commits and SIGKILL"
config "$WORK/data"
start_broker "$WORK/run1.log"
publish 1
publish 2
kill -TERM "$BROKER_PID" && wait "$BROKER_PID"
grep -q "event=checkpoint_anchored index=" "$WORK/run1.log" || { cat "$WORK/run1.log"; fail "no anchor logged"; }
[[ ! -e $WORK/data/tearline.db-wal ]] || fail "a clean stop left a WAL"
start_broker "$WORK/run2.log"
for i in 3 4 5 6 7 8; do publish "$i"; done
sleep 1.5  # the last decisions' entries and their checkpoint commit and are anchored
{ kill -9 "$BROKER_PID" && wait "$BROKER_PID"; } 2>/dev/null || true
[[ -s $WORK/data/tearline.db-wal ]] || fail "no WAL after SIGKILL"
anchor_last() { sed -n 's/^index=\([0-9]*\) .*/\1/p' "$1/audit.anchor" | tail -1; }
ANCHORED=$(anchor_last "$WORK/data")
[[ -n $ANCHORED ]] || fail "empty anchor"
LOGGED=$(grep -o "event=checkpoint_anchored index=[0-9]*" "$WORK/run2.log" | tail -1 | cut -d= -f3)
[[ $LOGGED == "$ANCHORED" ]] || fail "the anchor's last index $ANCHORED is not the last logged $LOGGED"

# store_last DIR: the last audit index SQLite recovers from DIR's files (on a
# scratch copy: recovery rewrites them).
store_last() {
  rm -rf "$WORK/scratch" && cp -r "$1" "$WORK/scratch"
  sqlite3 "$WORK/scratch/tearline.db" "SELECT COALESCE(MAX(idx), 0) FROM audit"
}
# evidence DIR: the database's and its WAL's digests (an empty WAL counts as
# none: SQLite makes one at open; the -shm index is rebuilt at each open).
evidence() {
  sha256sum "$1/tearline.db"
  [[ ! -s $1/tearline.db-wal ]] || sha256sum "$1/tearline.db-wal"
}
# try DIR NAME: starts the broker on DIR; exit 4 with one line when entries
# were lost, a normal start otherwise. Echoes "lost" or "kept".
LOST_CASES=0
try() {
  local dir=$1 name=$2 last rc=0
  last=$(store_last "$dir")
  config "$dir"
  if ((last < ANCHORED)); then
    local before
    before=$(evidence "$dir")
    timeout 20 "$BROKER" --config "$WORK/broker.toml" 2>"$WORK/$name.log" || rc=$?
    [[ $rc -eq 4 ]] || { cat "$WORK/$name.log"; fail "$name: exit $rc, expected 4 (store ends at $last < $ANCHORED)"; }
    grep -q "^tearline-broker: cannot start: STORAGE_TRUNCATED: truncated: the store ends at entry $last, checkpoint time_ms=[0-9]* names entry $ANCHORED: committed audit entries $((last + 1))\.\.$ANCHORED .* --accept-loss" \
      "$WORK/$name.log" || { cat "$WORK/$name.log"; fail "$name: no STORAGE_TRUNCATED line"; }
    [[ $(grep -c '^tearline-broker: ' "$WORK/$name.log") -eq 1 ]] || { cat "$WORK/$name.log"; fail "$name: not one line"; }
    # The refused start leaves the evidence as it was: the WAL not copied
    # into the database nor deleted, no clean stop recorded.
    [[ $(evidence "$dir") == "$before" ]] || fail "$name: the refused start changed the database or its WAL"
    [[ ! -e $dir/tearline.db.clean-stop ]] || fail "$name: the refused start recorded a clean stop"
    LOST_CASES=$((LOST_CASES + 1))
    echo "   $name: store ends at $last, anchor names $ANCHORED: refused, exit 4"
  else
    start_broker "$WORK/$name.log"
    kill -TERM "$BROKER_PID" && wait "$BROKER_PID"
    echo "   $name: store ends at $last, anchor names $ANCHORED: started"
  fi
}

echo "== damaged copies"
cp -r "$WORK/data" "$WORK/intact"
try "$WORK/intact" intact
cp -r "$WORK/data" "$WORK/nowal"
rm "$WORK/nowal/tearline.db-wal"
try "$WORK/nowal" nowal
cp -r "$WORK/data" "$WORK/cut"
truncate -s $(($(stat -c %s "$WORK/cut/tearline.db-wal") / 2)) "$WORK/cut/tearline.db-wal"
try "$WORK/cut" cut
cp -r "$WORK/data" "$WORK/flip"
flip_byte "$WORK/flip/tearline.db-wal" $(($(stat -c %s "$WORK/flip/tearline.db-wal") / 2))
try "$WORK/flip" flip
((LOST_CASES >= 2)) || fail "expected the deleted and the truncated WAL to lose committed entries"

echo "== an anchor file none of whose lines verifies: the check cannot run, the start is refused"
cp -r "$WORK/data" "$WORK/badanchor"
# every signature cut to its first byte: no line parses as a signed checkpoint
sed -i 's/ signature=\(..\)[0-9a-f]*$/ signature=\1/' "$WORK/badanchor/audit.anchor"
config "$WORK/badanchor"
rc=0
timeout 20 "$BROKER" --config "$WORK/broker.toml" 2>"$WORK/badanchor.log" || rc=$?
[[ $rc -eq 4 ]] || { cat "$WORK/badanchor.log"; fail "bad anchor: exit $rc, expected 4"; }
grep -q "^tearline-broker: cannot start: STORAGE_TRUNCATED: the audit anchor's [0-9]* lines do not verify" \
  "$WORK/badanchor.log" || { cat "$WORK/badanchor.log"; fail "bad anchor: no STORAGE_TRUNCATED line"; }

echo "== audit verify: OK alone, truncated with --anchor"
cp -r "$WORK/data" "$WORK/verify"
rm "$WORK/verify/tearline.db-wal"
LAST=$(store_last "$WORK/verify")
run 0 audit verify --db "$WORK/verify/tearline.db" --pki "$PKI"
out_has '^OK '
run 1 audit verify --db "$WORK/verify/tearline.db" --pki "$PKI" --anchor "$WORK/verify/audit.anchor"
out_has "^truncated: the store ends at entry $LAST, checkpoint time_ms=[0-9]* names entry $ANCHORED$"
run 1 audit verify --db "$WORK/verify/tearline.db" --pki "$PKI" --anchor "$WORK/verify/audit.anchor" --json
out_has "\"verdict\":\"TRUNCATED\".*\"anchor_index\":\"$ANCHORED\",\"anchor_message\":\"truncated: the store ends at entry $LAST,"
# The broker's log line serves as well as the file.
LINE=$(grep "event=checkpoint_anchored index=$ANCHORED " "$WORK/run2.log")
run 1 audit verify --db "$WORK/verify/tearline.db" --pki "$PKI" --anchor "$LINE"
out_has "^truncated: the store ends at entry $LAST,"
run 0 audit verify --db "$WORK/intact/tearline.db" --pki "$PKI" --anchor "$WORK/data/audit.anchor"
out_has '^OK '

echo "== --accept-loss: starts, audits the loss, re-anchors; the next start is normal"
config "$WORK/nowal"
start_broker "$WORK/accept.log" --accept-loss
grep -q "event=storage_truncation_accepted" "$WORK/accept.log" || { cat "$WORK/accept.log"; fail "no acceptance logged"; }
kill -TERM "$BROKER_PID" && wait "$BROKER_PID"
ls "$WORK/nowal"/audit.anchor.lost-* >/dev/null || fail "the old anchor was not kept"
run 0 audit show --db "$WORK/nowal/tearline.db" --event storage --decision lost
NOWAL_LAST=$(store_last "$WORK/verify")
out_has "committed audit entries $((NOWAL_LAST + 1))\.\.$ANCHORED .*accepted with --accept-loss"
run 0 audit verify --db "$WORK/nowal/tearline.db" --pki "$PKI" --anchor "$WORK/nowal/audit.anchor"
start_broker "$WORK/after.log"
kill -TERM "$BROKER_PID" && wait "$BROKER_PID"
echo "PASS"
