"""Every fault kind of docs/injection.md, sent by the Python client (`python3 -m tearline
inject`) to real brokers, with the shipped scenarios: the broker's code for each case and
exactly which sections each node received, as the C++ runner checks them."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from brokers import SOURCE, Broker, make_pki, run_cli
from tearline.scenario import FAULTS, load_scenario

SCENARIOS = SOURCE / "tests" / "scenarios"


def inject(pki: Path, endpoint: str, scenario: Path, *extra: str, timeout: float = 240):
    """Runs `python3 -m tearline inject --json`; returns (exit code, JSON or None, stderr)."""
    env = dict(os.environ)
    done = subprocess.run([sys.executable, "-m", "tearline", "inject", "--pki", str(pki), "-s", endpoint, "--json",
                           *extra, str(scenario)], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=Path(__file__).resolve().parents[1])
    out = json.loads(done.stdout) if done.stdout.strip() else None
    return done.returncode, out, done.stderr


def expect_all_passed(result, scenario: Path) -> dict:
    rc, out, err = result
    assert out is not None, err
    failed = [c for c in out["cases"] if not c["passed"]]
    assert failed == [] and rc == 0, json.dumps(failed, indent=1) + err
    assert out["passed"] == len(load_scenario(scenario).cases)
    return out


def test_the_scenarios_name_every_fault_kind_of_the_doc():
    doc = (SOURCE / "docs" / "injection.md").read_text()
    table = doc.split("\n## Faults\n", 1)[1].split("\n\n**ACK faults.**", 1)[0]
    documented = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `")}
    assert documented == set(FAULTS)
    used = {c.fault for name in ("valid", "faults", "state", "boundary") for c in
            load_scenario(SCENARIOS / f"{name}.toml").cases if c.fault}
    assert used == set(FAULTS)


def test_valid_faults_and_state_scenarios(tmp_path):
    pki = make_pki(tmp_path)
    with Broker(tmp_path / "broker", pki) as broker:
        out = expect_all_passed(inject(pki, broker.endpoint, SCENARIOS / "valid.toml"), SCENARIOS / "valid.toml")
        assert all(len(c["report_id"]) == 32 for c in out["cases"])
        out = expect_all_passed(inject(pki, broker.endpoint, SCENARIOS / "faults.toml"), SCENARIOS / "faults.toml")
        got = {c["name"]: c["got"] for c in out["cases"]}
        assert got["forged-signature"] == "REPORT_SIGNATURE"
        assert got["garbage"] == "MALFORMED_FRAME"
        assert got["oversize-publish"] == "FRAME_TOO_LARGE"
        assert got["rogue-transport-key"] == "HANDSHAKE_REFUSED"
        assert got["ack-forged-receipt"] == "RECEIPT_INVALID"
        # A second run against the same broker: fresh ids and time-based sequences.
        expect_all_passed(inject(pki, broker.endpoint, SCENARIOS / "valid.toml"), SCENARIOS / "valid.toml")
        # state.toml revokes nodes in this PKI: last.
        expect_all_passed(inject(pki, broker.endpoint, SCENARIOS / "state.toml"), SCENARIOS / "state.toml")


def test_wrong_expectations_exit_1_and_say_why(broker, pki):
    rc, out, _ = inject(pki, broker.endpoint, SCENARIOS / "broken" / "mismatch.toml")
    assert rc == 1
    by_name = {c["name"]: c for c in out["cases"]}
    assert [c["passed"] for c in out["cases"]].count(False) == 2
    wrong = by_name["wrong-verdict"]
    assert (wrong["expected"], wrong["got"]) == ("accepted", "REPORT_SIGNATURE")
    assert by_name["wrong-deliveries"]["delivery_problems"]


def test_a_bad_scenario_exits_2_before_sending_anything(broker, pki):
    rc, out, err = inject(pki, broker.endpoint, SCENARIOS / "broken" / "malformed.toml")
    assert (rc, out) == (2, None)
    assert "unknown fault 'bad_sig'" in err and "malformed.toml" in err


def test_an_unreachable_broker_exits_3(pki):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc, out, err = inject(pki, f"tcp://127.0.0.1:{port}", SCENARIOS / "valid.toml", "--timeout", "500")
    assert (rc, out) == (3, None)
    assert "unreachable" in err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_boundary_scenario_as_the_partner_broker(tmp_path):
    """DEA a partner agency with its own broker; the runner plays dea-broker both ways."""
    pki = make_pki(tmp_path)
    run_cli("certs", "broker", "--pki", str(pki), "--agency", "DEA", "--id", "dea-broker", "--additional")
    run_cli("certs", "peering", "create", "--pki", str(pki), "--id", "diran-dea", "--first", "DIRAN",
            "--first-broker", "tearline-broker", "--second", "DEA", "--second-broker", "dea-broker",
            "--first-to-second-topic", "intel.>", "--first-to-second-ceiling", "CONFIDENTIAL",
            "--first-to-second-releasable", "USA", "--second-to-first-topic", "intel.>",
            "--second-to-first-ceiling", "CONFIDENTIAL", "--second-to-first-releasable", "COL")
    for agency in ("DIRAN", "DEA"):
        run_cli("certs", "peering", "cosign", "--pki", str(pki), "--id", "diran-dea", "--version", "1",
                "--agency", agency)
    trust = pki / "directory" / "trust.toml"
    lines, in_dea = [], False
    for line in trust.read_text().splitlines():  # DEA a partner: stands in for `certs import` of its folder
        lines.append(line)
        in_dea = in_dea or line.strip() == 'agency = "DEA"'
        if in_dea and line.startswith("verify_key"):
            lines.append("partner = true")
            in_dea = False
    trust.write_text("\n".join(lines) + "\n")
    serve = f"tcp://127.0.0.1:{free_port()}"
    with Broker(tmp_path / "broker", pki, f'\n[[peer]]\nbroker = "dea-broker"\nendpoint = "{serve}"\n') as broker:
        scenario = SCENARIOS / "boundary.toml"
        out = expect_all_passed(inject(pki, broker.endpoint, scenario, "--serve", f"dea-broker={serve}"), scenario)
        got = {c["name"]: c["got"] for c in out["cases"]}
        assert got["forged-hop-stamp"] == got["replayed-hop-stamp"] == "RECEIPT_INVALID"
        assert got["loop"] == "CROSSING_LOOP"
        assert got["revoked-peering"] == "SESSION_REVOKED"
        status = run_cli("status", "--pki", str(pki), "--broker", broker.endpoint, "-n", "diran-cucuta-commander")
        assert "peers:      0 of 1 links receiving; 2 copies taken, 3 refused" in status.stdout
