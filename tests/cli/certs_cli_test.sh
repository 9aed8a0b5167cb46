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

echo "== PKI safety: issue refuses an existing node unless --replace, which revokes the old serial"
P2=$WORK/p2
run 0 certs demo --roster "$ROSTER" --out "$P2"
old_serial=$(sed -n 's/^  serial: *\([0-9]*\)$/\1/p' <("$TL" certs inspect "$P2/directory/credentials/dea-cucuta-agent.cred"))
[[ -n $old_serial ]] || fail "certs inspect shows no serial"
cred_before=$(sha256sum <"$P2/directory/credentials/dea-cucuta-agent.cred")
run 1 certs issue --pki "$P2" --node dea-cucuta-agent --agency DEA --clearance SECRET --role agent
err_line "^tearline: certs issue: node dea-cucuta-agent already has a credential \(.*\); give --replace to issue a new one and revoke the old serial \(reason retired\)$"
[[ $(sha256sum <"$P2/directory/credentials/dea-cucuta-agent.cred") == "$cred_before" ]] || fail "a refused issue changed the credential"
run 2 certs issue --pki "$P2" --node nobody-yet --agency DEA --clearance SECRET --replace
err_line "^tearline: certs issue: --replace: node nobody-yet has no credential in .* to replace$"
run 0 certs issue --pki "$P2" --node dea-cucuta-agent --agency DEA --clearance SECRET --role agent --replace
no_err
out_has "^  revoked the old serial $old_serial \(retired: its past signatures stand\) in DEA revocation list 2$"
out_has 'tearline admin reload.*SIGHUP'
run 0 certs show --pki "$P2"
out_has "revocation list 2 .*serials \\[$old_serial retired\\]"
node_block dea-cucuta-agent | grep -q 'status: VALID' || fail "the re-issued node is not VALID"
node_block dea-cucuta-agent | grep -q "serial $old_serial\$" && fail "the old serial is still shown"

echo "== certs revoke --node; an unknown serial or an empty revoke is refused"
run 0 certs revoke --pki "$P2" --node dea-bogota-analyst --reason retired
out_has '^3$'
out_has 'tearline admin reload'
run 0 certs show --pki "$P2"
node_block dea-bogota-analyst | grep -q 'status: REVOKED' || fail "revoke --node did not revoke"
list_before=$(sha256sum <"$P2/directory/revocations/DEA.crl")
run 2 certs revoke --pki "$P2" --agency DEA --serial 999 --reason retired
err_line '^tearline: certs revoke: INVALID_FIELD: serial 999 names no credential of DEA in .*; DEA.s serials: .*dea-cucuta-agent'
run 2 certs revoke --pki "$P2" --agency DEA
err_line '^tearline: certs revoke: name what to revoke: --node ID or --serial N \(with --reason\), --charter UNIT:VERSION or --peering ID:VERSION$'
run 2 certs revoke --pki "$P2"
err_line '^tearline: certs revoke: name what to revoke'
run 2 certs revoke --pki "$P2" --node ghost --reason retired
err_line '^tearline: certs revoke: UNKNOWN_NODE: node ghost has no credential in '
run 2 certs revoke --pki "$P2" --agency DIRAN --node dea-cucuta-agent --reason retired
err_line "^tearline: certs revoke: node dea-cucuta-agent's credential is issued by DEA, not DIRAN \(give --agency DEA\)$"
run 2 certs revoke --pki "$P2" --node dea-cucuta-agent
err_line '^tearline: certs revoke: --node needs --reason retired or --reason compromised$'
[[ $(sha256sum <"$P2/directory/revocations/DEA.crl") == "$list_before" ]] || fail "a refused revoke changed the list"
# a serial already listed (its file replaced) may still take a new reason
run 0 certs revoke --pki "$P2" --agency DEA --serial "$old_serial" --reason compromised
out_has "serial\\(s\\) $old_serial: compromised at "

echo "== certs inspect: each kind, never a secret"
D=$P2/directory
run 0 certs inspect "$D/credentials/fgr-liaison.cred"
no_err
out_has "^$D/credentials/fgr-liaison.cred: credential$"
out_has '^  node: +fgr-liaison$'
out_has '^  agency: +FGR \(MEX\)$'
out_has '^  validity: +VALID now, until '
out_has '^  signer: +FGR$'
out_has "^  signature: valid \\(trust store $D/trust.toml\\)$"
run 0 certs inspect "$D/credentials/dea-bogota-analyst.cred"
out_has '^  validity: +REVOKED \(retired\) by DEA revocation list 4; window VALID now'
run 0 certs inspect "$D/charters/cucuta-jtf.v1.charter"
out_has ': charter$'
out_has '^  unit: +cucuta-jtf v1, host DIRAN$'
out_has '^  signer: +DEA, DIRAN$'
out_has '^  signature: valid '
run 0 certs inspect "$D/revocations/DEA.crl"
out_has ': revocation_list$'
out_has '^  number: +4, issued '
out_has "^  serials: +\\[.*$old_serial compromised at .*\\]$"
run 0 certs inspect "$D/trust.toml"
out_has ': trust_store$'
out_has '^  authority: DIRAN \(COL\) key [0-9a-f]{64}$'
# KEY:OFFSETS of each 32-byte secret after the 8-byte magic (an Ed25519 secret
# is its seed then its public key: only the seed is secret).
for spec in "$P2/keys/nodes/fgr-liaison.key:0 64 96" "$P2/keys/authorities/FGR.key:0" "$P2/keys/broker.key:0 32"; do
  key=${spec%%:*}
  run 0 certs inspect "$key"
  out_has '^  mode: +0600 \(the secret is not shown\)$'
  secret_hex=$(tail -c +9 "$key" | od -An -tx1 | tr -d ' \n')
  for offset in ${spec#*:}; do
    part=${secret_hex:$((offset * 2)):64}
    [[ ${#part} -eq 64 ]] || fail "no secret at $offset in $key"
    ! grep -q "$part" "$WORK/out" || fail "certs inspect printed a secret of $key"
  done
done
run 0 certs inspect "$P2/keys/nodes/fgr-liaison.key"
out_has ': node_key$'
out_has '^  matches: +the credential of fgr-liaison \(serial [0-9]+\)$'
run 0 certs inspect "$P2/keys/authorities/FGR.key"
out_has "^  matches: +the authority FGR pinned in $D/trust.toml$"
run 0 certs inspect "$P2/keys/broker.key"
out_has ': broker_key$'
out_has '^  matches: +the credential of tearline-broker '
run 0 certs inspect "$D/broker.pub"
out_has ': broker_public_key$'
run 0 certs inspect "$D/broker-audit.pub"
out_has ': broker_audit_key$'
# no trust store beside a copy: fields shown, signature not checked; --pki checks it
cp "$D/credentials/fgr-liaison.cred" "$WORK/copy.bin"
run 0 certs inspect "$WORK/copy.bin"
out_has ': credential$'
out_has '^  signature: not checked: no trust.toml beside the file \(give --directory or --pki\)$'
run 0 certs inspect "$WORK/copy.bin" --pki "$P2" --json
no_err
out_has '^\{"file":".*copy.bin","kind":"credential","signer":"FGR","signature":"valid",'
out_has '"credential":\{"node_id":"fgr-liaison","agency":"FGR","country":"MEX","clearance":"CONFIDENTIAL"'
# without the extension, the kind comes from the body
cp "$D/revocations/DEA.crl" "$WORK/list.bin"
run 0 certs inspect "$WORK/list.bin" --pki "$P2"
out_has ': revocation_list$'
out_has '^  signature: valid '
cp "$D/charters/cucuta-jtf.v1.charter" "$WORK/charter.bin"
run 0 certs inspect "$WORK/charter.bin" --directory "$D"
out_has ': charter$'
flip_byte "$WORK/copy.bin" -1
run 1 certs inspect "$WORK/copy.bin" --pki "$P2"
out_has '^  signature: invalid: BAD_SIGNATURE: '
err_line '^tearline: certs inspect: .*copy.bin: signature invalid: BAD_SIGNATURE: '
run 2 certs inspect "$ROSTER"
err_line "^tearline: certs inspect: BAD_ENCODING: .*roster.toml is of no kind tearline knows: [0-9]+ bytes starting "
printf '' >"$WORK/empty"
run 2 certs inspect "$WORK/empty"
err_line 'is of no kind tearline knows: an empty file'
run 2 certs inspect "$WORK/none.cred"
err_line '^tearline: certs inspect: IO_ERROR: '
chmod 644 "$P2/keys/nodes/fgr-liaison.key"
run 2 certs inspect "$P2/keys/nodes/fgr-liaison.key"
err_line '^tearline: certs inspect: KEY_FILE: it is a node key file, refused: .*mode 0644'
chmod 600 "$P2/keys/nodes/fgr-liaison.key"

echo "== certs show --json; a charter not in force names its latest version"
run 0 certs show --pki "$P2" --json
no_err
[[ $(wc -l <"$WORK/out") -eq 1 ]] || fail "certs show --json is not one line"
out_has '^\{"directory":".*","at":"[0-9]+","at_text":"[0-9T:-]+Z","authorities":\[\{"agency":"DEA","country":"USA","verify_key":"[0-9a-f]{64}","revocation_list":\{"agency":"DEA","number":"4"'
out_has '"node_id":"dea-bogota-analyst".*"status":"REVOKED: '
out_has '"units":\[\{"unit_id":"cucuta-jtf","version":"1".*"status":"IN_FORCE"\}\]'
run 0 certs charter create --pki "$P2" --unit cucuta-jtf --host DIRAN --member diran-cucuta-commander
run 0 certs charter cosign --pki "$P2" --unit cucuta-jtf --version 2 --agency DIRAN
run 0 certs revoke --pki "$P2" --agency DIRAN --charter cucuta-jtf:1
run 0 certs show --pki "$P2"
out_has '^  cucuta-jtf v2, host DIRAN, in force until '
run 0 certs charter create --pki "$P2" --unit cucuta-jtf --host DIRAN --member diran-cucuta-commander dea-cucuta-agent
run 0 certs charter cosign --pki "$P2" --unit cucuta-jtf --version 3 --agency DIRAN
run 0 certs inspect "$D/charters/cucuta-jtf.v3.charter"
out_has '^  validity: +VALID now, until .*; not in force until signed by DEA$'
out_has '^  signer: +DIRAN$'
out_has '^  signature: valid, but incomplete: MISSING_CONSENT: '
run 1 certs show --pki "$P2"
out_has '^    latest version v3 is not in force: MISSING_CONSENT: '
run 0 certs revoke --pki "$P2" --agency DIRAN --charter cucuta-jtf:2
run 1 certs show --pki "$P2"
out_has '^  cucuta-jtf: NOT IN FORCE: latest version v3: REVOKED: charter cucuta-jtf v2 is revoked by DIRAN$'
run 2 certs charter cosign --pki "$P2" --unit cucuta-jtf --version 4 --agency DEA
err_line '^tearline: certs charter cosign: INVALID_FIELD: charter cucuta-jtf v4 does not exist in .*; the latest version is v3$'
run 2 certs revoke --pki "$P2" --agency DIRAN --charter cucuta-jtf:7
err_line '^tearline: certs revoke: INVALID_FIELD: charter cucuta-jtf v7 does not exist in .*; the latest version is v3$'
run 2 certs charter cosign --pki "$P2" --unit no-unit --version 1 --agency DEA
err_line 'charter no-unit v1 does not exist in .*; unit no-unit has no charter \(certs charter create\)$'

echo "== every subcommand has help"
for sub in demo init-authority issue "charter create" "charter cosign" revoke broker show inspect; do
  # shellcheck disable=SC2086
  run 0 certs $sub --help
  out_has 'Options:'
done

echo "PASS"
