#!/usr/bin/env bash
# Black-box test of `tearline inject`: the shipped scenarios (tests/scenarios/)
# pass against a real broker on a fresh demo PKI; a scenario with wrong
# expectations exits 1 and prints each mismatch; a malformed scenario exits 2
# with one line naming its line; an unreachable broker exits 3.
# Usage: inject_scenarios_test.sh PATH/TO/tearline PATH/TO/tearline-broker SOURCE_DIR
set -euo pipefail

TL=${1:?tearline}
BROKER=${2:?tearline-broker}
SRC=${3:?source dir}
SCENARIOS=$SRC/tests/scenarios
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-inject.XXXXXX")
PID=
cleanup() { [[ -n $PID ]] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/pki" >/dev/null
cat >"$WORK/broker.toml" <<TOML
[broker]
endpoint = "tcp://127.0.0.1:*"
key_file = "$WORK/pki/keys/broker.key"
directory = "$WORK/pki/directory"
policy = "$SRC/certs/policy.toml"
data_dir = "$WORK/data"
TOML
"$BROKER" --config "$WORK/broker.toml" 2>"$WORK/log" &
PID=$!
for _ in $(seq 50); do grep -q "event=started" "$WORK/log" && break; sleep 0.1; done
ENDPOINT=$(sed -n 's/.*event=started endpoint=\(tcp:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$WORK/log" | head -1)
[[ -n $ENDPOINT ]] || { cat "$WORK/log"; fail "broker did not log its endpoint"; }

# inject EXPECTED_RC ARGS...: runs inject (bounded by `timeout`), output in $WORK/out and $WORK/err.
inject() {
  local want=$1 rc=0
  shift
  timeout 120 "$TL" inject --pki "$WORK/pki" --broker "$ENDPOINT" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  if [[ $rc -ne $want ]]; then
    cat "$WORK/out" "$WORK/err"
    fail "inject $* exited $rc, expected $want"
  fi
}
expect_out() { grep -qF -- "$1" "$WORK/out" || { cat "$WORK/out"; fail "output lacks: $1"; }; }
expect_one_error_line() {  # PATTERN: exactly one line on stderr, matching it; nothing on stdout
  [[ $(wc -l <"$WORK/err") -eq 1 ]] || { cat "$WORK/err"; fail "expected exactly one line on stderr"; }
  grep -qE -- "$1" "$WORK/err" || { cat "$WORK/err"; fail "stderr lacks /$1/"; }
  [[ ! -s $WORK/out ]] || { cat "$WORK/out"; fail "expected nothing on stdout"; }
}

# The scenarios that leave the PKI as it is: every case matches.
inject 0 "$SCENARIOS/valid.toml"
[[ $(tail -1 "$WORK/out") == "10 passed, 0 failed" ]] || { cat "$WORK/out"; fail "valid.toml: wrong summary"; }
inject 0 "$SCENARIOS/faults.toml"
[[ $(tail -1 "$WORK/out") == "34 passed, 0 failed" ]] || { cat "$WORK/out"; fail "faults.toml: wrong summary"; }
inject 0 --json "$SCENARIOS/faults.toml"
expect_out '"failed":0'
grep -qE '"name":"forged-signature","report_id":"[0-9a-f]{32}","expected":"REPORT_SIGNATURE","got":"REPORT_SIGNATURE"' \
  "$WORK/out" || { cat "$WORK/out"; fail "inject --json: the forged-signature case"; }
# The ACK faults (delivery receipts): each refused RECEIPT_INVALID, its session closed, the broker still serving.
for ack in ack-forged-receipt ack-receipt-other-broker ack-signed-by-hq; do
  grep -qE "\"name\":\"$ack\",\"report_id\":\"[0-9a-f]{32}\",\"expected\":\"RECEIPT_INVALID\",\"got\":\"RECEIPT_INVALID\"" \
    "$WORK/out" || { cat "$WORK/out"; fail "inject --json: $ack"; }
done

# Wrong expectations: exit 1, each mismatch printed.
inject 1 "$SCENARIOS/broken/mismatch.toml"
expect_out "MISMATCH in case 'wrong-verdict':"
expect_out "expected accepted, got REPORT_SIGNATURE"
expect_out "MISMATCH in case 'wrong-deliveries':"
expect_out "delivery: fgr-liaison: expected nothing, got 'wrong-deliveries': opened [1]"
[[ $(tail -1 "$WORK/out") == "1 passed, 2 failed" ]] || { cat "$WORK/out"; fail "mismatch.toml: wrong summary"; }

# Bad scenario files: exit 2, one line with the TOML line, before connecting.
inject 2 "$SCENARIOS/broken/malformed.toml"
expect_one_error_line "malformed\.toml line 10: case 'misspelled-fault': unknown fault 'bad_sig'"
printf '[[case]]\nname = "x"\nas = "diran-bogota-hq"\nexpect = "accepted"\ntopic = [\n' >"$WORK/syntax.toml"
inject 2 "$WORK/syntax.toml"
expect_one_error_line "syntax\.toml line [0-9]+: not valid TOML"
printf '[[case]]\nname = "x"\nas = "diran-bogota-hq"\nexpect = "SOMETIMES"\nfault = "garbage_frame"\n' >"$WORK/code.toml"
inject 2 "$WORK/code.toml"
expect_one_error_line "code\.toml line 4: case 'x': expect 'SOMETIMES' is neither"

# An unreachable broker: exit 3, one line.
rc=0
timeout 60 "$TL" inject --pki "$WORK/pki" --broker tcp://127.0.0.1:1 --timeout 300 "$SCENARIOS/valid.toml" \
  >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc -eq 3 ]] || { cat "$WORK/out" "$WORK/err"; fail "unreachable broker: exit $rc, expected 3"; }
expect_one_error_line "not reachable"

# Last, as it revokes nodes in the PKI.
inject 0 "$SCENARIOS/state.toml"
[[ $(tail -1 "$WORK/out") == "6 passed, 0 failed" ]] || { cat "$WORK/out"; fail "state.toml: wrong summary"; }

kill -0 "$PID" || fail "the broker died"
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
[[ $rc -eq 0 ]] || { tail -20 "$WORK/log"; fail "broker exited $rc on SIGTERM"; }

# The boundary of a peering (tests/scenarios/boundary.toml), on a PKI of its
# own: DEA a partner agency with its own broker (dea-broker), and peering
# diran-dea, signed by both authorities, carrying intel.> up to CONFIDENTIAL,
# releasable to USA, from DIRAN to DEA. Marking DEA a partner stands in for
# DIRAN's `certs import` of DEA's folder (one machine plays both agencies).
B=$WORK/boundary
"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$B/pki" >/dev/null
"$TL" certs broker --pki "$B/pki" --agency DEA --id dea-broker --additional >/dev/null
"$TL" certs peering create --pki "$B/pki" --id diran-dea --first DIRAN --first-broker tearline-broker \
  --second DEA --second-broker dea-broker --first-to-second-topic 'intel.>' --first-to-second-ceiling CONFIDENTIAL \
  --first-to-second-releasable USA --second-to-first-topic 'intel.>' --second-to-first-ceiling CONFIDENTIAL \
  --second-to-first-releasable COL >/dev/null
for agency in DIRAN DEA; do
  "$TL" certs peering cosign --pki "$B/pki" --id diran-dea --version 1 --agency "$agency" >/dev/null
done
sed -i '/agency = "DEA"/,/verify_key/ s/^verify_key = .*/&\npartner = true/' "$B/pki/directory/trust.toml"
sed -e "s|$WORK/pki|$B/pki|g" -e "s|$WORK/data|$B/data|" "$WORK/broker.toml" >"$B/broker.toml"
# The broker pulls from dea-broker, which the runner plays (--serve) at a
# free port, to send it copies as DEA's broker.
SERVE_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '\n[[peer]]\nbroker = "dea-broker"\nendpoint = "tcp://127.0.0.1:%s"\n' "$SERVE_PORT" >>"$B/broker.toml"
"$BROKER" --config "$B/broker.toml" 2>"$B/log" &
PID=$!
for _ in $(seq 50); do grep -q "event=started" "$B/log" && break; sleep 0.1; done
ENDPOINT=$(sed -n 's/.*event=started endpoint=\(tcp:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$B/log" | head -1)
[[ -n $ENDPOINT ]] || { cat "$B/log"; fail "the boundary broker did not log its endpoint"; }
rc=0
timeout 120 "$TL" inject --pki "$B/pki" --broker "$ENDPOINT" --serve "dea-broker=tcp://127.0.0.1:$SERVE_PORT" \
  "$SCENARIOS/boundary.toml" >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$WORK/out" "$WORK/err"; fail "boundary.toml exited $rc"; }
[[ $(tail -1 "$WORK/out") == "15 passed, 0 failed" ]] || { cat "$WORK/out"; fail "boundary.toml: wrong summary"; }
# The broker's log says why the one-sided v2 took no effect.
grep -q 'event=peering_not_used reason="peering diran-dea: v1 is in effect; another version is not: PEERING_WIDENED' "$B/log" ||
  { grep peering "$B/log"; fail "the broker did not say why the one-sided version took no effect"; }
# `tearline status`: the link to dea-broker (closed by the revocation), the
# two copies taken from it and the three refused.
"$TL" status --pki "$B/pki" --broker "$ENDPOINT" -n diran-cucuta-commander >"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "status"; }
grep -q "^peers:      0 of 1 links receiving; 2 copies taken, 3 refused$" "$WORK/out" ||
  { cat "$WORK/out"; fail "status does not count the link and the copies from dea-broker"; }
# The broker's audit log says why each section was torn off at the boundary.
kill -TERM "$PID"
wait "$PID" || fail "the boundary broker did not stop cleanly"
PID=
"$TL" audit show --db "$B/data/tearline.db" --node dea-broker >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err"; fail "audit show"; }
grep -q "dea-broker withheld section 1: ABOVE_PEERING_CEILING" "$WORK/out" || { cat "$WORK/out"; fail "no ABOVE_PEERING_CEILING in the audit"; }
grep -q "dea-broker withheld section 1: COUNTRY_NOT_RELEASABLE: not releasable to USA, which peering diran-dea v1 requires towards DEA" \
  "$WORK/out" || { cat "$WORK/out"; fail "no COUNTRY_NOT_RELEASABLE towards DEA in the audit"; }
grep -q "subscribe  *refused.*PEERING_TOPIC: pattern unit.> is not within the topics peering diran-dea" "$WORK/out" ||
  { cat "$WORK/out"; fail "the partner's refused SUBSCRIBE is not in the audit log"; }
grep -q "SESSION_REVOKED: FOREIGN_NODE: dea-broker belongs to partner agency DEA" "$WORK/out" ||
  { cat "$WORK/out"; fail "the revoked peering's link was not closed in the audit"; }
# The copies the runner sent as dea-broker: the forged and the replayed hop
# stamps and the loop refused, each with its reasons; the copy sent again
# after the cut recognised as a duplicate.
[[ $(grep -c "crossing  *refused .*RECEIPT_INVALID: acceptance receipt" "$WORK/out") -eq 2 ]] ||
  { cat "$WORK/out"; fail "the forged and replayed hop stamps are not refused in the audit"; }
grep -q "crossing  *refused .*CROSSING_LOOP" "$WORK/out" || { cat "$WORK/out"; fail "the loop is not refused in the audit"; }
[[ $(grep -c "crossing  *duplicate" "$WORK/out") -eq 1 ]] ||
  { cat "$WORK/out"; fail "the copy sent again after the cut is not one duplicate in the audit"; }
echo "inject_scenarios: all checks passed"
