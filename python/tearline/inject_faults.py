"""The injection runner's sends as someone else or that change the PKI (docs/injection.md):
connection faults (a rogue transport key, a revoked node), the ACK faults on a raw session, and
the cases as a partner agency's broker (its subscriptions, a one-sided or revoked peering, copies
it sends). A mixin of tearline.inject.Runner, whose state it uses."""
from __future__ import annotations

import time

from . import codes, receipt, testers, wire
from .errors import Reason, TearlineError
from .inject_verdict import Unreachable, Verdict, accepted, failed, problem, rejected
from .partner import Copy
from .scenario import Case
from .v1 import receipt_pb2


class FaultSends:
    # -- connections and PKI changes -------------------------------------------------------

    def admin_reload(self) -> Verdict | None:
        """The admin node asks the broker to reload; the runner reloads its directory. None: done."""
        try:
            admin = self._connect(self._admin())
        except TearlineError as e:
            return failed(e)
        try:
            admin.admin_reload(self.timeout_ms)
        except TearlineError as e:
            if e.code == codes.UNAVAILABLE:
                raise Unreachable(str(e)) from None
            return failed(e)
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
                return accepted()
            except TearlineError as e:
                return failed(e)
        # revoked_node: compromised from now, with its agency's authority key; then reload.
        cred = self.directory.node(case.sender)
        if cred is None:
            return problem("UNKNOWN_NODE", f"{case.sender} is not in the directory")
        testers.revoke(self.pki, cred.agency, self.directory, compromised=[cred.serial])
        refused = self.admin_reload()
        if refused is not None:
            return refused
        self.cut_off_invalid()
        try:
            self.forge.connect(case.sender).close()
            return accepted()
        except TearlineError as e:
            return failed(e)

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
            return failed(e)
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
                                  and receipt.copy_report_id(bytes(f.deliver.report)) == rid)
            if deliver is None:
                return problem("UNAVAILABLE", f"{case.sender} did not receive the case's report within "
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
            return problem("UNAVAILABLE", f"no answer within {self.timeout_ms} ms")
        kind = answer.WhichOneof("body")
        if kind == "accepted":
            return accepted()
        if kind in ("error", "rejected"):
            message = getattr(answer, kind)
            return failed(TearlineError.from_wire(message.code, message.reasons))
        return problem("UNEXPECTED_FRAME", f"the broker answered {kind}")

    # -- as a partner broker -------------------------------------------------------------------

    def partner_fault(self, case: Case) -> Verdict:
        if case.fault == "partner_subscribe":
            return self.partner_subscribe(case)
        if case.sender not in self.links:
            return problem("NO_PEERING", f"the runner holds no link as {case.sender}: no peering in effect names "
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
            return failed(e)
        try:
            answer = link.request(wire.subscribe(0, [case.topic], True), self.timeout_ms)
            return self._answer_verdict(answer)
        finally:
            link.bye("inject: partner_subscribe done")
            link.close(bye=False)

    def from_partner(self, index: int, case: Case) -> Verdict:
        server = self.servers.get(case.sender)
        if server is None:
            return problem("INVALID_FIELD", f"the runner does not serve as {case.sender}: run with --serve "
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
                return problem("INVALID_FIELD", "replay_of: that case sent no copy from a partner broker")
            copy.alter_receipt = lambda _r: stamp
        elif case.fault == "looped_copy":  # published here first: it comes back with our broker's stamp
            try:
                session = self._connect(case.originator)
            except TearlineError as e:
                return failed(e)
            try:
                outcome = session.publish(built.data, self.timeout_ms)
            finally:
                session.close()
            if not outcome.accepted:
                return rejected(outcome)
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
            return accepted()
        return failed(v.reasons)
