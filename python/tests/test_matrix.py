"""The demo world's delivery matrix, node by node and section by section, with Python
sessions only: the same reports and the same expected table as the C++ end-to-end test
(tests/e2e/broker_e2e_test.cc, "the demo world's delivery matrix").

Non-delivery is proven with a sentinel every node may read: deliveries on one session come
in broker order, so once a node has the sentinel, anything accepted before it has arrived."""
from __future__ import annotations

from brokers import DEMO_NODES
from tearline.errors import TearlineError
from tearline.testers import Forge, section

EVERYONE = ["COL", "MEX", "USA"]


class World:
    def __init__(self, broker) -> None:
        self.forge = Forge(broker.pki, broker.endpoint)
        self.sessions = {}
        self.names: dict[str, str] = {}
        for node in DEMO_NODES:
            s = self.forge.connect(node)
            s.subscribe(["intel.>"])
            try:
                s.subscribe(["unit.>"])
            except TearlineError as e:
                assert e.name == "TOPIC_READ_DENIED", e
            self.sessions[node] = s
        self.sentinels = 0
        self.deliveries()  # whatever earlier tests left in the nodes' mailboxes

    def close(self) -> None:
        for s in self.sessions.values():
            s.close()

    def publish(self, node: str, name: str, topic: str, sections) -> str:
        built = self.forge.build(node, topic, sections)
        outcome = self.sessions[node].publish(built.data)
        assert outcome.accepted, (name, outcome.reasons)
        self.names[outcome.report_id] = name
        return outcome.report_id

    def render(self, d) -> str:
        out = f"{self.names.get(d.report_id, 'unnamed:' + d.report_id)} from {d.originator} on {d.topic}:"
        for s in d.sections:
            out += f" [{s.status}"
            if s.status == "opened":
                out += f" {s.label.describe()} \"{s.text}\""
            out += "]"
        return out

    def deliveries(self) -> dict[str, list[str]]:
        self.sentinels += 1
        sentinel = self.publish("diran-bogota-hq", f"sentinel-{self.sentinels}", "intel.sentinel",
                                [section("UNCLASSIFIED", EVERYONE, "sentinel")])
        out: dict[str, list[str]] = {}
        for node, s in self.sessions.items():
            got = out.setdefault(node, [])
            while True:
                d = s.receive(5000)
                assert d is not None, f"{node} waiting for the sentinel after {got}"
                if d.report_id == sentinel:
                    break
                got.append(self.render(d))
        return out


def opened(s) -> str:
    return f" [opened {s.label.describe()} \"{s.text}\"]"


def test_the_demo_worlds_delivery_matrix(broker):
    w = World(broker)
    try:
        # (a) The Cucuta seizure: an informant section for DIRAN members of the unit only, and a
        # tear line the embedded DEA agent may read.
        informant = section("SECRET", ["COL"], "Informant CUCUTA-7: the load crosses at Puerto Santander on Friday",
                            units=["cucuta-jtf"])
        tearline = section("CONFIDENTIAL", ["COL", "USA"], "1.2 t of cocaine seized in Cucuta; two arrests",
                           units=["cucuta-jtf"])
        w.publish("diran-cucuta-commander", "cucuta-seizure", "unit.cucuta-jtf.seizures", [informant, tearline])
        a = "cucuta-seizure from diran-cucuta-commander on unit.cucuta-jtf.seizures:"
        # (b) A DEA Bogota financial lead for everyone cleared CONFIDENTIAL in COL, MEX, USA.
        lead = section("CONFIDENTIAL", EVERYONE, "Front company Inversiones Catatumbo SAS moves cash through Monterrey")
        w.publish("dea-bogota-analyst", "finance-lead", "intel.finance", [lead])
        b = "finance-lead from dea-bogota-analyst on intel.finance:" + opened(lead)
        # (c) A military lab report for Colombians only.
        lab = section("CONFIDENTIAL", ["COL"], "Lab destroyed near Tibu: 300 kg of base")
        w.publish("fudra-lab-ops", "lab-report", "intel.labs", [lab])
        c = "lab-report from fudra-lab-ops on intel.labs:" + opened(lab)
        # (d) A SECRET route report: the CONFIDENTIAL nodes are not cleared for it.
        route = section("SECRET", EVERYONE, "Go-fast boats leave Tumaco for Oaxaca on new moons")
        w.publish("diran-bogota-hq", "route-report", "intel.routes", [route])
        d = "route-report from diran-bogota-hq on intel.routes:" + opened(route)

        assert w.deliveries() == {
            "diran-cucuta-commander": [a + opened(informant) + opened(tearline), b, c, d],
            "diran-cucuta-analyst": [a + opened(informant) + opened(tearline), b, c, d],
            "diran-bogota-hq": [b, c, d],
            "dea-cucuta-agent": [a + " [withheld]" + opened(tearline), b, d],
            "dea-bogota-analyst": [b, d],
            "fudra-lab-ops": [b, c],
            "fgr-liaison": [b],
        }
    finally:
        w.close()
