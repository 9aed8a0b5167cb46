"""The report format's constants and exact cryptographic inputs (docs/report-format.md sections
4.5, 5 and 14.2-14.3): section commitments, associated data, the format 1 signature payload, batch
leaves, inner nodes and the signed statement, and the report digest. Shared by building
(tearline.report) and verifying (tearline.report_verify)."""
from __future__ import annotations

from typing import Sequence

from tearline import crypto
from tearline.encoding import TAG_BATCH_LEAF, TAG_BATCH_NODE, TAG_COMMITMENT, TAG_SECTION_AD, ByteWriter, parse_strict
from tearline.v1 import report_pb2

REPORT_ID_BYTES = 16
SALT_BYTES = 32
COMMITMENT_BYTES = 32
MAX_SECTIONS = 64
MAX_RECIPIENTS = 256
MAX_SECTION_BYTES = 786432
MAX_CIPHERTEXT_BYTES = MAX_SECTION_BYTES + crypto.AEAD_TAG_BYTES
MAX_SOURCES = 16
MAX_BATCH = 64
MAX_PATH = 6
EPOCH_MAX_MS = 10 * 60 * 1000
EPOCH_MAX_SECTIONS = 4096

Recipient = tuple[str, bytes]  # (node id, X25519 sealing public key)


# --- cryptographic inputs (section 5, 14) -------------------------------------------

def section_commitment(sealed: report_pb2.SealedSection) -> bytes:
    w = ByteWriter().tag(TAG_COMMITMENT).field(sealed.salt).field(sealed.label).field(sealed.nonce)
    w.field(sealed.ciphertext).u32(len(sealed.wraps))
    for wrap in sealed.wraps:
        w.field(wrap.node_id.encode("utf-8")).field(wrap.sealed_key)
    return crypto.blake2b256(w.bytes())


def section_ad(header: bytes, index: int, label: bytes) -> bytes:
    return ByteWriter().tag(TAG_SECTION_AD).field(header).u32(index).field(label).bytes()


def signature_payload(header: bytes, commitments: Sequence[bytes]) -> bytes:
    w = ByteWriter().field(header).u32(len(commitments))
    for c in commitments:
        w.raw(c)
    return w.bytes()


def report_leaf(header: bytes, commitments: Sequence[bytes]) -> bytes:
    """14.2 leaf = 15.1 digest."""
    return crypto.blake2b256(ByteWriter().tag(TAG_BATCH_LEAF).raw(signature_payload(header, commitments)).bytes())


def batch_inner(left: bytes, right: bytes) -> bytes:
    return crypto.blake2b256(ByteWriter().tag(TAG_BATCH_NODE).raw(left).raw(right).bytes())


def batch_statement(originator: str, batch_id: bytes, leaf_count: int, root: bytes) -> bytes:
    return ByteWriter().field(originator.encode("utf-8")).field(batch_id).u32(leaf_count).raw(root).bytes()


def report_digest(report: bytes | report_pb2.Report) -> bytes:
    """15.1: the leaf of 14.2 for a report of either format (same for every redacted copy)."""
    if not isinstance(report, report_pb2.Report):
        report = parse_strict(report_pb2.Report, report, "REPORT_MALFORMED", "report")
    return report_leaf(report.header, [s.commitment for s in report.sections])
