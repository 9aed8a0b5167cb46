#!/usr/bin/env bash
# Issue 17 step 2: a broker on PostgreSQL (storage.store = "postgresql"),
# black-box, against a private cluster (scripts/pg-cluster.sh). Reports
# published to it are stored there and reach a durable subscriber after the
# broker restarts; `tearline status` counts the store's bytes; `tearline
# audit verify|show|receipts --pg` read the store's audit log (one broker's
# chain, chosen with --writer when the store holds several; verify checks
# every one without it); the node's
# cursors in other brokers' streams are listed; a second broker of the same
# id on the same store is refused (one session per writer), and so is a bad
# connection string (exit 2) or a server that is not there, or that never
# answers (exit 1 at start, exit 3 for the CLI).
# Usage: pg_store_cli_test.sh PATH/TO/tearline PATH/TO/tearline-broker SOURCE_DIR
set -euo pipefail

TL=${1:?tearline}
BROKER=${2:?tearline-broker}
SRC=${3:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-pgcli.XXXXXX")
PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/tearline-pgcli-db.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null || true; done
  "$SRC/scripts/pg-cluster.sh" stop "$PGDIR" >/dev/null 2>&1 || true
  rm -rf "$WORK" "$PGDIR"
}
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"

CONNINFO=$("$SRC/scripts/pg-cluster.sh" start "$PGDIR")
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
EP=tcp://127.0.0.1:$(free_port)
"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/pki" >/dev/null
PKI=$WORK/pki
config() {  # config FILE ENDPOINT DATA_DIR CONNINFO
  cat >"$1" <<TOML
[broker]
endpoint = "$2"
key_file = "$PKI/keys/broker.key"
directory = "$PKI/directory"
policy = "$SRC/certs/policy.toml"
data_dir = "$3"
[storage]
store = "postgresql"
conninfo = "$4"
audit_checkpoint_entries = 1
audit_checkpoint_seconds = 1
TOML
}
# start_broker CONFIG LOG: waits for event=started.
start_broker() {
  "$BROKER" --config "$1" 2>"$2" &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  for _ in $(seq 100); do grep -q "event=started" "$2" && return; sleep 0.1; done
  cat "$2"
  fail "broker did not start"
}
stop_broker() { kill -TERM "$BROKER_PID" && wait "$BROKER_PID"; }
# broker_refuses CONFIG EXIT PATTERN: the broker exits EXIT with one stderr line matching PATTERN.
broker_refuses() {
  local rc=0
  timeout -k 5 30 "$BROKER" --config "$1" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [[ $rc -eq $2 ]] || { cat "$WORK/err"; fail "tearline-broker exited $rc, expected $2"; }
  one_err_line "^tearline-broker: " "$3"
}
A=(--pki "$PKI" -s "$EP")
publish() {
  run 0 publish "${A[@]}" -n dea-bogota-analyst -t "intel.pg.$1" --classification UNCLASSIFIED --rel COL,USA \
    --text "report $1"
}

echo "== a broker on PostgreSQL stores, and a durable subscriber gets the reports after a restart"
config "$WORK/broker.toml" "$EP" "$WORK/data" "$CONNINFO"
start_broker "$WORK/broker.toml" "$WORK/run1.log"
grep -q "event=store_recovered store=postgresql seq=0 " "$WORK/run1.log" || { cat "$WORK/run1.log"; fail "no store_recovered"; }
run 0 subscribe "${A[@]}" -n diran-bogota-hq -t 'intel.pg.>' --durable --idle-exit 300
publish 1
publish 2
publish 3
[[ ! -e $WORK/data/tearline.db ]] || fail "a broker on PostgreSQL made a SQLite store"
stop_broker
[[ $(psql -tA "$CONNINFO" -c "SELECT writer_id, broker_id, last_seq FROM writers") == "1|tearline-broker|3" ]] ||
  fail "the broker's writer is not registered by its id"
# The node's cursor in another broker's stream, as that broker writes it
# (docs/protocol.md 6.14): recovered, and listed with the node's cursor.
psql -q "$CONNINFO" -c "INSERT INTO writers(writer_id, broker_id) VALUES (2, 'tearline-broker-2');
  INSERT INTO cursors(node, writer_id, acked) VALUES ('diran-bogota-hq', 2, 7)"
start_broker "$WORK/broker.toml" "$WORK/run2.log"
grep -q "event=store_recovered store=postgresql seq=3 " "$WORK/run2.log" || { cat "$WORK/run2.log"; fail "did not recover 3"; }
run 0 subscribe "${A[@]}" -n diran-bogota-hq -t 'intel.pg.>' --durable --count 3 --raw
[[ $(cat "$WORK/out") == $'report 1\nreport 2\nreport 3' ]] || { cat "$WORK/out"; fail "the durable subscriber's reports"; }
run 0 subscriptions "${A[@]}" -n diran-bogota-hq --json
python3 - "$WORK/out" <<'PY' || fail "subscriptions: the cursors by stream"
import json, sys
listed = json.load(open(sys.argv[1]))
assert listed["acked_seq"] == "3" and listed["streams"] == [{"writer": "tearline-broker-2", "acked_seq": "7"}], listed
PY
run 0 subscriptions "${A[@]}" -n diran-bogota-hq
out_has "^          in tearline-broker-2's stream, up to seq 7$"
run 0 status "${A[@]}" -n diran-cucuta-commander --json
python3 - "$WORK/out" <<'PY' || fail "status: store_bytes"
import json, sys
status = json.load(open(sys.argv[1]))
assert int(status["store_bytes"]) > 8192, status
PY

echo "== one session per writer: a second broker of the same id on the same store is refused, naming the session"
config "$WORK/second.toml" "tcp://127.0.0.1:$(free_port)" "$WORK/data2" "$CONNINFO"
broker_refuses "$WORK/second.toml" 1 \
  "cannot start: STORAGE_FAILED: writer 1 of the PostgreSQL store is held by the session of server pid [0-9]+ .*: another broker with the same id writes this store; "
publish 4
stop_broker

echo "== audit verify|show|receipts --pg read the store's log: one broker's chain, chosen with --writer"
# The store holds two writers (tearline-broker-2's row above): each keeps its
# own chain, so show and receipts ask which one; verify checks every one (an
# empty log needs no key), and refuses one broker's --key or --anchor then.
W=(--writer tearline-broker)
run 2 audit show --pg "$CONNINFO"
one_err_line "^tearline: audit show: INVALID_FIELD: the PostgreSQL store holds the audit logs of several brokers \(tearline-broker, tearline-broker-2\): name one with --writer$"
run 0 audit verify --pg "$CONNINFO" --pki "$PKI"
out_has "^tearline-broker: OK [0-9]+ entries, [0-9]+ signed checkpoints; "
out_has "^tearline-broker-2: OK 0 entries, 0 signed checkpoints; "
out_has "^OK 0 signed heads entries: every log holds what the other brokers signed of it$"
run 2 audit verify --pg "$CONNINFO" --pki "$PKI" --anchor "$WORK/data/audit.anchor"
one_err_line "^tearline: audit verify: --anchor is one broker's anchor: the PostgreSQL store holds the audit logs of several brokers \(tearline-broker, tearline-broker-2\); name it with --writer$"
run 2 audit show --pg "$CONNINFO" --writer nobody
one_err_line "^tearline: audit show: INVALID_FIELD: no broker nobody writes an audit log in the PostgreSQL store \(it holds tearline-broker, tearline-broker-2\)$"
run 2 audit verify --pg "$CONNINFO" --writer tearline-broker-2 --pki "$PKI"
one_err_line "^tearline: audit verify: --writer tearline-broker-2: no broker credential of that id in .*/directory; give its audit key with --key$"
run 0 audit verify --pg "$CONNINFO" "${W[@]}" --pki "$PKI" --anchor "$WORK/data/audit.anchor"
out_has '^OK '
run 0 audit show --pg "$CONNINFO" "${W[@]}" --event publish --decision accepted --json
[[ $(wc -l <"$WORK/out") -eq 4 ]] || { cat "$WORK/out"; fail "audit show: 4 accepted publishes"; }
run 0 audit show --pg "$CONNINFO" "${W[@]}" --node diran-bogota-hq --limit 1
[[ $(wc -l <"$WORK/out") -eq 1 ]] || { cat "$WORK/out"; fail "audit show --limit 1"; }
REPORT=$(sed -n 's/.*"report":"\([0-9a-f]*\)".*/\1/p' <("$TL" audit show --pg "$CONNINFO" "${W[@]}" --event publish --json) | head -1)
run 0 audit receipts --pg "$CONNINFO" "${W[@]}" --report "${REPORT:0:10}" --pki "$PKI"
out_has "^diran-bogota-hq received report $REPORT seq 1, sections \[1\]$"
run 2 audit show --db "$WORK/x.db" --pg "$CONNINFO"
one_err_line "--db excludes --pg|--pg excludes --db"
run 2 audit show
one_err_line "^tearline: audit show: give the broker's store: --db DATA_DIR/tearline.db \(SQLite\) or --pg CONNINFO \(PostgreSQL\)$"
run 2 audit verify --pg "host=$PGDIR port=5432 dbname" --pki "$PKI"
one_err_line "^tearline: audit verify: INVALID_FIELD: the PostgreSQL connection string does not parse: "
run 2 audit verify --pg "postgresql://tearline:50%off@localhost/tearline" --pki "$PKI"
one_err_line "^tearline: audit verify: INVALID_FIELD: the PostgreSQL connection string does not parse: "
! grep -q "50%off" "$WORK/err" || fail "a password in a URI that does not parse was printed"
run 3 audit verify --pg "host=$WORK/nobody port=5432 dbname=tearline password=hunter2" --pki "$PKI"
one_err_line "^tearline: audit verify: UNAVAILABLE: cannot connect to the PostgreSQL store: "
! grep -q hunter2 "$WORK/err" || fail "the password was printed"

echo "== a tampered row is found; a store cut short of the anchor is refused at start"
psql -q "$CONNINFO" -c "UPDATE audit SET detail = detail || ' (edited)' WHERE idx = 2"
run 1 audit verify --pg "$CONNINFO" "${W[@]}" --pki "$PKI"
out_has "TAMPERED"
psql -q "$CONNINFO" -c "DELETE FROM audit WHERE idx >= 2; DELETE FROM audit_checkpoints WHERE idx >= 2"
broker_refuses "$WORK/broker.toml" 4 "cannot start: STORAGE_TRUNCATED: truncated: the store ends at entry 1, "

echo "== bad configuration: a connection string that does not parse (exit 2); no server there (exit 1)"
config "$WORK/bad.toml" "$EP" "$WORK/data3" "host=$PGDIR dbname"
broker_refuses "$WORK/bad.toml" 2 "INVALID_FIELD: .*storage.conninfo: the PostgreSQL connection string does not parse: "
config "$WORK/none.toml" "$EP" "$WORK/data4" "host=$WORK/nobody port=5432 dbname=tearline password=hunter2"
broker_refuses "$WORK/none.toml" 1 "cannot start: STORAGE_FAILED: cannot open the PostgreSQL store: "
! grep -q hunter2 "$WORK/err" || fail "the password was printed"

echo "== a server that accepts and never answers is given up on after connect_timeout (5 s by default)"
# (audit/pg_conninfo.h; without the default libpq waits for ever, and
# broker_refuses' and run's own timeouts, 30 s and 20 s, fail the test.)
mkdir "$WORK/silent"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(16)
held = []
while True:
    held.append(s.accept()[0])
' "$WORK/silent/.s.PGSQL.5432" &
PIDS+=("$!")
for _ in $(seq 50); do [[ -S $WORK/silent/.s.PGSQL.5432 ]] && break; sleep 0.1; done
config "$WORK/silent.toml" "$EP" "$WORK/data5" "host=$WORK/silent dbname=tearline"
started=$SECONDS
broker_refuses "$WORK/silent.toml" 1 "cannot start: STORAGE_FAILED: cannot open the PostgreSQL store: .*timeout expired"
run 3 audit verify --pg "host=$WORK/silent dbname=tearline" --pki "$PKI"
one_err_line "^tearline: audit verify: UNAVAILABLE: cannot connect to the PostgreSQL store: .*timeout expired"
(( SECONDS - started < 25 )) || fail "giving up on a silent server took $((SECONDS - started)) s"

echo "== tearline demo --pg: the Cucuta story with the broker's store in PostgreSQL; a used database is refused"
psql -q "$CONNINFO" -c "CREATE DATABASE demo"
DEMO_DB="host=$PGDIR port=5432 user=postgres dbname=demo"
rc=0
timeout 120 "$TL" demo --pki "$PKI" --policy "$SRC/certs/policy.toml" --pg "$DEMO_DB" >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$WORK/out" "$WORK/err"; fail "tearline demo --pg exited $rc"; }
grep -q "listening on tcp://.*, its store in PostgreSQL$" "$WORK/err" || { cat "$WORK/err"; fail "no PostgreSQL note"; }
out_has "^Every node got exactly what the policy says"
cp "$WORK/out" "$WORK/demo1.out"
[[ $(psql -tA "$DEMO_DB" -c "SELECT count(*) FROM reports") -eq 6 ]] || fail "the demo's 6 reports are not in PostgreSQL"
run 1 demo --pki "$PKI" --policy "$SRC/certs/policy.toml" --pg "$DEMO_DB"
one_err_line "the database of --pg already holds a tearline store: give the demo an empty database"

echo "== tearline demo --topology cluster: DEA's nodes on a second broker sharing the store; the same table"
psql -q "$CONNINFO" -c "CREATE DATABASE cluster"
CLUSTER_DB="host=$PGDIR port=5432 user=postgres dbname=cluster"
rc=0
timeout 120 "$TL" demo --topology cluster --pki "$PKI" --policy "$SRC/certs/policy.toml" --pg "$CLUSTER_DB" \
  >"$WORK/out2" 2>"$WORK/err2" || rc=$?
[[ $rc -eq 0 ]] || { cat "$WORK/out2" "$WORK/err2"; fail "tearline demo --topology cluster exited $rc"; }
grep -q "^tearline demo: two brokers sharing one store (tcp://.*as tearline-broker-dea, for DEA's nodes)" \
  "$WORK/out2" || fail "the table does not say there are two brokers"
grep -q "as tearline-broker-dea (DEA's) listening on tcp://.*, the same store$" "$WORK/err2" ||
  { cat "$WORK/err2"; fail "no second broker"; }
# The routing table is the federation's, line for line (the lines that
# name times, ids and the run's own events aside).
strip() { grep -Ev '^(--|demo:|tearline demo:)|^    path |REJECTED ORCON_VIOLATION|revokes|[0-9a-f]{8}' "$1"; }
diff <(strip "$WORK/demo1.out") <(strip "$WORK/out2") || fail "the two-broker table differs from the federation's table"
[[ $(psql -tA "$CLUSTER_DB" -c "SELECT count(DISTINCT writer_id) FROM reports") -eq 2 ]] ||
  fail "the reports are not from both brokers"
run 2 demo --topology cluster --pki "$PKI" --policy "$SRC/certs/policy.toml"
one_err_line "--topology cluster runs two brokers on one store, which needs PostgreSQL: give --pg CONNINFO"
echo "PASS"
