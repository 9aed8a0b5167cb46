"""tearline.wire, tearline.codes and tearline.errors against docs/protocol.md.

The worked example (section 10) and the code table (section 9) are read from
the document itself at run time, so a change of the document that the code
does not follow (or the reverse) fails here. Every strict rule of section 3
is checked with the code it must give.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tearline import codes, wire
from tearline.errors import Reason, TearlineError
from tearline.v1 import wire_pb2

SOURCE = Path(os.environ.get("TEARLINE_SOURCE") or Path(__file__).resolve().parents[2])
PROTOCOL = (SOURCE / "docs" / "protocol.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = PROTOCOL.index(title)
    end = PROTOCOL.index("\n## ", start + 1)
    return PROTOCOL[start:end]


def _example_frames() -> dict[int, bytes]:
    """Line number -> bytes, for every line of section 10's example given in full hex."""
    block = _section("## 10. Worked example").split("```")[1]
    frames = {}
    for line in block.splitlines():
        m = re.match(r"^\s*(\d+)\s+[CS]\s+.*\s([0-9a-f]+)\s*$", line)
        if m and len(m.group(2)) % 2 == 0 and len(m.group(2)) >= 8:
            frames[int(m.group(1))] = bytes.fromhex(m.group(2))
    return frames


EXAMPLE = _example_frames()


def malformed(data: bytes, max_frame_bytes: int = wire.DEFAULT_MAX_FRAME_BYTES) -> TearlineError:
    with pytest.raises(TearlineError) as caught:
        wire.decode_frame(data, max_frame_bytes)
    assert caught.value.code == codes.MALFORMED_FRAME, caught.value
    assert caught.value.name == "MALFORMED_FRAME"
    return caught.value


# ---------------------------------------------------------------------------
# Section 10, byte for byte.

def test_example_has_the_full_hex_lines():
    assert sorted(EXAMPLE) == [1, 2, 3, 4, 10, 11, 12, 14]


def test_hello_line_1():
    frame = wire.hello("tearline-cli/0.1")
    assert wire.encode_frame(frame) == EXAMPLE[1]
    assert EXAMPLE[1].hex() == "0a1e0a08746561726c696e6510011a10746561726c696e652d636c692f302e31"
    decoded = wire.decode_frame(EXAMPLE[1])
    assert (decoded.hello.protocol, decoded.hello.version, decoded.hello.client) == ("tearline", 1, "tearline-cli/0.1")


def test_welcome_line_2():
    frame = wire_pb2.Frame()
    w = frame.welcome
    w.version, w.node_id, w.broker_time_ms = 1, "dea-cucuta-agent", 1767225600000
    w.max_frame_bytes, w.max_subscriptions, w.broker_id = 1048576, 256, "tearline-broker"
    assert wire.encode_frame(frame) == EXAMPLE[2]
    assert wire.decode_frame(EXAMPLE[2]) == frame


def test_subscribe_line_3_and_accepted_line_4():
    assert wire.encode_frame(wire.subscribe(1, ["intel.seizures.>"])) == EXAMPLE[3]
    decoded = wire.decode_frame(EXAMPLE[3])
    assert decoded.subscribe.request_id == 1 and list(decoded.subscribe.patterns) == ["intel.seizures.>"]
    assert decoded.subscribe.session_only is False
    accepted = wire_pb2.Frame()
    accepted.accepted.request_id = 1
    assert wire.encode_frame(accepted) == EXAMPLE[4] == bytes.fromhex("3a020801")
    assert wire.decode_frame(EXAMPLE[4]) == accepted


def test_accepted_line_6_prefix():
    frame = wire_pb2.Frame()
    frame.accepted.request_id = 2
    frame.accepted.report_id = bytes.fromhex("3f1a6b208c4d419e97520d13e6a47b01")
    frame.accepted.broker_seq = 17
    frame.accepted.receipt = b"\x08\x01"  # stands for the receipt: the example elides it
    data = wire.encode_frame(frame)
    assert data[:1] == b"\x3a"
    assert "080212103f1a6b208c4d419e97520d13e6a47b01181122" in data.hex()


def test_ack_line_8_prefix():
    data = wire.encode_frame(wire.ack(17, b"\x08\x01"))
    assert data[:1] == b"\x52" and data[2:5] == bytes.fromhex("081112")


def test_rejected_line_10():
    frame = wire_pb2.Frame()
    frame.rejected.request_id = 3
    frame.rejected.code = 404
    Reason.of("TOPIC_WRITE_DENIED", "no grant lets dea-cucuta-agent publish intel.hq.tasking").to_wire(
        frame.rejected.reasons.add())
    assert wire.encode_frame(frame) == EXAMPLE[10]
    decoded = wire.decode_frame(EXAMPLE[10])
    assert decoded.rejected.code == codes.TOPIC_WRITE_DENIED
    assert Reason.from_wire(decoded.rejected.reasons[0]) == Reason(
        404, "TOPIC_WRITE_DENIED", "no grant lets dea-cucuta-agent publish intel.hq.tasking")


def test_ping_pong_lines_11_12():
    assert wire.encode_frame(wire.ping(7)) == EXAMPLE[11] == bytes.fromhex("5a020807")
    pong = wire_pb2.Frame()
    pong.pong.nonce = 7
    assert wire.encode_frame(pong) == EXAMPLE[12] == bytes.fromhex("62020807")
    assert wire.decode_frame(EXAMPLE[12]).pong.nonce == 7


def test_error_line_14():
    frame = wire_pb2.Frame()
    frame.error.code = 100
    Reason.of(100, "HELLO in a session that is already READY").to_wire(frame.error.reasons.add())
    data = wire.encode_frame(frame)
    assert data == EXAMPLE[14]
    assert b"\x18" not in data[:4]  # request_id 0 is not on the wire (field 3 absent)
    decoded = wire.decode_frame(EXAMPLE[14])
    assert decoded.error.request_id == 0 and decoded.error.code == codes.PROTOCOL_VIOLATION


def test_every_example_line_roundtrips_strictly():
    for number, data in EXAMPLE.items():
        assert wire.encode_frame(wire.decode_frame(data)) == data, number


# ---------------------------------------------------------------------------
# Section 3: the strict rules, in order, each with its code.

def test_rule_1_frame_too_large_before_parsing():
    hello = wire.encode_frame(wire.hello())
    assert wire.decode_frame(hello, len(hello)).hello.protocol == "tearline"
    with pytest.raises(TearlineError) as caught:
        wire.decode_frame(hello, len(hello) - 1)
    assert caught.value.code == codes.FRAME_TOO_LARGE
    garbage = b"\xff" * (wire.DEFAULT_MAX_FRAME_BYTES + 1)  # would be MALFORMED_FRAME if parsed
    with pytest.raises(TearlineError) as caught:
        wire.decode_frame(garbage, wire.DEFAULT_MAX_FRAME_BYTES)
    assert caught.value.code == codes.FRAME_TOO_LARGE and caught.value.name == "FRAME_TOO_LARGE"


@pytest.mark.parametrize("data", [
    EXAMPLE[1][:-1],                      # truncated: the length says 30, 29 follow
    EXAMPLE[1][:1],                       # a key with no length
    b"\x0a" + b"\xff" * 11,               # a varint longer than 10 bytes
    b"\x5a\x02\x08",                      # PING whose nonce varint is cut
    b"\x08\x01",                          # field 1 (hello, a message) with wire type 0
    b"\x5a\x02\x0a\x00",                  # Ping.nonce (uint64) with wire type 2
    b"\x0b\x0c",                          # a group (wire type 3)
    b"\x0e",                              # wire type 6 does not exist
    b"\x00\x00",                          # field number 0
])
def test_rule_2_bytes_that_do_not_parse(data):
    malformed(data)


def test_rule_2_invalid_utf8_in_a_string():
    hello = wire_pb2.Hello(protocol="tearline", version=1).SerializeToString()
    bad = hello.replace(b"tearline", b"tearlin\xff")
    malformed(b"\x0a" + bytes([len(bad)]) + bad)
    reason = wire_pb2.Reason(code=101).SerializeToString() + b"\x12\x02\xc3\x28"   # Reason.name, bad UTF-8
    error = b"\x12" + bytes([len(reason)]) + reason
    malformed(b"\x1a" + bytes([len(error)]) + error)


def test_rule_3_unknown_fields_at_any_depth():
    assert "unknown field 30" in malformed(b"\xf2\x01\x00").message                 # Frame field 30
    malformed(EXAMPLE[11] + b"\xa0\x01\x01")                                          # Frame field 20, varint
    hello = EXAMPLE[1][2:] + b"\x48\x01"                                              # Hello field 9
    malformed(b"\x0a" + bytes([len(hello)]) + hello)
    deliver = wire_pb2.Deliver(broker_seq=3, report=b"r").SerializeToString() + b"\x32\x00"  # Deliver field 6
    malformed(b"\x4a" + bytes([len(deliver)]) + deliver)
    reason = wire_pb2.Reason(code=101, name="MALFORMED_FRAME").SerializeToString() + b"\x20\x01"  # Reason field 4
    error = b"\x08\x65\x12" + bytes([len(reason)]) + reason
    malformed(b"\x1a" + bytes([len(error)]) + error)
    checkpoint = b"\x08\x01\x30\x01"                                                  # AuditCheckpoint field 6
    ping = b"\x08\x07\x12" + bytes([len(checkpoint)]) + checkpoint
    malformed(b"\x5a" + bytes([len(ping)]) + ping)


def test_rule_4_no_body():
    assert malformed(b"").message == "frame sets no body"


def test_rule_5_more_than_one_body():
    two = wire.encode_frame(wire.hello()) + wire.encode_frame(wire.ping(1))
    parsed = wire_pb2.Frame()
    parsed.ParseFromString(two)                      # an ordinary parser keeps the last: a PING
    assert parsed.WhichOneof("body") == "ping"
    assert "more than one body" in malformed(two).message
    # Bye (18) and Gap (19) are bodies too.
    malformed(wire.encode_frame(wire.ping(1)) + wire.encode_frame(wire.bye("x")))
    gap = wire_pb2.Frame()
    gap.gap.broker_seq = 4
    malformed(wire.encode_frame(gap) + EXAMPLE[12])
    # The same body twice is one body, merged as proto3 says.
    again = wire.decode_frame(wire.encode_frame(wire.ping(1)) + wire.encode_frame(wire.ping(9)))
    assert again.ping.nonce == 9


@pytest.mark.parametrize("body", sorted(wire.REQUEST_ID_REQUIRED))
def test_rule_6_request_id_zero(body):
    frame = wire_pb2.Frame()
    getattr(frame, body).SetInParent()
    if body == "rejected":
        frame.rejected.code = 404
    data = wire.encode_frame(frame)
    assert "request_id 0" in malformed(data).message
    getattr(frame, body).request_id = 5
    assert wire.decode_frame(wire.encode_frame(frame)).WhichOneof("body") == body


def test_rule_6_does_not_apply_to_other_bodies():
    for frame in (wire.ping(0), wire.ack(0, b""), wire.bye(), wire.hello()):
        assert wire.decode_frame(wire.encode_frame(frame)).WhichOneof("body") == frame.WhichOneof("body")
    error = wire_pb2.Frame()
    error.error.code = 101
    assert wire.decode_frame(wire.encode_frame(error)).error.request_id == 0
    assert wire.SERVER_BODIES | wire.CLIENT_BODIES == {
        f.name for f in wire_pb2.Frame.DESCRIPTOR.oneofs_by_name["body"].fields}


def test_builders_cover_every_client_frame():
    built = {
        wire.hello().WhichOneof("body"), wire.subscribe(1, ["a"]).WhichOneof("body"),
        wire.unsubscribe(1, ["a"]).WhichOneof("body"), wire.list_subscriptions(1).WhichOneof("body"),
        wire.publish(1, b"r").WhichOneof("body"), wire.ack(1, b"r").WhichOneof("body"),
        wire.ping(1).WhichOneof("body"), wire.admin(1, "status").WhichOneof("body"),
        wire.bye().WhichOneof("body"),
    }
    assert built == wire.CLIENT_BODIES
    assert wire.request_id_of(wire.admin(9, "reload")) == 9 and wire.request_id_of(wire.ping(9)) == 0


# ---------------------------------------------------------------------------
# Section 9 and 6.4: the code table and unknown numbers.

def test_code_table_is_section_9():
    rows = re.findall(r"^\| (\d+) \| ([A-Z_]+) \| ([^|]+) \|", _section("## 9. Codes"), re.MULTILINE)
    documented = {int(number): (name, meaning.strip()) for number, name, meaning in rows}
    assert len(documented) == 74
    assert codes.CODES == documented
    assert codes.number_of("HANDSHAKE_REFUSED") == 111 and codes.name_of(112) == "SESSION_REPLACED"
    assert codes.MALFORMED_FRAME == 101 and codes.STORAGE_TRUNCATED == 604


def test_errors_take_a_number_or_a_name():
    by_number, by_name = TearlineError(102, "big"), TearlineError("FRAME_TOO_LARGE", "big")
    for error in (by_number, by_name):
        assert (error.code, error.name, error.message) == (102, "FRAME_TOO_LARGE", "big")
        assert error.reasons == [Reason(102, "FRAME_TOO_LARGE", "big")]
    with pytest.raises(ValueError):
        TearlineError(999, "no such code")
    with pytest.raises(ValueError):
        TearlineError("NO_SUCH_CODE", "x")


def test_unknown_code_numbers_are_failures():
    reason = Reason.from_wire(wire_pb2.Reason(code=999, name="FUTURE_CODE", message="m"))
    assert reason.code == codes.PROTOCOL_VIOLATION
    assert "999" in reason.message and "FUTURE_CODE" in reason.message
    error = TearlineError.from_wire(999, [wire_pb2.Reason(code=999, name="FUTURE_CODE", message="m")])
    assert error.code == codes.PROTOCOL_VIOLATION and "999" in error.message
    assert Reason.from_wire(wire_pb2.Reason(code=0, name="OK")).code == codes.PROTOCOL_VIOLATION
    known = TearlineError.from_wire(405, [wire_pb2.Reason(code=405, name="TOPIC_INVALID", message="m")])
    assert known.code == codes.TOPIC_INVALID and known.reasons == [Reason(405, "TOPIC_INVALID", "m")]
