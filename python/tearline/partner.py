"""The injection runner as a partner agency's boundary broker (docs/injection.md,
"Boundary cases" and "Copies from a partner broker").

- `peerings_in_effect(pki, directory)`: the peerings between one of our
  agencies and a partner agency that are in effect now, from
  PKI/directory/peerings: for each peering id, the highest version that both
  parties' pinned authorities signed, that neither party's revocation list
  revokes and whose window holds now. (The broker's own rules,
  docs/federation.md, say more, e.g. about narrowings; a one-sided
  widening is never in effect under either.)
- `PartnerServer`: a ROUTER bound with a partner broker's CURVE key, which the
  broker under test connects to (its `[[peer]]`); it answers HELLO,
  SUBSCRIBE, PING, ACK and BYE as a partner broker, sends copies as DELIVERs
  of its stream with its signed hop stamp, and takes the broker's verdict on
  each copy from the ACK that covers it (`Ack.refused`).
"""
from __future__ import annotations

import errno
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import zmq
from zmq.utils import z85

from . import codes, crypto, receipt, wire
from .directory import Directory
from .encoding import parse_strict
from .errors import Reason, TearlineError, reasons_from_wire
from .keys import BrokerKeys
from .v1 import identity_pb2, report_pb2, wire_pb2

LINK_WAIT_MS = 35_000     # a copy waits this long for the broker's session (a refused broker retries slowly)
_POLL_MS = 20
_MAX_FRAME = 1 << 20


@dataclass
class PeeringInEffect:
    peering_id: str
    version: int
    ours: identity_pb2.PeeringParty
    theirs: identity_pb2.PeeringParty
    towards_them: identity_pb2.PeeringDirection  # what crosses from our broker to theirs
    our_agency: str


def _revoked_peerings(pki: Path, directory: Directory) -> dict[tuple[str, str], int]:
    """(agency, peering id) -> the highest version that agency's held list revokes."""
    out: dict[tuple[str, str], int] = {}
    for path in sorted((pki / "directory" / "revocations").glob("*.crl")):
        try:
            obj = parse_strict(identity_pb2.SignedObject, path.read_bytes(), "BAD_ENCODING", str(path))
            body = parse_strict(identity_pb2.RevocationListBody, obj.body, "BAD_ENCODING", str(path))
        except (OSError, TearlineError):
            continue
        held = directory.revocation_list(body.agency)
        if held is None or held.number != body.number:
            continue  # a list the directory did not take
        for p in body.revoked_peerings:
            key = (body.agency, p.peering_id)
            out[key] = max(out.get(key, 0), p.version)
    return out


def peerings_in_effect(pki: str | Path, directory: Directory, now_s: int | None = None) -> list[PeeringInEffect]:
    pki = Path(pki)
    now_s = int(time.time()) if now_s is None else now_s
    revoked = _revoked_peerings(pki, directory)
    best: dict[str, PeeringInEffect] = {}
    for path in sorted((pki / "directory" / "peerings").glob("*.peering")):
        try:
            obj = parse_strict(identity_pb2.SignedObject, path.read_bytes(), "BAD_ENCODING", str(path))
            body = parse_strict(identity_pb2.PeeringBody, obj.body, "BAD_ENCODING", str(path))
        except (OSError, TearlineError):
            continue
        parties = {body.first.agency, body.second.agency}
        signed_by = {s.agency for s in obj.signatures
                     if s.agency in parties and s.agency in directory.authorities
                     and crypto.verify("tearline/v1/peering", obj.body, s.signature,
                                       directory.authorities[s.agency].verify_key)}
        if signed_by != parties or not body.not_before <= now_s < body.not_after:
            continue
        if any(revoked.get((a, body.peering_id), 0) >= body.version for a in parties):
            continue
        first_partner = directory.authorities.get(body.first.agency)
        second_partner = directory.authorities.get(body.second.agency)
        if first_partner is None or second_partner is None or first_partner.partner == second_partner.partner:
            continue  # not between one of ours and a partner
        if first_partner.partner:
            p = PeeringInEffect(body.peering_id, body.version, body.second, body.first, body.second_to_first,
                                body.second.agency)
        else:
            p = PeeringInEffect(body.peering_id, body.version, body.first, body.second, body.first_to_second,
                                body.first.agency)
        if body.peering_id not in best or best[body.peering_id].version < body.version:
            best[body.peering_id] = p
    return list(best.values())


@dataclass
class Copy:
    report: bytes
    path: bytes = b""
    alter_receipt: Callable[[bytes], bytes] | None = None
    cut: bool = False   # link_cut: "crash" after the broker acknowledged, before reading the ACK


@dataclass
class CopyVerdict:
    taken: bool
    reasons: list[Reason] = field(default_factory=list)
    stamp: bytes = b""  # the hop stamp signed for the copy (before any alteration)
    ack_not_taken: bool = False  # no verdict: the broker's ACK could not be taken (self.problems says why)


class PartnerServer:
    """The runner as partner broker `broker_id` at `endpoint` (see the module docstring)."""

    def __init__(self, broker_id: str, endpoint: str, keys: BrokerKeys, directory: Directory,
                 broker_under_test: str, timeout_ms: int) -> None:
        self.broker_id, self.endpoint, self.keys = broker_id, endpoint, keys
        self.directory, self.broker_under_test, self.timeout_ms = directory, broker_under_test, timeout_ms
        self._context = zmq.Context.instance()
        self._socket: zmq.Socket | None = None
        self._session: bytes | None = None
        self._subscribed = False
        self._next_seq = 0
        self._acked = 0
        self._unacked: dict[int, bytes] = {}           # seq -> DELIVER frame bytes
        self._sent: dict[int, tuple[bytes, bytes]] = {}  # seq -> (copy hash, report id)
        self._refused: dict[int, list[Reason]] = {}
        self._ignore_acks = False
        self._ignored_up_to = 0
        self.problems: list[str] = []

    def bind(self) -> None:
        for _ in range(50):  # 100 ms apart: an endpoint just closed may take a moment to free
            s = self._context.socket(zmq.ROUTER)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.CURVE_SERVER, 1)
            s.setsockopt(zmq.CURVE_SECRETKEY, z85.encode(self.keys.transport_secret))
            s.setsockopt(zmq.MAXMSGSIZE, _MAX_FRAME)
            try:
                s.bind(self.endpoint)
                self._socket = s
                return
            except zmq.ZMQError as e:
                s.close(linger=0)
                if e.errno != errno.EADDRINUSE:
                    raise TearlineError(codes.IO_ERROR, f"cannot serve as partner broker {self.broker_id} at "
                                                        f"{self.endpoint}: {e}") from None
                time.sleep(0.1)
        raise TearlineError(codes.IO_ERROR, f"cannot serve as partner broker {self.broker_id} at {self.endpoint}: "
                                            "the address stays in use")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None

    def _to(self, peer: bytes, frame: wire_pb2.Frame) -> None:
        if self._socket is None:
            return
        try:
            self._socket.send_multipart([peer, wire.encode_frame(frame)], zmq.DONTWAIT)
        except zmq.ZMQError:
            pass  # a peer gone: its next session gets what is not acknowledged

    def serve(self) -> None:
        """Answers every frame waiting (call between steps: the broker PINGs, and drops a silent partner)."""
        while self._socket is not None:
            try:
                parts = self._socket.recv_multipart(zmq.DONTWAIT)
            except zmq.Again:
                return
            if len(parts) != 2:
                continue
            peer, body = parts
            try:
                frame = wire.decode_frame(body, _MAX_FRAME)
            except TearlineError as e:
                self._to(peer, _error(codes.MALFORMED_FRAME, str(e)))
                continue
            self._on_frame(peer, frame)

    def _on_frame(self, peer: bytes, frame: wire_pb2.Frame) -> None:
        kind = frame.WhichOneof("body")
        if kind == "hello":  # a new session; an older one of the broker is over
            self._session, self._subscribed = peer, False
            f = wire_pb2.Frame()
            f.welcome.version = 1
            f.welcome.broker_time_ms = time.time_ns() // 1_000_000
            f.welcome.max_frame_bytes = _MAX_FRAME
            f.welcome.max_subscriptions = 256
            f.welcome.broker_id = self.broker_id
            self._to(peer, f)
            return
        if peer != self._session:  # as a broker that restarted and lost the session
            self._to(peer, _error(codes.PROTOCOL_VIOLATION, "no session: HELLO first", wire.request_id_of(frame)))
            return
        if kind == "subscribe":
            f = wire_pb2.Frame()
            f.accepted.request_id = frame.subscribe.request_id
            self._to(peer, f)
            if not self._subscribed:  # what it has not acknowledged, again, in order
                self._subscribed = True
                for seq in sorted(self._unacked):
                    self._socket.send_multipart([peer, self._unacked[seq]], zmq.DONTWAIT)
        elif kind == "ping":
            f = wire_pb2.Frame()
            f.pong.nonce = frame.ping.nonce
            self._to(peer, f)
        elif kind == "ack":
            self._on_ack(frame.ack)
        elif kind == "bye":
            self._session, self._subscribed = None, False
        else:
            self._to(peer, _error(codes.PROTOCOL_VIOLATION, f"{kind} is not for a partner broker",
                                  wire.request_id_of(frame)))

    def _on_ack(self, ack: wire_pb2.Ack) -> None:
        """An ACK is taken only when it is what the broker under test owes: its signed receipt, for
        copies sent with the bytes sent, the last one the ACK's seq, refusals of those only."""
        if self._ignore_acks:
            self._ignored_up_to = max(self._ignored_up_to, ack.broker_seq)
            return
        bad: list[str] = []
        if ack.writer:
            bad.append(f"it names stream {ack.writer!r}: a partner broker's own stream is empty")
        seqs = [refusal.broker_seq for refusal in ack.refused]
        if len(set(seqs)) != len(seqs):
            bad.append("it refuses one seq twice")
        if any(not 1 <= len(refusal.reasons) <= 16 for refusal in ack.refused):
            bad.append("a refusal carries no reason or more than 16")
        try:
            r = receipt.verify_delivery(ack.receipt, self.directory, time.time_ns() // 1_000_000)
            if r.format_version != 1:
                bad.append(f"its receipt is format {r.format_version}, not 1")
            if r.broker_id != self.broker_id:
                bad.append(f"it names broker {r.broker_id}")
            if r.node_id != self.broker_under_test:
                bad.append(f"it is signed by {r.node_id}, not {self.broker_under_test}")
            if not r.entries or r.entries[-1].broker_seq != ack.broker_seq:
                bad.append("its last entry is not the ACK's seq")
            for e in r.entries:
                sent = self._sent.get(e.broker_seq)
                if sent is None or sent != (bytes(e.copy_hash), bytes(e.report_id)):
                    bad.append(f"its entry for seq {e.broker_seq} is not the copy sent (hash and report id)")
            named = {(e.broker_seq, bytes(e.report_id)) for e in r.entries}
            for refusal in ack.refused:
                if (refusal.broker_seq, bytes(refusal.report_id)) not in named:
                    bad.append(f"it refuses seq {refusal.broker_seq}, no entry")
        except TearlineError as e:
            bad.append(str(e))
        if bad:
            self.problems.append(f"{self.broker_id} (served by the runner): the broker's ACK of seq "
                                 f"{ack.broker_seq} is not taken: {'; '.join(bad)}")
            return
        for refusal in ack.refused:
            self._refused[refusal.broker_seq] = reasons_from_wire(refusal.reasons)
        self._acked = max(self._acked, ack.broker_seq)
        for seq in [s for s in self._unacked if s <= self._acked]:
            del self._unacked[seq]

    def _poll(self, until: Callable[[], bool], timeout_ms: int) -> bool:
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            self.serve()
            if until():
                return True
            if time.monotonic() >= deadline or self._socket is None:
                return False
            self._socket.poll(_POLL_MS)

    def wait_for_session(self, timeout_ms: int = LINK_WAIT_MS) -> None:
        if not self._poll(lambda: self._session is not None and self._subscribed, timeout_ms):
            raise TearlineError(codes.UNAVAILABLE,
                                f"the broker under test held no session with the runner as {self.broker_id} at "
                                f"{self.endpoint} within {timeout_ms // 1000} s: does its [[peer]] name "
                                f"{self.broker_id} at {self.endpoint}, and does a peering in effect let a topic "
                                "cross towards it?")

    def send(self, copy: Copy) -> CopyVerdict:
        """Sends one copy and waits for the ACK that covers it; TearlineError UNAVAILABLE when none comes."""
        if self._socket is None:
            raise TearlineError(codes.UNAVAILABLE, f"not serving as {self.broker_id}")
        self.wait_for_session()
        parsed = parse_strict(report_pb2.Report, copy.report, "REPORT_MALFORMED", "copy")
        header = report_pb2.ReportHeader()
        header.ParseFromString(parsed.header)
        self._next_seq += 1
        seq = self._next_seq
        stamp = receipt.make_acceptance_receipts(self.broker_id, self.keys.signing_secret, seq,
                                                 time.time_ns() // 1_000_000,
                                                 [receipt.report_digest(copy.report)])[0]
        f = wire_pb2.Frame()
        f.deliver.broker_seq = seq
        f.deliver.report = copy.report
        f.deliver.receipt = copy.alter_receipt(stamp) if copy.alter_receipt else stamp
        if copy.path:
            f.deliver.path = copy.path
        data = wire.encode_frame(f)
        self._unacked[seq] = data
        self._sent[seq] = (crypto.blake2b256(copy.report), bytes(header.report_id))
        self._socket.send_multipart([self._session, data], zmq.DONTWAIT)
        if copy.cut:
            # The broker takes the copy and acknowledges it; the runner "crashes" before it reads
            # that ACK (the socket closed, no BYE), so the copy goes again to the next session,
            # where it is a duplicate.
            self._ignore_acks = True
            acked = self._poll(lambda: self._ignored_up_to >= seq, self.timeout_ms)
            self._ignore_acks = False
            if not acked:
                raise TearlineError(codes.UNAVAILABLE, f"the broker under test did not acknowledge seq {seq} "
                                                       f"before the cut within {self.timeout_ms} ms")
            self.close()
            self._session, self._subscribed = None, False
            self.bind()
            self.wait_for_session()
        problems_before = len(self.problems)
        taken = self._poll(lambda: self._acked >= seq, self.timeout_ms)
        if not taken:
            if len(self.problems) > problems_before:  # the case fails on its problems, whatever it expected
                return CopyVerdict(False, [], stamp, ack_not_taken=True)
            raise TearlineError(codes.UNAVAILABLE, f"the broker under test did not acknowledge seq {seq} from "
                                                   f"{self.broker_id} within {self.timeout_ms} ms")
        refused = self._refused.get(seq)
        return CopyVerdict(refused is None, refused or [], stamp)


def _error(code: int, message: str, request_id: int = 0) -> wire_pb2.Frame:
    f = wire_pb2.Frame()
    f.error.code = code
    f.error.request_id = request_id
    r = f.error.reasons.add()
    r.code, r.name, r.message = code, codes.name_of(code), message
    return f
