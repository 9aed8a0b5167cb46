#!/usr/bin/env bash
# Black-box test of `tearline audit show` and `audit verify` on a database
# file, and of `tearline explain --json`, no broker needed: receipt_fixture
# writes the audit log (and appends to it while `audit show --follow` reads)
# with the lib/audit calls the broker uses.
# Usage: audit_cli_test.sh PATH/TO/tearline PATH/TO/receipt_fixture SOURCE_DIR
set -euo pipefail

TL=${1:?tearline}
FIX=${2:?receipt_fixture}
SRC=${3:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-audit-cli.XXXXXX")
FOLLOWER=
trap '[[ -z $FOLLOWER ]] || kill "$FOLLOWER" 2>/dev/null; rm -rf "$WORK"' EXIT
source "$(dirname "$0")/lib.sh"
err_line() { one_err_line "$@"; no_out; }
lines() { wc -l <"$WORK/out"; }
expect_lines() { [[ $(lines) -eq $1 ]] || { cat "$WORK/out"; fail "expected $1 lines, got $(lines)"; }; }

"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/pki" >/dev/null
PKI=$WORK/pki
DB=$WORK/tearline.db
NOW_MS=$(date +%s%3N)
"$FIX" report "$PKI" diran-cucuta-commander "$NOW_MS" "$WORK/r1.report"
# entries 1-2 (now): publish accepted, a delivery receipt; a signed checkpoint
"$FIX" audit-db "$PKI" tearline-broker "$DB" "$WORK/r1.report" 7 dea-bogota-analyst
# entries 3-5, older: 3 days, 2 hours and 10 minutes ago
"$FIX" audit-append "$DB" $((NOW_MS - 3 * 86400000)) session fgr-liaison admitted "three days ago"
"$FIX" audit-append "$DB" $((NOW_MS - 2 * 3600000)) delivery fgr-liaison delivered "two hours ago"
"$FIX" audit-append "$DB" $((NOW_MS - 10 * 60000)) publish fgr-liaison rejected "ten minutes ago"

echo "== audit show: every entry, filters"
run 0 audit show --db "$DB"
expect_lines 5
out_has '^ +1 .* publish +accepted +diran-cucuta-commander '
out_has '^ +5 .* publish +rejected +fgr-liaison +- +ten minutes ago$'
run 0 audit show --db "$DB" --decision rejected
expect_lines 1
run 0 audit show --db "$DB" --event publish --node fgr-liaison
expect_lines 1

echo "== --decision and --event take only what the broker records (exit 2, the list)"
run 2 audit show --db "$DB" --decision rejectd
err_line "^tearline: audit show: --decision 'rejectd' is not one the broker records; give one of: accepted, admitted, closed, covered, damaged, delivered, duplicate, failed, lost, ok, received, refused, rejected, routed, stepped, stopped, taken, withheld$"
run 2 audit show --db "$DB" --event publsh
err_line "^tearline: audit show: --event 'publsh' is not one the broker records; give one of: broker, clock, connection, "

# a value a newer broker writes is accepted once the log holds it, and listed
"$FIX" audit-append "$WORK/newer.db" "$NOW_MS" subscription fgr-liaison unsubscribed "ops.>"
run 0 audit show --db "$WORK/newer.db" --event subscription --decision unsubscribed
expect_lines 1
run 2 audit show --db "$WORK/newer.db" --decision subscribd
err_line "^tearline: audit show: --decision 'subscribd' is not one .*: accepted, .*stopped, taken, unsubscribed, withheld$"
run 2 audit show --db "$WORK/none.db" --decision subscribd
err_line '^tearline: audit show: IO_ERROR: no audit database at '

echo "== --since/--until: ISO-8601, a date, a time ago, unix ms"
run 0 audit show --db "$DB" --since 1h
expect_lines 3
out_has 'ten minutes ago$'
run 0 audit show --db "$DB" --since 3h --until 5m
expect_lines 2
out_has 'two hours ago$'
run 0 audit show --db "$DB" --since "$(date -u -d "@$(((NOW_MS / 1000) - 86400))" +%Y-%m-%dT%H:%M:%SZ)"
expect_lines 4
run 0 audit show --db "$DB" --until "$(date -u -d "@$(((NOW_MS / 1000) - 2 * 86400))" +%Y-%m-%d)"
expect_lines 1
out_has 'three days ago$'
run 0 audit show --db "$DB" --since 2d --until "$((NOW_MS + 60000))"
expect_lines 4
for bad in yesterday 10x -5m 2026-13-01 2026-12-06T10:00:00 ""; do
  run 2 audit show --db "$DB" --since "$bad"
  err_line "^tearline: audit show: --since '$bad' is not a time: give 2026-12-06T10:00:00Z, a date 2026-12-06, a time ago \\(30s, 10m, 2h, 3d\\) or unix milliseconds$"
done
run 2 audit show --db "$DB" --since 1h --until 2h
err_line '^tearline: audit show: --since .*Z is after --until .*Z$'

echo "== --limit: the last N matching"
run 0 audit show --db "$DB" --limit 2
expect_lines 2
out_has '^ +4 '
out_has '^ +5 '
run 0 audit show --db "$DB" --event publish --limit 1
expect_lines 1
out_has '^ +5 '
run 2 audit show --db "$DB" --limit 0
err_line "^tearline: audit show: --limit '0' must be a number from 1 to "

echo "== --json: one object per entry"
run 0 audit show --db "$DB" --limit 1 --json
no_err
expect_lines 1
out_has '^\{"index":"5","time_ms":"[0-9]+","time":"[0-9T:.-]+Z","event":"publish","node":"fgr-liaison","report":"","decision":"rejected","detail":"ten minutes ago","hash":"[0-9a-f]{64}"\}$'

echo "== --follow prints entries as they are appended"
run 2 audit show --db "$DB" --idle-exit 100
err_line '^tearline: audit show: --idle-exit goes with --follow$'
timeout 20 "$TL" audit show --db "$DB" --event publish --follow --idle-exit 1500 --json >"$WORK/follow.out" 2>"$WORK/follow.err" &
FOLLOWER=$!
sleep 0.4
"$FIX" audit-append "$DB" "$(date +%s%3N)" publish dea-cucuta-agent accepted "appended first"
"$FIX" audit-append "$DB" "$(date +%s%3N)" session dea-cucuta-agent admitted "not a publish"
sleep 0.4
"$FIX" audit-append "$DB" "$(date +%s%3N)" publish dea-cucuta-agent rejected "appended second"
rc=0
wait "$FOLLOWER" || rc=$?
FOLLOWER=
[[ $rc -eq 0 ]] || { cat "$WORK/follow.err"; fail "audit show --follow --idle-exit exited $rc"; }
[[ ! -s $WORK/follow.err ]] || { cat "$WORK/follow.err"; fail "audit show --follow wrote to stderr"; }
[[ $(wc -l <"$WORK/follow.out") -eq 4 ]] || { cat "$WORK/follow.out"; fail "--follow did not print 2 + 2 entries"; }
sed -n 3p "$WORK/follow.out" | grep -q '"index":"6",.*"detail":"appended first"' || fail "first appended entry missing"
sed -n 4p "$WORK/follow.out" | grep -q '"index":"8",.*"detail":"appended second"' || fail "second appended entry missing"
# SIGTERM ends a follow without --idle-exit, exit 0
timeout 20 "$TL" audit show --db "$DB" --follow --limit 1 >"$WORK/follow.out" 2>&1 &
FOLLOWER=$!
sleep 0.3
"$FIX" audit-append "$DB" "$(date +%s%3N)" reload "" ok "appended third"
sleep 0.5
kill -TERM "$FOLLOWER"
rc=0
wait "$FOLLOWER" || rc=$?
FOLLOWER=
[[ $rc -eq 0 ]] || { cat "$WORK/follow.out"; fail "audit show --follow exited $rc on SIGTERM"; }
[[ $(wc -l <"$WORK/follow.out") -eq 2 ]] || { cat "$WORK/follow.out"; fail "--follow --limit 1 printed other than 1 + 1"; }
grep -q '^ *9 .* reload .*appended third$' "$WORK/follow.out" || { cat "$WORK/follow.out"; fail "appended entry not followed"; }

echo "== audit verify --json"
run 0 audit verify --db "$DB" --pki "$PKI" --json
no_err
out_has '^\{"verdict":"OK","tamper":"","at_index":"0","message":"","entries":"9","checkpoints":"1","protected_up_to":"2","receipts_checked":true,"receipts":"1","invalid_receipts":\[\],"anchor_index":"0","anchor_message":"","writer":""\}$'
"$FIX" audit-db "$PKI" tearline-broker "$WORK/forged.db" "$WORK/r1.report" 7 forged:dea-bogota-analyst
run 1 audit verify --db "$WORK/forged.db" --pki "$PKI" --json
out_has '"verdict":"OK".*"receipts":"1","invalid_receipts":\[\{"audit_index":"2","node":"dea-bogota-analyst","verification":"invalid: RECEIPT_INVALID '
sqlite3 "$DB" "UPDATE audit SET detail = 'edited' WHERE idx = 1"
run 1 audit verify --db "$DB" --pki "$PKI" --json
out_has '^\{"verdict":"TAMPERED","tamper":"modified","at_index":"1",'
run 1 audit verify --db "$DB" --pki "$PKI"
out_has '^TAMPERED modified at entry 1: '
run 2 audit verify --db "$WORK/none.db" --pki "$PKI" --json
one_err_line '^\{"code":"IO_ERROR","exit":2,"message":"audit verify: IO_ERROR: no audit database at '

echo "== explain --json"
run 0 explain "$WORK/r1.report" --pki "$PKI" --node fgr-liaison --json
no_err
expect_lines 1
out_has '^\{"verdict":"VERIFIED","code":"","reasons":\[\],"report_id":"[0-9a-f]{32}","originator":"diran-cucuta-commander","agency":"DIRAN","country":"COL","topic":"intel.receipts",'
out_has '"sections":\[\{"index":1,"present":true,"label":\{"classification":"UNCLASSIFIED","releasable_to":\["COL","MEX","USA"\],"units":\[\],"orcon":false\},'
out_has '"nodes":\[\{"node":"fgr-liaison","decision":"may read","sealed_to":true,"grounds":\["credential valid","clearance CONFIDENTIAL \\u003e= UNCLASSIFIED","country MEX in releasable-to COL,MEX,USA"\],"reasons":\[\]\}\]'
"$TL" certs revoke --pki "$PKI" --node fgr-liaison --reason compromised --compromised-at 2020-01-01T00:00:00Z >/dev/null
run 0 explain "$WORK/r1.report" --pki "$PKI" --node fgr-liaison --json
out_has '"node":"fgr-liaison","decision":"may not read","sealed_to":true,"grounds":\[\],"reasons":\[\{"code":[0-9]+,"name":"REVOKED"'
cp "$WORK/r1.report" "$WORK/bad.report"
flip_byte "$WORK/bad.report" -1
run 1 explain "$WORK/bad.report" --pki "$PKI" --json
out_has '^\{"verdict":"NOT_VERIFIED","code":"[A-Z_]+","reasons":\[\{"code":[0-9]+,"name":"[A-Z_]+","message":".*"\}'

echo "== help"
for sub in "audit show" "audit verify" explain; do
  # shellcheck disable=SC2086
  run 0 $sub --help
  out_has '--json'
done

echo "PASS"
