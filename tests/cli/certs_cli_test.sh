#!/usr/bin/env bash
# Black-box test of `tearline certs`.
# Usage: certs_cli_test.sh PATH/TO/tearline PATH/TO/roster.toml
set -euo pipefail

TL=${1:?path of the tearline binary}
ROSTER=${2:?path of the demo roster}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-certs-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PKI=$WORK/pki

source "$(dirname "$0")/lib.sh"
err_line() { one_err_line "$@"; }
# The lines of one node's block in `certs show` output.
node_block() { grep -A3 -E "^  $1\$" "$WORK/out"; }

echo "== certs demo generates a verified PKI"
run 0 certs demo --roster "$ROSTER" --out "$PKI"
no_err
out_has 'agencies: 4 \(DEA, DIRAN, FGR, FUDRA\)'
out_has 'nodes: +7'
out_has 'broker: +tearline-broker \(issued by DIRAN\)'
out_has 'units: +1 \(cucuta-jtf\)'
out_has 'rejected objects: 0'
[[ -f $PKI/directory/trust.toml && -f $PKI/directory/credentials/dea-cucuta-agent.cred ]] || fail "PKI files missing"
[[ $(stat -c %a "$PKI/keys/authorities/DEA.key") == 600 ]] || fail "authority key is not 0600"
[[ $(stat -c %a "$PKI/keys") == 700 ]] || fail "keys/ is not 0700"

echo "== certs demo leaves an existing PKI alone unless --force"
before=$(sha256sum <"$PKI/directory/trust.toml")
run 0 certs demo --roster "$ROSTER" --out "$PKI"
out_has 'already exists'
[[ $(sha256sum <"$PKI/directory/trust.toml") == "$before" ]] || fail "existing PKI was modified"
run 0 certs demo --roster "$ROSTER" --out "$PKI" --force
out_has 'rejected objects: 0'
[[ $(sha256sum <"$PKI/directory/trust.toml") != "$before" ]] || fail "--force did not regenerate"

echo "== certs show lists every node as valid"
run 0 certs show --pki "$PKI"
no_err
out_has 'nodes \(7\)'
out_has 'brokers \(1\)'
node_block tearline-broker | grep -q 'agency DIRAN (COL), clearance UNCLASSIFIED, roles \[broker\]' ||
  fail "the broker's credential is not shown"
out_has 'rejected objects \(0\)'
out_lacks 'REVOKED'
node_block dea-cucuta-agent | grep -q 'units in force: \[cucuta-jtf\]' || fail "agent not in cucuta-jtf"
node_block dea-cucuta-agent | grep -q 'status: VALID' || fail "agent not valid"
node_block dea-bogota-analyst | grep -q 'units in force: \[\]' || fail "analyst is in a unit"
serial=$(node_block dea-cucuta-agent | sed -n 's/.*serial \([0-9][0-9]*\).*/\1/p')
[[ -n $serial ]] || fail "no serial shown for dea-cucuta-agent"

echo "== certs show also takes a bare public directory"
run 0 certs show --pki "$PKI/directory"
out_has 'nodes \(7\)'

echo "== certs revoke with a reason, then certs show shows REVOKED and the reason"
run 0 certs revoke --pki "$PKI" --agency DEA --serial "$serial" --reason compromised --compromised-at 2026-03-01T12:00:00Z
[[ $(head -n1 "$WORK/out") == 2 ]] || fail "revoke did not print list number 2"
out_has "serial\\(s\\) $serial: compromised at 2026-03-01T12:00:00Z"
run 0 certs show --pki "$PKI"
node_block dea-cucuta-agent | grep -q 'status: REVOKED' || fail "revoked agent not shown REVOKED"
node_block dea-bogota-analyst | grep -q 'status: VALID' || fail "other DEA node affected"
node_block diran-cucuta-commander | grep -q 'status: VALID' || fail "DIRAN node with the same serial affected"
out_has "revocation list 2 .*serials \\[$serial compromised at 2026-03-01T12:00:00Z\\]"
analyst=$(node_block fudra-lab-ops | sed -n 's/.*serial \([0-9][0-9]*\).*/\1/p')
run 0 certs revoke --pki "$PKI" --agency FUDRA --serial "$analyst" --reason retired
out_has "serial\\(s\\) $analyst: retired \\(signatures made before stand\\)"
run 0 certs show --pki "$PKI"
out_has "revocation list 2 .*serials \\[$analyst retired\\]"
node_block fudra-lab-ops | grep -q 'status: REVOKED' || fail "retired node not shown REVOKED (now)"
# unix seconds, and a retired key later found compromised takes the new reason
run 0 certs revoke --pki "$PKI" --agency FUDRA --serial "$analyst" --reason compromised --compromised-at 1772366400
out_has "compromised at 2026-03-01T12:00:00Z"
run 0 certs show --pki "$PKI"
out_has "serials \\[.*$analyst compromised at 2026-03-01T12:00:00Z.*\\]"
out_lacks "$analyst retired"
# compromised without --compromised-at: from now
run 0 certs revoke --pki "$PKI" --agency FGR --serial 1 --reason compromised
out_has "serial\\(s\\) 1: compromised at $(date -u +%Y-%m-%dT)"

echo "== certs revoke refuses bad reasons and times (exit 2, nothing issued)"
list_before=$(sha256sum <"$PKI/directory/revocations/DEA.crl")
run 2 certs revoke --pki "$PKI" --agency DEA --serial 3
err_line '^tearline: certs revoke: --serial needs --reason retired or --reason compromised$'
run 2 certs revoke --pki "$PKI" --agency DEA --serial 3 --reason lost
err_line "^tearline: certs revoke: --reason 'lost' must be retired"
run 2 certs revoke --pki "$PKI" --agency DEA --serial 3 --reason retired --compromised-at 2026-03-01T12:00:00Z
err_line '^tearline: certs revoke: --compromised-at goes with --serial N --reason compromised'
run 2 certs revoke --pki "$PKI" --agency DEA --reason retired
err_line '^tearline: certs revoke: --reason applies to --serial'
run 2 certs revoke --pki "$PKI" --agency DEA --charter cucuta-jtf:1 --compromised-at 2026-03-01T12:00:00Z
err_line '^tearline: certs revoke: --compromised-at goes with'
for bad in yesterday 2026-03-01 2026-02-30T12:00:00Z 2026-03-01T12:00:00.500Z 2026-03-01T12:00:00+01:00 0; do
  run 2 certs revoke --pki "$PKI" --agency DEA --serial 3 --reason compromised --compromised-at "$bad"
  err_line "^tearline: certs revoke: --compromised-at '"
  grep -qF -- "'$bad' must be" "$WORK/err" || { cat "$WORK/err"; fail "stderr does not quote '$bad'"; }
done
[[ $(sha256sum <"$PKI/directory/revocations/DEA.crl") == "$list_before" ]] ||
  fail "a refused revoke changed the revocation list"

echo "== certs broker: the broker's keys and credential"
run 2 certs broker --pki "$PKI" --agency DIRAN
err_line 'broker keys already exist'
run 2 certs broker --pki "$PKI" --force
err_line '^tearline: certs broker: give --agency: .*4 authorities'
run 2 certs broker --pki "$PKI" --agency NOPE --force
err_line 'UNKNOWN_AUTHORITY'
run 2 certs broker --pki "$PKI" --agency DIRAN --id ../b --force
err_line "broker id '../b' is not a valid id"
run 0 certs broker --pki "$PKI" --agency FGR --id broker-2 --days 30 --force
out_has 'credential of broker-2 \(role broker, issued by FGR\), valid until '
[[ -f $PKI/directory/credentials/broker-2.cred ]] || fail "no credential for broker-2"
run 0 certs show --pki "$PKI"
out_has 'brokers \(2\)'
node_block broker-2 | grep -q 'agency FGR (MEX), clearance UNCLASSIFIED, roles \[broker\]' || fail "broker-2 wrong"
mkdir -p "$WORK/solo"
run 0 certs init-authority --pki "$WORK/solo" --agency PN --country PER
run 0 certs broker --pki "$WORK/solo"
out_has 'credential of tearline-broker \(role broker, issued by PN\)'
run 2 certs broker --pki "$WORK/solo"
err_line 'broker keys already exist'

echo "== a charter takes effect only with every party's consent"
run 0 certs charter create --pki "$PKI" --unit border-cell --host DIRAN --member diran-bogota-hq dea-bogota-analyst
[[ $(head -n1 "$WORK/out") == 1 ]] || fail "charter create did not print version 1"
out_has 'signed by: DEA, DIRAN'
run 0 certs charter cosign --pki "$PKI" --unit border-cell --version 1 --agency DIRAN
out_has 'still missing: DEA'
run 1 certs show --pki "$PKI"
out_has 'border-cell.v1.charter: MISSING_CONSENT: .*DEA'
err_line 'rejected'
run 1 certs charter cosign --pki "$PKI" --unit border-cell --version 1 --agency FGR
err_line '^tearline: certs charter cosign: WRONG_AUTHORITY: FGR'
run 0 certs charter cosign --pki "$PKI" --unit border-cell --version 1 --agency DEA
out_has 'every required signature'
run 0 certs show --pki "$PKI"
out_has 'border-cell v1, host DIRAN'
node_block dea-bogota-analyst | grep -q 'units in force: \[border-cell\]' || fail "analyst not in border-cell"

echo "== certs issue and init-authority"
run 0 certs init-authority --pki "$PKI" --agency PF --country BRA
out_has 'authority PF \(BRA\) created'
run 0 certs issue --pki "$PKI" --node pf-liaison --agency PF --clearance RESTRICTED --role liaison --days 30
out_has 'serial 1'
[[ $(stat -c %a "$PKI/keys/nodes/pf-liaison.key") == 600 ]] || fail "node key is not 0600"
run 0 certs show --pki "$PKI"
node_block pf-liaison | grep -q 'agency PF (BRA), clearance RESTRICTED, roles \[liaison\]' || fail "pf-liaison wrong"

echo "== a tampered credential is rejected by certs show"
cp "$PKI/directory/credentials/fgr-liaison.cred" "$WORK/fgr.bak"
flip_byte "$PKI/directory/credentials/fgr-liaison.cred" -1
run 1 certs show --pki "$PKI"
out_has 'fgr-liaison.cred: BAD_SIGNATURE'
err_line '^tearline: certs show: 1 object\(s\) rejected'
cp "$WORK/fgr.bak" "$PKI/directory/credentials/fgr-liaison.cred"

echo "== bad input: one line on stderr and a non-zero exit"
printf '[[agency]\nid = "DIRAN"\n' >"$WORK/bad.toml"
run 2 certs demo --roster "$WORK/bad.toml" --out "$WORK/bad"
err_line '^tearline: certs demo: INVALID_FIELD: roster .*bad.toml'
[[ ! -e $WORK/bad/directory ]] || fail "a PKI was written from a bad roster"

printf '[[agency]]\nid = "DIRAN"\ncountry = "XYZ"\n' >"$WORK/bad-country.toml"
run 2 certs demo --roster "$WORK/bad-country.toml" --out "$WORK/bad"
err_line 'INVALID_FIELD: .*country'

run 2 certs demo --roster "$WORK/none.toml" --out "$WORK/bad"
err_line 'IO_ERROR: cannot open .*none.toml'

chmod 644 "$PKI/keys/authorities/DEA.key"
run 2 certs revoke --pki "$PKI" --agency DEA --serial 2 --reason retired
err_line '^tearline: certs revoke: KEY_FILE: ' 'mode 0644'
chmod 600 "$PKI/keys/authorities/DEA.key"
run 0 certs show --pki "$PKI"
out_has 'DEA \(USA\)'
out_has 'revocation list 2 '

chmod 640 "$PKI/keys/authorities/DIRAN.key"
run 2 certs charter cosign --pki "$PKI" --unit cucuta-jtf --version 1 --agency DIRAN
err_line 'KEY_FILE: .*mode 0640'
chmod 600 "$PKI/keys/authorities/DIRAN.key"

run 2 certs issue --pki "$PKI" --node x1 --agency DEA --clearance SECRETISH
err_line "clearance 'SECRETISH'"
run 2 certs issue --pki "$PKI" --node x1 --agency NOPE --clearance SECRET
err_line 'UNKNOWN_AUTHORITY: agency NOPE'
run 2 certs issue --pki "$PKI" --node ../x1 --agency DEA --clearance SECRET
err_line "node '../x1' is not a valid id"
run 2 certs issue --pki "$PKI" --node x1 --agency DEA --clearance SECRET --days 0
err_line '--days'
run 2 certs init-authority --pki "$PKI" --agency XX --country ZZZ
err_line "country 'ZZZ'"
run 2 certs init-authority --pki "$PKI" --agency DEA --country USA
err_line 'DUPLICATE_OBJECT: agency DEA already has an authority'
run 2 certs charter create --pki "$PKI" --unit cell --host DIRAN --member nobody
err_line 'UNKNOWN_NODE: member nobody'
run 2 certs charter create --pki "$PKI" --unit cell --host NOPE --member diran-bogota-hq
err_line 'UNKNOWN_AUTHORITY: host agency NOPE'
run 2 certs charter cosign --pki "$PKI" --unit cucuta-jtf --version 9 --agency DIRAN
err_line 'INVALID_FIELD: charter cucuta-jtf v9 does not exist in .*; the latest version is v1$'
run 2 certs revoke --pki "$PKI" --agency DEA --charter cucuta-jtf
err_line 'UNIT:VERSION'
run 2 certs revoke --pki "$PKI" --agency DEA --serial 0 --reason retired
err_line "--serial '0'"
run 2 certs broker --pki "$PKI" --agency DIRAN
err_line 'broker keys already exist'
run 2 certs show --pki "$WORK/nowhere"
err_line 'IO_ERROR: trust store'
printf 'not toml [[[\n' >"$WORK/pki/directory/trust.toml"
run 2 certs show --pki "$PKI"
err_line 'INVALID_FIELD: trust store'
printf '# nothing pinned\n' >"$WORK/pki/directory/trust.toml"
run 2 certs show --pki "$PKI"
err_line 'EMPTY_TRUST_STORE'

echo "== every subcommand has help"
for sub in demo init-authority issue "charter create" "charter cosign" revoke broker show; do
  # shellcheck disable=SC2086
  run 0 certs $sub --help
  out_has 'Options:'
done

echo "PASS"
