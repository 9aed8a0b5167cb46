"""Frames of the tearline client <-> broker protocol (docs/protocol.md, sections 1, 3, 6).

Contract:
- ``encode_frame(frame) -> bytes``: the deterministic proto3 serialization of a
  ``tearline.v1.Frame`` (fields in number order, defaults omitted), as the hex
  examples of section 10 are.
- ``decode_frame(data, max_frame_bytes) -> Frame``: the strict decoding of
  section 3, in its order, each failure a ``TearlineError``:
  1. more bytes than ``max_frame_bytes``: FRAME_TOO_LARGE (before parsing);
  2. bytes that are not a proto3 ``Frame`` (truncated, bad varint, bad wire
     type, a group, invalid UTF-8 in a ``string``): MALFORMED_FRAME;
  3. a field number the definitions do not have, at any depth: MALFORMED_FRAME;
  4. no body: MALFORMED_FRAME;
  5. more than one body field number at the top level (counted from the raw
     bytes, every body 1..19; the same body repeated is one body, merged):
     MALFORMED_FRAME (as the broker, lib/wire/frame.cc kLastBody);
  6. a request frame or an answer with ``request_id`` 0: MALFORMED_FRAME.
  The raw walk (``check_strict``) follows the descriptors of the generated
  module, so it knows every field of wire.proto and nothing else.
- Builders for every client frame (``hello``, ``subscribe``, ``unsubscribe``,
  ``list_subscriptions``, ``publish``, ``ack``, ``ping``, ``admin``, ``bye``)
  return ``Frame`` messages; ``body_name`` and ``request_id_of`` read one.
- The constants of section 1.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from tearline import codes
from tearline.errors import TearlineError
from tearline.v1 import wire_pb2

Frame = wire_pb2.Frame

# Section 1.
PROTOCOL_NAME = "tearline"
PROTOCOL_VERSION = 1
ZAP_DOMAIN = "tearline"
NO_REQUEST_ID = 0
DEFAULT_MAX_FRAME_BYTES = 1048576
DEFAULT_TRANSPORT_MAX_MESSAGE_BYTES = 2162688
DEFAULT_MAX_SUBSCRIPTIONS = 256
MAX_PATTERNS_PER_REQUEST = 64
MAX_CONSECUTIVE_FAILURES = 16
DEFAULT_REPLAY_WINDOW_MS = 300000
CLIENT_PING_INTERVAL_MS = 20000
SESSION_TIMEOUT_MS = 60000
DEFAULT_MAX_PENDING_DELIVERIES = 10000
ADMIN_RELOAD = "reload"
ADMIN_STATUS = "status"
ADMIN_ROLE = "admin"
# Section 2.1: what a client may decode (the reference client's own limit).
CLIENT_MAX_FRAME_BYTES = 64 * 1024 * 1024

# Section 3, rule 6: bodies whose request_id must not be 0.
REQUEST_ID_REQUIRED: frozenset[str] = frozenset({
    "subscribe", "unsubscribe", "publish", "admin", "list_subscriptions",
    "accepted", "rejected", "subscription_list", "broker_status",
})
# Section 5: frames only the broker sends / only a client sends.
SERVER_BODIES: frozenset[str] = frozenset({
    "welcome", "error", "accepted", "rejected", "deliver", "pong",
    "subscription_list", "broker_status", "directory_changed", "gap",
})
CLIENT_BODIES: frozenset[str] = frozenset({
    "hello", "subscribe", "unsubscribe", "publish", "ack", "ping", "admin",
    "list_subscriptions", "bye",
})

# Section 3, rule 5: the field numbers of Frame's body.
BODY_NUMBERS: frozenset[int] = frozenset(f.number for f in Frame.DESCRIPTOR.oneofs_by_name["body"].fields)

_VARINT, _I64, _LEN, _SGROUP, _EGROUP, _I32 = 0, 1, 2, 3, 4, 5
_VARINT_TYPES = {
    FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_BOOL, FieldDescriptor.TYPE_ENUM,
}
_I64_TYPES = {FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED64, FieldDescriptor.TYPE_DOUBLE}
_I32_TYPES = {FieldDescriptor.TYPE_FIXED32, FieldDescriptor.TYPE_SFIXED32, FieldDescriptor.TYPE_FLOAT}


def _malformed(message: str) -> TearlineError:
    return TearlineError(codes.MALFORMED_FRAME, message)


def _varint(data: bytes, pos: int, where: str) -> tuple[int, int]:
    value, shift = 0, 0
    for i in range(10):
        if pos >= len(data):
            raise _malformed(f"{where}: truncated varint")
        byte = data[pos]
        pos += 1
        if i == 9 and byte > 1:
            raise _malformed(f"{where}: varint longer than 64 bits")
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos
    raise _malformed(f"{where}: varint longer than 10 bytes")


def _walk(data: bytes, descriptor: Descriptor, path: str, top: set[int] | None) -> None:
    """Checks ``data`` is a proto3 ``descriptor`` with no unknown field at any depth."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos, path)
        number, wire_type = key >> 3, key & 7
        if number == 0 or number > 0x1FFFFFFF:
            raise _malformed(f"{path}: invalid field number {number}")
        field = descriptor.fields_by_number.get(number)
        if field is None:
            raise _malformed(f"{path}: unknown field {number}")
        where = f"{path}.{field.name}"
        if top is not None:
            top.add(number)
        if wire_type == _VARINT:
            if field.type not in _VARINT_TYPES:
                raise _malformed(f"{where}: wire type 0 for a {field.type} field")
            _, pos = _varint(data, pos, where)
        elif wire_type == _I64:
            if field.type not in _I64_TYPES:
                raise _malformed(f"{where}: wire type 1 for a {field.type} field")
            if pos + 8 > end:
                raise _malformed(f"{where}: truncated")
            pos += 8
        elif wire_type == _I32:
            if field.type not in _I32_TYPES:
                raise _malformed(f"{where}: wire type 5 for a {field.type} field")
            if pos + 4 > end:
                raise _malformed(f"{where}: truncated")
            pos += 4
        elif wire_type == _LEN:
            length, pos = _varint(data, pos, where)
            if length > end - pos:
                raise _malformed(f"{where}: length {length} past the end")
            value = data[pos:pos + length]
            pos += length
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                _walk(value, field.message_type, where, None)
            elif field.type == FieldDescriptor.TYPE_STRING:
                try:
                    value.decode("utf-8", errors="strict")
                except UnicodeDecodeError:
                    raise _malformed(f"{where}: invalid UTF-8") from None
            elif field.type == FieldDescriptor.TYPE_BYTES:
                pass
            elif field.label == FieldDescriptor.LABEL_REPEATED and field.type in _VARINT_TYPES:
                packed = 0
                while packed < len(value):
                    _, packed = _varint(value, packed, where)
            elif field.label == FieldDescriptor.LABEL_REPEATED and field.type in _I64_TYPES | _I32_TYPES:
                if len(value) % (8 if field.type in _I64_TYPES else 4):
                    raise _malformed(f"{where}: packed length {len(value)}")
            else:
                raise _malformed(f"{where}: wire type 2 for a {field.type} field")
        else:
            raise _malformed(f"{where}: wire type {wire_type} not allowed")


def check_strict(data: bytes, descriptor: Descriptor = Frame.DESCRIPTOR) -> set[int]:
    """Rules 2 and 3 on raw bytes; returns the top-level field numbers present."""
    top: set[int] = set()
    _walk(bytes(data), descriptor, descriptor.name, top)
    return top


def decode_frame(data: bytes, max_frame_bytes: int = CLIENT_MAX_FRAME_BYTES) -> Frame:
    """The strict decoding of protocol section 3 (see the module's contract)."""
    data = bytes(data)
    if len(data) > max_frame_bytes:
        raise TearlineError(codes.FRAME_TOO_LARGE,
                            f"frame of {len(data)} bytes exceeds max_frame_bytes {max_frame_bytes}")
    top = check_strict(data)
    frame = Frame()
    try:
        frame.ParseFromString(data)
    except Exception as error:  # noqa: BLE001 - the parser's own refusal
        raise _malformed(f"frame does not parse: {error}") from None
    bodies = sorted(top & BODY_NUMBERS)
    if not bodies:
        raise _malformed("frame sets no body")
    if len(bodies) > 1:
        names = ", ".join(Frame.DESCRIPTOR.fields_by_number[n].name for n in bodies)
        raise _malformed(f"frame sets more than one body ({names})")
    body = frame.WhichOneof("body")
    if body in REQUEST_ID_REQUIRED and getattr(frame, body).request_id == NO_REQUEST_ID:
        raise _malformed(f"{body.upper()} with request_id 0")
    return frame


def encode_frame(frame: Frame) -> bytes:
    """The deterministic serialization of a frame (section 3)."""
    return frame.SerializeToString(deterministic=True)


def body_name(frame: Frame) -> str | None:
    """The body set in ``frame`` ("hello", "deliver", ...), or None."""
    return frame.WhichOneof("body")


def request_id_of(frame: Frame) -> int:
    """The frame's request id: 0 for a body without one, or when not set."""
    body = body_name(frame)
    if body is None:
        return NO_REQUEST_ID
    message = getattr(frame, body)
    return int(getattr(message, "request_id", NO_REQUEST_ID))


# Builders of every client frame.

def hello(client: str = "tearline-python/0.1", *, protocol: str = PROTOCOL_NAME,
          version: int = PROTOCOL_VERSION) -> Frame:
    frame = Frame()
    frame.hello.protocol, frame.hello.version, frame.hello.client = protocol, version, client
    return frame


def subscribe(request_id: int, patterns: Iterable[str], session_only: bool = False) -> Frame:
    frame = Frame()
    frame.subscribe.request_id = request_id
    frame.subscribe.patterns.extend(patterns)
    frame.subscribe.session_only = session_only
    return frame


def unsubscribe(request_id: int, patterns: Iterable[str], session_only: bool = False) -> Frame:
    frame = Frame()
    frame.unsubscribe.request_id = request_id
    frame.unsubscribe.patterns.extend(patterns)
    frame.unsubscribe.session_only = session_only
    return frame


def list_subscriptions(request_id: int) -> Frame:
    frame = Frame()
    frame.list_subscriptions.request_id = request_id
    return frame


def publish(request_id: int, report: bytes) -> Frame:
    frame = Frame()
    frame.publish.request_id = request_id
    frame.publish.report = bytes(report)
    return frame


def ack(broker_seq: int, receipt: bytes, writer: str = "",
        refused: Sequence[wire_pb2.CopyRefusal] = ()) -> Frame:
    frame = Frame()
    frame.ack.broker_seq = broker_seq
    frame.ack.receipt = bytes(receipt)
    frame.ack.writer = writer
    frame.ack.refused.extend(refused)
    return frame


def ping(nonce: int) -> Frame:
    frame = Frame()
    frame.ping.nonce = nonce
    return frame


def admin(request_id: int, command: str) -> Frame:
    frame = Frame()
    frame.admin.request_id = request_id
    frame.admin.command = command
    return frame


def bye(reason: str = "") -> Frame:
    frame = Frame()
    frame.bye.reason = reason
    return frame
