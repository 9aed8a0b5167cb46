"""`python3 -m tearline inject`: the scenario runner of docs/injection.md, in Python.

Runner(scenario, pki, endpoint, serve, timeout_ms).run() runs every case of a
scenario (tearline.scenario) against a live broker, as `tearline inject`
does: one session per node of the directory valid now, each subscribed to
'>'; per case a fresh session of the sender sends the case's message (valid,
or with its fault, tearline.testers); then a sentinel every node may read,
and every held session is read up to it; what arrived before it is compared
with [case.deliver], and the broker's answer with `expect`.

Differences from the C++ runner, each on purpose: the policy faults are sent
as written without judging them locally first (the broker's verdict is the
test), and the peerings in effect are read as tearline.partner says.

Raises Unreachable when the broker does not answer (the CLI's exit 3). The
sends as someone else are in tearline.inject_faults, the values in
tearline.inject_verdict.
"""
from __future__ import annotations

import time
from pathlib import Path

from . import codes, receipt, report, testers, wire
from .errors import TearlineError
from .inject_faults import FaultSends
from .inject_verdict import (CaseResult, Crossed, Sent, Unreachable, Verdict, accepted, failed, numbers, problem,
                             rejected)
from .partner import PartnerServer, peerings_in_effect
from .policy import Label
from .scenario import (ACCEPTED, ACK, CONNECTION, FROM_PARTNER, PARTNER, RAW_FRAME, REPLAY, Case, Scenario)
from .session import Delivery, DeliveryRefused, Session

TEN_MINUTES_MS = 10 * 60 * 1000
CUT_OFF_WAIT_MS = 100  # a revoked node's session, read after the sentinel


class Runner(FaultSends):
    def __init__(self, scenario: Scenario, pki: str | Path, endpoint: str, *,
                 serve: dict[str, str] | None = None, timeout_ms: int = 5000) -> None:
        self.scenario = scenario
        self.pki = Path(pki)
        self.forge = testers.Forge(pki, endpoint, timeout_ms=timeout_ms)
        self.timeout_ms = timeout_ms
        self.serve = dict(serve or {})
        self.held: dict[str, Session] = {}
        self.cut_off: dict[str, Session] = {}
        self.links: dict[str, tuple[Session, object]] = {}     # partner broker -> (raw session, peering)
        self.unlinked: dict[str, str] = {}
        self.servers: dict[str, PartnerServer] = {}
        self.sent: list[Sent | None] = [None] * len(scenario.cases)
        self.hop_stamps: dict[int, bytes] = {}
        self.names: dict[str, str] = {}                          # report id hex -> case name
        self.last_accepted: dict[str, int] = {}
        self.pending: list[str] = []
        self.sentinels = 0

    # -- helpers -------------------------------------------------------------------

    @property
    def directory(self):
        return self.forge.directory

    def _valid_now(self, node: str) -> bool:
        return not self.directory.check_node(node, testers.now_ms())

    def _is_partner(self, agency: str) -> bool:
        a = self.directory.authorities.get(agency)
        return a is not None and a.partner

    def _connect(self, node: str, **options) -> Session:
        try:
            return self.forge.connect(node, **options)
        except TearlineError as e:
            if e.code == codes.UNAVAILABLE:
                raise Unreachable(str(e)) from None
            raise

    def _admin(self) -> str:
        if self.scenario.admin:
            return self.scenario.admin
        for c in self.directory.nodes():
            if "admin" in c.roles:
                return c.node_id
        raise TearlineError(codes.INVALID_FIELD, "no node of the directory has the admin role")

    def _draft(self, case: Case, originator: str) -> report.Draft:
        sections = [testers.section(s.classification, s.rel, s.text, units=s.units, orcon=s.orcon)
                    for s in case.sections]
        d = self.forge.draft(originator, case.topic, sections)
        if case.derive_from is not None:
            src = self.sent[case.derive_from]
            if src is None:
                raise TearlineError(codes.INVALID_FIELD, "derive_from case sent no report")
            d.sources.append(report.Source(src.report_id, list(case.derive_sections)))
        return d

    def _record(self, index: int, case: Case, built: report.BuiltReport, data: bytes | None = None) -> None:
        self.sent[index] = Sent(case.name, built.report_id, data if data is not None else built.data,
                                [s.content for s in built.draft.sections[:len(case.sections)]])
        self.names[built.report_id.hex()] = case.name

    def _publish(self, session: Session, data: bytes) -> Verdict:
        try:
            outcome = session.publish(data, self.timeout_ms)
        except TearlineError as e:
            if e.code == codes.UNAVAILABLE:
                raise Unreachable(str(e)) from None
            return failed(e)
        return accepted() if outcome.accepted else rejected(outcome)

    def _await(self, session: Session, want) -> object | None:
        deadline = time.monotonic() + self.timeout_ms / 1000
        while time.monotonic() < deadline:
            frame = session.recv_frame(max(1, int((deadline - time.monotonic()) * 1000)))
            if frame is not None and want(frame):
                return frame
        return None

    def _raw_verdict(self, session: Session, data: bytes | list[bytes]) -> Verdict:
        """Sends raw bytes; the verdict is the next ERROR (or REJECTED) the broker answers."""
        session.send_raw(data)
        answer = self._await(session, lambda f: f.WhichOneof("body") in ("error", "rejected", "accepted"))
        if answer is None:
            return problem("UNAVAILABLE", f"no answer within {self.timeout_ms} ms")
        kind = answer.WhichOneof("body")
        if kind == "accepted":
            return accepted()
        message = getattr(answer, kind)
        return failed(TearlineError.from_wire(message.code, message.reasons))

    # -- opening ---------------------------------------------------------------------

    def open(self) -> None:
        now = testers.now_ms()
        for cred in self.directory.nodes():
            if "broker" in cred.roles or self._is_partner(cred.agency) or self.directory.check_node(cred.node_id,
                                                                                                    now):
                continue
            session = self._connect(cred.node_id)
            session.subscribe([">"])
            self.held[cred.node_id] = session
        under_test = self.directory.node_by_transport_key(self.forge.broker_public)
        for p in peerings_in_effect(self.pki, self.directory):
            theirs = p.theirs.broker_id
            if not p.towards_them.topics or not (self.pki / "keys" / "brokers" / f"{theirs}.key").exists():
                self.unlinked[theirs] = "no topic crosses towards it, or its key file is not in the PKI"
                continue
            if under_test is None or under_test.node_id != p.ours.broker_id:
                self.unlinked[theirs] = f"peering {p.peering_id} names {p.ours.broker_id}, not the broker under test"
                continue
            link = self.forge.connect_as_broker(theirs)
            link.subscribe(list(p.towards_them.topics), session_only=True)
            self.links[theirs] = (link, p)
        for broker, endpoint in self.serve.items():
            server = PartnerServer(broker, endpoint, self.forge.broker_keys(broker), self.directory,
                                   under_test.node_id if under_test else "", self.timeout_ms)
            server.bind()
            self.servers[broker] = server
        first = self.collect()
        if first["sentinel_error"]:
            raise TearlineError(codes.INVALID_FIELD, first["sentinel_error"])

    def close(self) -> None:
        for s in list(self.held.values()) + list(self.cut_off.values()) + [link for link, _ in self.links.values()]:
            s.close()
        for server in self.servers.values():
            server.close()

    def _serve_links(self) -> None:
        for server in self.servers.values():
            server.serve()

    # -- running -------------------------------------------------------------------

    def run(self) -> list[CaseResult]:
        self.open()
        try:
            return [self.run_case(i, c) for i, c in enumerate(self.scenario.cases)]
        finally:
            self.close()

    def run_case(self, index: int, case: Case) -> CaseResult:
        self.pending = []
        self._serve_links()
        try:
            verdict = self.send(index, case)
        except TearlineError as e:
            verdict = failed(e)
        deliveries = self.collect()
        sent = self.sent[index]
        if case.fault == "replayed_id" and case.replay_of is not None:
            sent = self.sent[case.replay_of]
        problems = self.compare(case, sent, deliveries)
        return CaseResult(case.name, sent.report_id.hex() if sent else "", case.expect, verdict.got,
                          verdict.reasons, problems)

    def send(self, index: int, case: Case) -> Verdict:
        kind = case.kind
        if kind == REPLAY:
            src = self.sent[case.replay_of] if case.replay_of is not None else None
            if src is None:
                return problem("INVALID_FIELD", "replay_of case sent no report")
            return self._with_sender(case, lambda s: self._publish(s, src.data))
        if kind == RAW_FRAME:
            return self._with_sender(case, lambda s: self._raw_verdict(s, testers.garbage_frame()))
        if kind == CONNECTION:
            return self.connect_fault(case)
        if kind == ACK:
            return self.ack_fault(index, case)
        if kind == PARTNER:
            return self.partner_fault(case)
        if kind == FROM_PARTNER:
            return self.from_partner(index, case)
        return self.send_report(index, case)

    def _with_sender(self, case: Case, act) -> Verdict:
        try:
            session = self._connect(case.sender)
        except TearlineError as e:
            return failed(e)
        try:
            return act(session)
        finally:
            session.close()

    def send_report(self, index: int, case: Case) -> Verdict:
        originator = signer = case.sender
        other = case.other or self.forge.other_than(case.sender)
        d = self._draft(case, originator if case.fault != "originator_not_sender" else other)
        if case.fault == "signed_by_other_node":
            signer = other
        elif case.fault == "originator_not_sender":
            originator = signer = other
        elif case.fault == "stale_time":
            d.created_at_ms -= TEN_MINUTES_MS
        elif case.fault == "future_time":
            d.created_at_ms += TEN_MINUTES_MS
        elif case.fault == "sequence_back":
            last = self.last_accepted.get(case.sender, 0)
            d.sequence = last - 1 if last >= 2 else 1
        elif case.fault == "oversize_frame":
            d = testers.padded_for_oversize(d)
        try:
            if case.fault.startswith("batch_"):
                batch = self.forge.in_batch(originator, d)
                other_batch = self.forge.in_batch(originator, d)
                built = batch[0]
                data = testers.alter_batch_proof(built.data, case.fault[len("batch_"):], other_batch[0].data)
            else:
                built = self.forge.build(originator, d, signer=signer)
                data = built.data
        except TearlineError as e:
            return failed(e)  # refused locally, e.g. SECTION_TOO_LARGE
        if case.fault == "bad_signature":
            data = testers.flip_signature(data)
        elif case.fault == "truncated_bytes":
            data = testers.truncate(data)
        elif case.fault in ("duplicate_header_field", "unknown_fields"):
            suffix = testers.unknown_field() if case.fault == "unknown_fields" else \
                testers.duplicate_originator_field(originator)
            data = testers.resign_with_header_suffix(data, suffix, self.forge.keys(signer).signing_secret)
        elif case.fault == "unknown_report_field":
            data = testers.append_unknown_report_field(data)
        self._record(index, case, built, data)

        def act(session: Session) -> Verdict:
            if case.fault == "oversize_frame":
                frame = testers.publish_frame(data)
                if not wire.DEFAULT_MAX_FRAME_BYTES < len(frame) < 2 * wire.DEFAULT_MAX_FRAME_BYTES + 65536:
                    return problem("INVALID_FIELD", f"the padded frame has {len(frame)} bytes, not between the "
                                                     "frame and transport limits")
                return self._raw_verdict(session, frame)
            return self._publish(session, data)
        verdict = self._with_sender(case, act)
        if verdict.got == ACCEPTED:
            self.last_accepted[originator] = max(self.last_accepted.get(originator, 0), d.sequence)
        return verdict

    # -- deliveries ---------------------------------------------------------------------------

    def collect(self) -> dict:
        """Publishes the sentinel and reads every held session (and link) up to it."""
        out: dict = {"by_node": {}, "crossed": {}, "problems": [], "sentinel_error": ""}
        publisher = self.held.get(self.scenario.sentinel_from)
        if publisher is None:
            out["sentinel_error"] = (f"the sentinel node {self.scenario.sentinel_from} holds no session "
                                     "(not valid now)")
            out["problems"].append(out["sentinel_error"])
            return out
        now = testers.now_ms()
        countries = sorted({c.country for c in self.directory.nodes() if not self.directory.check_node(c.node_id,
                                                                                                       now)})
        self.sentinels += 1
        d = self.forge.draft(self.scenario.sentinel_from, self.scenario.sentinel_topic,
                             [report.Section(Label("UNCLASSIFIED", tuple(countries)), f"sentinel {self.sentinels}")])
        built = self.forge.build(self.scenario.sentinel_from, d)
        sentinel = built.report_id
        self.names[sentinel.hex()] = f"sentinel {self.sentinels}"
        try:
            outcome = publisher.publish(built.data, self.timeout_ms)
        except TearlineError as e:
            if e.code == codes.UNAVAILABLE:
                raise Unreachable(str(e)) from None
            raise
        if not outcome.accepted:
            out["sentinel_error"] = (f"the sentinel report of {self.scenario.sentinel_from} on "
                                     f"{self.scenario.sentinel_topic} was rejected: "
                                     + "; ".join(str(r) for r in outcome.reasons))
            out["problems"].append(out["sentinel_error"])
            return out
        self.last_accepted[self.scenario.sentinel_from] = d.sequence
        for link, _ in self.links.values():  # a raw link sends nothing by itself: keep it from timing out
            link.send_frame(wire.ping(self.sentinels))
        self._serve_links()
        for node, session in self.held.items():
            got = out["by_node"].setdefault(node, [])
            deadline = time.monotonic() + self.timeout_ms / 1000
            while True:
                left = int((deadline - time.monotonic()) * 1000)
                try:
                    delivery = session.receive(left) if left > 0 else None
                except DeliveryRefused as refused:  # the broker delivered what does not verify
                    out["problems"].append(f"{node}: received seq {refused.broker_seq} that does not verify: "
                                           f"{refused}")
                    continue
                if delivery is None:
                    out["problems"].append(f"{node}: the sentinel did not arrive within {self.timeout_ms} ms")
                    break
                if delivery.report_id == sentinel.hex():
                    break
                got.append(delivery)
        for broker in list(self.links):
            link, _ = self.links[broker]
            crossed = out["crossed"].setdefault(broker, [])
            deadline = time.monotonic() + self.timeout_ms / 1000
            while True:
                left = int((deadline - time.monotonic()) * 1000)
                frame = link.recv_frame(left) if left > 0 else None
                if frame is None:
                    out["problems"].append(f"{broker} (partner broker): the sentinel did not cross within "
                                           f"{self.timeout_ms} ms")
                    break
                kind = frame.WhichOneof("body")
                if kind == "error":
                    out["problems"].append(f"{broker} (partner broker): the broker closed its link: "
                                           + "; ".join(str(r) for r in TearlineError.from_wire(
                                               frame.error.code, frame.error.reasons).reasons))
                    del self.links[broker]
                    self.unlinked[broker] = "the broker closed its link"
                    break
                if kind != "deliver":
                    continue
                copy = bytes(frame.deliver.report)
                header, carried = receipt.copy_header(copy)
                rid = bytes(header.report_id) if header is not None else b""
                if rid == sentinel:
                    break
                try:  # what crosses must be the originator's report, torn as it may be
                    report.verify_report(copy, self.directory)
                    broken = ""
                except TearlineError as e:
                    broken = str(e)
                crossed.append(Crossed(rid.hex(), [i + 1 for i in carried], broken))
        self._serve_links()
        for node, session in self.cut_off.items():
            frame = session.recv_frame(CUT_OFF_WAIT_MS)
            if frame is not None and frame.WhichOneof("body") == "deliver":
                out["problems"].append(f"{node} (revoked): received a report after its revocation")
        return out

    def describe(self, d: Delivery) -> str:
        name = self.names.get(d.report_id)
        out = f"'{name}'" if name else f"report {d.report_id[:8]} from {d.originator} on {d.topic}"
        by_status: dict[str, list[int]] = {}
        for i, s in enumerate(d.sections):
            by_status.setdefault(s.status, []).append(i + 1)
        parts = ", ".join(f"{status} {numbers(n)}" for status, n in sorted(by_status.items()))
        return out + (": " + parts if parts else "")

    def compare(self, case: Case, sent: Sent | None, got: dict) -> list[str]:
        problems = self.pending + got["problems"]
        for node, deliveries in got["by_node"].items():
            want = case.deliver.get(node, [])
            if not want:
                problems += [f"{node}: expected nothing, got {self.describe(d)}" for d in deliveries]
                continue
            expected = f"{node}: expected '{case.name}' with sections {numbers(want)} opened"
            if not deliveries:
                problems.append(expected + ", got nothing")
                continue
            wrong = [f"{len(deliveries)} reports"] if len(deliveries) > 1 else []
            for d in deliveries:
                if sent is None or d.report_id != sent.report_id.hex():
                    wrong.append(self.describe(d))
                    continue
                opened = [i + 1 for i, s in enumerate(d.sections) if s.status == "opened"]
                for i, s in enumerate(d.sections):
                    if s.status == "opened" and i < len(sent.texts) and s.plaintext != sent.texts[i]:
                        wrong.append(f"section {i + 1} opened with other text than was sent")
                only_withheld = all(s.status in ("opened", "withheld") for s in d.sections)
                if opened != want or not only_withheld:
                    wrong.append(self.describe(d))
            problems += [f"{expected}, got {w}" for w in wrong]
        for node, want in case.deliver.items():
            if want and node not in got["by_node"] and node not in self.held:
                problems.append(f"{node}: expected sections {numbers(want)} opened, but the node holds no session "
                                "(its credential is not valid now)")
        for broker, crossed in got["crossed"].items():
            want = case.cross.get(broker, [])
            who = f"{broker} (partner broker)"

            def describe_crossed(x: Crossed) -> str:
                name = self.names.get(x.report_id)
                return ((f"'{name}'" if name else f"report {x.report_id[:8]}") +
                        f" with sections {numbers(x.present)} crossing" +
                        (f" that does not verify ({x.broken})" if x.broken else ""))
            problems += [f"{who}: got {describe_crossed(x)}" for x in crossed if x.broken]
            if not want:
                problems += [f"{who}: expected nothing to cross, got {describe_crossed(x)}" for x in crossed]
                continue
            if (len(crossed) != 1 or sent is None
                    or (crossed[0].report_id, crossed[0].present) != (sent.report_id.hex(), want)):
                seen = "; ".join(describe_crossed(x) for x in crossed) or "nothing"
                problems.append(f"{who}: expected '{case.name}' with sections {numbers(want)} crossing, got {seen}")
        for broker, want in case.cross.items():
            if want and broker not in got["crossed"]:
                why = self.unlinked.get(broker, "no peering in effect names it as a partner")
                problems.append(f"{broker} (partner broker): expected sections {numbers(want)} crossing, but the "
                                f"runner holds no link as it ({why})")
        return problems

