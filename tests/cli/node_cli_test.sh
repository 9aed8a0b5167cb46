#!/usr/bin/env bash
# Black-box test of the node commands `tearline publish`, `subscribe` and
# `explain` against a real broker: who received what (exactly), the broker's
# verdicts, offline explanations, and every bad input as one stderr line
# with the documented exit code (2 bad input, 3 broker unreachable).
# Usage: node_cli_test.sh PATH/TO/tearline PATH/TO/tearline-broker SOURCE_DIR
set -euo pipefail

TL=${1:?tearline}
BROKER=${2:?tearline-broker}
SRC=${3:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-node-cli.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"
# One line on stderr, matching every pattern given; nothing on stdout.
err_line() { one_err_line "$@"; no_out; }
# The lines of NODE's block within section N of `explain` output in $WORK/out.
explain_block() {
  awk -v sec="section $1:" -v node="  $2:" '
    index($0, "section ") == 1 { in_sec = (index($0, sec) == 1); in_node = 0; next }
    in_sec && /^  [^ ]/ { in_node = (index($0, node) == 1) }
    in_sec && in_node { print }' "$WORK/out"
}
# A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/pki" >/dev/null
PKI=$WORK/pki
POLICY=$SRC/certs/policy.toml
TEXT1="Source CUCUTA-7 (Rastrojos insider) tipped the Puerto Santander seizure."
TEXT2="Seizure: 2.1 t of cocaine hydrochloride at the Puerto Santander crossing; 2 arrested."
cat >"$WORK/cucuta.toml" <<TOML
topic = "unit.cucuta-jtf.seizures"
[[section]]
classification = "SECRET"
rel = ["COL"]
unit = ["cucuta-jtf"]
text = "$TEXT1"
[[section]]
classification = "CONFIDENTIAL"
rel = ["COL", "USA"]
unit = ["cucuta-jtf"]
text = "$TEXT2"
TOML

echo "== --help of every node command"
for cmd in publish subscribe explain unsubscribe subscriptions status context; do
  run 0 "$cmd" --help
  out_has "Usage: .*$cmd"
done

echo "== the broker"
cat >"$WORK/broker.toml" <<TOML
[broker]
endpoint = "tcp://127.0.0.1:*"
key_file = "$PKI/keys/broker.key"
directory = "$PKI/directory"
policy = "$POLICY"
data_dir = "$WORK/data"
TOML
# start_broker CONFIG LOG: starts a broker (BROKER_PID) and sets EP to its endpoint.
start_broker() {
  "$BROKER" --config "$1" 2>"$2" &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  for _ in $(seq 100); do grep -q "event=started" "$2" && break; sleep 0.1; done
  EP=$(sed -n 's/.*event=started endpoint=\([^ ]*\).*/\1/p' "$2")
  [[ $EP == tcp://127.0.0.1:* ]] || { cat "$2"; fail "broker ($1) did not start"; }
}
start_broker "$WORK/broker.toml" "$WORK/broker.log"
AS=(--pki "$PKI" --broker "$EP")

echo "== bad input: one stderr line, exit 2 (or 3 when the broker is unreachable)"
run 2 publish "${AS[@]}" --node diran-cucuta-commander --spec "$WORK/missing.toml"
err_line '^tearline: publish: spec ' 'IO_ERROR' 'missing.toml'
printf '[[section]\nclassification = "SECRET"\n' >"$WORK/bad.toml"
run 2 publish "${AS[@]}" --node diran-cucuta-commander --spec "$WORK/bad.toml"
err_line '^tearline: publish: spec ' 'INVALID_FIELD' '\(line 1\)'
printf 'topic = "intel.x"\ncolour = 1\n[[section]]\nclassification = "SECRET"\ntext = "t"\n' >"$WORK/unknown.toml"
run 2 publish "${AS[@]}" --node diran-cucuta-commander --spec "$WORK/unknown.toml"
err_line "INVALID_FIELD: .*unknown key 'colour'"
run 2 publish "${AS[@]}" --node nobody --spec "$WORK/cucuta.toml"
err_line 'UNKNOWN_NODE: node nobody has no credential in the directory'
cp "$PKI/keys/nodes/fgr-liaison.key" "$WORK/open.key"
chmod 0644 "$WORK/open.key"
run 2 publish "${AS[@]}" --node fgr-liaison --key "$WORK/open.key" --topic intel.liaison.x \
  --classification CONFIDENTIAL --text hi
err_line 'KEY_FILE: .*mode 0644'
run 2 publish "${AS[@]}" --node fgr-liaison --spec "$WORK/cucuta.toml" --topic intel.x
err_line '^tearline: --spec excludes --topic'
run 2 publish "${AS[@]}" --node fgr-liaison --topic intel.liaison.x --classification CONFIDENTIAL
err_line 'give exactly one of --text or --body-file'
run 2 publish "${AS[@]}" --node fgr-liaison --topic intel.liaison.x --classification SEKRET --text hi
err_line "LABEL_INVALID: classification 'SEKRET'"
run 2 publish "${AS[@]}" --node fgr-liaison --topic intel.liaison.x --classification CONFIDENTIAL --rel usa --text hi
err_line "LABEL_INVALID: releasable-to 'usa'"
run 2 publish "${AS[@]}" --node fgr-liaison --topic Intel.liaison --classification CONFIDENTIAL --text hi
err_line 'TOPIC_INVALID'
run 2 publish "${AS[@]}" --node fgr-liaison --topic intel.liaison.x --classification CONFIDENTIAL --text hi \
  --source 0123:1
err_line "--source '0123:1': the report id must be 32 hex characters"
run 2 subscribe "${AS[@]}" --node fgr-liaison --topic 'intel.>.x'
err_line "TOPIC_INVALID: pattern 'intel.>.x'"
run 2 subscribe "${AS[@]}" --node fgr-liaison --count 0
err_line '--count'
NOBODY=tcp://127.0.0.1:$(free_port)
start=$SECONDS
run 3 publish --pki "$PKI" --broker "$NOBODY" --timeout 500 --node diran-cucuta-commander --spec "$WORK/cucuta.toml"
err_line 'UNAVAILABLE: broker at .* is not reachable'
run 3 subscribe --pki "$PKI" --broker "$NOBODY" --timeout 500 --node fgr-liaison
err_line 'UNAVAILABLE'
((SECONDS - start <= 6)) || fail "unreachable broker took $((SECONDS - start)) s to report"

echo "== subscribers: JSON and readable, each until its count"
# subscribe NAME NODE ARGS...: starts a subscriber in the background and waits until it is subscribed.
subscribe() {
  local name=$1 node=$2
  shift 2
  timeout 60 "$TL" subscribe "${AS[@]}" --node "$node" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=("$!")
  eval "${name}_PID=$!"
  for _ in $(seq 100); do grep -q "^subscribed as $node to " "$WORK/$name.err" && return; sleep 0.1; done
  cat "$WORK/$name.err"
  fail "subscriber $node did not subscribe"
}
subscribe agent dea-cucuta-agent --json --count 2 --idle-exit 30000
subscribe bogota dea-bogota-analyst --json --count 1 --idle-exit 30000
subscribe analyst diran-cucuta-analyst --count 2 --idle-exit 30000
subscribe fudra fudra-lab-ops --json --idle-exit 30000

echo "== publish the Cucuta seizure report (two sections) from a spec"
run 0 publish "${AS[@]}" --node diran-cucuta-commander --spec "$WORK/cucuta.toml" --save "$WORK/cucuta.report"
no_err
out_has '^ACCEPTED report=[0-9a-f]{32} seq=[0-9]+$'
out_has '^  section 1 \(SECRET REL COL UNITS cucuta-jtf\): sealed to diran-cucuta-analyst, diran-cucuta-commander$'
out_has '^  section 2 \(CONFIDENTIAL REL COL,USA UNITS cucuta-jtf\): sealed to dea-cucuta-agent, diran-cucuta-analyst, diran-cucuta-commander$'
CUCUTA=$(sed -n 's/^ACCEPTED report=\([0-9a-f]*\) .*/\1/p' "$WORK/out")
[[ $(stat -c %a "$WORK/cucuta.report") == 600 ]] || fail "--save did not write the report with mode 0600"

echo "== the acceptance receipt: printed, saved beside the report, verified offline"
out_has '^  receipt: accepted by tearline-broker at [0-9T:.-]+Z as seq [0-9]+ \(signed, verified\)$'
SEQ=$(sed -n 's/^ACCEPTED report=[0-9a-f]* seq=\([0-9]*\)$/\1/p' "$WORK/out")
[[ $(stat -c %a "$WORK/cucuta.report.receipt") == 600 ]] || fail "--save did not write FILE.receipt with mode 0600"
run 0 receipt verify --report "$WORK/cucuta.report" --pki "$PKI"
out_has "^VALID report=$CUCUTA originator=diran-cucuta-commander$"
out_has '^  broker:   tearline-broker$'
out_has "^  seq:      $SEQ$"
echo "== --save never overwrites without --force (checked before anything is sent)"
run 2 publish "${AS[@]}" --node diran-cucuta-commander --spec "$WORK/cucuta.toml" --save "$WORK/cucuta.report"
err_line '^tearline: publish: --save: .*cucuta\.report exists; remove it or give --force to replace it$'
touch "$WORK/fresh.report.receipt"
run 2 publish "${AS[@]}" --node diran-cucuta-commander --spec "$WORK/cucuta.toml" --save "$WORK/fresh.report"
err_line '^tearline: publish: --save: .*fresh\.report\.receipt exists'
[[ ! -e $WORK/fresh.report ]] || fail "a refused --save wrote the report"

echo "== a SECRET report from the CONFIDENTIAL Mexican liaison is rejected"
run 1 publish "${AS[@]}" --node fgr-liaison --topic intel.liaison.requests --classification SECRET --rel MEX \
  --text "Request: manifests of the Manzanillo containers."
no_err
[[ $(head -n1 "$WORK/out") == "REJECTED CLEARANCE_BELOW" ]] || { cat "$WORK/out"; fail "expected REJECTED CLEARANCE_BELOW"; }
out_has '^  CLEARANCE_BELOW: section 1: fgr-liaison is cleared CONFIDENTIAL and cannot publish SECRET$'
run 1 publish "${AS[@]}" --node fgr-liaison --topic intel.hq.tasking --classification SECRET --text x --json
python3 - "$WORK/out" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
v = json.loads(lines[0])
assert v["verdict"] == "REJECTED" and v["code"] == "CLEARANCE_BELOW", v
names = [r["name"] for r in v["reasons"]]
# Every reason, not only the first: clearance, the topic's deny, and no grant allowing it.
assert names.count("CLEARANCE_BELOW") == 1 and "TOPIC_WRITE_DENIED" in names, names
assert v["broker_seq"] == "0" and len(v["report_id"]) == 32, v
assert v["sections"][0]["label"]["classification"] == "SECRET", v
PY

echo "== a derived report looser than its source is rejected"
run 1 publish "${AS[@]}" --node diran-cucuta-commander --topic intel.seizures.summary --classification UNCLASSIFIED \
  --rel COL,USA --text "2.1 t seized near Cucuta." --source "$CUCUTA:2"
out_has '^REJECTED DERIVED_LABEL_LOOSER$'
out_has "^  DERIVED_LABEL_LOOSER: section 1 vs source ${CUCUTA:0:8} section 2: classification UNCLASSIFIED"

echo "== a sentinel every subscriber may read, published from flags (--rel as a comma list)"
run 0 publish "${AS[@]}" --node diran-cucuta-commander --topic intel.seizures.cucuta --classification UNCLASSIFIED \
  --rel COL,USA --text "Sentinel" --json
SENTINEL=$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["verdict"]=="ACCEPTED", v; print(v["report_id"])' "$WORK/out")

wait_for() {  # wait_for NAME: the subscriber exits 0
  local rc=0 pid_var="${1}_PID"
  wait "${!pid_var}" || rc=$?
  [[ $rc -eq 0 ]] || { cat "$WORK/$1.out" "$WORK/$1.err"; fail "subscriber $1 exited $rc"; }
}
wait_for agent
wait_for bogota
wait_for analyst

echo "== who received what"
python3 - "$WORK/agent.out" "$WORK/bogota.out" "$CUCUTA" "$SENTINEL" "$TEXT2" <<'PY'
import json, sys
agent = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
bogota = [json.loads(l) for l in open(sys.argv[2]).read().splitlines()]
cucuta, sentinel, text2 = sys.argv[3:6]
# The DEA agent embedded in the Cucuta unit: section 1 (REL COL) withheld, section 2 opened.
assert [r["report_id"] for r in agent] == [cucuta, sentinel], agent
r = agent[0]
assert r["originator"] == "diran-cucuta-commander" and r["topic"] == "unit.cucuta-jtf.seizures", r
assert r["signature"] == "valid" and int(r["broker_seq"]) > 0 and int(r["created_at_ms"]) > 0, r
s1, s2 = r["sections"]
assert s1 == {"index": 1, "status": "withheld", "text": ""}, s1  # a withheld label is absent
assert s2["index"] == 2 and s2["status"] == "opened" and s2["text"] == text2, s2
assert s2["label"] == {"classification": "CONFIDENTIAL", "releasable_to": ["COL", "USA"],
                       "units": ["cucuta-jtf"], "orcon": False}, s2
assert "content" not in s2, s2
# The DEA Bogota analyst is in no unit: nothing of the Cucuta report reached it
# (the sentinel, published after it, did).
assert [r["report_id"] for r in bogota] == [sentinel], bogota
assert bogota[0]["sections"][0]["text"] == "Sentinel", bogota
PY
grep -qF "  section 1 (SECRET REL COL UNITS cucuta-jtf): opened" "$WORK/analyst.out" || { cat "$WORK/analyst.out"; fail "analyst: section 1 not opened"; }
grep -qF "    | $TEXT1" "$WORK/analyst.out" || { cat "$WORK/analyst.out"; fail "analyst: section 1 text missing"; }
grep -qF "    | $TEXT2" "$WORK/analyst.out" || { cat "$WORK/analyst.out"; fail "analyst: section 2 text missing"; }
grep -q "^report $CUCUTA (broker seq [0-9]*)$" "$WORK/analyst.out" || { cat "$WORK/analyst.out"; fail "analyst: no report line"; }

echo "== the delivery receipts the broker kept: who received which sections of the Cucuta report"
# The subscribers acknowledged with signed receipts; the broker writes one audit entry per ACK.
for _ in $(seq 50); do
  rc=0
  timeout 20 "$TL" audit receipts --db "$WORK/data/tearline.db" --report "${CUCUTA:0:12}" --pki "$PKI" \
    >"$WORK/out" 2>"$WORK/err" || rc=$?
  [[ $rc -eq 0 ]] && grep -q '^dea-cucuta-agent ' "$WORK/out" && grep -q '^diran-cucuta-analyst ' "$WORK/out" && break
  sleep 0.1
done
out_has "^dea-cucuta-agent received report $CUCUTA seq [0-9]+, sections \\[2\\]$"
out_has "^diran-cucuta-analyst received report $CUCUTA seq [0-9]+, sections \\[1, 2\\]$"
out_has '^  receipt: valid$'
out_lacks 'invalid'
run 0 audit verify --db "$WORK/data/tearline.db" --pki "$PKI"
out_has '^OK [0-9]+ delivery receipts, every one verifies'

echo "== explain the saved report, offline"
run 0 explain "$WORK/cucuta.report" --pki "$PKI" --policy "$POLICY"
no_err
out_has "^report $CUCUTA by diran-cucuta-commander \(DIRAN, COL\) on unit.cucuta-jtf.seizures$"
out_has '^section 1: SECRET REL COL UNITS cucuta-jtf$'
out_has '^  sealed to: diran-cucuta-analyst, diran-cucuta-commander$'
out_has '^section 2: CONFIDENTIAL REL COL,USA UNITS cucuta-jtf$'
out_has '^  sealed to: dea-cucuta-agent, diran-cucuta-analyst, diran-cucuta-commander$'
block=$(explain_block 1 dea-bogota-analyst)
grep -qx '  dea-bogota-analyst: may not read' <<<"$block" || fail "section 1 dea-bogota-analyst: $block"
for code in COUNTRY_NOT_RELEASABLE NOT_UNIT_MEMBER TOPIC_READ_DENIED; do
  grep -q "^    $code: " <<<"$block" || fail "section 1 dea-bogota-analyst lacks $code: $block"
done
block=$(explain_block 2 dea-bogota-analyst)
grep -q '^    NOT_UNIT_MEMBER: dea-bogota-analyst is not a member of cucuta-jtf through a charter in force$' <<<"$block" || fail "section 2 dea-bogota-analyst: $block"
grep -q 'COUNTRY_NOT_RELEASABLE' <<<"$block" && fail "section 2 is releasable to USA: $block"
block=$(explain_block 1 fudra-lab-ops)
[[ $(grep -c '^    [A-Z_]*: ' <<<"$block") -eq 4 ]] || fail "section 1 fudra-lab-ops: expected 4 reasons: $block"
grep -q '^    CLEARANCE_BELOW: fudra-lab-ops is cleared CONFIDENTIAL, below the section.s SECRET$' <<<"$block" || fail "fudra: $block"
block=$(explain_block 1 dea-cucuta-agent)
[[ $(grep -c '^    [A-Z_]*: ' <<<"$block") -eq 1 ]] || fail "section 1 dea-cucuta-agent: expected 1 reason: $block"
grep -q "^    COUNTRY_NOT_RELEASABLE: dea-cucuta-agent's country USA is not in releasable-to COL$" <<<"$block" || fail "agent: $block"
block=$(explain_block 2 dea-cucuta-agent)
grep -qx '  dea-cucuta-agent: may read (sealed to it)' <<<"$block" || fail "section 2 dea-cucuta-agent: $block"
grep -q '^    grounds: credential valid; clearance SECRET >= CONFIDENTIAL; .*member of unit cucuta-jtf; read permission on unit.cucuta-jtf.seizures$' <<<"$block" || fail "agent grounds: $block"

echo "== explain with the label rules only, for one node"
run 0 explain "$WORK/cucuta.report" --directory "$PKI/directory" --node dea-bogota-analyst
out_has 'label rules only'
[[ $(grep -c '^  [a-z-]*: may' "$WORK/out") -eq 2 ]] || { cat "$WORK/out"; fail "expected one node per section"; }
[[ $(grep -c '^  dea-bogota-analyst: may not read$' "$WORK/out") -eq 2 ]] || { cat "$WORK/out"; fail "expected dea-bogota-analyst twice"; }
grep -q 'TOPIC_READ_DENIED' "$WORK/out" && fail "topic judged without --policy"
block=$(explain_block 1 dea-bogota-analyst)
[[ $(grep -c '^    [A-Z_]*: ' <<<"$block") -eq 2 ]] || fail "label rules: expected 2 reasons: $block"

echo "== explain: bad input and a tampered report"
run 2 explain "$WORK/none.report" --pki "$PKI"
err_line '^tearline: explain: report: IO_ERROR'
run 2 explain "$WORK/cucuta.report" --pki "$PKI" --node ghost
err_line 'UNKNOWN_NODE: node ghost'
run 2 explain "$WORK/cucuta.report" --pki "$PKI" --policy "$WORK/bad.toml"
err_line '^tearline: explain: --policy'
cp "$WORK/cucuta.report" "$WORK/tampered.report"
flip_byte "$WORK/tampered.report" -3  # a byte of the batch id, which the signed statement covers
run 1 explain "$WORK/tampered.report" --pki "$PKI"
[[ $(head -n1 "$WORK/out") == "NOT VERIFIED REPORT_SIGNATURE" ]] || { cat "$WORK/out"; fail "tampered report not refused"; }
out_has '^  REPORT_SIGNATURE: '

echo "== a subscriber whose credential is revoked: one line, exit 1"
serial=$("$TL" certs show --pki "$PKI" | grep -A3 -E '^  fudra-lab-ops$' | sed -n 's/.*serial \([0-9][0-9]*\).*/\1/p')
"$TL" certs revoke --pki "$PKI" --agency FUDRA --serial "$serial" --reason compromised >/dev/null
kill -HUP "$BROKER_PID"
rc=0
wait "$fudra_PID" || rc=$?
[[ $rc -eq 1 ]] || { cat "$WORK/fudra.err"; fail "revoked subscriber exited $rc, expected 1"; }
[[ $(wc -l <"$WORK/fudra.err") -eq 2 ]] || { cat "$WORK/fudra.err"; fail "expected the readiness line and one error line"; }
# subscribe ran with --json: its error is a JSON object carrying the code.
tail -n1 "$WORK/fudra.err" | grep -qE '^\{"code":"SESSION_REVOKED","exit":1,"message":"subscribe: the broker closed the session: SESSION_REVOKED' || { cat "$WORK/fudra.err"; fail "no SESSION_REVOKED line"; }
# The sentinel (UNCLASSIFIED REL COL,USA, intel.*) was the one report fudra-lab-ops could read.
python3 -c 'import json,sys; r=[json.loads(l)["report_id"] for l in open(sys.argv[1])]; assert r==[sys.argv[2]], r' \
  "$WORK/fudra.out" "$SENTINEL"

echo "== several --spec files: one signed batch, a verdict per report"
run 2 publish "${AS[@]}" --node diran-cucuta-commander --spec "$WORK/cucuta.toml" --spec "$WORK/cucuta.toml" \
  --save "$WORK/two.report"
err_line '^tearline: publish: --save writes one report: give one --spec with it$'
run 0 publish "${AS[@]}" --node diran-cucuta-commander --spec "$WORK/cucuta.toml" --spec "$WORK/cucuta.toml" \
  --spec "$WORK/cucuta.toml"
no_err
[[ $(grep -cE '^ACCEPTED report=[0-9a-f]{32} seq=[0-9]+$' "$WORK/out") -eq 3 ]] || { cat "$WORK/out"; fail "expected 3 ACCEPTED"; }
out_has '^  signed in batch [0-9a-f]{32} as report 3 of 3$'
[[ $(sed -n 's/^  signed in batch \([0-9a-f]*\) .*/\1/p' "$WORK/out" | sort -u | wc -l) -eq 1 ]] || { cat "$WORK/out"; fail "one batch id for the three"; }
run 0 publish "${AS[@]}" --node diran-cucuta-commander --spec "$WORK/cucuta.toml" --spec "$WORK/cucuta.toml" --json
python3 - "$WORK/out" <<'PY'
import json, sys
v = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert [x["verdict"] for x in v] == ["ACCEPTED", "ACCEPTED"], v
assert v[0]["batch_id"] == v[1]["batch_id"] and len(v[0]["batch_id"]) == 32, v
assert [x["batch_index"] for x in v] == [1, 2] and [x["batch_size"] for x in v] == [2, 2], v
assert v[0]["report_id"] != v[1]["report_id"], v
PY

echo "== publish --json carries the acceptance receipt; --force replaces --save's files"
run 0 publish "${AS[@]}" --node diran-cucuta-commander --spec "$WORK/cucuta.toml" --json --force \
  --save "$WORK/cucuta.report"
python3 - "$WORK/out" "$WORK/cucuta.report.receipt" <<'PY'
import base64, json, sys
v = json.loads(open(sys.argv[1]).read())
assert v["verdict"] == "ACCEPTED" and v["broker_id"] == "tearline-broker", v
assert int(v["accepted_ms"]) > 0 and v["accepted_at"].endswith("Z"), v
assert base64.b64decode(v["receipt"]) == open(sys.argv[2], "rb").read(), "receipt differs from FILE.receipt"
PY
run 0 receipt verify --report "$WORK/cucuta.report" --pki "$PKI" --json
out_has '"verdict":"VALID"'

kill -TERM "$BROKER_PID"
wait "$BROKER_PID" || fail "broker did not stop cleanly"

echo "== a further broker of the PKI (certs broker --additional): nodes name it with --broker-id"
run 0 certs broker --pki "$PKI" --agency DEA --id tearline-broker-2 --additional
out_has "^broker keys of tearline-broker-2 written to .*/keys/brokers/tearline-broker-2\.key \(mode 0600\)$"
out_has "nodes reach it with --broker-id tearline-broker-2"
[[ $(stat -c %a "$PKI/keys/brokers/tearline-broker-2.key") == 600 ]] || fail "the second broker's key file mode"
run 2 certs broker --pki "$PKI" --agency DEA --id tearline-broker-2 --additional
err_line "a credential of tearline-broker-2 already exists"
sed -e "s|keys/broker.key|keys/brokers/tearline-broker-2.key|" -e "s|$WORK/data|$WORK/data2|" \
  "$WORK/broker.toml" >"$WORK/broker2.toml"
start_broker "$WORK/broker2.toml" "$WORK/broker2.log"
EP2=$EP
ONE=(--node fgr-liaison --topic intel.liaison.x --classification CONFIDENTIAL --text "to the second broker")
run 0 publish --pki "$PKI" --broker "$EP2" --broker-id tearline-broker-2 "${ONE[@]}"
out_has '^  receipt: accepted by tearline-broker-2 at [0-9T:.-]+Z as seq 1 \(signed, verified\)$'
TEARLINE_BROKER_ID=tearline-broker-2 run 0 publish --pki "$PKI" --broker "$EP2" "${ONE[@]}"
out_has 'accepted by tearline-broker-2 .* as seq 2 '
# Without it, the PKI's first broker's key (broker.pub) is not this broker's.
run 1 publish --pki "$PKI" --broker "$EP2" "${ONE[@]}" --timeout 3000
err_line "HANDSHAKE_REFUSED: the broker's CURVE key does not match .*/directory/broker\.pub"
run 2 publish --pki "$PKI" --broker "$EP2" --broker-id fgr-liaison "${ONE[@]}"
err_line "UNKNOWN_NODE: no broker fgr-liaison in the directory .* \(a credential with role broker; "
kill -TERM "$BROKER_PID"
wait "$BROKER_PID" || fail "the second broker did not stop cleanly"
echo "node_cli: all checks passed"
