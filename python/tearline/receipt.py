"""Receipts (docs/report-format.md section 15; docs/protocol.md 6.8, 6.14;
docs/federation.md "The path").

Contract:
- report_digest(report) (15.1): the batch leaf of 14.2, the same for every redacted copy.
- acceptance_leaf / acceptance_inner / acceptance_statement (15.2) and
  make_acceptance_receipts(broker_id, signing_secret, first_seq, accepted_ms, digests) -> list[bytes]
  (what a broker signs; for tests and testers).
- verify_acceptance_receipt(receipt, report, broker_seq=None, broker_id=None, directory=None, *,
  digest=None, root_cache=None) -> AcceptanceInfo: the steps of 15.3, every failure
  TearlineError RECEIPT_INVALID; `report` is the report or copy bytes (or None with `digest`).
- verify_crossing_path(path, digest, directory, *, node_id, originator, delivered) -> list of
  AcceptanceInfo (protocol 6.8): 1..8 receipts, no broker twice, the first a broker of the
  originator's agency, none of the node's own agency, times never back, none later than the
  DELIVER's receipt. witness_ms(path_infos, delivered) is the earliest acceptance.
- delivery_statement / make_delivery_receipt(node_id, keys, broker_id, entries, signed_ms,
  writer="") -> bytes (15.4: format 1 with writer empty, format 2 with writer set);
  describe_copy(broker_seq, copy_bytes) makes one entry from a DELIVER's report bytes (copy_header
  reads a copy leniently);
  parse_delivery(bytes) and verify_delivery(bytes, directory, recorded_ms).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from tearline import crypto
from tearline.directory import Directory
from tearline.encoding import (TAG_ACCEPTANCE_BATCH, TAG_DELIVERY_RECEIPT, TAG_RECEIPT_LEAF, TAG_RECEIPT_NODE,
                               TAG_STREAM_DELIVERY_RECEIPT, ByteWriter, parse_strict, serialize_canonical)
from tearline.errors import Reason, TearlineError
from tearline.keys import NodeKeys
from tearline.report import RootCache, report_digest
from tearline.v1 import receipt_pb2, report_pb2

MAX_ACCEPTANCE_LEAVES = 65536
MAX_ACCEPTANCE_PATH = 16
MAX_HOPS = 8
MAX_DELIVERY_ENTRIES = 1024
MAX_WRITER_BYTES = 128

__all__ = ["report_digest", "AcceptanceInfo", "DeliveryEntry", "acceptance_leaf", "acceptance_inner",
           "acceptance_statement", "make_acceptance_receipts", "verify_acceptance_receipt", "verify_crossing_path",
           "witness_ms", "delivery_statement", "make_delivery_receipt", "describe_copy", "copy_header",
           "copy_report_id", "parse_delivery", "verify_delivery"]


def _invalid(message: str) -> TearlineError:
    return TearlineError("RECEIPT_INVALID", message)


def acceptance_leaf(seq: int, digest: bytes) -> bytes:
    return crypto.blake2b256(ByteWriter().tag(TAG_RECEIPT_LEAF).u64(seq).raw(digest).bytes())


def acceptance_inner(left: bytes, right: bytes) -> bytes:
    return crypto.blake2b256(ByteWriter().tag(TAG_RECEIPT_NODE).raw(left).raw(right).bytes())


def acceptance_statement(broker_id: str, first_seq: int, leaf_count: int, accepted_ms: int, root: bytes) -> bytes:
    return (ByteWriter().field(broker_id.encode("utf-8")).u64(first_seq).u32(leaf_count).u64(accepted_ms)
            .raw(root).bytes())


def make_acceptance_receipts(broker_id: str, signing_secret: bytes, first_seq: int, accepted_ms: int,
                             digests: Sequence[bytes]) -> list[bytes]:
    m = len(digests)
    if not 1 <= m <= MAX_ACCEPTANCE_LEAVES:
        raise ValueError("1 to 65536 digests per statement")
    leaves = [acceptance_leaf(first_seq + i, d) for i, d in enumerate(digests)]
    root = crypto.merkle_root(leaves, acceptance_inner)
    sig = crypto.sign(TAG_ACCEPTANCE_BATCH, acceptance_statement(broker_id, first_seq, m, accepted_ms, root),
                      signing_secret)
    out = []
    for i in range(m):
        r = receipt_pb2.AcceptanceReceipt(format_version=1, broker_id=broker_id, first_seq=first_seq, leaf_count=m,
                                          accepted_ms=accepted_ms, root=root, signature=sig, leaf_index=i,
                                          path=crypto.merkle_path(leaves, i, acceptance_inner))
        out.append(serialize_canonical(r))
    return out


@dataclass(frozen=True)
class AcceptanceInfo:
    broker_id: str
    seq: int
    accepted_ms: int
    first_seq: int
    leaf_count: int
    leaf_index: int
    broker_agency: str = ""


def verify_acceptance_receipt(receipt: bytes, report: bytes | report_pb2.Report | None = None,
                              broker_seq: int | None = None, broker_id: str | None = None,
                              directory: Directory | None = None, *, digest: bytes | None = None,
                              root_cache: RootCache | None = None) -> AcceptanceInfo:
    """15.3; every failure is RECEIPT_INVALID."""
    if directory is None:
        raise ValueError("a directory is needed")
    if digest is None:
        if report is None:
            raise ValueError("the report or its digest is needed")
        try:
            digest = report_digest(report)
        except TearlineError as e:
            raise _invalid(f"the report does not parse: {e.message}") from None
    if not receipt:
        raise _invalid("no acceptance receipt")
    try:
        r = parse_strict(receipt_pb2.AcceptanceReceipt, receipt, "RECEIPT_INVALID", "acceptance receipt")
    except TearlineError as e:
        raise _invalid(e.message) from None
    if r.format_version != 1:
        raise _invalid(f"acceptance receipt format {r.format_version} is not 1")
    if not 1 <= r.leaf_count <= MAX_ACCEPTANCE_LEAVES or r.leaf_index >= r.leaf_count:
        raise _invalid("acceptance receipt: leaf count or index out of range")
    if len(r.root) != 32 or len(r.signature) != 64:
        raise _invalid("acceptance receipt: root or signature of the wrong size")
    if len(r.path) > MAX_ACCEPTANCE_PATH or any(len(p) != 32 for p in r.path):
        raise _invalid("acceptance receipt: path longer than 16 or an entry not 32 bytes")
    seq = r.first_seq + r.leaf_index
    if seq >= 1 << 64:
        raise _invalid("acceptance receipt: seq overflows")
    if broker_seq is not None and seq != broker_seq:
        raise _invalid(f"acceptance receipt is for seq {seq}, not {broker_seq}")
    if broker_id is not None and r.broker_id != broker_id:
        raise _invalid(f"acceptance receipt is signed by {r.broker_id}, not {broker_id}")
    cred = directory.node(r.broker_id)
    if cred is None or "broker" not in cred.roles:
        raise _invalid(f"acceptance receipt: {r.broker_id} is not a broker of the directory")
    standing = directory.check_signer(r.broker_id, r.accepted_ms, r.accepted_ms)
    if standing:
        raise TearlineError("RECEIPT_INVALID", "acceptance receipt: broker " + r.broker_id + " does not stand: "
                            + "; ".join(x.message for x in standing),
                            [Reason.of("RECEIPT_INVALID", x.message) for x in standing])
    root = crypto.root_from_path(acceptance_leaf(seq, digest), r.leaf_index, r.leaf_count, list(r.path),
                                 acceptance_inner)
    if root is None:
        raise _invalid("acceptance receipt: the path's length does not fit its leaf index and count")
    if not crypto.ct_equal(root, r.root):
        raise _invalid("acceptance receipt is not for this report (root mismatch)")
    statement = acceptance_statement(r.broker_id, r.first_seq, r.leaf_count, r.accepted_ms, root)
    if root_cache is not None:
        ok = root_cache.verify_statement(r.broker_id, TAG_ACCEPTANCE_BATCH, statement, r.signature, cred.signing_key)
    else:
        ok = crypto.verify(TAG_ACCEPTANCE_BATCH, statement, r.signature, cred.signing_key)
    if not ok:
        raise _invalid("acceptance receipt: the broker's signature does not verify")
    return AcceptanceInfo(r.broker_id, seq, r.accepted_ms, r.first_seq, r.leaf_count, r.leaf_index, cred.agency)


def verify_crossing_path(path: bytes, digest: bytes, directory: Directory, *, node_id: str, originator: str,
                         delivered: AcceptanceInfo, root_cache: RootCache | None = None) -> list[AcceptanceInfo]:
    """protocol 6.8 `path`; empty bytes: no path (a report published to this broker)."""
    if not path:
        return []
    try:
        p = parse_strict(receipt_pb2.CrossingPath, path, "RECEIPT_INVALID", "crossing path")
    except TearlineError as e:
        raise _invalid(e.message) from None
    if not 1 <= len(p.receipts) <= MAX_HOPS:
        raise _invalid(f"crossing path: {len(p.receipts)} receipts, not 1 to {MAX_HOPS}")
    node = directory.node(node_id)
    orig = directory.node(originator)
    if node is None or orig is None:
        raise _invalid("crossing path: the node or the originator is not in the directory")
    infos: list[AcceptanceInfo] = []
    for i, rb in enumerate(p.receipts):
        try:
            info = verify_acceptance_receipt(rb, None, None, None, directory, digest=digest, root_cache=root_cache)
        except TearlineError as e:
            raise _invalid(f"crossing path hop {i + 1}: {e.message}") from None
        if any(x.broker_id == info.broker_id for x in infos):
            raise _invalid(f"crossing path: broker {info.broker_id} twice")
        if i == 0 and info.broker_agency != orig.agency:
            raise _invalid(f"crossing path: the first broker {info.broker_id} is not of the originator's agency")
        if info.broker_agency == node.agency:
            raise _invalid(f"crossing path: {info.broker_id} is a broker of this node's own agency")
        if infos and info.accepted_ms < infos[-1].accepted_ms:
            raise _invalid("crossing path: acceptance times go back")
        if info.accepted_ms > delivered.accepted_ms:
            raise _invalid("crossing path: a hop is later than the delivering broker's receipt")
        infos.append(info)
    return infos


def witness_ms(path_infos: Sequence[AcceptanceInfo], delivered: AcceptanceInfo) -> int:
    """The earliest acceptance on the path and the receipt (trust-model 12)."""
    return min([delivered.accepted_ms] + [i.accepted_ms for i in path_infos])


# --- delivery receipts ---------------------------------------------------------------

@dataclass(frozen=True)
class DeliveryEntry:
    broker_seq: int
    copy_hash: bytes
    report_id: bytes
    sections: tuple[int, ...] = field(default_factory=tuple)


def copy_header(copy: bytes) -> tuple[report_pb2.ReportHeader | None, tuple[int, ...]]:
    """A copy's header and the indexes of the sections it carries, read leniently (ordinary
    protobuf parsing, unknown fields allowed): what a receiver knows of any copy before verifying
    it. (None, ()) when the container does not parse; the header None when it does not."""
    r = report_pb2.Report()
    try:
        r.ParseFromString(bytes(copy))
    except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends: not a report
        return None, ()
    carried = tuple(i for i, e in enumerate(r.sections) if e.HasField("sealed"))
    header = report_pb2.ReportHeader()
    try:
        header.ParseFromString(r.header)
    except Exception:  # noqa: BLE001
        return None, carried
    return header, carried


def copy_report_id(copy: bytes) -> bytes:
    """The report id a copy's header names, read leniently (copy_header); b"" when it has none."""
    header, _ = copy_header(copy)
    return bytes(header.report_id) if header is not None else b""


def describe_copy(broker_seq: int, copy: bytes) -> DeliveryEntry:
    """The delivery receipt entry of one DELIVER's report bytes (protocol 6.8), as the reference
    client makes it (receipt::describe_copy): the copy's BLAKE2b-256, its report id (16 zero
    bytes when it has none of 16 bytes) and the sections it carries."""
    header, carried = copy_header(copy)
    report_id = bytes(header.report_id) if header is not None else b""
    if len(report_id) != 16:
        report_id = bytes(16)
    return DeliveryEntry(broker_seq, crypto.blake2b256(copy), report_id, carried)


def delivery_statement(node_id: str, broker_id: str, signed_ms: int, entries: Sequence[DeliveryEntry],
                       writer: str = "") -> bytes:
    w = ByteWriter().field(node_id.encode("utf-8")).field(broker_id.encode("utf-8"))
    if writer:
        w.field(writer.encode("utf-8"))
    w.u64(signed_ms).u32(len(entries))
    for e in entries:
        w.u64(e.broker_seq).raw(e.copy_hash).field(e.report_id).u32(len(e.sections))
        for s in e.sections:
            w.u32(s)
    return w.bytes()


def _delivery_tag(writer: str) -> str:
    return TAG_STREAM_DELIVERY_RECEIPT if writer else TAG_DELIVERY_RECEIPT


def make_delivery_receipt(node_id: str, keys: NodeKeys, broker_id: str, entries: Sequence[DeliveryEntry],
                          signed_ms: int, writer: str = "") -> bytes:
    entries = sorted(entries, key=lambda e: e.broker_seq)
    if writer == broker_id:
        writer = ""  # the broker's own stream is format 1
    statement = delivery_statement(node_id, broker_id, signed_ms, entries, writer)
    msg = receipt_pb2.DeliveryReceipt(format_version=2 if writer else 1, node_id=node_id, broker_id=broker_id,
                                      signed_ms=signed_ms, writer=writer,
                                      signature=crypto.sign(_delivery_tag(writer), statement, keys.signing_secret))
    for e in entries:
        msg.entries.add(broker_seq=e.broker_seq, copy_hash=e.copy_hash, report_id=e.report_id,
                        sections=list(e.sections))
    out = serialize_canonical(msg)
    parse_delivery(out)  # the shape rules hold for what we sign
    return out


def parse_delivery(data: bytes) -> receipt_pb2.DeliveryReceipt:
    try:
        r = parse_strict(receipt_pb2.DeliveryReceipt, data, "RECEIPT_INVALID", "delivery receipt")
    except TearlineError as e:
        raise _invalid(e.message) from None
    if r.format_version == 1:
        if r.writer:
            raise _invalid("delivery receipt format 1 names a writer")
    elif r.format_version == 2:
        if not r.writer or len(r.writer.encode()) > MAX_WRITER_BYTES or r.writer == r.broker_id:
            raise _invalid("delivery receipt format 2: writer empty, too long or the broker itself")
    else:
        raise _invalid(f"delivery receipt format {r.format_version}")
    if not 1 <= len(r.entries) <= MAX_DELIVERY_ENTRIES:
        raise _invalid(f"delivery receipt: {len(r.entries)} entries, not 1 to {MAX_DELIVERY_ENTRIES}")
    prev = None
    for e in r.entries:
        if prev is not None and e.broker_seq <= prev:
            raise _invalid("delivery receipt: broker_seq not strictly ascending")
        prev = e.broker_seq
        if len(e.copy_hash) != 32 or len(e.report_id) != 16:
            raise _invalid("delivery receipt: a hash not 32 bytes or a report id not 16")
        if any(b <= a for a, b in zip(e.sections, e.sections[1:])):
            raise _invalid("delivery receipt: sections not strictly ascending")
    if len(r.signature) != 64:
        raise _invalid("delivery receipt: signature not 64 bytes")
    return r


def verify_delivery(data: bytes, directory: Directory, recorded_ms: int) -> receipt_pb2.DeliveryReceipt:
    r = parse_delivery(data)
    standing = directory.check_signer(r.node_id, recorded_ms, recorded_ms)
    if standing:
        raise _invalid(f"delivery receipt: {r.node_id} does not stand: " + "; ".join(x.message for x in standing))
    entries = [DeliveryEntry(e.broker_seq, e.copy_hash, e.report_id, tuple(e.sections)) for e in r.entries]
    statement = delivery_statement(r.node_id, r.broker_id, r.signed_ms, entries, r.writer)
    if not crypto.verify(_delivery_tag(r.writer), statement, r.signature, directory.node(r.node_id).signing_key):
        raise _invalid("delivery receipt: the signature does not verify")
    return r
