#!/usr/bin/env bash
# Issue 17 point 4, with one broker: the PostgreSQL primary is killed -9
# under load and its synchronous standby promoted; 0 acknowledged reports
# are lost. The broker's conninfo names both servers (read-write session
# only), so it reconnects to the promoted standby by itself; when a COMMIT
# was in flight at the kill, its store halts (the outcome is unknown) and
# this test restarts it, as a supervisor would. The checker: every report
# id a publisher was told ACCEPTED is stored on the promoted server, none
# twice, and a durable subscriber gets every stored report once, in order.
# Usage: pg_failover_test.sh PATH/TO/tearline PATH/TO/tearline-broker SOURCE_DIR
set -euo pipefail

TL=${1:?tearline}
BROKER=${2:?tearline-broker}
SRC=${3:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-pgfo.XXXXXX")
PRIMARY=$(mktemp -d "${TMPDIR:-/tmp}/tearline-pgfo-p.XXXXXX")
STANDBY=$(mktemp -d "${TMPDIR:-/tmp}/tearline-pgfo-s.XXXXXX")
PIDS=()
cleanup() {
  touch "$WORK/stop"
  for p in "${PIDS[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null || true; done
  for d in "$PRIMARY" "$STANDBY"; do "$SRC/scripts/pg-cluster.sh" stop "$d" >/dev/null 2>&1 || true; done
  rm -rf "$WORK" "$PRIMARY" "$STANDBY"
}
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"

"$SRC/scripts/pg-cluster.sh" start "$PRIMARY" >/dev/null
STANDBY_CONNINFO=$("$SRC/scripts/pg-cluster.sh" standby "$PRIMARY" "$STANDBY")
CONNINFO="host=$PRIMARY,$STANDBY port=5432,5432 user=postgres dbname=tearline target_session_attrs=read-write connect_timeout=2"
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
[storage]
store = "postgresql"
conninfo = "$CONNINFO"
TOML
RESTARTS=0
start_broker() {
  local log=$WORK/broker-$RESTARTS.log
  "$BROKER" --config "$WORK/broker.toml" 2>"$log" &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  for _ in $(seq 100); do grep -q "event=started" "$log" && return; sleep 0.1; done
  cat "$log"
  fail "broker did not start"
}
A=(--pki "$PKI" -s "$EP" --timeout 3000)
acked() { wc -l <"$WORK/acked"; }

# The publisher: one report after another, each id recorded once ACCEPTED;
# every answer's code in attempts (ACCEPTED, or why not).
publisher() {
  local n=0 out
  while [[ ! -e $WORK/stop ]]; do
    n=$((n + 1))
    out=$("$TL" publish "${A[@]}" -n dea-bogota-analyst -t "intel.failover.r$n" --classification UNCLASSIFIED \
      --rel COL,USA --text "r$n" --json 2>&1) || true
    if [[ $out =~ \"verdict\":\"ACCEPTED\".*\"report_id\":\"([0-9a-f]{32})\" ]]; then
      echo "${BASH_REMATCH[1]}" >>"$WORK/acked"
      echo "$n ACCEPTED" >>"$WORK/attempts"
    else
      echo "$n $(sed -n 's/.*"code":"\([A-Z_]*\)".*/\1/p' <<<"$out" | head -1)" >>"$WORK/attempts"
    fi
  done
}
# wait_acked N: until N reports are acknowledged in all (at most 60 s).
wait_acked() {
  for _ in $(seq 600); do (($(acked) >= $1)) && return; sleep 0.1; done
  cat "$WORK/attempts"
  fail "only $(acked) of $1 reports acknowledged"
}

echo "== a durable subscriber, then reports under load"
touch "$WORK/acked" "$WORK/attempts"
start_broker
run 0 subscribe "${A[@]}" -n diran-bogota-hq -t 'intel.failover.>' --durable --idle-exit 300
publisher &
PUBLISHER=$!
PIDS+=("$PUBLISHER")
wait_acked 20

echo "== kill -9 the primary (every process of it), promote the standby"
POSTMASTER=$(head -1 "$PRIMARY/data/postmaster.pid")
BEFORE=$(acked)
kill -9 $(pgrep -P "$POSTMASTER") "$POSTMASTER"
"$SRC/scripts/pg-cluster.sh" promote "$STANDBY"

echo "== the broker goes on against the promoted server (restarted if its store halted)"
for _ in $(seq 300); do
  (($(acked) >= BEFORE + 20)) && break
  if tail -3 "$WORK/attempts" | grep -q " STORAGE_HALTED$" && ((RESTARTS == 0)); then
    kill -TERM "$BROKER_PID" && wait "$BROKER_PID" || true
    RESTARTS=1
    start_broker
  fi
  sleep 0.1
done
wait_acked $((BEFORE + 20))
touch "$WORK/stop"
wait "$PUBLISHER"
kill -TERM "$BROKER_PID" && wait "$BROKER_PID"

echo "== the checker"
psql -tA "$STANDBY_CONNINFO" -c "SELECT encode(report_id, 'hex') FROM reports ORDER BY seq" >"$WORK/stored"
LOST=$(sort "$WORK/acked" | comm -23 - <(sort "$WORK/stored") | wc -l)
DUPLICATED=$(($(wc -l <"$WORK/stored") - $(sort -u "$WORK/stored" | wc -l)))
UNACKED=$(sort "$WORK/stored" | comm -13 <(sort "$WORK/acked") - | wc -l)
echo "acknowledged $(acked), stored $(wc -l <"$WORK/stored"), lost $LOST, duplicated $DUPLICATED," \
  "stored but not acknowledged $UNACKED, broker restarts $RESTARTS;" \
  "answers: $(cut -d' ' -f2 "$WORK/attempts" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
((LOST == 0)) || fail "$LOST acknowledged reports lost"
((DUPLICATED == 0)) || fail "$DUPLICATED reports stored twice"
# A report stored but never acknowledged is one whose answer was lost with
# the primary (the COMMIT's outcome was unknown to the broker): at most one
# batch's worth, here one report (the publisher waits for each answer).
((UNACKED <= 1)) || fail "$UNACKED reports stored that nobody was told of"

echo "== the durable subscriber gets every stored report, once, in order"
start_broker
run 0 subscribe "${A[@]}" -n diran-bogota-hq -t 'intel.failover.>' --durable --count "$(wc -l <"$WORK/stored")" --json
python3 - "$WORK/out" "$WORK/stored" <<'PY' || fail "the durable subscriber's reports"
import json, sys
got = [json.loads(line)["report_id"] for line in open(sys.argv[1])]
stored = open(sys.argv[2]).read().split()
assert got == stored, (len(got), len(stored))
PY
echo "PASS"
