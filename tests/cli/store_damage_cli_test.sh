#!/usr/bin/env bash
# Black-box test of a damaged store at start-up (issue 16, point 4;
# docs/reliability.md section 7): a populated data_dir, stopped cleanly, is
# copied and damaged; each copy is refused with exit 5 and one line naming
# the damage (STORAGE_DAMAGED), at every start: a flipped bit in the
# database header (a format version: SQLite would open it read-only and
# refuse every write; the largest root page: PRAGMA quick_check finds it),
# the database truncated to half. An undamaged copy without the clean-stop
# record (a crash) is checked and starts.
# Usage: store_damage_cli_test.sh PATH/TO/tearline-broker PATH/TO/tearline SOURCE_DIR
set -euo pipefail

BROKER=${1:?tearline-broker}
TL=${2:?tearline}
SRC=${3:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-store-damage.XXXXXX")
PID=
cleanup() { [[ -n $PID ]] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"

"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/pki" >/dev/null
PKI=$WORK/pki
config() { # config DATA_DIR > FILE
  cat <<TOML
[broker]
endpoint = "tcp://127.0.0.1:*"
key_file = "$PKI/keys/broker.key"
directory = "$PKI/directory"
policy = "$SRC/certs/policy.toml"
data_dir = "$1"
TOML
}
# start DATA_DIR: runs a broker on it in the background (PID, EP).
start() {
  config "$1" >"$WORK/broker.toml"
  "$BROKER" --config "$WORK/broker.toml" 2>"$WORK/log" &
  PID=$!
  for _ in $(seq 100); do grep -q "event=started" "$WORK/log" && break; sleep 0.1; done
  grep -q "event=started" "$WORK/log" || { cat "$WORK/log"; fail "broker did not start on $1"; }
  EP=$(sed -n 's/.*event=started endpoint=\([^ ]*\).*/\1/p' "$WORK/log")
}
stop() {
  kill -TERM "$PID"
  local rc=0
  wait "$PID" || rc=$?
  PID=
  [[ $rc -eq 0 ]] || { cat "$WORK/log"; fail "broker exited $rc on SIGTERM"; }
}

# A populated store, stopped cleanly: it leaves its clean-stop record.
start "$WORK/data"
for i in $(seq 12); do
  timeout 20 "$TL" publish --pki "$PKI" --broker "$EP" --node fgr-liaison --topic intel.liaison.damage \
    --classification UNCLASSIFIED --text "report $i $(head -c 3000 /dev/zero | tr '\0' x)" >"$WORK/out" 2>"$WORK/err" ||
    { cat "$WORK/err"; fail "publish $i refused"; }
done
stop
[[ -f $WORK/data/tearline.db.clean-stop ]] || { ls -la "$WORK/data"; fail "a clean stop left no clean-stop record"; }

# expect_damaged NAME PATTERN: the broker on $WORK/NAME exits 5 with one
# line matching PATTERN, twice (a refused start leaves no clean-stop record).
expect_damaged() {
  config "$WORK/$1" >"$WORK/$1.toml"
  for attempt in 1 2; do
    local rc=0
    timeout 20 "$BROKER" --config "$WORK/$1.toml" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [[ $rc -eq 5 ]] || { cat "$WORK/err"; fail "$1 (start $attempt): exited $rc, expected 5"; }
    one_err_line "^tearline-broker: cannot start: STORAGE_DAMAGED: store $WORK/$1/tearline.db is damaged: " "$2" \
      "restore the data dir from a backup"
    no_out
  done
}
copy() { cp -r "$WORK/data" "$WORK/$1"; }

copy version
flip_byte "$WORK/version/tearline.db" 18
expect_damaged version "the header's file format versions 3/2 are neither 1 nor 2"

copy rootpage
flip_byte "$WORK/rootpage/tearline.db" 52
expect_damaged rootpage "PRAGMA quick_check: "

copy truncated
truncate -s $(($(stat -c %s "$WORK/truncated/tearline.db") / 2)) "$WORK/truncated/tearline.db"
expect_damaged truncated "malformed"

# A crash (no clean-stop record) on an undamaged store: checked, then served.
copy crashed
rm "$WORK/crashed/tearline.db.clean-stop"
start "$WORK/crashed"
grep -q "event=store_recovered store=sqlite seq=12 " "$WORK/log" || { cat "$WORK/log"; fail "the crashed copy did not recover"; }
stop
echo "store_damage_cli: all checks passed"
