#!/usr/bin/env bash
# Issue 16 point 2: stored reports are re-checked when read back. A broker
# stores six reports for two durable subscribers; stopped, a copy of its
# database gets one bit of a section's ciphertext flipped in one report, one
# bit of the signature in another, and a third made unreadable (SQL UPDATE).
# The broker started on the copy sends each subscriber catching up a GAP for
# exactly those seqs and the three good reports, prints one log line and one
# audit entry per damaged record (by id), counts them in `tearline status`,
# and delivers 0 bad reports.
# Usage: storage_damage_test.sh PATH/TO/tearline PATH/TO/tearline-broker SOURCE_DIR
set -euo pipefail

TL=${1:?tearline}
BROKER=${2:?tearline-broker}
SRC=${3:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-damage.XXXXXX")
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
TOML
}
start_broker() {  # start_broker LOG
  "$BROKER" --config "$WORK/broker.toml" 2>"$1" &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  for _ in $(seq 100); do grep -q "event=started" "$1" && return; sleep 0.1; done
  cat "$1"
  fail "broker did not start"
}
stop_broker() { kill -TERM "$BROKER_PID" && wait "$BROKER_PID" || true; }
A=(--pki "$PKI" -s "$EP")
ADMIN=diran-cucuta-commander
SUB=dea-cucuta-agent
PUB=dea-bogota-analyst

echo "== six reports stored for two durable subscribers"
config "$WORK/data"
start_broker "$WORK/broker1.log"
run 0 subscribe "${A[@]}" -n "$SUB" --durable --idle-exit 300
run 0 subscribe "${A[@]}" -n "$ADMIN" --durable --idle-exit 300
for i in 1 2 3 4 5 6; do
  run 0 publish "${A[@]}" -n "$PUB" -t "intel.damage.r$i" --classification UNCLASSIFIED --rel COL,USA --text "report $i"
done
stop_broker

echo "== a copy of the database, three reports damaged"
cp -r "$WORK/data" "$WORK/copy"
mapfile -t SEQS < <(sqlite3 "$WORK/copy/tearline.db" "SELECT seq FROM reports ORDER BY seq")
[[ ${#SEQS[@]} -eq 6 ]] || fail "expected 6 stored reports, found ${#SEQS[@]}"
CIPHER=${SEQS[1]} SIG=${SEQS[3]} GARBAGE=${SEQS[4]}
id_of() { sqlite3 "$WORK/copy/tearline.db" "SELECT lower(hex(report_id)) FROM reports WHERE seq = $1"; }
CIPHER_ID=$(id_of "$CIPHER")
SIG_ID=$(id_of "$SIG")
# Flips the lowest bit of one byte of a stored report: in the first
# section's ciphertext (Report.sections[0].sealed.ciphertext) or in the
# signature (Report.signature), found by walking the protobuf wire format.
python3 - "$WORK/copy/tearline.db" "$CIPHER" "$SIG" <<'PY'
import sqlite3, sys
db, cipher_seq, sig_seq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if c < 0x80: return v, i

def fields(b, start, end):  # (field number, start, end) of each length-delimited field
    i = start
    while i < end:
        key, i = varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0: _, i = varint(b, i)
        elif wt == 1: i += 8
        elif wt == 5: i += 4
        elif wt == 2:
            n, i = varint(b, i); yield f, i, i + n; i += n
        else: raise SystemExit("unexpected wire type %d" % wt)

def first(b, span, number):
    return next((s, e) for f, s, e in fields(b, *span) if f == number)

con = sqlite3.connect(db)
for seq, where in ((cipher_seq, "ciphertext"), (sig_seq, "signature")):
    b = bytearray(con.execute("SELECT bytes FROM reports WHERE seq = ?", (seq,)).fetchone()[0])
    if where == "signature":
        at = first(b, (0, len(b)), 3)[0] + 10
    else:
        section = first(b, (0, len(b)), 2)
        sealed = first(b, section, 2)
        at = first(b, sealed, 4)[0] + 5
    b[at] ^= 1
    con.execute("UPDATE reports SET bytes = ? WHERE seq = ?", (bytes(b), seq))
con.commit()
PY
sqlite3 "$WORK/copy/tearline.db" "UPDATE reports SET bytes = x'0a03ffff' WHERE seq = $GARBAGE"

echo "== the broker on the copy: a GAP for each damaged seq, the good reports, nothing else"
config "$WORK/copy"
start_broker "$WORK/broker2.log"
run 0 subscribe "${A[@]}" -n "$SUB" --durable --json --idle-exit 1500
cp "$WORK/out" "$WORK/sub.json"
[[ $(grep -c '^{"broker_seq"' "$WORK/sub.json") -eq 3 ]] || { cat "$WORK/sub.json"; fail "expected 3 reports"; }
[[ $(grep -c '"signature":"valid"' "$WORK/sub.json") -eq 3 ]] || { cat "$WORK/sub.json"; fail "a bad report was delivered"; }
for i in 1 3 6; do grep -q "\"topic\":\"intel.damage.r$i\"" "$WORK/sub.json" || fail "report $i missing"; done
for seq in "$CIPHER" "$SIG" "$GARBAGE"; do
  grep -q "^{\"gap\":{\"broker_seq\":\"$seq\",\"reasons\":\[{\"code\":603,\"name\":\"STORAGE_DAMAGED\",\"message\":\"stored report $seq failed the broker's re-check: " \
    "$WORK/sub.json" || { cat "$WORK/sub.json"; fail "no JSON GAP for seq $seq"; }
done
[[ $(wc -l <"$WORK/sub.json") -eq 6 ]] || { cat "$WORK/sub.json"; fail "expected 6 lines"; }
run 0 subscribe "${A[@]}" -n "$ADMIN" --durable --idle-exit 1500
cp "$WORK/out" "$WORK/sub.txt"
grep -q "^GAP seq $CIPHER: STORAGE_DAMAGED: stored report $CIPHER failed the broker's re-check: COMMITMENT_MISMATCH: .*; it cannot be delivered$" \
  "$WORK/sub.txt" || { cat "$WORK/sub.txt"; fail "no GAP line for the ciphertext flip"; }
grep -q "^GAP seq $SIG: STORAGE_DAMAGED: stored report $SIG failed the broker's re-check: REPORT_SIGNATURE: " \
  "$WORK/sub.txt" || { cat "$WORK/sub.txt"; fail "no GAP line for the signature flip"; }
grep -q "^GAP seq $GARBAGE: STORAGE_DAMAGED: stored report $GARBAGE failed the broker's re-check: REPORT_MALFORMED: " \
  "$WORK/sub.txt" || { cat "$WORK/sub.txt"; fail "no GAP line for the unreadable row"; }
[[ $(grep -c '^GAP seq ' "$WORK/sub.txt") -eq 3 ]] || { cat "$WORK/sub.txt"; fail "expected 3 GAP lines"; }

echo "== one log line per damaged record (two sessions read each), by id"
log_count() { grep -c "event=stored_record_damaged seq=$1 report=$2 reason=" "$WORK/broker2.log" || true; }
[[ $(log_count "$CIPHER" "$CIPHER_ID") -eq 1 ]] || { cat "$WORK/broker2.log"; fail "log line for $CIPHER"; }
[[ $(log_count "$SIG" "$SIG_ID") -eq 1 ]] || { cat "$WORK/broker2.log"; fail "log line for $SIG"; }
[[ $(log_count "$GARBAGE" unreadable) -eq 1 ]] || { cat "$WORK/broker2.log"; fail "log line for $GARBAGE"; }
[[ $(grep -c "event=stored_record_damaged" "$WORK/broker2.log") -eq 3 ]] || fail "expected 3 damage lines"

echo "== the status counter"
run 0 status "${A[@]}" -n "$ADMIN" --json
out_has '"damaged_records":"3"'
run 0 status "${A[@]}" -n "$ADMIN"
out_has '^faults:     3 damaged records, 0 refused handshakes, 0 refused hellos, 0 wall-clock steps$'
stop_broker

echo "== one audit entry per damaged record, and the chain still verifies"
run 0 audit show --db "$WORK/copy/tearline.db" --event storage --decision damaged --json
[[ $(wc -l <"$WORK/out") -eq 3 ]] || { cat "$WORK/out"; fail "expected 3 audit entries"; }
out_has "\"report\":\"$CIPHER_ID\".*\"detail\":\"seq $CIPHER: COMMITMENT_MISMATCH"
out_has "\"report\":\"$SIG_ID\".*\"detail\":\"seq $SIG: REPORT_SIGNATURE"
out_has "\"report\":\"\".*\"detail\":\"seq $GARBAGE: REPORT_MALFORMED"
run 0 audit verify --db "$WORK/copy/tearline.db" --pki "$PKI"
echo "PASS"
