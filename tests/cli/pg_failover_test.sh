#!/usr/bin/env bash
# Issue 17 point 4, with one broker or two sharing the store: the PostgreSQL
# primary is killed -9 under load and its synchronous standby promoted; 0
# acknowledged reports are lost. Each broker's conninfo names both servers
# (read-write session only), so it reconnects to the promoted standby by
# itself; when a COMMIT was in flight at the kill, its store halts (the
# outcome is unknown) and this test restarts it, as a supervisor would. The
# checker: every report id a publisher was told ACCEPTED is stored on the
# promoted server, none twice, and a durable subscriber gets every stored
# report once, each publisher's in order. With two brokers, one publisher
# speaks to each, and the subscriber reads at the end from the second
# broker, both streams.
# Usage: pg_failover_test.sh PATH/TO/tearline PATH/TO/tearline-broker SOURCE_DIR [BROKERS (1|2)]
set -euo pipefail

TL=${1:?tearline}
BROKER=${2:?tearline-broker}
SRC=${3:?source dir}
BROKERS=${4:-1}
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
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/pki" >/dev/null
PKI=$WORK/pki
# Broker i (1, 2): its endpoint EP[i], key, data dir and the CLI's arguments
# to reach it, ARGS_i; broker 2 is an additional broker of the same PKI.
EP=()
KEY=("" "$PKI/keys/broker.key" "$PKI/keys/brokers/tearline-broker-2.key")
if ((BROKERS == 2)); then
  "$TL" certs broker --pki "$PKI" --additional --id tearline-broker-2 --agency DEA >/dev/null
fi
for i in $(seq "$BROKERS"); do
  EP[i]=tcp://127.0.0.1:$(free_port)
  cat >"$WORK/broker-$i.toml" <<TOML
[broker]
endpoint = "${EP[i]}"
key_file = "${KEY[i]}"
directory = "$PKI/directory"
policy = "$SRC/certs/policy.toml"
data_dir = "$WORK/data-$i"
[storage]
store = "postgresql"
conninfo = "$CONNINFO"
TOML
done
ARGS_1=(--pki "$PKI" -s "${EP[1]}" --timeout 3000)
ARGS_2=(--pki "$PKI" -s "${EP[2]:-}" --broker-id tearline-broker-2 --timeout 3000)
PUBLISHER_NODE=("" dea-bogota-analyst diran-cucuta-analyst)
RESTARTS=(0 0 0)
BROKER_PID=()
start_broker() {  # start_broker I
  local log=$WORK/broker-$1-${RESTARTS[$1]}.log
  "$BROKER" --config "$WORK/broker-$1.toml" 2>"$log" &
  BROKER_PID[$1]=$!
  PIDS+=("${BROKER_PID[$1]}")
  for _ in $(seq 100); do grep -q "event=started" "$log" && return; sleep 0.1; done
  cat "$log"
  fail "broker $1 did not start"
}
acked() { cat "$WORK"/acked-* | wc -l; }
acked_by() { wc -l <"$WORK/acked-$1"; }
# each_grew N: every publisher has had N more reports acknowledged than at
# the last mark (MARK[i]).
MARK=(0 0 0)
mark() { for i in $(seq "$BROKERS"); do MARK[i]=$(acked_by "$i"); done; }
each_grew() {
  for i in $(seq "$BROKERS"); do (($(acked_by "$i") >= MARK[i] + $1)) || return 1; done
}

# Publisher i, to broker i: one report after another, each id recorded once
# ACCEPTED; every answer's code in attempts-i (ACCEPTED, or why not).
publisher() {
  local i=$1 n=0 out
  local -n args=ARGS_$i
  while [[ ! -e $WORK/stop ]]; do
    n=$((n + 1))
    out=$("$TL" publish "${args[@]}" -n "${PUBLISHER_NODE[i]}" -t "intel.failover.b$i.r$n" \
      --classification UNCLASSIFIED --rel COL,USA --text "r$n" --json 2>&1) || true
    if [[ $out =~ \"verdict\":\"ACCEPTED\".*\"report_id\":\"([0-9a-f]{32})\" ]]; then
      echo "${BASH_REMATCH[1]}" >>"$WORK/acked-$i"
      echo "$n ACCEPTED" >>"$WORK/attempts-$i"
    else
      echo "$n $(sed -n 's/.*"code":"\([A-Z_]*\)".*/\1/p' <<<"$out" | head -1)" >>"$WORK/attempts-$i"
    fi
  done
}
# wait_grew N: until each publisher has N more reports acknowledged than
# at the last mark (at most 60 s).
wait_grew() {
  for _ in $(seq 600); do each_grew "$1" && return; sleep 0.1; done
  tail -5 "$WORK"/attempts-*
  fail "not every publisher had $1 more reports acknowledged (now $(acked) in all)"
}

echo "== a durable subscriber, then reports under load ($BROKERS broker(s))"
PUBLISHERS=()
for i in $(seq "$BROKERS"); do
  touch "$WORK/acked-$i" "$WORK/attempts-$i"
  start_broker "$i"
done
run 0 subscribe "${ARGS_1[@]}" -n diran-bogota-hq -t 'intel.failover.>' --durable --idle-exit 300
for i in $(seq "$BROKERS"); do
  publisher "$i" &
  PUBLISHERS+=("$!")
  PIDS+=("$!")
done
wait_grew 20

echo "== kill -9 the primary (every process of it), promote the standby"
POSTMASTER=$(head -1 "$PRIMARY/data/postmaster.pid")
mark
kill -9 $(pgrep -P "$POSTMASTER") "$POSTMASTER"
"$SRC/scripts/pg-cluster.sh" promote "$STANDBY"

echo "== the brokers go on against the promoted server (each restarted if its store halted)"
for _ in $(seq 300); do
  each_grew 20 && break
  for i in $(seq "$BROKERS"); do
    if tail -3 "$WORK/attempts-$i" | grep -q " STORAGE_HALTED$" && ((RESTARTS[i] == 0)); then
      kill -TERM "${BROKER_PID[i]}" && wait "${BROKER_PID[i]}" || true
      RESTARTS[i]=1
      start_broker "$i"
    fi
  done
  sleep 0.1
done
wait_grew 20
touch "$WORK/stop"
wait "${PUBLISHERS[@]}"
for i in $(seq "$BROKERS"); do kill -TERM "${BROKER_PID[i]}" && wait "${BROKER_PID[i]}"; done

echo "== the checker"
psql -tA "$STANDBY_CONNINFO" -c "SELECT encode(report_id, 'hex') FROM reports ORDER BY writer_id, seq" >"$WORK/stored"
cat "$WORK"/acked-* >"$WORK/acked"
LOST=$(sort "$WORK/acked" | comm -23 - <(sort "$WORK/stored") | wc -l)
DUPLICATED=$(($(wc -l <"$WORK/stored") - $(sort -u "$WORK/stored" | wc -l)))
UNACKED=$(sort "$WORK/stored" | comm -13 <(sort "$WORK/acked") - | wc -l)
echo "acknowledged $(acked), stored $(wc -l <"$WORK/stored"), lost $LOST, duplicated $DUPLICATED," \
  "stored but not acknowledged $UNACKED, broker restarts $((RESTARTS[1] + RESTARTS[2]));" \
  "answers: $(cut -d' ' -f2 "$WORK"/attempts-* | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
((LOST == 0)) || fail "$LOST acknowledged reports lost"
((DUPLICATED == 0)) || fail "$DUPLICATED reports stored twice"
# A report stored but never acknowledged is one whose answer was lost with
# the primary (the COMMIT's outcome was unknown to its broker): at most one
# batch's worth per broker, here one report (each publisher waits for each
# answer).
((UNACKED <= BROKERS)) || fail "$UNACKED reports stored that nobody was told of"

if ((BROKERS == 2)); then
  echo "== each broker's audit log verifies on the promoted server, each holding what the other signed of it"
  run 0 audit verify --pg "$STANDBY_CONNINFO" --pki "$PKI"
  out_has "^tearline-broker: OK "
  out_has "^tearline-broker-2: OK "
  out_has "^OK [1-9][0-9]* signed heads entries: every log holds what the other brokers signed of it \(tearline-broker 1\.\.[0-9]+, tearline-broker-2 1\.\.[0-9]+\)$"
fi

echo "== the durable subscriber gets every stored report, once, each publisher's in order"
LAST=$BROKERS  # with two, read from the second broker: both streams
start_broker "$LAST"
ARGS_LAST=ARGS_$LAST[@]
run 0 subscribe "${!ARGS_LAST}" -n diran-bogota-hq -t 'intel.failover.>' --durable \
  --count "$(wc -l <"$WORK/stored")" --json
python3 - "$WORK/out" "$WORK/stored" "$WORK"/acked-* <<'PY' || fail "the durable subscriber's reports"
import json, sys
got = [json.loads(line)["report_id"] for line in open(sys.argv[1])]
stored = open(sys.argv[2]).read().split()
assert len(got) == len(set(got)), "a report delivered twice"
assert sorted(got) == sorted(stored), (len(got), len(stored))
for path in sys.argv[3:]:
    published = open(path).read().split()  # one publisher's, in publication order
    mine = set(published)
    assert [g for g in got if g in mine] == published, path + ": out of order"
if len(sys.argv) == 4:
    assert got == stored, "one broker: not in its seq order"
PY
echo "PASS"
