#!/usr/bin/env bash
# Black-box test of the receipt commands on files, no broker needed:
# `tearline receipt verify` (a saved report and its acceptance receipt, the
# revocation rule at the receipt's time), `tearline audit receipts` and
# `tearline audit verify --pki` (delivery receipts kept in an audit log).
# The receipts and the audit log are written by receipt_fixture with the
# lib/ calls the broker and the client library use.
# Usage: receipt_cli_test.sh PATH/TO/tearline PATH/TO/receipt_fixture SOURCE_DIR
set -euo pipefail

TL=${1:?tearline}
FIX=${2:?receipt_fixture}
SRC=${3:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-receipt-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
source "$(dirname "$0")/lib.sh"
err_line() { one_err_line "$@"; no_out; }

"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/pki" >/dev/null
PKI=$WORK/pki
BROKER_ID=tearline-broker
NOW_MS=$(($(date +%s) * 1000))
ACCEPTED_MS=$((NOW_MS + 1000))
"$FIX" report "$PKI" diran-cucuta-commander "$NOW_MS" "$WORK/r1.report"
"$FIX" report "$PKI" diran-cucuta-commander "$((NOW_MS + 1))" "$WORK/r2.report"
"$FIX" accept "$PKI" "$BROKER_ID" "$WORK/r1.report" 7 "$ACCEPTED_MS" "$WORK/r1.report.receipt"

echo "== receipt verify: a valid receipt"
run 0 receipt verify --report "$WORK/r1.report" --pki "$PKI"
out_has '^VALID report=[0-9a-f]{32} originator=diran-cucuta-commander$'
out_has '^  receipt:  verifies$'
out_has "^  broker:   $BROKER_ID$"
out_has '^  seq:      7$'
out_has '^  accepted: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z '
no_err
R1=$(sed -n 's/^VALID report=\([0-9a-f]*\) .*/\1/p' "$WORK/out")
run 0 receipt verify --report "$WORK/r1.report" --receipt "$WORK/r1.report.receipt" --directory "$PKI/directory" --json
out_has '"verdict":"VALID"'
out_has "\"report_id\":\"$R1\""
out_has "\"broker_id\":\"$BROKER_ID\",\"broker_seq\":\"7\",\"accepted_ms\":\"$ACCEPTED_MS\""
out_has '"receipt_valid":true'

echo "== receipt verify: refused receipts (exit 1, RECEIPT_INVALID)"
cp "$WORK/r1.report.receipt" "$WORK/tampered.receipt"
flip_byte "$WORK/tampered.receipt" -1  # the signature's last byte
run 1 receipt verify --report "$WORK/r1.report" --receipt "$WORK/tampered.receipt" --pki "$PKI"
out_has '^REFUSED RECEIPT_INVALID report='
out_has '^  RECEIPT_INVALID: '
out_has '^  receipt:  does NOT verify$'
run 1 receipt verify --report "$WORK/r2.report" --receipt "$WORK/r1.report.receipt" --pki "$PKI"
out_has '^REFUSED RECEIPT_INVALID '
run 1 receipt verify --report "$WORK/r2.report" --receipt "$WORK/r1.report.receipt" --pki "$PKI" --json
out_has '"verdict":"REFUSED","code":"RECEIPT_INVALID"'
out_has '"receipt_valid":false'
"$FIX" accept "$PKI" other-broker "$WORK/r1.report" 7 "$ACCEPTED_MS" "$WORK/other.receipt"
run 1 receipt verify --report "$WORK/r1.report" --receipt "$WORK/other.receipt" --pki "$PKI"
out_has '^REFUSED RECEIPT_INVALID '

echo "== receipt verify: bad input (exit 2, one line)"
run 2 receipt verify --report "$WORK/r2.report" --pki "$PKI"
err_line '^tearline: receipt verify: --receipt .*IO_ERROR.*r2\.report\.receipt'
run 2 receipt verify --report "$WORK/none.report" --pki "$PKI"
err_line '^tearline: receipt verify: --report: IO_ERROR'
run 2 receipt verify --report "$WORK/r1.report.receipt" --receipt "$WORK/r1.report.receipt" --pki "$PKI"
err_line '^tearline: receipt verify: --report .* is not a report'
run 2 receipt verify --report "$WORK/r1.report" --pki "$WORK/nowhere"
err_line 'IO_ERROR'

echo "== audit receipts and audit verify --pki on a log of delivery receipts"
"$FIX" audit-db "$PKI" "$BROKER_ID" "$WORK/good.db" "$WORK/r1.report" 7 dea-bogota-analyst diran-bogota-hq
run 0 audit receipts --db "$WORK/good.db" --report "${R1:0:8}" --pki "$PKI"
out_has "^dea-bogota-analyst received report $R1 seq 7, sections \\[1\\]$"
out_has "^diran-bogota-hq received report $R1 seq 7, sections \\[1\\]$"
out_has '^  signed .*Z \(node clock\), recorded .*Z \(audit entry 2\)$'
out_has '^  receipt: valid$'
out_has "^2 delivery receipt\\(s\\) name report ${R1:0:8}$"
run 0 audit receipts --db "$WORK/good.db" --report "${R1^^}" --pki "$PKI" --json
[[ $(wc -l <"$WORK/out") -eq 2 ]] || { cat "$WORK/out"; fail "expected one JSON line per receipt"; }
out_has "\"audit_index\":\"2\",\"node\":\"dea-bogota-analyst\",\"broker_seq\":\"7\",\"report_id\":\"$R1\",\"sections\":\\[1\\]"
out_has '"verification":"valid"'
run 0 audit receipts --db "$WORK/good.db" --report 00000000 --pki "$PKI"
out_has '^0 delivery receipt\(s\) name report 00000000$'
run 0 audit verify --db "$WORK/good.db" --pki "$PKI"
out_has '^OK 3 entries, 1 signed checkpoints'
out_has '^OK 2 delivery receipts, every one verifies'

"$FIX" audit-db "$PKI" "$BROKER_ID" "$WORK/forged.db" "$WORK/r1.report" 7 diran-bogota-hq forged:dea-bogota-analyst
# The chain itself is intact; without --pki (the key given) no receipt is checked.
run 0 audit verify --db "$WORK/forged.db" --key "$(cat "$PKI/directory/broker-audit.pub")"
out_lacks 'RECEIPT'
run 1 audit verify --db "$WORK/forged.db" --pki "$PKI"
out_has '^RECEIPT_INVALID at entry 3 \(node dea-bogota-analyst\): invalid: RECEIPT_INVALID '
out_has '^1 of 2 delivery receipts do not verify$'
run 1 audit receipts --db "$WORK/forged.db" --report "$R1" --pki "$PKI"
out_has '^  receipt: invalid: RECEIPT_INVALID '
out_has '1 do not verify$'

run 2 audit receipts --db "$WORK/good.db" --report xyz --pki "$PKI"
err_line "^tearline: audit receipts: --report 'xyz' must be a report id"
run 2 audit receipts --db "$WORK/none.db" --report "$R1" --pki "$PKI"
one_err_line '^tearline: audit receipts: '

echo "== the revocation rule at the receipt's time"
serial=$("$TL" certs show --pki "$PKI" | awk '/^  diran-cucuta-commander$/ { f = 1 } f && /serial/ { sub(/.*serial /, ""); print; exit }')
[[ -n $serial ]] || fail "no serial for diran-cucuta-commander"
LATER=$((ACCEPTED_MS / 1000 + 3600))
run 0 certs revoke --pki "$PKI" --agency DIRAN --serial "$serial" --reason compromised --compromised-at "$LATER"
run 0 receipt verify --report "$WORK/r1.report" --pki "$PKI"
out_has '^VALID '
run 0 certs revoke --pki "$PKI" --agency DIRAN --serial "$serial" --reason compromised \
  --compromised-at "$((NOW_MS / 1000 - 60))"
run 1 receipt verify --report "$WORK/r1.report" --pki "$PKI"
out_has '^REFUSED ORIGINATOR_COMPROMISED '
out_has '^  receipt:  verifies$'
run 1 receipt verify --report "$WORK/r1.report" --pki "$PKI" --json
out_has '"verdict":"REFUSED","code":"ORIGINATOR_COMPROMISED"'
out_has '"receipt_valid":true'
run 0 certs revoke --pki "$PKI" --agency DIRAN --serial "$serial" --reason retired
run 0 receipt verify --report "$WORK/r1.report" --pki "$PKI"
out_has '^VALID '

run 0 receipt verify --help
out_has 'Usage: .*receipt verify'
run 0 audit receipts --help
out_has 'Options:'
echo "receipt_cli: all checks passed"
