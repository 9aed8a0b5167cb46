"""The injection runner's comparison (tearline.inject.Runner.compare) can fail: each way a
delivery can differ from [case.deliver] and [case.cross] is a problem, named."""
from __future__ import annotations

from tearline.inject import Crossed, Runner, Sent
from tearline.policy import Label
from tearline.scenario import Case
from tearline.session import DeliveredSection, Delivery

REPORT_ID = bytes(range(16))
OTHER_ID = bytes(range(1, 17))
LABEL = Label("CONFIDENTIAL", ("COL",))


def runner() -> Runner:
    r = Runner.__new__(Runner)  # compare needs no broker: the state it reads, set here
    r.pending, r.held, r.names, r.unlinked = [], {}, {REPORT_ID.hex(): "seizure"}, {}
    return r


def delivery(report_id: bytes, *sections: tuple[str, bytes | None]) -> Delivery:
    return Delivery(broker_seq=7, writer="", report_id=report_id.hex(), originator="diran-bogota-hq",
                    topic="intel.labs", created_at_ms=1, sequence=1,
                    sections=[DeliveredSection(i, status, LABEL if status != "withheld" else None, text)
                              for i, (status, text) in enumerate(sections)],
                    report=b"", receipt=b"", path=b"", accepted_ms=1)


SENT = Sent("seizure", REPORT_ID, b"", [b"one", b"two"])
CASE = Case("seizure", "diran-bogota-hq", "accepted", deliver={"fgr-liaison": [2]}, cross={"dea-broker": [2]})


def problems(by_node, crossed=None) -> list[str]:
    if crossed is None:
        crossed = {"dea-broker": [Crossed(REPORT_ID.hex(), [2])]}
    return runner().compare(CASE, SENT, {"by_node": by_node, "crossed": crossed, "problems": []})


def test_exactly_what_was_expected_is_no_problem():
    assert problems({"fgr-liaison": [delivery(REPORT_ID, ("withheld", None), ("opened", b"two"))],
                     "fudra-lab-ops": []}) == []


def test_every_difference_is_a_problem():
    assert problems({"fgr-liaison": []}) == ["fgr-liaison: expected 'seizure' with sections [2] opened, got nothing"]
    assert problems({"fgr-liaison": [delivery(REPORT_ID, ("withheld", None), ("opened", b"TWO"))]}) == [
        "fgr-liaison: expected 'seizure' with sections [2] opened, got section 2 opened with other text than was sent"]
    assert problems({"fgr-liaison": [delivery(REPORT_ID, ("not_addressed", None), ("opened", b"two"))]}) == [
        "fgr-liaison: expected 'seizure' with sections [2] opened, got 'seizure': not_addressed [1], opened [2]"]
    assert problems({"fgr-liaison": [delivery(REPORT_ID, ("opened", b"one"), ("opened", b"two"))]}) == [
        "fgr-liaison: expected 'seizure' with sections [2] opened, got 'seizure': opened [1, 2]"]
    two = problems({"fgr-liaison": [delivery(REPORT_ID, ("withheld", None), ("opened", b"two"))] * 2})
    assert two == ["fgr-liaison: expected 'seizure' with sections [2] opened, got 2 reports"]
    assert problems({"fgr-liaison": [delivery(REPORT_ID, ("withheld", None), ("opened", b"two"))],
                     "fudra-lab-ops": [delivery(OTHER_ID, ("opened", b"x"))]}) == [
        f"fudra-lab-ops: expected nothing, got report {OTHER_ID.hex()[:8]} from diran-bogota-hq on intel.labs: "
        "opened [1]"]


def test_what_crosses_is_compared_and_must_verify():
    ok = {"fgr-liaison": [delivery(REPORT_ID, ("withheld", None), ("opened", b"two"))]}
    assert problems(ok, {"dea-broker": []}) == [
        "dea-broker (partner broker): expected 'seizure' with sections [2] crossing, got nothing"]
    assert problems(ok, {"dea-broker": [Crossed(REPORT_ID.hex(), [1, 2])]}) == [
        "dea-broker (partner broker): expected 'seizure' with sections [2] crossing, got 'seizure' with sections "
        "[1, 2] crossing"]
    broken = problems(ok, {"dea-broker": [Crossed(REPORT_ID.hex(), [2], "COMMITMENT_MISMATCH: section 2")]})
    assert broken == ["dea-broker (partner broker): got 'seizure' with sections [2] crossing that does not verify "
                      "(COMMITMENT_MISMATCH: section 2)"]
    assert problems(ok, {}) == ["dea-broker (partner broker): expected sections [2] crossing, but the runner holds "
                                "no link as it (no peering in effect names it as a partner)"]
