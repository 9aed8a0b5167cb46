"""Interop both ways through a real broker: the Python client publishes and the C++
`tearline subscribe` opens it; the C++ `tearline publish` publishes and the Python client
(library and `python3 -m tearline sub`) opens it. Tear lines and batches included."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from brokers import CLI, run_cli
from tearline.testers import Forge, section

PYTHON_DIR = Path(__file__).resolve().parents[1]


def python_cli(*args: str, timeout: float = 30, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tearline", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=PYTHON_DIR, env=dict(os.environ), **kwargs)


class Background:
    """A subscriber process, started before the publish: it says it has subscribed on stderr."""

    def __init__(self, argv: list[str], ready: str) -> None:
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        cwd=PYTHON_DIR, env=dict(os.environ))
        deadline = time.monotonic() + 10
        line = ""
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if ready in line or not line:
                break
        assert ready in line, f"{argv[0]} did not subscribe: {line!r} {self.process.stderr.read()}"

    def lines(self, timeout: float = 20) -> list[dict]:
        out, err = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, err
        return [json.loads(line) for line in out.splitlines() if line.strip()]


def cpp_subscriber(broker, node: str, count: int, topic: str = ">") -> Background:
    return Background([CLI, "subscribe", "--pki", str(broker.pki), "-s", broker.endpoint, "-n", node, "-t", topic,
                       "--count", str(count), "--json"], "subscribed as")


def sections_of(report: dict) -> list[tuple[str, str]]:
    return [(s["status"], s.get("text", "")) for s in report["sections"]]


def test_python_publishes_cpp_subscribes_a_tear_line(broker):
    forge = Forge(broker.pki, broker.endpoint)
    agent = cpp_subscriber(broker, "dea-cucuta-agent", 1, "unit.>")
    commander = cpp_subscriber(broker, "diran-cucuta-analyst", 1, "unit.>")
    built = forge.build("diran-cucuta-commander", "unit.cucuta-jtf.seizures", [
        section("SECRET", ["COL"], "Informant CUCUTA-7 named the crossing", units=["cucuta-jtf"]),
        section("CONFIDENTIAL", ["COL", "USA"], "1.2 t seized in Cucuta", units=["cucuta-jtf"])])
    with forge.connect("diran-cucuta-commander") as session:
        outcome = session.publish(built.data)
    assert outcome.accepted, outcome.reasons
    [seen_by_agent] = agent.lines()
    [seen_by_analyst] = commander.lines()
    for seen in (seen_by_agent, seen_by_analyst):
        assert (seen["report_id"], seen["originator"], seen["signature"]) == (
            built.report_id.hex(), "diran-cucuta-commander", "valid")
        assert int(seen["broker_seq"]) == outcome.broker_seq
    assert sections_of(seen_by_agent) == [("withheld", ""), ("opened", "1.2 t seized in Cucuta")]
    assert sections_of(seen_by_analyst) == [("opened", "Informant CUCUTA-7 named the crossing"),
                                            ("opened", "1.2 t seized in Cucuta")]


def test_python_batch_and_cli_publish_reach_the_cpp_subscriber(broker):
    forge = Forge(broker.pki, broker.endpoint)
    reader = cpp_subscriber(broker, "fgr-liaison", 4, "intel.labs")
    drafts = [forge.draft("diran-bogota-hq", "intel.labs", [section("CONFIDENTIAL", ["COL", "MEX", "USA"],
                                                                    f"lab {i}")]) for i in range(3)]
    with forge.connect("diran-bogota-hq") as session:
        outcomes = session.publish_many(drafts)
    assert [o.accepted for o in outcomes] == [True, True, True]
    done = python_cli("pub", "--pki", str(broker.pki), "-s", broker.endpoint, "-n", "diran-bogota-hq",
                      "-t", "intel.labs", "--classification", "CONFIDENTIAL", "--rel", "COL,MEX,USA",
                      "--text", "lab from the Python CLI", "--json")
    assert done.returncode == 0, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["verdict"] == "ACCEPTED" and verdict["sections"][0]["recipients"] == sorted(
        ["dea-bogota-analyst", "dea-cucuta-agent", "diran-bogota-hq", "diran-cucuta-analyst",
         "diran-cucuta-commander", "fgr-liaison", "fudra-lab-ops"])
    got = reader.lines()
    assert [r["report_id"] for r in got] == [o.report_id for o in outcomes] + [verdict["report_id"]]
    assert [sections_of(r) for r in got] == [[("opened", f"lab {i}")] for i in range(3)] + [
        [("opened", "lab from the Python CLI")]]
    assert {r["signature"] for r in got} == {"valid"}


def test_cpp_publishes_python_library_and_cli_subscribe(broker):
    forge = Forge(broker.pki, broker.endpoint)
    with forge.connect("dea-cucuta-agent") as agent:
        agent.subscribe(["unit.cucuta-jtf.>"], session_only=True)
        cli_sub = Background([sys.executable, "-m", "tearline", "sub", "--pki", str(broker.pki), "-s",
                              broker.endpoint, "-n", "diran-cucuta-analyst", "-t", "unit.cucuta-jtf.>",
                              "--count", "1", "--json"], "subscribed")
        spec = broker.folder / "seizure.toml"
        spec.write_text('topic = "unit.cucuta-jtf.seizures"\n'
                        '[[section]]\nclassification = "SECRET"\nrel = ["COL"]\nunit = ["cucuta-jtf"]\n'
                        'text = "the informant\'s name"\n'
                        '[[section]]\nclassification = "CONFIDENTIAL"\nrel = ["COL", "USA"]\nunit = ["cucuta-jtf"]\n'
                        'text = "800 kg seized"\n')
        published = run_cli("publish", "--pki", str(broker.pki), "-s", broker.endpoint, "-n",
                            "diran-cucuta-commander", "--spec", str(spec), "--json")
        verdict = json.loads(published.stdout)
        assert verdict["verdict"] == "ACCEPTED"
        d = agent.receive(5000)
        assert d is not None and d.report_id == verdict["report_id"]
        assert d.originator == "diran-cucuta-commander" and d.broker_seq == int(verdict["broker_seq"])
        assert [(s.status, s.plaintext) for s in d.sections] == [("withheld", None), ("opened", b"800 kg seized")]
        [seen] = cli_sub.lines()
        assert seen["report_id"] == verdict["report_id"]
        assert [(s["status"], s.get("text")) for s in seen["sections"]] == [
            ("opened", "the informant's name"), ("opened", "800 kg seized")]


def test_a_cpp_built_report_opens_here_and_a_changed_ciphertext_is_refused(broker, tmp_path):
    """The report the C++ CLI built (--save) verifies and opens with the Python report layer;
    one bit of its ciphertext changed, COMMITMENT_MISMATCH (report-format 7)."""
    from tearline import report
    from tearline.errors import TearlineError
    from tearline.testers import parse
    forge = Forge(broker.pki, broker.endpoint)
    saved = tmp_path / "lead.report"
    run_cli("publish", "--pki", str(broker.pki), "-s", broker.endpoint, "-n", "dea-bogota-analyst",
            "-t", "intel.finance", "--classification", "CONFIDENTIAL", "--rel", "COL,MEX,USA",
            "--text", "cash through Monterrey", "--save", str(saved))
    data = saved.read_bytes()
    verified = report.verify_report(data, forge.directory)
    opened = report.open_sections(verified, "fgr-liaison", forge.keys("fgr-liaison"))
    assert [(o.status, o.plaintext) for o in opened] == [("opened", b"cash through Monterrey")]
    tampered = parse(data)
    tampered.sections[0].sealed.ciphertext = report.flip_byte(tampered.sections[0].sealed.ciphertext, 0)
    with pytest.raises(TearlineError) as caught:
        report.verify_report(report.serialize(tampered), forge.directory)
    assert caught.value.name == "COMMITMENT_MISMATCH"
