#!/usr/bin/env bash
# Black-box test of the federation commands (docs/federation.md): two
# agencies' PKIs, each made with its own `tearline certs`, meet with
# `certs import` (pinned only with the key told out of band) and agree a
# peering with `certs peering create|cosign|show`, each signing its own copy.
# `tearline explain` then says what of a report would cross the peering.
# Usage: federation_cli_test.sh PATH/TO/tearline PATH/TO/receipt_fixture
set -euo pipefail

TL=${1:?path of the tearline binary}
FIX=${2:?path of receipt_fixture}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-federation-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
A=$WORK/diran
B=$WORK/dea

source "$(dirname "$0")/lib.sh"
key_of() { sed -n "/agency = \"$2\"/,/verify_key/s/^verify_key = \"\\(.*\\)\"/\\1/p" "$1/directory/trust.toml"; }

echo "== two agencies, each with its own PKI and boundary broker"
run 0 certs init-authority --pki "$A" --agency DIRAN --country COL
run 0 certs init-authority --pki "$B" --agency DEA --country USA
run 0 certs issue --pki "$A" --node diran-analyst --agency DIRAN --clearance SECRET --role analyst
run 0 certs issue --pki "$B" --node dea-agent --agency DEA --clearance SECRET --role agent
run 0 certs broker --pki "$A" --id diran-broker
run 0 certs broker --pki "$B" --id dea-broker
KA=$(key_of "$A" DIRAN)
KB=$(key_of "$B" DEA)
[[ ${#KA} == 64 && ${#KB} == 64 ]] || fail "authority keys not found"

echo "== a peering with an agency not imported yet names what is missing"
run 2 certs peering create --pki "$A" --id diran-dea --first DIRAN --first-broker diran-broker --second DEA \
  --second-broker dea-broker --first-to-second-topic 'intel.>' --first-to-second-ceiling SECRET
one_err_line '^tearline: certs peering create: UNKNOWN_AUTHORITY: agency DEA has no authority in .*certs import\); UNKNOWN_NODE: broker dea-broker has no credential'

echo "== import pins only with the key told out of band"
before=$(sha256sum <"$A/directory/trust.toml")
run 2 certs import --pki "$A" --from "$B" --agency DEA
one_err_line "^tearline: certs import: UNKNOWN_AUTHORITY: DEA is not pinned yet; in .* its authority key is $KB and its country USA: check both with DEA out of band, then import with --verify-key $KB --country USA\$"
run 2 certs import --pki "$A" --from "$B" --agency DEA --verify-key "$KB"
one_err_line 'UNKNOWN_AUTHORITY: DEA is not pinned yet'
run 1 certs import --pki "$A" --from "$B" --agency DEA --verify-key "$KB" --country COL
one_err_line 'WRONG_AUTHORITY: the country of DEA in .* is USA, not the country given \(COL\)'
run 1 certs import --pki "$A" --from "$B/directory" --agency DEA --verify-key "$KA" --country USA
one_err_line "^tearline: certs import: WRONG_AUTHORITY: the authority key of DEA in .* is $KB, not the key given \\($KA\\)"
[[ $(sha256sum <"$A/directory/trust.toml") == "$before" ]] || fail "a refused import changed the trust store"
run 2 certs import --pki "$A" --from "$B" --agency DEA --verify-key abc
one_err_line '--verify-key must be 64 hex characters'
run 0 certs import --pki "$A" --from "$B" --agency DEA --verify-key "$KB" --country USA
no_err
out_has "^  authority key $KB, country USA \\(pinned now, partner = true\\)\$"
out_has '^  credentials: added \[dea-agent, dea-broker\], updated \[\], removed \[\]$'
run 0 certs show --pki "$A"
out_has "^  DEA \\(USA\\) key $KB, partner agency \\(its nodes use its own broker\\)\$"
run 2 certs import --pki "$A" --from "$B" --agency DIRAN
one_err_line 'pins no authority DIRAN \(it pins DEA\)'

echo "== peering create, and each agency signs only with its own PKI"
run 0 certs peering create --pki "$A" --id diran-dea --first DIRAN --first-broker diran-broker --second DEA \
  --second-broker dea-broker --first-to-second-topic 'intel.>' --first-to-second-ceiling SECRET \
  --first-to-second-releasable USA --second-to-first-topic 'intel.routes.>' --second-to-first-ceiling CONFIDENTIAL
[[ $(head -n1 "$WORK/out") == 1 ]] || fail "peering create did not print version 1"
run 2 certs peering create --pki "$A" --id diran-dea --version 1 --first DIRAN --first-broker diran-broker \
  --second DEA --second-broker dea-broker
one_err_line 'DUPLICATE_OBJECT: peering diran-dea v1 exists .*: a new version is v2$'
run 2 certs peering create --pki "$A" --id x --first DIRAN --first-broker diran-broker --second DEA \
  --second-broker dea-broker --first-to-second-topic 'intel.>'
one_err_line 'needs --first-to-second-ceiling'
run 1 certs peering show --pki "$A" --id diran-dea
out_has '^  diran-dea.v1.peering: signed by \[\], awaiting DIRAN, DEA$'
run 0 certs peering cosign --pki "$A" --id diran-dea --version 1 --agency DIRAN
out_has 'it carries the signatures of DIRAN$'
out_has '^  DIRAN -> DEA: topics \[intel.>\], ceiling SECRET, releasable to \[USA\], transit no$'
run 1 certs peering cosign --pki "$A" --id diran-dea --version 1 --agency DEA
one_err_line 'WRONG_AUTHORITY: DEA is a partner agency in this PKI: it signs with its own PKI'
run 2 certs peering cosign --pki "$A" --id diran-dea --version 2 --agency DIRAN
one_err_line 'peering diran-dea v2 does not exist in .*; the latest version is v1$'
run 1 certs peering show --pki "$A" --id diran-dea
out_has '^  diran-dea between DEA and DIRAN: NOT_IN_EFFECT: NO_PEERING: .*v1, signed by DIRAN alone, has no version in effect to narrow'
one_err_line 'peering diran-dea is not in effect now'

echo "== DEA imports DIRAN's directory, signs its copy; DIRAN imports it back"
run 0 certs import --pki "$B" --from "$A" --agency DIRAN --verify-key "$KA" --country COL
out_has '^  charters \[\], peerings \[peerings/diran-dea.v1.peering\]$'
out_has '^  2 object\(s\) of other agencies left out \(not DIRAN.s to give\)$'
run 0 certs peering cosign --pki "$B" --id diran-dea --version 1 --agency DEA
out_has 'it carries the signatures of DIRAN, DEA$'
run 0 certs import --pki "$A" --from "$B" --agency DEA
out_has '^  charters \[\], peerings \[peerings/diran-dea.v1.peering\]$'
for side in "$A" "$B/directory"; do
  run 0 certs peering show --pki "$side" --id diran-dea
  out_has '^  diran-dea between DEA and DIRAN: v1 IN_EFFECT$'
  out_has '^    DIRAN -> DEA: topics \[intel.>\], ceiling SECRET, releasable to \[USA\], transit no$'
  out_has '^    DEA -> DIRAN: topics \[intel.routes.>\], ceiling CONFIDENTIAL, releasable to \[\], transit no$'
done
run 0 certs peering show --pki "$A" --json
python3 - "$WORK/out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
p = doc["peerings"][0]
assert p["status"] == "IN_EFFECT", p["status"]
assert p["in_effect"]["signed_by"] == ["DEA", "DIRAN"], p["in_effect"]["signed_by"]
assert p["in_effect"]["directions"][0]["ceiling"] == "SECRET"
assert doc["files"][0]["reasons"] == [] and doc["files"][0]["awaiting"] == []
PY

echo "== explain: what of a report would cross the peering"
# One UNCLASSIFIED section releasable to COL, MEX and USA on intel.receipts,
# sealed by diran-analyst to every node its label admits, dea-agent among them.
"$FIX" report "$A" diran-analyst "$(date +%s%3N)" "$WORK/r.report"
run 0 explain "$WORK/r.report" --pki "$A" --node diran-analyst
out_has '^peerings \(1\): what would cross each boundary$'
out_has '^  diran-dea v1, DIRAN -> DEA \(broker dea-broker\): crosses sections 1$'
run 0 explain "$WORK/r.report" --pki "$B" --json
python3 - "$WORK/out" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["crossings"]
assert len(c) == 1 and c[0]["decision"] == "crosses sections 1", c
assert c[0]["from_agency"] == "DIRAN" and c[0]["to_broker"] == "dea-broker", c
assert c[0]["sections"][0]["decision"] == "crosses" and c[0]["reasons"] == [], c
PY

echo "== a one-sided narrower version takes effect; a one-sided wider one does not"
run 0 certs peering create --pki "$A" --id diran-dea --first DIRAN --first-broker diran-broker --second DEA \
  --second-broker dea-broker --first-to-second-topic 'intel.labs.>' --first-to-second-ceiling CONFIDENTIAL \
  --first-to-second-releasable USA --days 30
run 0 certs peering cosign --pki "$A" --id diran-dea --version 2 --agency DIRAN
run 0 certs peering show --pki "$A" --id diran-dea
out_has '^  diran-dea between DEA and DIRAN: v2 IN_EFFECT$'
out_has '^    DEA -> DIRAN: nothing crosses$'
run 0 certs peering create --pki "$A" --id diran-dea --first DIRAN --first-broker diran-broker --second DEA \
  --second-broker dea-broker --first-to-second-topic 'intel.>' --first-to-second-ceiling TOP_SECRET --days 30
run 0 certs peering cosign --pki "$A" --id diran-dea --version 3 --agency DIRAN
run 0 certs peering show --pki "$A" --id diran-dea
out_has '^  diran-dea between DEA and DIRAN: v2 IN_EFFECT$'
out_has '^    passed over: PEERING_WIDENED: v3, signed by DIRAN alone, does not narrow v2: '
run 0 explain "$WORK/r.report" --pki "$A" --node diran-analyst
out_has '^  diran-dea v2, DIRAN -> DEA \(broker dea-broker\): does not cross$'
out_has '^    PEERING_TOPIC: topic intel.receipts is not among the topics peering diran-dea v2 lets cross to DEA \(intel.labs.>\)$'

echo "== a revocation list of a party ends the peering; no other agency's names it"
run 1 certs revoke --pki "$A" --agency DEA --peering diran-dea:2
one_err_line '^tearline: certs revoke: DEA is a partner agency here: it revokes with its own PKI'
run 0 certs init-authority --pki "$A" --agency FUDRA --country COL
run 1 certs revoke --pki "$A" --agency FUDRA --peering diran-dea:2
one_err_line '^tearline: certs revoke: FUDRA is not a party of peering diran-dea \(parties: DIRAN, DEA\): only a party.s revocation list ends it$'
run 2 certs revoke --pki "$A" --agency DIRAN --peering diran-dea:9
one_err_line 'peering diran-dea v9 does not exist in .*; the latest version is v3$'
run 0 certs revoke --pki "$A" --agency DIRAN --peering diran-dea:2
out_has '^  peering diran-dea: every version up to v2 is void; no version is in effect now: a new one needs both agencies. signatures$'
run 1 certs peering show --pki "$A" --id diran-dea
out_has '^  diran-dea between DEA and DIRAN: NOT_IN_EFFECT: NO_PEERING: .*v1 is revoked \(every version up to v2\)'
run 0 certs show --pki "$A"
out_has 'peerings \[diran-dea up to v2\]'

echo "== a partner's object that does not verify is refused, the rest imported, exit 1; --json"
cp "$B/directory/credentials/dea-agent.cred" "$WORK/agent.cred"
flip_byte "$B/directory/credentials/dea-agent.cred" -3
run 1 certs import --pki "$A" --from "$B" --agency DEA --json
one_err_line '^\{"code":"BAD_SIGNATURE","exit":1,"message":"certs import: 1 object\(s\) of DEA refused \(listed in \\"refused\\"\)"\}$'
python3 - "$WORK/out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["agency"] == "DEA" and doc["country"] == "USA" and doc["pinned"] is False, doc
assert [r["object"] for r in doc["refused"]] == ["credentials/dea-agent.cred"], doc["refused"]
assert doc["refused"][0]["reason"]["name"] == "BAD_SIGNATURE", doc["refused"][0]
assert doc["credentials_removed"] == [], doc
PY
[[ -f $A/directory/credentials/dea-agent.cred ]] || fail "a refused update removed the credential held"
cp "$WORK/agent.cred" "$B/directory/credentials/dea-agent.cred"
run 0 certs import --pki "$A" --from "$B" --agency DEA

echo "== a renewal under a new id starts where the running one ends (--not-before)"
run 2 certs peering create --pki "$A" --id renewal --first DIRAN --first-broker diran-broker --second DEA \
  --second-broker dea-broker --not-before tomorrow
one_err_line "--not-before 'tomorrow' must be a UTC time"
run 0 certs peering create --pki "$A" --id renewal --first DIRAN --first-broker diran-broker --second DEA \
  --second-broker dea-broker --first-to-second-topic 'intel.>' --first-to-second-ceiling SECRET \
  --not-before 2030-01-01T00:00:00Z --days 10
run 0 certs peering cosign --pki "$A" --id renewal --version 1 --agency DIRAN
out_has '^  valid 2030-01-01T00:00:00Z \.\. 2030-01-11T00:00:00Z$'

echo "== every subcommand has help"
for sub in import "peering create" "peering cosign" "peering show"; do
  # shellcheck disable=SC2086
  run 0 certs $sub --help
  out_has 'Options:'
done

echo "PASS"
