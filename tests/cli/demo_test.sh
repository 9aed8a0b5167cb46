#!/usr/bin/env bash
# Black-box test of `tearline demo`: from a fresh working directory (holding
# only certs/roster.toml and certs/policy.toml, as the repository root does)
# it generates the PKI, runs DIRAN's and DEA's brokers, peered, and seven
# node processes, exits 0, and its table says what the policy says, with the
# path of each copy. The triangle (FGR's broker too) and the single broker
# print the same routing table. A second run reuses the PKI and leaves it
# untouched (the revocation is made on a copy); --keep-running stops every
# child on Ctrl-C; no process or temporary folder outlives a run.
# Usage: demo_test.sh PATH/TO/tearline SOURCE_DIR
set -euo pipefail

TL=${1:?tearline}
SRC=${2:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-demo-test.XXXXXX")
PID=
cleanup() { [[ -n $PID ]] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$WORK/run/certs" "$WORK/tmp"
cp "$SRC/certs/roster.toml" "$SRC/certs/policy.toml" "$WORK/run/certs/"
cd "$WORK/run"
# The demo's temporary folders go under $WORK/tmp, so that we can see they are gone.
export TMPDIR=$WORK/tmp

# processes_under DIR: the command lines of live processes that mention DIR
# (read from /proc with bash alone, so that no helper process matches itself).
processes_under() {
  local p args
  for p in /proc/[0-9]*; do
    mapfile -d '' -t args <"$p/cmdline" 2>/dev/null || continue
    [[ "${args[*]}" == *"$1"* ]] && echo "${p#/proc/}: ${args[*]}"
  done
  return 0
}
# no_leftovers: no child of a demo run is alive and its temporary folder is gone.
no_leftovers() {
  local left
  left=$(processes_under "$WORK")
  [[ -z $left ]] || { echo "$left" >&2; fail "processes outlived the demo"; }
  [[ -z $(ls -A "$WORK/tmp") ]] || fail "temporary folder left behind: $(ls -A "$WORK/tmp")"
}

# cell ROW NODE: the first line of the table cell in row ROW (e.g. 1.2),
# column NODE (its short name), as printed in $WORK/out.
cell() {
  awk -v row="$1" -v col="$2" '
    /^section / && pos == 0 { pos = index($0, col) }
    pos > 0 && index($0, row " ") == 1 { s = substr($0, pos); sub(/  .*/, "", s); print s; exit }
  ' "$WORK/out"
}
expect_cell() {  # expect_cell ROW NODE TEXT
  local got
  got=$(cell "$1" "$2")
  [[ $got == "$3" ]] || { cat "$WORK/out"; fail "cell $1 / $2 is '$got', expected '$3'"; }
}

# 1. First run: generates the PKI, plays the scenario, exits 0.
rc=0
timeout 120 "$TL" demo --pki "$WORK/pki" >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$WORK/out" "$WORK/err"; fail "tearline demo exited $rc"; }
[[ -f $WORK/pki/directory/trust.toml ]] || fail "the demo PKI was not generated"
grep -q "generated the demo PKI" "$WORK/err" || fail "no PKI generation reported"
no_leftovers

# The informant section (SECRET REL COL, unit cucuta-jtf) stays Colombian;
# the tear line (CONFIDENTIAL REL COL,USA) reaches the embedded DEA agent,
# not the DEA Bogota office (not in the unit).
expect_cell 1.1 cucuta-cmdr "delivered"
expect_cell 1.1 dea-cucuta "withheld: COUNTRY"
expect_cell 1.1 fudra-lab "withheld: CLEARANCE"
expect_cell 1.2 dea-cucuta "delivered"
expect_cell 1.2 dea-bogota "withheld: UNIT"
expect_cell 1.2 bogota-hq "withheld: UNIT"
expect_cell 2.1 fudra-lab "delivered"
expect_cell 2.1 dea-bogota "withheld: COUNTRY"
expect_cell 3.1 fgr-liaison "delivered"
expect_cell 4.1 dea-bogota "delivered"
# After FGR revoked its liaison, a report released to MEX does not reach it.
expect_cell 8.1 fgr-liaison "revoked"
expect_cell 8.1 dea-cucuta "delivered"
for code in ORCON_VIOLATION ORIGINATOR_MISMATCH REPORT_SIGNATURE; do
  grep -q "REJECTED $code: " "$WORK/out" || { cat "$WORK/out"; fail "no REJECTED $code line"; }
done
grep -q "the broker closed fgr-liaison's session: SESSION_REVOKED" "$WORK/out" || fail "revoked session not closed"
grep -q "^Every node got exactly what the policy says" "$WORK/out" || fail "no success sentence"
! grep -q '!!' "$WORK/out" || { cat "$WORK/out"; fail "the table marks a mismatch"; }
grep -q "^tearline demo: 2 agencies' brokers, each pair peered: DIRAN's tearline-broker (tcp://.*), DEA's tearline-broker-dea (tcp://.*)" \
  "$WORK/out" || { cat "$WORK/out"; fail "the table does not name the two agencies' brokers"; }
grep -q "^demo: peering diran-dea v1 between tearline-broker and tearline-broker-dea signed by DIRAN and DEA" "$WORK/err" ||
  { cat "$WORK/err"; fail "no peering signed"; }

# path_lines ID: the path lines printed under publication ID's rows.
path_lines() {
  awk -v id="$1" '
    /^[0-9]+ / { in_pub = (index($0, id " ") == 1) }
    in_pub && /^    path / { sub(/^    path /, ""); print }
  ' "$WORK/out"
}
# (Command substitutions, not <(...): bash does not wait for a process
# substitution, and no_leftovers would find it still reading $WORK.)
expect_paths() {  # expect_paths ID LINE...
  local id=$1 want got
  shift
  want=$(printf '%s\n' "$@")
  got=$(path_lines "$id")
  [[ $got == "$want" ]] || { cat "$WORK/out"; printf 'expected:\n%s\ngot:\n%s\n' "$want" "$got"; fail "the paths of publication $id"; }
}
# The tear line crossed to DEA's broker, which served the embedded agent;
# DEA's reports crossed the other way to DIRAN's nodes and FUDRA's and FGR's,
# which DIRAN's broker serves; the army's Colombian-only report stayed home.
expect_paths 1 "tearline-broker: cucuta-cmdr, cucuta-analyst" "tearline-broker > tearline-broker-dea: dea-cucuta"
expect_paths 2 "tearline-broker: cucuta-cmdr, cucuta-analyst, bogota-hq, fudra-lab"
expect_paths 3 "tearline-broker-dea > tearline-broker: cucuta-cmdr, cucuta-analyst, bogota-hq, fudra-lab, fgr-liaison" \
  "tearline-broker-dea: dea-cucuta, dea-bogota"
expect_paths 8 "tearline-broker-dea > tearline-broker: cucuta-cmdr, cucuta-analyst, bogota-hq, fudra-lab" \
  "tearline-broker-dea: dea-cucuta, dea-bogota"
cp "$WORK/out" "$WORK/peered.out"

# 1b. The triangle: FGR's liaison on FGR's own broker; DEA's report reaches
# it over the DEA-FGR peering, and DIRAN's brokers pass nothing on (no
# transit): the same routing table.
rc=0
timeout 120 "$TL" demo --pki "$WORK/pki" --topology triangle >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$WORK/out" "$WORK/err"; fail "tearline demo --topology triangle exited $rc"; }
grep -q "^tearline demo: 3 agencies' brokers, each pair peered: .*, FGR's tearline-broker-fgr (tcp://.*)" "$WORK/out" ||
  { cat "$WORK/out"; fail "the table does not name FGR's broker"; }
expect_paths 3 "tearline-broker-dea > tearline-broker: cucuta-cmdr, cucuta-analyst, bogota-hq, fudra-lab" \
  "tearline-broker-dea: dea-cucuta, dea-bogota" "tearline-broker-dea > tearline-broker-fgr: fgr-liaison"
cp "$WORK/out" "$WORK/triangle.out"
no_leftovers

# 1c. One broker for every node: the routing table of the federation, line
# for line (the lines naming brokers, times, ids and the run's own events aside).
rc=0
timeout 120 "$TL" demo --pki "$WORK/pki" --topology single >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$WORK/out" "$WORK/err"; fail "tearline demo --topology single exited $rc"; }
! grep -q "^    path " "$WORK/out" || fail "one broker: no path is printed"
strip() { grep -Ev '^(--|demo:|tearline demo:)|^    path |REJECTED ORCON_VIOLATION|revokes|[0-9a-f]{8}' "$1"; }
strip "$WORK/out" >"$WORK/single.table"
strip "$WORK/peered.out" >"$WORK/peered.table"
strip "$WORK/triangle.out" >"$WORK/triangle.table"
diff "$WORK/single.table" "$WORK/peered.table" || fail "the peered table differs from the one-broker table"
diff "$WORK/single.table" "$WORK/triangle.table" || fail "the triangle's table differs from the one-broker table"
no_leftovers

# 2. Second run, JSON: reuses the PKI and leaves it exactly as it was.
before=$(cd "$WORK/pki" && find . -type f -exec sha256sum {} + | sort)
rc=0
timeout 120 "$TL" demo --pki "$WORK/pki" --json >"$WORK/json" 2>"$WORK/err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$WORK/json" "$WORK/err"; fail "second run exited $rc"; }
grep -q '"ok": true' "$WORK/json" || fail "JSON outcome is not ok"
grep -q '"mismatches": 0' "$WORK/json" || fail "JSON outcome has mismatches"
grep -q '"broker": "tearline-broker-dea"' "$WORK/json" || fail "JSON: no node names its broker"
grep -q '"routes": \[' "$WORK/json" || fail "JSON: no routes"
after=$(cd "$WORK/pki" && find . -type f -exec sha256sum {} + | sort)
[[ $before == "$after" ]] || fail "the demo modified the PKI in --pki"
no_leftovers

# 3. Bad input: one line, exit 1, nothing started.
rc=0
timeout 30 "$TL" demo --pki "$WORK/pki" --policy "$WORK/none.toml" >/dev/null 2>"$WORK/err" || rc=$?
[[ $rc -eq 1 ]] || fail "missing policy: exit $rc, expected 1"
grep -q "none.toml not found" "$WORK/err" || { cat "$WORK/err"; fail "missing policy not named"; }
no_leftovers

# 4. --keep-running: stays up after the table; SIGINT stops every child, exit 0.
"$TL" demo --pki "$WORK/pki" --keep-running >"$WORK/out" 2>"$WORK/err" &
PID=$!
for _ in $(seq 300); do grep -q "Reports the nodes receive from now on" "$WORK/out" && break; sleep 0.1; done
grep -q "Reports the nodes receive from now on" "$WORK/out" || { cat "$WORK/out" "$WORK/err"; fail "no keep-running"; }
[[ -n $(processes_under "$WORK/tmp") ]] || fail "nothing kept running"
kill -INT "$PID"
rc=0
for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
wait "$PID" || rc=$?
PID=
[[ $rc -eq 0 ]] || { cat "$WORK/err"; fail "keep-running demo exited $rc after SIGINT"; }
no_leftovers
echo "demo: all checks passed"
