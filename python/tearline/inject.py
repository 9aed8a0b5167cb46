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

Raises Unreachable when the broker does not answer (the CLI's exit 3).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from . import codes, receipt, report, testers, wire
from .errors import Reason, TearlineError
from .partner import Copy, PartnerServer, peerings_in_effect
from .policy import Label
from .scenario import (ACCEPTED, ACK, CONNECTION, FROM_PARTNER, PARTNER, RAW_FRAME, REPLAY, Case, Scenario)
from .session import Delivery, DeliveryRefused, Session
from .v1 import receipt_pb2

TEN_MINUTES_MS = 10 * 60 * 1000
CUT_OFF_WAIT_MS = 100  # a revoked node's session, read after the sentinel


class Unreachable(Exception):
    """The broker did not answer within the timeout."""


@dataclass
class Verdict:
    got: str                       # "accepted" or a code name
    reasons: list[Reason] = field(default_factory=list)


def _accepted() -> Verdict:
    return Verdict(ACCEPTED)


def _failed(error: TearlineError | list[Reason]) -> Verdict:
    """The verdict of an error (its code: ERROR.code for a frame) or of REJECTED's reasons (the first's)."""
    if isinstance(error, TearlineError):
        return Verdict(error.name, list(error.reasons))
    return Verdict(error[0].name if error else "UNKNOWN", list(error))


def _rejected(outcome) -> Verdict:
    """A PublishOutcome that was not accepted: its code (Rejected.code, or RECEIPT_INVALID for an
    ACCEPTED whose receipt does not verify) and every reason."""
    return Verdict(outcome.name, list(outcome.reasons))


def _problem(code: str, message: str) -> Verdict:
    return _failed([Reason.of(code, message)])


@dataclass
class Crossed:
    """A copy read on a link as a partner broker."""
    report_id: str           # hex
    present: list[int]       # 1-based: the sections that crossed sealed
    broken: str = ""         # why it does not verify; "" when it does


@dataclass
class Sent:
    name: str
    report_id: bytes
    data: bytes
    texts: list[bytes]


@dataclass
class CaseResult:
    name: str
    report_id: str
    expected: str
    got: str
    reasons: list[Reason]
    delivery_problems: list[str]

    @property
    def passed(self) -> bool:
        return self.got == self.expected and not self.delivery_problems


def _numbers(items) -> str:
    return "[" + ", ".join(str(i) for i in items) + "]"


class Runner:
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
            return _failed(e)
        return _accepted() if outcome.accepted else _rejected(outcome)

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
            return _problem("UNAVAILABLE", f"no answer within {self.timeout_ms} ms")
        kind = answer.WhichOneof("body")
        if kind == "accepted":
            return _accepted()
        message = getattr(answer, kind)
        return _failed(TearlineError.from_wire(message.code, message.reasons))

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
            verdict = _failed(e)
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
                return _problem("INVALID_FIELD", "replay_of case sent no report")
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
            return _failed(e)
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
            return _failed(e)  # refused locally, e.g. SECTION_TOO_LARGE
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
                    return _problem("INVALID_FIELD", f"the padded frame has {len(frame)} bytes, not between the "
                                                     "frame and transport limits")
                return self._raw_verdict(session, frame)
            return self._publish(session, data)
        verdict = self._with_sender(case, act)
        if verdict.got == ACCEPTED:
            self.last_accepted[originator] = max(self.last_accepted.get(originator, 0), d.sequence)
        return verdict

    # -- connections and PKI changes -------------------------------------------------------

    def admin_reload(self) -> Verdict | None:
        """The admin node asks the broker to reload; the runner reloads its directory. None: done."""
        try:
            admin = self._connect(self._admin())
        except TearlineError as e:
            return _failed(e)
        try:
            admin.admin_reload(self.timeout_ms)
        except TearlineError as e:
            if e.code == codes.UNAVAILABLE:
                raise Unreachable(str(e)) from None
            return _failed(e)
        finally:
            admin.close()
        self.forge.reload()
        return None

    def connect_fault(self, case: Case) -> Verdict:
        # The verdict is whatever connecting gives, UNAVAILABLE included (a refusal past the
        # broker's budget of explained ones looks like no answer: docs/protocol.md 2.3).
        if case.fault == "unknown_transport_key":
            keys = self.forge.rogue_keys(case.sender)
            try:
                self.forge.connect(case.sender, keys=keys).close()
                return _accepted()
            except TearlineError as e:
                return _failed(e)
        # revoked_node: compromised from now, with its agency's authority key; then reload.
        cred = self.directory.node(case.sender)
        if cred is None:
            return _problem("UNKNOWN_NODE", f"{case.sender} is not in the directory")
        testers.revoke(self.pki, cred.agency, self.directory, compromised=[cred.serial])
        refused = self.admin_reload()
        if refused is not None:
            return refused
        self.cut_off_invalid()
        try:
            self.forge.connect(case.sender).close()
            return _accepted()
        except TearlineError as e:
            return _failed(e)

    def cut_off_invalid(self) -> None:
        """Moves the held sessions of nodes no longer valid to cut_off; each must have been closed
        with ERROR SESSION_REVOKED."""
        for node in [n for n in self.held if not self._valid_now(n)]:
            session = self.held.pop(node)
            deadline = time.monotonic() + self.timeout_ms / 1000
            while session.closed_by is None and time.monotonic() < deadline:
                frame = session.recv_frame(50)
                if frame is not None and frame.WhichOneof("body") == "deliver":
                    self.pending.append(f"{node} (revoked): received a report")
            if session.closed_by is None or session.closed_by.code != codes.SESSION_REVOKED:
                self.pending.append(f"{node}: its open session was not closed with SESSION_REVOKED "
                                    f"({session.closed_by or f'no error within {self.timeout_ms} ms'})")
            self.cut_off[node] = session

    # -- ACK faults ------------------------------------------------------------------------

    def ack_fault(self, index: int, case: Case) -> Verdict:
        d = self._draft(case, case.sender)
        built = self.forge.build(case.sender, d)
        self._record(index, case, built)
        other = case.other or self.forge.other_than(case.sender)
        try:
            session = self._connect(case.sender, auto_ack=False)
        except TearlineError as e:
            return _failed(e)
        try:
            answer = session.request(wire.subscribe(0, [d.topic]), self.timeout_ms)
            if answer.WhichOneof("body") != "accepted":
                return self._answer_verdict(answer)
            answer = session.request(wire.publish(0, built.data), self.timeout_ms)
            if answer.WhichOneof("body") != "accepted":
                return self._answer_verdict(answer)
            self.last_accepted[case.sender] = max(self.last_accepted.get(case.sender, 0), d.sequence)
            rid = built.report_id
            deliver = self._await(session, lambda f: f.WhichOneof("body") == "deliver"
                                  and _report_id_of(f.deliver.report) == rid)
            if deliver is None:
                return _problem("UNAVAILABLE", f"{case.sender} did not receive the case's report within "
                                               f"{self.timeout_ms} ms, so no ACK was sent")
            seq = deliver.deliver.broker_seq
            entry = receipt.describe_copy(seq, bytes(deliver.deliver.report))
            broker = session.welcome.broker_id
            now = testers.now_ms()
            if case.fault == "forged_ack_receipt":
                r = testers.flip_receipt_signature(receipt.make_delivery_receipt(
                    case.sender, self.forge.keys(case.sender), broker, [entry], now))
            elif case.fault == "ack_receipt_other_broker":
                r = receipt.make_delivery_receipt(case.sender, self.forge.keys(case.sender),
                                                  testers.other_broker_id(broker), [entry], now)
            else:  # ack_signed_by_other_node: names the sender, signed with the other's key
                r = receipt.make_delivery_receipt(case.sender, self.forge.keys(other), broker, [entry], now)
            session.send_frame(wire.ack(seq, r))
            answer = self._await(session, lambda f: f.WhichOneof("body") not in ("deliver", "pong"))
            verdict = self._answer_verdict(answer)
            # Still served: a bad ACK is a bad frame, the session stays. A raw PING on this very
            # session (Session.ping would HELLO again on a session the broker closed).
            nonce = 0x7EA1
            session.send_frame(wire.ping(nonce))
            pong = self._await(session, lambda f: f.WhichOneof("body") in ("pong", "welcome", "error")
                               and (f.WhichOneof("body") != "pong" or f.pong.nonce == nonce))
            if pong is None or pong.WhichOneof("body") != "pong" or session.closed_by is not None:
                self.pending.append(f"{case.sender}: its session no longer answered PING after the faulty ACK")
            return verdict
        finally:
            session.close()

    def _answer_verdict(self, answer) -> Verdict:
        if answer is None:
            return _problem("UNAVAILABLE", f"no answer within {self.timeout_ms} ms")
        kind = answer.WhichOneof("body")
        if kind == "accepted":
            return _accepted()
        if kind in ("error", "rejected"):
            message = getattr(answer, kind)
            return _failed(TearlineError.from_wire(message.code, message.reasons))
        return _problem("UNEXPECTED_FRAME", f"the broker answered {kind}")

    # -- as a partner broker -------------------------------------------------------------------

    def partner_fault(self, case: Case) -> Verdict:
        if case.fault == "partner_subscribe":
            return self.partner_subscribe(case)
        if case.sender not in self.links:
            return _problem("NO_PEERING", f"the runner holds no link as {case.sender}: no peering in effect names "
                                          "it, or its key file is not in the PKI")
        link, peering = self.links[case.sender]
        if case.fault == "one_sided_peering":
            testers.widen_peering_one_sided(self.pki, peering.peering_id, peering.our_agency, case.topic)
            refused = self.admin_reload()
            return refused if refused is not None else self.partner_subscribe(case)
        # revoked_peering: our agency revokes the version in effect; the verdict is how the
        # broker then closed the runner's link.
        testers.revoke(self.pki, peering.our_agency, self.directory, peerings=[(peering.peering_id,
                                                                                 peering.version)])
        refused = self.admin_reload()
        if refused is not None:
            return refused
        closed = self._await(link, lambda f: f.WhichOneof("body") == "error")
        del self.links[case.sender]
        self.unlinked[case.sender] = "the broker closed its link"
        link.close()
        return self._answer_verdict(closed)

    def partner_subscribe(self, case: Case) -> Verdict:
        try:
            link = self.forge.connect_as_broker(case.sender)
        except TearlineError as e:
            if e.code == codes.HANDSHAKE_REFUSED:
                e.reasons.append(Reason.of("FOREIGN_NODE", f"{case.sender} is a broker of a partner agency: the "
                                                           "broker admits it only while a peering in effect names it"))
            return _failed(e)
        try:
            answer = link.request(wire.subscribe(0, [case.topic], True), self.timeout_ms)
            return self._answer_verdict(answer)
        finally:
            link.bye("inject: partner_subscribe done")
            link.close(bye=False)

    def from_partner(self, index: int, case: Case) -> Verdict:
        server = self.servers.get(case.sender)
        if server is None:
            return _problem("INVALID_FIELD", f"the runner does not serve as {case.sender}: run with --serve "
                                             f"{case.sender}=ENDPOINT, the endpoint the broker's [[peer]] names")
        d = self._draft(case, case.originator)
        built = self.forge.build(case.originator, d)
        self._record(index, case, built)
        copy = Copy(built.data, cut=case.fault == "link_cut")
        if case.fault == "forged_hop_stamp":
            copy.alter_receipt = lambda r: testers.flip_receipt_signature(r, receipt_pb2.AcceptanceReceipt)
        elif case.fault == "replayed_hop_stamp":
            stamp = self.hop_stamps.get(case.replay_of) if case.replay_of is not None else None
            if stamp is None:
                return _problem("INVALID_FIELD", "replay_of: that case sent no copy from a partner broker")
            copy.alter_receipt = lambda _r: stamp
        elif case.fault == "looped_copy":  # published here first: it comes back with our broker's stamp
            try:
                session = self._connect(case.originator)
            except TearlineError as e:
                return _failed(e)
            try:
                outcome = session.publish(built.data, self.timeout_ms)
            finally:
                session.close()
            if not outcome.accepted:
                return _rejected(outcome)
            self.last_accepted[case.originator] = max(self.last_accepted.get(case.originator, 0), d.sequence)
            copy.path = testers.crossing_path([outcome.receipt])
        try:
            v = server.send(copy)
        except TearlineError as e:
            if e.code == codes.UNAVAILABLE:
                raise Unreachable(str(e)) from None
            raise
        self.pending += server.problems
        server.problems.clear()
        self.hop_stamps[index] = v.stamp
        if v.ack_not_taken:
            return Verdict("(no ACK taken)")
        if v.taken:
            self.last_accepted[case.originator] = max(self.last_accepted.get(case.originator, 0), d.sequence)
            return _accepted()
        return _failed(v.reasons)

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
        parts = ", ".join(f"{status} {_numbers(n)}" for status, n in sorted(by_status.items()))
        return out + (": " + parts if parts else "")

    def compare(self, case: Case, sent: Sent | None, got: dict) -> list[str]:
        problems = self.pending + got["problems"]
        for node, deliveries in got["by_node"].items():
            want = case.deliver.get(node, [])
            if not want:
                problems += [f"{node}: expected nothing, got {self.describe(d)}" for d in deliveries]
                continue
            expected = f"{node}: expected '{case.name}' with sections {_numbers(want)} opened"
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
                problems.append(f"{node}: expected sections {_numbers(want)} opened, but the node holds no session "
                                "(its credential is not valid now)")
        for broker, crossed in got["crossed"].items():
            want = case.cross.get(broker, [])
            who = f"{broker} (partner broker)"

            def describe_crossed(x: Crossed) -> str:
                name = self.names.get(x.report_id)
                return ((f"'{name}'" if name else f"report {x.report_id[:8]}") +
                        f" with sections {_numbers(x.present)} crossing" +
                        (f" that does not verify ({x.broken})" if x.broken else ""))
            problems += [f"{who}: got {describe_crossed(x)}" for x in crossed if x.broken]
            if not want:
                problems += [f"{who}: expected nothing to cross, got {describe_crossed(x)}" for x in crossed]
                continue
            if (len(crossed) != 1 or sent is None
                    or (crossed[0].report_id, crossed[0].present) != (sent.report_id.hex(), want)):
                seen = "; ".join(describe_crossed(x) for x in crossed) or "nothing"
                problems.append(f"{who}: expected '{case.name}' with sections {_numbers(want)} crossing, got {seen}")
        for broker, want in case.cross.items():
            if want and broker not in got["crossed"]:
                why = self.unlinked.get(broker, "no peering in effect names it as a partner")
                problems.append(f"{broker} (partner broker): expected sections {_numbers(want)} crossing, but the "
                                f"runner holds no link as it ({why})")
        return problems


def _report_id_of(report_bytes: bytes) -> bytes:
    header, _ = receipt.copy_header(bytes(report_bytes))
    return bytes(header.report_id) if header is not None else b""
