"""Byte encodings that signatures and hashes cover (docs/report-format.md section 2).

Contract:
- ByteWriter builds every hash, signature and associated-data input: tag(t) appends the
  ASCII bytes and one 0x00; field(b) a u64le length then the bytes; u32/u64 little-endian
  (u64 of a negative int64 is its two's complement); raw(b) the bytes alone.
- The domain tags of section 2.2 (and 14.2/14.3) are constants here.
- parse_canonical(cls, data) accepts signed/committed protobuf bytes (ReportHeader, Label,
  identity bodies) only when they parse, carry no unknown field at any depth (a known
  number with the wrong wire type counts as unknown) and re-serialize deterministically to
  exactly the same bytes (section 2.4); otherwise TearlineError BAD_ENCODING.
- parse_strict(cls, data, code) parses a container (Report, SignedObject, receipts):
  it must parse and have no unknown field at any depth; ordinary proto3 semantics otherwise.
- serialize_canonical(msg) is the deterministic serialization the builders emit.
"""
from __future__ import annotations

import struct
from typing import TypeVar

from google.protobuf import descriptor as _descriptor
from google.protobuf.message import DecodeError, Message

from tearline.errors import TearlineError

# Domain tags (report-format 2.2, 14.2, 14.3; trust-model 3).
TAG_REPORT = "tearline/v1/report"
TAG_COMMITMENT = "tearline/v1/section-commitment"
TAG_SECTION_AD = "tearline/v1/section-ad"
TAG_CREDENTIAL = "tearline/v1/credential"
TAG_CHARTER = "tearline/v1/charter"
TAG_REVOCATION_LIST = "tearline/v1/revocation-list"
TAG_PEERING = "tearline/v1/peering"
TAG_AUDIT_CHECKPOINT = "tearline/v1/audit-checkpoint"
TAG_ACCEPTANCE_BATCH = "tearline/v1/acceptance-batch"
TAG_RECEIPT_LEAF = "tearline/v1/receipt-leaf"
TAG_RECEIPT_NODE = "tearline/v1/receipt-node"
TAG_DELIVERY_RECEIPT = "tearline/v1/delivery-receipt"
TAG_STREAM_DELIVERY_RECEIPT = "tearline/v1/stream-delivery-receipt"
TAG_BATCH_LEAF = "tearline/v2/batch-leaf"
TAG_BATCH_NODE = "tearline/v2/batch-node"
TAG_REPORT_BATCH = "tearline/v2/report-batch"

INT32_MAX = 2**31 - 1


class ByteWriter:
    """The length-prefixed encoding of report-format 2.1."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def tag(self, t: str) -> "ByteWriter":
        b = t.encode("ascii")
        if b"\x00" in b:
            raise ValueError("a tag never contains 0x00")
        self._parts.append(b + b"\x00")
        return self

    def field(self, b: bytes | str) -> "ByteWriter":
        if isinstance(b, str):
            b = b.encode("utf-8")
        self._parts.append(struct.pack("<Q", len(b)) + bytes(b))
        return self

    def u32(self, v: int) -> "ByteWriter":
        self._parts.append(struct.pack("<I", v & 0xFFFFFFFF))
        return self

    def u64(self, v: int) -> "ByteWriter":
        self._parts.append(struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF))
        return self

    def raw(self, b: bytes) -> "ByteWriter":
        self._parts.append(bytes(b))
        return self

    def bytes(self) -> bytes:
        return b"".join(self._parts)


# --- protobuf wire walking -------------------------------------------------

_VARINT_TYPES = {
    _descriptor.FieldDescriptor.TYPE_INT32, _descriptor.FieldDescriptor.TYPE_INT64,
    _descriptor.FieldDescriptor.TYPE_UINT32, _descriptor.FieldDescriptor.TYPE_UINT64,
    _descriptor.FieldDescriptor.TYPE_SINT32, _descriptor.FieldDescriptor.TYPE_SINT64,
    _descriptor.FieldDescriptor.TYPE_BOOL, _descriptor.FieldDescriptor.TYPE_ENUM,
}
_FIXED64 = {_descriptor.FieldDescriptor.TYPE_FIXED64, _descriptor.FieldDescriptor.TYPE_SFIXED64,
            _descriptor.FieldDescriptor.TYPE_DOUBLE}
_FIXED32 = {_descriptor.FieldDescriptor.TYPE_FIXED32, _descriptor.FieldDescriptor.TYPE_SFIXED32,
            _descriptor.FieldDescriptor.TYPE_FLOAT}


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated or overlong varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def unknown_fields(data: bytes, desc: _descriptor.Descriptor, path: str = "") -> list[str]:
    """Every field of `data` (wire bytes of message type `desc`) that a parser would keep as
    unknown: an unknown number, a known number with the wrong wire type, at any depth."""
    found: list[str] = []
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        fd = desc.fields_by_number.get(number)
        where = f"{path}{desc.name}.{number}"
        if wire == 0:
            _, pos = _read_varint(data, pos)
            ok = fd is not None and fd.type in _VARINT_TYPES
        elif wire == 1:
            pos += 8
            ok = fd is not None and fd.type in _FIXED64
        elif wire == 5:
            pos += 4
            ok = fd is not None and fd.type in _FIXED32
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            chunk = data[pos:pos + length]
            if len(chunk) != length:
                raise ValueError("truncated field")
            pos += length
            if fd is None:
                ok = False
            elif fd.type == _descriptor.FieldDescriptor.TYPE_MESSAGE:
                ok = True
                found.extend(unknown_fields(chunk, fd.message_type, where + "/"))
            elif fd.type in (_descriptor.FieldDescriptor.TYPE_STRING, _descriptor.FieldDescriptor.TYPE_BYTES):
                ok = True
            else:  # packed repeated scalar
                ok = fd.label == _descriptor.FieldDescriptor.LABEL_REPEATED
        else:
            raise ValueError("group or invalid wire type")
        if pos > len(data):
            raise ValueError("truncated field")
        if not ok:
            found.append(where)
    return found


M = TypeVar("M", bound=Message)


def parse_strict(cls: type[M], data: bytes, code: int | str, what: str = "") -> M:
    """Parse a container: it parses and has no unknown field at any depth, else `code`."""
    name = what or cls.DESCRIPTOR.name
    data = bytes(data)
    if len(data) > INT32_MAX:
        raise TearlineError(code, f"{name} is larger than INT32_MAX bytes")
    msg = cls()
    try:
        msg.ParseFromString(data)
        unknown = unknown_fields(data, cls.DESCRIPTOR)
    except (DecodeError, ValueError) as e:
        raise TearlineError(code, f"{name} does not parse: {e}") from None
    if unknown:
        raise TearlineError(code, f"{name} has unknown fields: {', '.join(unknown)}")
    return msg


def serialize_canonical(msg: Message) -> bytes:
    return msg.SerializeToString(deterministic=True)


def parse_canonical(cls: type[M], data: bytes, what: str = "") -> M:
    """Parse signed bytes canonically (report-format 2.4), else BAD_ENCODING."""
    name = what or cls.DESCRIPTOR.name
    msg = parse_strict(cls, data, "BAD_ENCODING", name)
    if serialize_canonical(msg) != bytes(data):
        raise TearlineError("BAD_ENCODING", f"{name} is not canonical (re-serializing gives other bytes)")
    return msg
