#!/usr/bin/env bash
# The broker's metrics endpoint scraped by a real Prometheus (Debian's
# `prometheus`, started here on loopback ports of its own): a scenario runs
# through `tearline inject`, then Prometheus's HTTP API must report the
# counts the scenario makes: reports accepted (every ACCEPTED the runner
# saw), rejected by code, sections withheld by reason, deliveries.
# Usage: metrics_prometheus_test.sh PATH/TO/tearline PATH/TO/tearline-broker SOURCE_DIR
set -euo pipefail

TL=${1:?tearline}
BROKER=${2:?tearline-broker}
SRC=${3:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-metrics.XXXXXX")
PIDS=()
cleanup() {
  for p in ${BROKER_PID:-} "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
command -v prometheus >/dev/null || fail "prometheus is not installed (scripts/install-deps.sh)"

start_metrics_broker
PIDS+=("$BROKER_PID")
METRICS=$HTTP

# The endpoint itself: the text format, and 404 elsewhere.
python3 - "$METRICS" <<'PY' || fail "the metrics endpoint does not answer as it should"
import sys, urllib.request, urllib.error
base = "http://" + sys.argv[1]
with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    text = r.read().decode()
for line in ("# TYPE tearline_reports_accepted_total counter", "tearline_reports_accepted_total 0",
             'tearline_sessions{state="ready"} 0', "# TYPE tearline_commit_duration_seconds histogram",
             'tearline_commit_duration_seconds_bucket{le="+Inf"}', "tearline_build_info{version="):
    assert line in text, line + " missing in:\n" + text
try:
    urllib.request.urlopen(base + "/nothing", timeout=5)
    raise SystemExit("/nothing answered")
except urllib.error.HTTPError as e:
    assert e.code == 404, e.code
PY

# A Prometheus that scrapes it every second.
PROM_PORT=$(free_port)
cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: tearline
    static_configs:
      - targets: ["$METRICS"]
YML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" 2>"$WORK/prometheus.log" &
PIDS+=($!)

# The scenario: one report whose second section is releasable to Colombia
# only (withheld from the two DEA nodes and FGR's liaison: 3 sections
# withheld, COUNTRY_NOT_RELEASABLE), two forged signatures and one stale
# report (rejected by code).
cat >"$WORK/scenario.toml" <<'TOML'
[[case]]
name = "colombia-only"
as = "diran-bogota-hq"
topic = "intel.finance.metrics"
expect = "accepted"
[[case.section]]
classification = "CONFIDENTIAL"
rel = ["COL", "USA", "MEX"]
text = "for every partner"
[[case.section]]
classification = "CONFIDENTIAL"
rel = ["COL"]
text = "Colombia only"
[case.deliver]
diran-cucuta-commander = [1, 2]
diran-cucuta-analyst = [1, 2]
diran-bogota-hq = [1, 2]
fudra-lab-ops = [1, 2]
dea-cucuta-agent = [1]
dea-bogota-analyst = [1]
fgr-liaison = [1]

[[case]]
name = "forged-1"
as = "dea-bogota-analyst"
fault = "bad_signature"
topic = "intel.routes.pacific"
expect = "REPORT_SIGNATURE"
[[case.section]]
classification = "CONFIDENTIAL"
rel = ["COL", "USA"]
text = "forged"

[[case]]
name = "forged-2"
as = "dea-bogota-analyst"
fault = "bad_signature"
topic = "intel.routes.pacific"
expect = "REPORT_SIGNATURE"
[[case.section]]
classification = "CONFIDENTIAL"
rel = ["COL", "USA"]
text = "forged again"

[[case]]
name = "stale"
as = "diran-cucuta-analyst"
fault = "stale_time"
topic = "intel.labs.narino"
expect = "STALE_REPORT"
[[case.section]]
classification = "CONFIDENTIAL"
rel = ["COL"]
text = "old news"
TOML
# A reader of the live event stream (GET /events) from before the run; it
# writes every event down until the cleanup stops it.
python3 - "$METRICS" "$WORK/events" <<'PY' &
import sys, time, urllib.request
with urllib.request.urlopen("http://" + sys.argv[1] + "/events", timeout=60) as r, open(sys.argv[2], "w") as out:
    assert r.headers["Content-Type"].startswith("text/event-stream"), r.headers
    for raw in r:
        out.write(raw.decode())
        out.flush()
PY
PIDS+=($!)
rc=0
timeout 120 "$TL" inject --pki "$WORK/pki" --broker "$ENDPOINT" --json "$WORK/scenario.toml" >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$WORK/out" "$WORK/err"; fail "the scenario exited $rc"; }

# What the runner saw: each case's verdict; a sentinel after each case and
# one before the first, each accepted and delivered to the 7 nodes.
read -r ACCEPTED REJ_SIG REJ_STALE < <(python3 - "$WORK/out" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
got = [c["got"] for c in run["cases"]]
sentinels = len(got) + 1
print(got.count("accepted") + sentinels, got.count("REPORT_SIGNATURE"), got.count("STALE_REPORT"))
PY
)
[[ $ACCEPTED -eq 6 && $REJ_SIG -eq 2 && $REJ_STALE -eq 1 ]] || fail "the runner saw $ACCEPTED/$REJ_SIG/$REJ_STALE"
NODES=7
DELIVERIES=$((ACCEPTED * NODES))

# query EXPR EXPECTED [ge]: waits (up to 30 s) until Prometheus answers
# EXPECTED for EXPR (with ge: at least EXPECTED).
query() {
  python3 - "$PROM_PORT" "$1" "$2" "${3:-eq}" <<'PY'
import json, sys, time, urllib.parse, urllib.request
port, expr, want, how = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
url = "http://127.0.0.1:%s/api/v1/query?query=%s" % (port, urllib.parse.quote(expr))
last = None
deadline = time.time() + 30
while time.time() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
        result = body["data"]["result"]
        last = result[0]["value"][1] if result else "(no series)"
        if result and (float(last) == float(want) if how == "eq" else float(last) >= float(want)):
            sys.exit(0)
    except Exception as e:  # Prometheus still starting, or no scrape yet
        last = repr(e)
    time.sleep(0.5)
sys.exit("Prometheus says %s = %s, expected %s" % (expr, last, want))
PY
}
query 'up{job="tearline"}' 1 || fail "Prometheus does not scrape the broker"
query tearline_reports_accepted_total "$ACCEPTED" || fail "accepted"
query tearline_reports_rejected_total 3 || fail "rejected"
query 'tearline_reports_rejected_by_code_total{code="REPORT_SIGNATURE"}' "$REJ_SIG" || fail "rejected REPORT_SIGNATURE"
query 'tearline_reports_rejected_by_code_total{code="STALE_REPORT"}' "$REJ_STALE" || fail "rejected STALE_REPORT"
query 'tearline_sections_withheld_total{reason="COUNTRY_NOT_RELEASABLE"}' 3 || fail "withheld COUNTRY_NOT_RELEASABLE"
query 'count(tearline_sections_withheld_total)' 1 || fail "sections withheld for another reason"
query tearline_deliveries_total "$DELIVERIES" || fail "deliveries"
query 'tearline_commit_batch_reports_sum' "$ACCEPTED" || fail "reports in committed batches"
query 'tearline_verify_duration_seconds_count' $((ACCEPTED + 3)) || fail "verifications"
# Sessions now: two subscribers held open across scrapes, then none.
for node in diran-cucuta-analyst fgr-liaison; do
  timeout 60 "$TL" subscribe --pki "$WORK/pki" --broker "$ENDPOINT" -n "$node" -t 'intel.none' >/dev/null 2>&1 &
  PIDS+=($!)
done
query 'tearline_sessions{state="ready"}' 2 || fail "two ready sessions"
kill "${PIDS[@]:2}" 2>/dev/null || true
query 'tearline_sessions{state="ready"}' 0 || fail "no session left"
# Nothing moved on after the counts were reached: a second look, scrapes later.
sleep 3
query tearline_reports_accepted_total "$ACCEPTED" || fail "accepted, a second look"
query tearline_deliveries_total "$DELIVERIES" || fail "deliveries, a second look"
query 'tearline_sections_withheld_total{reason="COUNTRY_NOT_RELEASABLE"}' 3 || fail "withheld, a second look"

# The live event stream: the scenario's routing table cell for cell (the
# report's delivery to each node, the withheld section with its code), the
# rejections with their codes, the sessions; and no section's text.
sleep 2
python3 - "$WORK/events" "$WORK/scenario.toml" <<'PY' || fail "the live event stream does not tell the scenario"
import json, sys, tomllib
events = []
kind = None
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("event: "):
        kind = line[7:]
    elif line.startswith("data: "):
        events.append((kind, json.loads(line[6:])))
scenario = tomllib.load(open(sys.argv[2], "rb"))
text = open(sys.argv[1]).read()
# (The broker never holds a section's text: this guards the stream against
# ever carrying anything of the report's bytes.)
for case in scenario["case"]:
    for section in case["section"]:
        assert section["text"] not in text, "a section's text is in the stream: " + section["text"]
reports = [d for k, d in events if k == "report" and d["topic"] == "intel.finance.metrics"]
assert len(reports) == 1, reports
report = reports[0]
assert [s["releasable_to"] for s in report["sections"]] == [["COL", "MEX", "USA"], ["COL"]], report
assert report["originator"] == "diran-bogota-hq" and report["sections"][1]["classification"] == "CONFIDENTIAL"
told = [d for k, d in events if k == "delivery" and d["report"] == report["report"]]
cells = {d["node"]: d for d in told}
assert len(told) == len(cells), "a node's delivery told twice"
want = scenario["case"][0]["deliver"]
assert set(cells) == set(want), (sorted(cells), sorted(want))
for node, sections in want.items():
    got = cells[node]
    assert got["delivered"] == sections, (node, got)
    withheld = [w["section"] for w in got["withheld"]]
    assert withheld == [n for n in (1, 2) if n not in sections], (node, got)
    for w in got["withheld"]:
        assert w["codes"] == ["COUNTRY_NOT_RELEASABLE"], (node, got)
rejected = sorted(c for k, d in events if k == "rejected" for c in d["codes"][:1])
assert rejected == ["REPORT_SIGNATURE", "REPORT_SIGNATURE", "STALE_REPORT"], rejected
ready = {d["node"] for k, d in events if k == "session" and d["state"] == "ready"}
assert set(want) <= ready, ready
closed = {d["node"] for k, d in events if k == "session" and d["state"] == "closed"}
assert set(want) <= closed, closed  # the runner's sessions ended with the run
ids = []
for line in text.splitlines():
    if line.startswith("id: "):
        epoch, n = line[4:].split("-")
        ids.append((epoch, int(n)))
assert len({e for e, _ in ids}) == 1, "ids of one run carry one epoch"
assert [n for _, n in ids] == list(range(1, len(ids) + 1)), "ids not EPOCH-1, EPOCH-2, ..."
PY

# `tearline status` says the same (a node with the admin role asks).
"$TL" status --pki "$WORK/pki" --broker "$ENDPOINT" -n diran-cucuta-commander >"$WORK/status" 2>&1 ||
  { cat "$WORK/status"; fail "tearline status"; }
grep -q "^rejected:   REPORT_SIGNATURE $REJ_SIG, STALE_REPORT $REJ_STALE$" "$WORK/status" ||
  { cat "$WORK/status"; fail "status: rejected by code"; }
grep -q "^withheld:   COUNTRY_NOT_RELEASABLE 3 (sections, by reason)$" "$WORK/status" ||
  { cat "$WORK/status"; fail "status: withheld by reason"; }
"$TL" status --pki "$WORK/pki" --broker "$ENDPOINT" -n diran-cucuta-commander --json >"$WORK/status.json"
grep -q "\"rejected_by_code\":{[^}]*\"REPORT_SIGNATURE\":\"$REJ_SIG\"" "$WORK/status.json" ||
  { cat "$WORK/status.json"; fail "status --json: rejected_by_code"; }

kill -TERM "${PIDS[0]}"
wait "${PIDS[0]}" || fail "the broker did not stop cleanly"
echo "metrics_prometheus: all checks passed"
