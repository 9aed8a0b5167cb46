"""Verifying, opening and redacting reports (docs/report-format.md sections 7-9 and 14.4):
verify_report raises the first failing step's code; open_sections opens what is sealed to a node;
redact tears sections off as a broker does."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from tearline import crypto
from tearline.directory import Credential, Directory
from tearline.encoding import TAG_REPORT, TAG_REPORT_BATCH, parse_canonical, parse_strict, serialize_canonical
from tearline.errors import Reason, TearlineError
from tearline.keys import NodeKeys
from tearline.policy import Label, decode_label, is_valid_id, validate_topic
from tearline.report_caches import RootCache, UnwrapCache
from tearline.report_format import (REPORT_ID_BYTES, SALT_BYTES, COMMITMENT_BYTES, MAX_SECTIONS, MAX_RECIPIENTS,
                                    MAX_CIPHERTEXT_BYTES, MAX_SOURCES, MAX_BATCH, MAX_PATH, section_commitment,
                                    section_ad, signature_payload, report_leaf, batch_inner, batch_statement)
from tearline.v1 import report_pb2

# --- verifying -----------------------------------------------------------------------

@dataclass
class VerifiedSection:
    index: int
    commitment: bytes
    present: bool
    label: Label | None = None
    label_bytes: bytes = b""
    wraps: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class VerifiedReport:
    data: bytes
    report: report_pb2.Report
    header: report_pb2.ReportHeader
    header_bytes: bytes
    originator: Credential | None
    sections: list[VerifiedSection]
    leaf: bytes
    root: bytes = b""

    @property
    def format_version(self) -> int:
        return self.header.format_version

    @property
    def report_id(self) -> bytes:
        return self.header.report_id

    @property
    def topic(self) -> str:
        return self.header.topic

    @property
    def created_at_ms(self) -> int:
        return self.header.created_at_ms

    @property
    def sequence(self) -> int:
        return self.header.sequence


def parse_report(data: bytes, *, max_sections: int = MAX_SECTIONS, max_recipients: int = MAX_RECIPIENTS
                 ) -> VerifiedReport:
    """Steps 1-8 and 7b of section 7 (no directory, no signature)."""
    data = bytes(data)
    report = parse_strict(report_pb2.Report, data, "REPORT_MALFORMED", "report")
    if not report.header:
        raise TearlineError("REPORT_MALFORMED", "the report has an empty header")
    header = parse_canonical(report_pb2.ReportHeader, report.header, "report header")
    if header.format_version not in (1, 2):
        raise TearlineError("REPORT_VERSION", f"report format version {header.format_version} is neither 2 nor 1")
    r: list[Reason] = []
    if len(header.report_id) != REPORT_ID_BYTES:
        r.append(Reason.of("REPORT_MALFORMED", "report id is not 16 bytes"))
    if not is_valid_id(header.originator):
        r.append(Reason.of("REPORT_MALFORMED", "originator is not a valid id"))
    if header.sequence <= 0:
        r.append(Reason.of("REPORT_MALFORMED", "sequence is 0"))
    if header.created_at_ms <= 0:
        r.append(Reason.of("REPORT_MALFORMED", "created_at_ms is not positive"))
    if len(header.sources) > MAX_SOURCES:
        r.append(Reason.of("REPORT_MALFORMED", f"{len(header.sources)} sources, more than {MAX_SOURCES}"))
    for s in header.sources:
        if len(s.report_id) != REPORT_ID_BYTES:
            r.append(Reason.of("REPORT_MALFORMED", "a source report id is not 16 bytes"))
    r += validate_topic(header.topic)
    if r:
        raise TearlineError.of(r)
    n = len(report.sections)
    if not 1 <= n <= max_sections:
        raise TearlineError("TOO_MANY_SECTIONS", f"{n} sections: 1 to {max_sections}")
    if len(report.signature) != crypto.SIGNATURE_BYTES:
        raise TearlineError("REPORT_SIGNATURE", f"the signature is {len(report.signature)} bytes, not 64")
    if header.format_version == 1:
        if report.HasField("batch"):
            raise TearlineError("REPORT_MALFORMED", "a format 1 report carries a batch proof")
    else:
        if not report.HasField("batch"):
            raise TearlineError("REPORT_MALFORMED", "a format 2 report has no batch proof")
        b = report.batch
        if len(b.batch_id) != 16:
            raise TearlineError("REPORT_MALFORMED", "batch id is not 16 bytes")
        if not 1 <= b.leaf_count <= MAX_BATCH:
            raise TearlineError("REPORT_MALFORMED", f"leaf count {b.leaf_count} is not 1 to {MAX_BATCH}")
        if b.leaf_index >= b.leaf_count:
            raise TearlineError("REPORT_MALFORMED", f"leaf index {b.leaf_index} is not below {b.leaf_count}")
        if len(b.path) > MAX_PATH or any(len(p) != 32 for p in b.path):
            raise TearlineError("REPORT_MALFORMED", "batch path: more than 6 entries or one not 32 bytes")
    sections: list[VerifiedSection] = []
    for i, e in enumerate(report.sections):
        k = i + 1
        if len(e.commitment) != COMMITMENT_BYTES:
            raise TearlineError("REPORT_MALFORMED", f"section {k}: commitment is not 32 bytes")
        if not e.HasField("sealed"):
            sections.append(VerifiedSection(i, bytes(e.commitment), False))
            continue
        s = e.sealed
        if len(s.salt) != SALT_BYTES or len(s.nonce) != crypto.NONCE_BYTES or len(s.ciphertext) < 16:
            raise TearlineError("REPORT_MALFORMED", f"section {k}: salt, nonce or ciphertext of the wrong size")
        if len(s.ciphertext) > MAX_CIPHERTEXT_BYTES:
            raise TearlineError("SECTION_TOO_LARGE", f"section {k}: ciphertext larger than {MAX_CIPHERTEXT_BYTES}")
        if len(s.wraps) > max_recipients:
            raise TearlineError("TOO_MANY_RECIPIENTS", f"section {k}: {len(s.wraps)} wraps, more than "
                                                       f"{max_recipients}")
        prev = None
        for w in s.wraps:
            if not is_valid_id(w.node_id) or len(w.sealed_key) != crypto.WRAPPED_KEY_BYTES:
                raise TearlineError("REPORT_MALFORMED", f"section {k}: a wrap has a bad node id or key size")
            cur = w.node_id.encode("utf-8")
            if prev is not None and not prev < cur:
                raise TearlineError("REPORT_MALFORMED", f"section {k}: wraps not sorted by node id")
            prev = cur
        try:
            label = decode_label(s.label)
        except TearlineError as err:
            raise TearlineError(err.code, f"section {k}: {err.message}", err.reasons) from None
        if not crypto.ct_equal(section_commitment(s), e.commitment):
            raise TearlineError("COMMITMENT_MISMATCH", f"section {k} does not match its commitment")
        sections.append(VerifiedSection(i, bytes(e.commitment), True, label, bytes(s.label),
                                        [(w.node_id, bytes(w.sealed_key)) for w in s.wraps]))
    leaf = report_leaf(report.header, [s.commitment for s in sections])
    return VerifiedReport(data, report, header, bytes(report.header), None, sections, leaf)


def verify_report(data: bytes, directory: Directory, *, accepted_ms: int | None = None, accepting: bool = False,
                  root_cache: RootCache | None = None, max_sections: int = MAX_SECTIONS,
                  max_recipients: int = MAX_RECIPIENTS) -> VerifiedReport:
    v = parse_report(data, max_sections=max_sections, max_recipients=max_recipients)
    originator = v.header.originator
    cred = directory.node(originator)
    if cred is None:
        raise TearlineError("ORIGINATOR_INVALID", f"originator {originator} is not in the directory")
    if accepting:
        reasons = directory.check_node(originator, v.header.created_at_ms)
    else:
        reasons = directory.check_signer(originator, v.header.created_at_ms, accepted_ms)
    if reasons:
        mapped = [Reason.of("ORIGINATOR_COMPROMISED" if r.name == "ORIGINATOR_COMPROMISED" else "ORIGINATOR_INVALID",
                            r.message) for r in reasons]
        raise TearlineError.of(mapped)
    check_signature(v, cred.signing_key, root_cache)
    v.originator = cred
    return v


def check_signature(v: VerifiedReport, signing_key: bytes, root_cache: RootCache | None = None) -> None:
    """Step 11 (format 1) or 14.4 (format 2)."""
    r = v.report
    if v.header.format_version == 1:
        payload = signature_payload(r.header, [s.commitment for s in r.sections])
        if not crypto.verify(TAG_REPORT, payload, r.signature, signing_key):
            raise TearlineError("REPORT_SIGNATURE", "the report signature does not verify")
        return
    b = r.batch
    root = crypto.root_from_path(v.leaf, b.leaf_index, b.leaf_count, list(b.path), batch_inner)
    if root is None:
        raise TearlineError("REPORT_MALFORMED", f"the batch path's length ({len(b.path)}) does not fit leaf "
                                                f"{b.leaf_index} of {b.leaf_count}")
    statement = batch_statement(v.header.originator, b.batch_id, b.leaf_count, root)
    if root_cache is not None:
        ok = root_cache.verify_statement(v.header.originator, TAG_REPORT_BATCH, statement, r.signature, signing_key)
    else:
        ok = crypto.verify(TAG_REPORT_BATCH, statement, r.signature, signing_key)
    if not ok:
        raise TearlineError("REPORT_SIGNATURE", "the batch signature does not verify over the root of this path")
    v.root = root


# --- opening and redaction -----------------------------------------------------------------

@dataclass
class OpenedSection:
    index: int
    status: str                      # "withheld" | "not_addressed" | "open_failed" | "opened"
    label: Label | None = None
    plaintext: bytes | None = None

    @property
    def text(self) -> str | None:
        return None if self.plaintext is None else self.plaintext.decode("utf-8", "replace")


def open_sections(v: VerifiedReport, node_id: str, keys: NodeKeys,
                  unwrap_cache: UnwrapCache | None = None) -> list[OpenedSection]:
    out = []
    for s, e in zip(v.sections, v.report.sections):
        if not s.present:
            out.append(OpenedSection(s.index, "withheld"))
            continue
        wrap = next((w for nid, w in s.wraps if nid == node_id), None)
        if wrap is None:
            out.append(OpenedSection(s.index, "not_addressed", s.label))
            continue
        key = unwrap_cache.get(keys.sealing_public, wrap) if unwrap_cache is not None else None
        if key is None:
            key = crypto.seal_open(wrap, keys.sealing_public, keys.sealing_secret)
            if key is not None and unwrap_cache is not None:
                unwrap_cache.put(keys.sealing_public, wrap, key)
        pt = None
        if key is not None:
            pt = crypto.aead_decrypt(key, e.sealed.nonce, section_ad(v.header_bytes, s.index, s.label_bytes),
                                     e.sealed.ciphertext)
        out.append(OpenedSection(s.index, "opened", s.label, pt) if pt is not None
                   else OpenedSection(s.index, "open_failed", s.label))
    return out


def redact(data: bytes | report_pb2.Report, keep: Iterable[int]) -> bytes:
    src = data if isinstance(data, report_pb2.Report) else parse_strict(report_pb2.Report, data,
                                                                        "REPORT_MALFORMED", "report")
    keep = set(keep)
    out = report_pb2.Report()
    out.CopyFrom(src)
    for i, e in enumerate(out.sections):
        if i not in keep:
            e.ClearField("sealed")
    return serialize_canonical(out)
