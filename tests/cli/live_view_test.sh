#!/usr/bin/env bash
# The live view in a real browser: headless Chromium (Debian's `chromium`,
# `chromium-driver`, `python3-selenium`) opens the broker's /live page,
# then `tearline inject` plays tests/scenarios/valid.toml and two faults;
# every cell of the page must say what the scenario says (delivered, or
# withheld with its reason codes), the tear line must be drawn where a
# node got some sections of a report and not others, the rejections must
# show their codes, a revocation (tests/scenarios/state.toml) must mark
# its node, and no section's text may appear in the page or its event
# stream. A screenshot is left in ARTIFACTS/live_view.png.
# Usage: live_view_test.sh PATH/TO/tearline PATH/TO/tearline-broker SOURCE_DIR ARTIFACTS
set -euo pipefail

TL=${1:?tearline}
BROKER=${2:?tearline-broker}
SRC=${3:?source dir}
ARTIFACTS=${4:?artifacts dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-live.XXXXXX")
BROKER_PID=
cleanup() { [[ -n $BROKER_PID ]] && kill -9 "$BROKER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"
# Debian's python3, whose selenium the packages installed (not a python3 earlier on PATH).
PY=/usr/bin/python3
[[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] || fail "chromium and chromium-driver are not installed (scripts/install-deps.sh)"
mkdir -p "$ARTIFACTS"

# With a token, as a broker listening off loopback needs: the page takes it
# from its own address and hands it to its event stream.
TOKEN=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
(umask 077 && echo "$TOKEN" >"$WORK/token")
start_metrics_broker "metrics_token_file = \"$WORK/token\""

cat >"$WORK/faults.toml" <<'TOML'
[[case]]
name = "forged"
as = "dea-bogota-analyst"
fault = "bad_signature"
topic = "intel.routes.pacific"
expect = "REPORT_SIGNATURE"
[[case.section]]
classification = "CONFIDENTIAL"
rel = ["COL", "USA"]
text = "a forged route report"

[[case]]
name = "stale"
as = "diran-cucuta-analyst"
fault = "stale_time"
topic = "intel.labs.narino"
expect = "STALE_REPORT"
[[case.section]]
classification = "CONFIDENTIAL"
rel = ["COL"]
text = "a stale lab report"
TOML

"$PY" - "$HTTP" "$TL" "$WORK/pki" "$ENDPOINT" "$SRC/tests/scenarios/valid.toml" "$WORK/faults.toml" \
  "$SRC/tests/scenarios/state.toml" "$ARTIFACTS/live_view.png" "$TOKEN" <<'PY' || fail "the live view does not show the scenario"
import json, subprocess, sys, time, tomllib, urllib.error, urllib.request
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

http, tl, pki, endpoint, valid, faults, state, shot, token = sys.argv[1:]
try:
    urllib.request.urlopen("http://%s/live" % http, timeout=5)
    raise SystemExit("the page was served without the token")
except urllib.error.HTTPError as e:
    assert e.code == 401, e.code
options = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1600,2400"):
    options.add_argument(a)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.get("http://%s/live?token=%s" % (http, token))
    deadline = time.time() + 20
    while driver.find_element(By.ID, "status").text != "live":
        assert time.time() < deadline, "the page never said live: " + driver.find_element(By.ID, "status").text
        time.sleep(0.1)

    def inject(path):
        run = subprocess.run([tl, "inject", "--pki", pki, "--broker", endpoint, "--json", path],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        return json.loads(run.stdout)

    cases = tomllib.load(open(valid, "rb"))["case"]
    ran = inject(valid)
    failed = inject(faults)
    ids = {c["name"]: c["report_id"] for c in ran["cases"]}
    nodes = ["diran-cucuta-commander", "diran-cucuta-analyst", "diran-bogota-hq", "dea-cucuta-agent",
             "dea-bogota-analyst", "fudra-lab-ops", "fgr-liaison"]

    def row(report, section):
        found = driver.find_elements(By.CSS_SELECTOR, 'tr[data-report="%s"][data-section="%d"]' % (report, section))
        return found[0] if found else None

    # Every cell of every case, once the page has drawn the last one.
    last = cases[-1]
    deadline = time.time() + 20
    while row(ids[last["name"]], len(last["section"])) is None or \
            len(driver.find_elements(By.CSS_SELECTOR, "#rejections tbody tr")) < 2:
        assert time.time() < deadline, "the page never drew the whole scenario"
        time.sleep(0.2)
    # What the broker said, from its stream: the codes each withheld cell must show.
    with urllib.request.urlopen("http://%s/events?after=0&token=%s" % (http, token), timeout=10) as stream:
        events = b""
        while b"STALE_REPORT" not in events:
            events += stream.read1(65536)
    told = {}
    for block in events.decode().split("\n\n"):
        lines = dict(l.split(": ", 1) for l in block.splitlines() if ": " in l)
        if lines.get("event") == "delivery":
            d = json.loads(lines["data"])
            told[(d["report"], d["node"])] = {w["section"]: " ".join(w["codes"]) for w in d["withheld"]}

    # The table as one snapshot (the page redraws whole, so elements go stale).
    snapshot_js = """return [...document.querySelectorAll('#routing tbody tr')].map(r => ({
        report: r.dataset.report, section: +r.dataset.section, cls: r.className, text: r.textContent,
        label: (r.querySelector('td.label') || {textContent: ''}).textContent,
        cells: Object.fromEntries([...r.querySelectorAll('td[data-node]')].map(
            c => [c.dataset.node, {cls: c.className, text: c.textContent}]))}));"""

    def check_cells():
        rows = {(r["report"], r["section"]): r for r in driver.execute_script(snapshot_js)}
        checked = 0
        for case in cases:
            if case.get("expect") != "accepted":
                continue
            report = ids[case["name"]]
            deliver = case.get("deliver", {})
            first = rows.get((report, 1))
            assert first is not None and case["topic"] in first["text"], "%s: no report cell" % case["name"]
            for s in range(1, len(case["section"]) + 1):
                r = rows.get((report, s))
                assert r is not None, "%s: no row for section %d" % (case["name"], s)
                assert case["section"][s - 1]["classification"] in r["label"], (case["name"], r["label"])
                for node in nodes:
                    cell = r["cells"].get(node)
                    assert cell is not None, "%s section %d: no cell for %s" % (case["name"], s, node)
                    want = "delivered" if s in deliver.get(node, []) else "withheld"
                    assert cell["cls"] == want, "%s section %d at %s: %s (%s), expected %s" % (
                        case["name"], s, node, cell["cls"], cell["text"], want)
                    if want == "withheld":
                        said = told[(report, node)][s]
                        assert cell["text"] == said, "%s section %d at %s: %r, the broker said %r" % (
                            case["name"], s, node, cell["text"], said)
                    checked += 1
                # The tear line: some node got another section of this report but not this one.
                torn = any(v and s not in v for v in deliver.values())
                assert ("tear" in r["cls"]) == torn, "%s section %d: tear line" % (case["name"], s)
        return checked

    deadline = time.time() + 15  # the page redraws 100 ms after a burst of events
    while True:
        try:
            checked = check_cells()
            break
        except (AssertionError, KeyError):
            if time.time() > deadline:
                raise
            time.sleep(0.3)
    assert checked >= 7 * 10, checked

    codes = sorted(c.text for c in driver.find_elements(By.CSS_SELECTOR, "#rejections td.rejected"))
    assert codes == ["REPORT_SIGNATURE", "STALE_REPORT"], codes
    assert [c["got"] for c in failed["cases"]] == ["REPORT_SIGNATURE", "STALE_REPORT"]

    # No section's text anywhere: not in the page, not in its event stream.
    page = driver.page_source
    for source in (cases, tomllib.load(open(faults, "rb"))["case"]):
        for case in source:
            for section in case["section"]:
                assert section["text"] not in page, "text in the page: " + section["text"]
                assert section["text"].encode() not in events, "text in the stream: " + section["text"]
    # A revocation (state.toml revokes fudra-lab-ops and reloads the broker):
    # its column is marked, and the log says so and that its session closed.
    inject(state)
    deadline = time.time() + 20
    while "revoked" not in (driver.find_element(By.CSS_SELECTOR, 'th[data-node="fudra-lab-ops"]').get_attribute("class") or ""):
        assert time.time() < deadline, "fudra-lab-ops is not marked revoked"
        time.sleep(0.2)
    log = driver.find_element(By.ID, "log").text
    assert "credential ended (revoked or removed): fudra-lab-ops" in log, log
    assert "closed fudra-lab-ops (SESSION_REVOKED)" in log, log
    driver.save_screenshot(shot)
    print("checked %d cells" % checked)
finally:
    driver.quit()
PY

kill -TERM "$BROKER_PID"
wait "$BROKER_PID" || fail "the broker did not stop cleanly"
BROKER_PID=
echo "live_view: all checks passed"
