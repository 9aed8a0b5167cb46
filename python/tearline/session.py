"""A node's session with a tearline broker (docs/protocol.md, sections 2, 4-6, 11).

Contract:
- ``Session.connect(endpoint, broker_public, node_id, keys, directory, ...)``
  opens a CURVE DEALER socket (protocol 2.1, 2.2: LINGER 0, IMMEDIATE 1,
  RECONNECT_IVL 100/1000 ms, SNDTIMEO, MAXMSGSIZE 64 MiB) with a socket monitor,
  and says HELLO. A handshake refused by the broker's ZAP handler
  (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) raises HANDSHAKE_REFUSED (111); no WELCOME
  within ``timeout_ms`` raises UNAVAILABLE (110); an ERROR answering HELLO
  raises its code (UNSUPPORTED_VERSION, TOO_MANY_FAILURES, SESSION_REVOKED,
  BROKER_BUSY). ``hello=False`` connects without saying HELLO (for testers).
- Requests (``subscribe``, ``unsubscribe``, ``list_subscriptions``, ``publish``,
  ``publish_many``, ``admin_reload``, ``admin_status``, ``ping``) use request
  ids from one counter starting at 1 that continues across re-HELLOs, and are
  matched by request id (protocol 4, 6.1); DELIVERs arriving meanwhile are kept
  for ``receive``. REJECTED raises ``TearlineError`` with its code and every
  reason, except for ``publish``/``publish_many``, which return
  ``PublishOutcome``s; an ACCEPTED of a PUBLISH whose acceptance receipt does
  not verify is an outcome not accepted with RECEIPT_INVALID (6.7).
- ``receive(timeout_ms)`` returns the next verified ``Delivery`` or None on
  timeout. Each DELIVER is checked as 6.8 and 11.5 say: duplicates by report
  id dropped (and acknowledged), the acceptance receipt verified for the
  DELIVER's seq and stream broker, the crossing path when present, the report
  verified with the revocation rule at the earliest acceptance time, the
  sections sealed to this node opened. A copy that fails is acknowledged all
  the same (so it is not delivered again) and raises ``DeliveryRefused``
  (a ``TearlineError``: RECEIPT_INVALID, ORIGINATOR_COMPROMISED, ...).
  With ``auto_ack`` (default) every copy is acknowledged with a signed
  delivery receipt, one ACK per stream, once no further DELIVER waits or 64
  copies do; otherwise ``ack(delivery)`` acknowledges up to that copy.
  GAP frames are kept in ``gaps`` (never a delivery); ``receive`` sends a PING
  after every 1000 ms spent waiting with no frame, summed over calls.
- Losing the session (an ERROR PROTOCOL_VIOLATION, i.e. the broker no longer
  knows it, or the socket monitor's DISCONNECTED) makes the next request or
  ``receive`` reconnect: BYE, HELLO, and one durable SUBSCRIBE (per 64
  patterns) of every durable pattern subscribed through this Session, which
  attaches the new session so the broker resumes after the node's cursor,
  then the session-only patterns again (6.9, 11.6). A request interrupted
  by the loss is sent again. An ERROR closing the session
  (SESSION_REVOKED, TOO_MANY_FAILURES, SLOW_CONSUMER, SESSION_REPLACED) is
  kept in ``closed_by`` and raised by a request that was waiting.
  ``reconnect()`` does the same on demand.
- DIRECTORY_CHANGED, and a WELCOME whose directory digest differs from the
  local directory's, reload the local directory when it can be reloaded.
- Raw access for testers: ``send_frame``, ``send_raw`` (bytes or a list of
  parts), ``recv_frame`` (the next frame received, whatever it is, decoded
  strictly; a message that fails decoding is kept in ``faults`` instead) and ``request`` (any frame;
  a request id of 0 is replaced by a fresh one; returns the answer frame).
Not thread-safe: one thread per Session. Publishing is in tearline.session_publish,
receiving and acknowledging in tearline.session_receive (mixins of Session), the values it
returns in tearline.session_values (all importable from here).
"""
from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import zmq
from zmq.utils import z85
from zmq.utils.monitor import parse_monitor_message

from tearline import codes, wire
from tearline.directory import Directory
from tearline.errors import TearlineError
from tearline.keys import NodeKeys
from tearline.session_publish import Publishing
from tearline.session_receive import Receiving
from tearline.session_values import (DeliveredSection, Delivery, DeliveryRefused, Gap, PublishOutcome,
                                     Subscriptions, Welcome)

__all__ = ["Session", "DeliveredSection", "Delivery", "DeliveryRefused", "Gap", "PublishOutcome", "Subscriptions",
           "Welcome"]
from tearline.v1 import wire_pb2

Frame = wire_pb2.Frame

_MONITORED = (zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
              | zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED)
_ANSWERS = frozenset({"accepted", "rejected", "error", "subscription_list", "broker_status"})


def _now_ms() -> int:
    return int(time.time() * 1000)


def _mono_ms() -> float:
    return time.monotonic() * 1000.0


@dataclass
class _Inbound:
    epoch: int
    frame: Frame


# ---------------------------------------------------------------------------

class Session(Publishing, Receiving):
    """One node's session with one broker; see the module's contract."""

    def __init__(self, endpoint: str, broker_public: bytes | str, node_id: str, keys: NodeKeys, directory: Directory, *,
                 timeout_ms: int = 5000, request_timeout_ms: int | None = None,
                 client_name: str = "tearline-python/0.1", auto_ack: bool = True,
                 directory_folder: str | os.PathLike | None = None,
                 context: zmq.Context | None = None) -> None:
        self.endpoint = endpoint
        self.node_id = node_id
        self.keys = keys
        self.directory = directory
        self.directory_folder = directory_folder
        self.timeout_ms = timeout_ms
        self.request_timeout_ms = request_timeout_ms if request_timeout_ms is not None else timeout_ms
        self.client_name = client_name
        self.auto_ack = auto_ack
        self.welcome: Welcome | None = None
        self.closed_by: TearlineError | None = None    # the ERROR that closed the session, if one did
        self.faults: list[TearlineError] = []          # frames from the broker this client refused
        # ERRORs of the broker about no request (request id 0) that did not close the session, e.g.
        # RECEIPT_INVALID answering an ACK: each counts towards the broker's failure limit.
        self.broker_errors: list[TearlineError] = []
        self.gaps: list[Gap] = []
        self.events: list[str] = []                    # "lost", "regained", "directory_reloaded ...", ...
        self._ready = False
        self._epoch = 0
        self._next_request_id = 1
        self._next_nonce = 1
        self._inbox: deque[_Inbound] = deque()
        self._outstanding: set[int] = set()
        self._pings: set[int] = set()
        self._durable: list[str] = []
        self._session_only: list[str] = []
        self._pending_acks: dict[str, list] = {}  # stream -> copies to acknowledge (Receiving)
        self._seen: dict[bytes, None] = {}
        from tearline.report import KeyEpochs, RootCache, UnwrapCache
        # Content keys and their wraps reused per label and exact recipient set (report-format 14.6).
        self.key_epochs = KeyEpochs()
        self._receipt_roots = RootCache()
        self._report_roots = RootCache()
        self._unwraps = UnwrapCache()
        self._waited_ms = 0.0
        self._auth_failed: int | None = None
        self._no_detail_failures = 0
        self._context = context or zmq.Context.instance()
        self._socket = self._context.socket(zmq.DEALER)
        server = broker_public.encode("ascii") if isinstance(broker_public, str) else bytes(broker_public)
        server_z85 = server if len(server) == 40 else z85.encode(server)
        s = self._socket
        s.setsockopt(zmq.CURVE_SERVERKEY, server_z85)
        s.setsockopt(zmq.CURVE_PUBLICKEY, z85.encode(keys.transport_public))
        s.setsockopt(zmq.CURVE_SECRETKEY, z85.encode(keys.transport_secret))
        s.setsockopt(zmq.MAXMSGSIZE, wire.CLIENT_MAX_FRAME_BYTES)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.IMMEDIATE, 1)
        s.setsockopt(zmq.RECONNECT_IVL, 100)
        s.setsockopt(zmq.RECONNECT_IVL_MAX, 1000)
        s.setsockopt(zmq.SNDTIMEO, timeout_ms)
        self._monitor = s.get_monitor_socket(_MONITORED)
        s.connect(endpoint)

    # -- opening -----------------------------------------------------------

    @classmethod
    def connect(cls, endpoint: str, broker_public: bytes | str, node_id: str, keys: NodeKeys, directory: Directory, *,
                timeout_ms: int = 5000, client_name: str = "tearline-python/0.1", hello: bool = True,
                check_identity: bool = True, **options: Any) -> "Session":
        """Connects and, unless ``hello`` is False, says HELLO (see the module's contract).
        ``check_identity=False`` skips the local check that the keys are the node's credential's
        (testers: a key no credential holds, another agency's broker)."""
        if check_identity:
            _check_local_identity(node_id, keys, directory)
        session = cls(endpoint, broker_public, node_id, keys, directory, timeout_ms=timeout_ms,
                      client_name=client_name, **options)
        if hello:
            try:
                session.hello()
            except BaseException:
                session.close(bye=False)
                raise
        return session

    def hello(self, timeout_ms: int | None = None) -> Welcome:
        """Sends HELLO and waits for WELCOME (6.2); starts a fresh session state."""
        timeout_ms = self.timeout_ms if timeout_ms is None else timeout_ms
        self._ready = False
        self._pending_acks.clear()
        self._drop_from_inbox(lambda f: f.WhichOneof("body") == "welcome" or _is_hello_refusal(f))
        deadline = _mono_ms() + timeout_ms
        self._send_bytes(wire.encode_frame(wire.hello(self.client_name)), deadline)
        frame = self._wait(lambda f: f.WhichOneof("body") == "welcome" or _is_hello_refusal(f), deadline,
                           what="WELCOME")
        if frame.WhichOneof("body") == "error":
            raise TearlineError.from_wire(frame.error.code, frame.error.reasons, "HELLO refused")
        w = frame.welcome
        self.welcome = Welcome(w.version, w.node_id, w.broker_time_ms, w.max_frame_bytes, w.max_subscriptions,
                               w.broker_id, bytes(w.directory_digest), w.broker_time_ms - _now_ms())
        if w.version != wire.PROTOCOL_VERSION:
            raise TearlineError(codes.UNSUPPORTED_VERSION, f"the broker speaks version {w.version}, not "
                                                           f"{wire.PROTOCOL_VERSION}")
        if w.node_id != self.node_id:
            raise TearlineError(codes.PROTOCOL_VIOLATION,
                                f"the broker authenticated {w.node_id!r}, not {self.node_id!r}")
        self._ready = True
        self.closed_by = None
        if self.directory.digest() != self.welcome.directory_digest:
            self.reload_directory("WELCOME names another directory digest")
        return self.welcome

    @property
    def ready(self) -> bool:
        """True while this client believes the broker holds its session READY."""
        self._pump(0)
        return self._ready

    def reconnect(self, timeout_ms: int | None = None) -> Welcome:
        """BYE, HELLO, then the durable patterns (attaching) and session-only ones again (6.9)."""
        timeout_ms = self.request_timeout_ms if timeout_ms is None else timeout_ms
        try:
            self._socket.send(wire.encode_frame(wire.bye("reconnecting")), zmq.DONTWAIT)
        except zmq.ZMQError:
            pass
        if self.directory_folder is not None:
            self.reload_directory("before HELLO again")
        welcome = self.hello(timeout_ms)
        for i in range(0, len(self._durable), wire.MAX_PATTERNS_PER_REQUEST):
            self._subscribe_once(self._durable[i:i + wire.MAX_PATTERNS_PER_REQUEST], False, timeout_ms)
        for i in range(0, len(self._session_only), wire.MAX_PATTERNS_PER_REQUEST):
            self._subscribe_once(self._session_only[i:i + wire.MAX_PATTERNS_PER_REQUEST], True, timeout_ms)
        self.events.append("regained")
        return welcome

    def _ensure_ready(self, deadline: float) -> None:
        self._pump(0)
        if not self._ready:
            self.reconnect(max(1, int(deadline - _mono_ms())))

    # -- requests ------------------------------------------------------------

    def subscribe(self, patterns: Iterable[str], session_only: bool = False,
                  timeout_ms: int | None = None) -> None:
        """SUBSCRIBE (6.5); a durable one attaches the session. REJECTED raises its code."""
        patterns = list(patterns)
        deadline = self._deadline(timeout_ms)
        self._call(lambda rid: wire.subscribe(rid, patterns, session_only), deadline, "SUBSCRIBE",
                   expect="accepted")
        kept = self._session_only if session_only else self._durable
        for p in patterns:
            if p not in kept:
                kept.append(p)

    def unsubscribe(self, patterns: Iterable[str], session_only: bool = False,
                    timeout_ms: int | None = None) -> None:
        """UNSUBSCRIBE (6.5) from the set ``session_only`` names."""
        patterns = list(patterns)
        deadline = self._deadline(timeout_ms)
        self._call(lambda rid: wire.unsubscribe(rid, patterns, session_only), deadline, "UNSUBSCRIBE",
                   expect="accepted")
        kept = self._session_only if session_only else self._durable
        kept[:] = [p for p in kept if p not in patterns]

    def list_subscriptions(self, timeout_ms: int | None = None) -> Subscriptions:
        """LIST_SUBSCRIPTIONS -> the node's patterns and cursors (6.5)."""
        frame = self._call(lambda rid: wire.list_subscriptions(rid), self._deadline(timeout_ms),
                           "LIST_SUBSCRIPTIONS", expect="subscription_list")
        s = frame.subscription_list
        return Subscriptions(list(s.durable), list(s.session), s.acked_seq,
                             {c.writer: c.acked_seq for c in s.streams})

    def admin_reload(self, timeout_ms: int | None = None) -> None:
        """ADMIN reload (6.10): None when ACCEPTED, else raises its code and reasons."""
        self._call(lambda rid: wire.admin(rid, wire.ADMIN_RELOAD), self._deadline(timeout_ms), "ADMIN reload",
                   expect="accepted")

    def admin_status(self, timeout_ms: int | None = None) -> wire_pb2.BrokerStatus:
        """ADMIN status (6.10) -> the BROKER_STATUS message."""
        frame = self._call(lambda rid: wire.admin(rid, wire.ADMIN_STATUS), self._deadline(timeout_ms),
                           "ADMIN status", expect="broker_status")
        return frame.broker_status

    def ping(self, timeout_ms: int | None = None) -> float:
        """PING and wait for the PONG of the same nonce (6.9); returns the round trip in ms."""
        deadline = self._deadline(timeout_ms)
        self._ensure_ready(deadline)
        nonce = self._send_ping()
        start = _mono_ms()
        try:
            self._wait(lambda f: f.WhichOneof("body") == "pong" and f.pong.nonce == nonce, deadline, what="PONG")
        finally:
            self._pings.discard(nonce)
        return _mono_ms() - start

    def bye(self, reason: str = "") -> None:
        """BYE (6.12): the broker forgets the session at once and answers nothing."""
        self._flush_acks()
        try:
            self._socket.send(wire.encode_frame(wire.bye(reason)), zmq.DONTWAIT)
        except zmq.ZMQError:
            pass
        self._ready = False

    def close(self, bye: bool = True) -> None:
        """Ends the session (BYE unless ``bye`` is False) and closes the sockets."""
        if self._socket.closed:
            return
        self.key_epochs.clear()  # the content keys of this session's epochs, wiped
        if bye and self._ready:
            try:
                self.bye("closing")
            except TearlineError:
                pass
        try:
            self._socket.disable_monitor()
        except zmq.ZMQError:
            pass
        self._monitor.close(linger=0)
        self._socket.close(linger=0)

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- directory -----------------------------------------------------------

    def reload_directory(self, why: str = "on request") -> bool:
        """Reads the local directory again, when it can be (a folder is known); True when it did."""
        folder = self.directory_folder or self.directory.folder
        if folder is None:
            self.events.append(f"directory_not_reloaded {why}")
            return False
        try:
            self.directory = Directory.load(folder, previous=self.directory)
        except TearlineError as error:
            self.events.append(f"directory_reload_failed {why}: {error}")
            return False
        self.events.append(f"directory_reloaded {why}")
        return True

    # -- raw access (testers) -----------------------------------------------

    def send_frame(self, frame: Frame, timeout_ms: int | None = None) -> None:
        """Encodes and sends one frame as it is (no check of size or content)."""
        self._send_bytes(wire.encode_frame(frame), self._deadline(timeout_ms))

    def send_raw(self, data: bytes | Sequence[bytes], timeout_ms: int | None = None) -> None:
        """Sends raw bytes as one message, or a list of parts as one multi-part message."""
        deadline = self._deadline(timeout_ms)
        if isinstance(data, (bytes, bytearray, memoryview)):
            self._send_bytes(bytes(data), deadline)
        else:
            self._send_parts([bytes(p) for p in data], deadline)

    def recv_frame(self, timeout_ms: int | None = None) -> Frame | None:
        """The oldest frame received and not taken yet, or None after ``timeout_ms``."""
        deadline = self._deadline(timeout_ms)
        while True:
            if self._inbox:
                return self._inbox.popleft().frame
            remaining = deadline - _mono_ms()
            if remaining <= 0:
                return None
            self._pump(remaining)

    def request(self, frame: Frame, timeout_ms: int | None = None) -> Frame:
        """Sends a request frame (a request id of 0 gets a fresh one) and returns its answer."""
        body = frame.WhichOneof("body")
        message = getattr(frame, body) if body else None
        if message is not None and hasattr(message, "request_id") and message.request_id == 0:
            message.request_id = self._take_request_id()
        rid = wire.request_id_of(frame)
        deadline = self._deadline(timeout_ms)
        self._outstanding.add(rid)
        try:
            self._send_bytes(wire.encode_frame(frame), deadline)
            return self._wait(lambda f: wire.request_id_of(f) == rid, deadline, what=f"an answer to request {rid}")
        finally:
            self._outstanding.discard(rid)

    def next_request_id(self) -> int:
        """A fresh request id of this Session's counter."""
        return self._take_request_id()

    # -- internals -------------------------------------------------------------

    def _deadline(self, timeout_ms: int | None) -> float:
        return _mono_ms() + (self.request_timeout_ms if timeout_ms is None else timeout_ms)

    def _take_request_id(self) -> int:
        rid = self._next_request_id
        self._next_request_id += 1
        return rid

    def _send_ping(self) -> int:
        nonce = self._next_nonce
        self._next_nonce += 1
        self._pings.add(nonce)
        self._send_bytes(wire.encode_frame(wire.ping(nonce)), _mono_ms() + self.timeout_ms)
        return nonce

    def _check_size(self, frame: Frame) -> None:
        limit = self.welcome.max_frame_bytes if self.welcome and self.welcome.max_frame_bytes else \
            wire.DEFAULT_MAX_FRAME_BYTES
        size = len(wire.encode_frame(frame))
        if size > limit:
            raise TearlineError(codes.FRAME_TOO_LARGE,
                                f"a frame of {size} bytes exceeds the broker's max_frame_bytes {limit}")

    def _subscribe_once(self, patterns: list[str], session_only: bool, timeout_ms: int) -> None:
        rid = self._take_request_id()
        self._outstanding.add(rid)
        deadline = _mono_ms() + timeout_ms
        try:
            self._send_bytes(wire.encode_frame(wire.subscribe(rid, patterns, session_only)), deadline)
            frame = self._wait(lambda f: wire.request_id_of(f) == rid, deadline, what="an answer to SUBSCRIBE")
        finally:
            self._outstanding.discard(rid)
        _raise_unless(frame, "accepted", "SUBSCRIBE")

    def _call(self, build: Callable[[int], Frame], deadline: float, what: str, expect: str | None) -> Frame:
        """Sends a request built with a fresh id and waits for its answer; on a lost session it
        reconnects and sends it again (6.9) until the deadline."""
        while True:
            self._ensure_ready(deadline)
            rid = self._take_request_id()
            frame = build(rid)
            self._outstanding.add(rid)
            try:
                self._send_bytes(wire.encode_frame(frame), deadline)
                answer = self._wait(lambda f: wire.request_id_of(f) == rid, deadline, what=f"an answer to {what}",
                                    until_lost=True)
            finally:
                self._outstanding.discard(rid)
            if answer is None or (answer.WhichOneof("body") == "error"
                                  and answer.error.code == codes.PROTOCOL_VIOLATION):
                if self.closed_by is not None:
                    raise self.closed_by
                self._lost(f"{what} met a session the broker does not hold")
                continue
            if expect is not None:
                _raise_unless(answer, expect, what)
            return answer

    def _lost(self, why: str) -> None:
        if self._ready:
            self.events.append(f"lost: {why}")
        self._ready = False

    def _wait(self, match: Callable[[Frame], bool], deadline: float, *, what: str,
              until_lost: bool = False) -> Frame | None:
        """The first inbound frame ``match`` accepts; None when ``until_lost`` and the session was lost."""
        while True:
            item = self._take_first(match)
            if item is not None:
                return item.frame
            if until_lost and not self._ready:
                return None
            self._check_handshake()
            remaining = deadline - _mono_ms()
            if remaining <= 0:
                raise self._unavailable(what)
            self._pump(remaining)

    def _unavailable(self, what: str) -> TearlineError:
        cause = ""
        if self._no_detail_failures:
            cause = (" (the CURVE handshake failed without detail: a wrong broker key, or a refusal"
                     " past the broker's budget of explained refusals)")
        return TearlineError(codes.UNAVAILABLE, f"no {what} from {self.endpoint} in time{cause}")

    def _check_handshake(self) -> None:
        if self._auth_failed is not None:
            raise TearlineError(codes.HANDSHAKE_REFUSED,
                                f"{self.endpoint} refused the transport key of {self.node_id} "
                                f"(ZAP status {self._auth_failed}: unknown, expired or revoked credential, "
                                f"or a partner agency's node)")

    def _send_bytes(self, data: bytes, deadline: float) -> None:
        self._send_parts([data], deadline)

    def _send_parts(self, parts: list[bytes], deadline: float) -> None:
        poller = zmq.Poller()
        poller.register(self._socket, zmq.POLLOUT)
        poller.register(self._monitor, zmq.POLLIN)
        while True:
            self._drain_monitor()
            self._check_handshake()
            try:
                self._socket.send_multipart(parts, zmq.DONTWAIT)
                return
            except zmq.Again:
                pass
            remaining = deadline - _mono_ms()
            if remaining <= 0:
                raise self._unavailable("connection to send on")
            poller.poll(min(remaining, 100))

    def _drain_monitor(self) -> None:
        while True:
            try:
                parts = self._monitor.recv_multipart(zmq.DONTWAIT)
            except (zmq.Again, zmq.ZMQError):
                return
            event = parse_monitor_message(parts)
            kind = event["event"]
            if kind == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                self._auth_failed = int(event["value"])
            elif kind == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
                self._no_detail_failures += 1
            elif kind == zmq.EVENT_DISCONNECTED:
                self._lost("the connection dropped")

    def _pump(self, timeout_ms: float) -> int:
        """Waits up to ``timeout_ms`` for messages, then takes every one waiting; returns how many."""
        poller = zmq.Poller()
        poller.register(self._socket, zmq.POLLIN)
        poller.register(self._monitor, zmq.POLLIN)
        poller.poll(max(0, int(timeout_ms)))
        self._drain_monitor()
        count = 0
        while True:
            try:
                parts = self._socket.recv_multipart(zmq.DONTWAIT)
            except zmq.Again:
                return count
            count += 1
            self._waited_ms = 0.0
            self._dispatch(parts)

    def _dispatch(self, parts: list[bytes]) -> None:
        if len(parts) != 1:
            self.faults.append(TearlineError(codes.MALFORMED_FRAME,
                                             f"a message of {len(parts)} parts from the broker"))
            return
        try:
            frame = wire.decode_frame(parts[0], wire.CLIENT_MAX_FRAME_BYTES)
        except TearlineError as error:
            self.faults.append(error)
            return
        body = frame.WhichOneof("body")
        if body not in wire.SERVER_BODIES:
            self.faults.append(TearlineError(codes.UNEXPECTED_FRAME, f"the broker sent a client frame ({body})"))
            return
        if body == "welcome":
            self._epoch += 1
        elif body == "error":
            code = frame.error.code
            # On a READY session an ERROR SESSION_REVOKED / 0 closes it; before WELCOME the same
            # frame answers HELLO (6.2) and hello() raises it.
            if code in codes.SESSION_CLOSING and (self._ready or not _is_hello_refusal(frame)):
                self.closed_by = TearlineError.from_wire(code, frame.error.reasons, "session closed")
                self._lost(f"ERROR {codes.name_of(code)}")
            elif code == codes.PROTOCOL_VIOLATION and frame.error.request_id == 0:
                self._lost("ERROR PROTOCOL_VIOLATION: the broker does not hold this session")
            elif frame.error.request_id == 0 and not _is_hello_refusal(frame):
                self.broker_errors.append(TearlineError.from_wire(code, frame.error.reasons, "broker ERROR"))
        elif body == "directory_changed":
            self.reload_directory("the broker announced a new directory")
        self._inbox.append(_Inbound(self._epoch, frame))

    def _take_first(self, match: Callable[[Frame], bool]) -> _Inbound | None:
        for i, item in enumerate(self._inbox):
            if match(item.frame):
                del self._inbox[i]
                return item
        return None

    def _drop_from_inbox(self, match: Callable[[Frame], bool]) -> None:
        self._inbox = deque(i for i in self._inbox if not match(i.frame))

    def _prune(self) -> None:
        """Drops frames no one will take: answers to no outstanding request, unwaited PONGs, events."""
        def keep(frame: Frame) -> bool:
            body = frame.WhichOneof("body")
            if body in ("deliver", "gap"):
                return True
            if body in _ANSWERS:
                rid = wire.request_id_of(frame)
                return rid != 0 and rid in self._outstanding
            return False
        self._inbox = deque(i for i in self._inbox if keep(i.frame))

    def _sleep_pumping(self, ms: float) -> None:
        end = _mono_ms() + max(0.0, ms)
        while _mono_ms() < end:
            self._pump(end - _mono_ms())


def _is_hello_refusal(frame: Frame) -> bool:
    return (frame.WhichOneof("body") == "error" and frame.error.request_id == 0
            and frame.error.code in codes.HELLO_REFUSALS)


def _raise_unless(frame: Frame, expect: str, what: str) -> None:
    body = frame.WhichOneof("body")
    if body == expect:
        return
    if body == "rejected":
        raise TearlineError.from_wire(frame.rejected.code, frame.rejected.reasons, f"{what} rejected")
    if body == "error":
        raise TearlineError.from_wire(frame.error.code, frame.error.reasons, what)
    raise TearlineError(codes.PROTOCOL_VIOLATION, f"{what} answered {body}, not {expect}")


def _check_local_identity(node_id: str, keys: NodeKeys, directory: Directory) -> None:
    """UNKNOWN_NODE when the directory has no credential of the node; KEY_FILE when the keys are not its."""
    credential = directory.node(node_id)
    if credential is None:
        raise TearlineError(codes.UNKNOWN_NODE, f"the local directory holds no credential of {node_id}")
    if credential.transport_key != keys.transport_public:
        raise TearlineError(codes.KEY_FILE, f"the key file is not {node_id}'s: its transport key differs")
