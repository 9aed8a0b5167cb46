"""Reports: build, verify, open, redact (docs/report-format.md, formats 2 and 1).

Contract:
- Draft(topic, sections=[Section(label, text)], sources=[Source(report_id, sections)],
  created_at_ms=None (now), sequence=None (next per originator), report_id=None (drawn)).
- build_report(draft, originator_id, keys, directory, *, format=2, rng=None, epochs=None)
  -> BuiltReport; build_batch(drafts, ...) / BatchBuilder: one signature over a batch of up
  to 64 (section 14.5); build_report_to(...) with explicit recipients (section 6 step 2).
  Draft errors: TOPIC_INVALID, TOO_MANY_SECTIONS, LABEL_INVALID, SECTION_TOO_LARGE,
  INVALID_FIELD (every reason, "report N: " prefixed in a batch); UNKNOWN_NODE.
- KeyEpochs (section 14.6): one content key and its wraps per label bytes and exact recipient
  set, for at most 10 minutes of created-at and 4096 sections; fresh salt and nonce always.
- verify_report(data, directory, *, accepted_ms=None, accepting=False, root_cache=None,
  max_sections=64, max_recipients=256) -> VerifiedReport, the checks of section 7 / 14.4 in
  order, raising TearlineError with the first failing step's code. The originator's standing
  is trust-model 12's rule at the report's created-at, witnessed at `accepted_ms` (a verified
  acceptance receipt's time); `accepting=True` (a broker at ingress): any revocation refuses.
- RootCache: bounded LRU per originator of batch statements whose Ed25519 signature
  verified; the only way in is verify_statement() succeeding.
- open_sections(verified, node_id, keys, unwrap_cache=None) -> list[OpenedSection] with
  status "withheld" | "not_addressed" | "open_failed" | "opened" (section 8).
- UnwrapCache: bounded LRU, key BLAKE2b-256(sealing public key || sealed key) -> content key.
- redact(data, keep) -> bytes (section 9).
- Tester helpers: report_leaf, batch_statement, signature_payload, section_commitment,
  section_ad, recommit, resign, resign_batch, flip_byte.
This module builds; the exact inputs are in tearline.report_format, the epochs and caches in
tearline.report_caches, verifying, opening and redacting in tearline.report_verify. Every name
above is importable from here.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Sequence

from tearline import crypto
from tearline.crypto import RandomFill
from tearline.directory import Directory
from tearline.encoding import TAG_REPORT, TAG_REPORT_BATCH, serialize_canonical
from tearline.errors import Reason, TearlineError
from tearline.keys import NodeKeys
from tearline.policy import Label, eligible_recipients, validate_label, validate_topic
from tearline.report_caches import KeyEpochs, RootCache, UnwrapCache
from tearline.report_format import (REPORT_ID_BYTES, SALT_BYTES, MAX_SECTIONS, MAX_RECIPIENTS, MAX_SECTION_BYTES,
                                    MAX_SOURCES, MAX_BATCH, Recipient, section_commitment, section_ad,
                                    signature_payload, report_leaf, batch_inner, batch_statement, report_digest,
                                    COMMITMENT_BYTES, MAX_CIPHERTEXT_BYTES, MAX_PATH, EPOCH_MAX_MS,
                                    EPOCH_MAX_SECTIONS)
from tearline.report_verify import (OpenedSection, VerifiedReport, VerifiedSection, check_signature, open_sections,
                                    parse_report, redact, verify_report)
from tearline.v1 import report_pb2

__all__ = ["Section", "Source", "Draft", "next_sequence", "check_draft", "BuiltReport", "sign_batch",
           "build_batch_to", "build_batch", "build_report", "build_report_to", "BatchBuilder", "recommit", "resign",
           "resign_batch", "serialize", "flip_byte", "KeyEpochs", "RootCache", "UnwrapCache", "OpenedSection",
           "VerifiedReport", "VerifiedSection", "check_signature", "open_sections", "parse_report", "redact",
           "verify_report", "REPORT_ID_BYTES", "SALT_BYTES", "MAX_SECTIONS", "MAX_RECIPIENTS", "MAX_SECTION_BYTES",
           "MAX_SOURCES", "MAX_BATCH", "Recipient", "section_commitment", "section_ad", "signature_payload",
           "report_leaf", "batch_inner", "batch_statement", "report_digest", "COMMITMENT_BYTES",
           "MAX_CIPHERTEXT_BYTES", "MAX_PATH", "EPOCH_MAX_MS", "EPOCH_MAX_SECTIONS"]


# --- drafts --------------------------------------------------------------------

@dataclass
class Section:
    label: Label
    text: bytes | str

    @property
    def content(self) -> bytes:
        return self.text.encode("utf-8") if isinstance(self.text, str) else bytes(self.text)


@dataclass
class Source:
    report_id: bytes
    sections: list[int] = field(default_factory=list)


@dataclass
class Draft:
    topic: str
    sections: list[Section]
    sources: list[Source] = field(default_factory=list)
    created_at_ms: int | None = None
    sequence: int | None = None
    report_id: bytes | None = None



_seq_lock = threading.Lock()
_last_sequence: dict[str, int] = {}


def next_sequence(originator: str, created_at_ms: int) -> int:
    """A strictly increasing sequence per originator, also across restarts and other clients of
    the node, as the reference client makes it (docs/protocol.md section 11, step 7):
    max(last + 1, the current time in microseconds)."""
    with _seq_lock:
        s = max(_last_sequence.get(originator, 0) + 1, time.time_ns() // 1000)
        _last_sequence[originator] = s
        return s


def check_draft(draft: Draft) -> list[Reason]:
    """report-format 6 step 1: every reason."""
    r = list(validate_topic(draft.topic))
    if not 1 <= len(draft.sections) <= MAX_SECTIONS:
        r.append(Reason.of("TOO_MANY_SECTIONS", f"{len(draft.sections)} sections: 1 to {MAX_SECTIONS}"))
    for i, s in enumerate(draft.sections):
        r += [Reason(x.code, x.name, f"section {i + 1}: {x.message}") for x in validate_label(s.label)]
        if len(s.content) > MAX_SECTION_BYTES:
            r.append(Reason.of("SECTION_TOO_LARGE", f"section {i + 1}: {len(s.content)} bytes, more than "
                                                    f"{MAX_SECTION_BYTES}"))
    if len(draft.sources) > MAX_SOURCES:
        r.append(Reason.of("INVALID_FIELD", f"{len(draft.sources)} sources, more than {MAX_SOURCES}"))
    for s in draft.sources:
        if len(s.report_id) != REPORT_ID_BYTES:
            r.append(Reason.of("INVALID_FIELD", "a source report id is not 16 bytes"))
    if draft.sequence is not None and draft.sequence <= 0:
        r.append(Reason.of("INVALID_FIELD", "sequence is 0"))
    if draft.created_at_ms is not None and draft.created_at_ms <= 0:
        r.append(Reason.of("INVALID_FIELD", "created_at_ms is not positive"))
    if draft.report_id is not None and len(draft.report_id) != REPORT_ID_BYTES:
        r.append(Reason.of("INVALID_FIELD", "report id is not 16 bytes"))
    return r


# --- building ------------------------------------------------------------------------

@dataclass
class BuiltReport:
    data: bytes                          # the serialized Report
    report: report_pb2.Report            # parsed (the signed report)
    header: report_pb2.ReportHeader
    header_bytes: bytes
    draft: Draft
    recipients: list[list[Recipient]]    # per section, as sealed
    content_keys: list[bytes] = field(repr=False)  # per section (for tests); never printed
    leaf: bytes
    signature_input: bytes               # tag || 0x00 || payload or statement
    batch_id: bytes = b""
    root: bytes = b""
    path: list[bytes] = field(default_factory=list)

    @property
    def report_id(self) -> bytes:
        return self.header.report_id

    def unsigned(self) -> report_pb2.Report:
        """A copy without signature and batch proof."""
        r = report_pb2.Report()
        r.CopyFrom(self.report)
        r.ClearField("signature")
        r.ClearField("batch")
        return r


def _seal(draft: Draft, index_prefix: str, originator: str, recipients: list[list[Recipient]], rng: RandomFill,
          epochs: KeyEpochs | None, format_version: int) -> tuple[report_pb2.Report, report_pb2.ReportHeader,
                                                                  bytes, list[bytes]]:
    report_id = draft.report_id if draft.report_id is not None else rng(REPORT_ID_BYTES)
    header = report_pb2.ReportHeader(format_version=format_version, report_id=report_id, originator=originator,
                                     topic=draft.topic, created_at_ms=draft.created_at_ms, sequence=draft.sequence)
    for s in draft.sources:
        header.sources.add(report_id=s.report_id, sections=list(s.sections))
    header_bytes = serialize_canonical(header)
    report = report_pb2.Report(header=header_bytes)
    keys = []
    for i, (section, rec) in enumerate(zip(draft.sections, recipients)):
        label = section.label.encode()
        salt = rng(SALT_BYTES)
        nonce = rng(crypto.NONCE_BYTES)
        uniq: dict[str, bytes] = {}
        for nid, pk in sorted(rec, key=lambda r: r[0].encode()):
            uniq.setdefault(nid, pk)
        rec_sorted = list(uniq.items())
        if epochs is not None:
            key, wraps, _ = epochs.take(label, rec_sorted, draft.created_at_ms, rng)
        else:
            key = rng(crypto.CONTENT_KEY_BYTES)
            wraps = [(nid, crypto.seal(key, pk)) for nid, pk in rec_sorted]
        ct = crypto.aead_encrypt(key, nonce, section_ad(header_bytes, i, label), section.content)
        entry = report.sections.add()
        entry.sealed.label = label
        entry.sealed.salt = salt
        entry.sealed.nonce = nonce
        entry.sealed.ciphertext = ct
        for nid, sk in wraps:
            entry.sealed.wraps.add(node_id=nid, sealed_key=sk)
        entry.commitment = section_commitment(entry.sealed)
        keys.append(key)
    return report, header, header_bytes, keys


def _prepare(drafts: Sequence[Draft], originator: str) -> list[Draft]:
    """Copies of the drafts with created-at and sequence filled in (the caller's drafts are not
    changed: a Draft published twice gets two sequences); every reason of every draft."""
    drafts = [replace(d) for d in drafts]
    reasons: list[Reason] = []
    many = len(drafts) > 1
    for n, d in enumerate(drafts):
        if d.created_at_ms is None:
            d.created_at_ms = int(time.time() * 1000)
        if d.sequence is None:
            d.sequence = next_sequence(originator, d.created_at_ms)
        for r in check_draft(d):
            reasons.append(Reason(r.code, r.name, f"report {n + 1}: {r.message}") if many else r)
    if reasons:
        raise TearlineError.of(reasons)
    return drafts


def _recipients_from_directory(draft: Draft, originator: str, directory: Directory) -> list[list[Recipient]]:
    out = []
    for s in draft.sections:
        creds = eligible_recipients(directory, s.label, originator, draft.created_at_ms)
        if len(creds) > MAX_RECIPIENTS:
            raise TearlineError("TOO_MANY_RECIPIENTS", f"a section admits {len(creds)} nodes, more than "
                                                       f"{MAX_RECIPIENTS}")
        out.append([(c.node_id, c.sealing_key) for c in creds])
    return out


def sign_batch(reports: list[report_pb2.Report], originator: str, signing_secret: bytes,
               batch_id: bytes) -> tuple[bytes, list[bytes], bytes]:
    """Format 2: set every report's signature and BatchProof. Returns (root, leaves, signed)."""
    leaves = [report_leaf(r.header, [s.commitment for s in r.sections]) for r in reports]
    root = crypto.merkle_root(leaves, batch_inner)
    statement = batch_statement(originator, batch_id, len(reports), root)
    sig = crypto.sign(TAG_REPORT_BATCH, statement, signing_secret)
    for i, r in enumerate(reports):
        r.signature = sig
        r.batch.Clear()
        r.batch.batch_id = batch_id
        r.batch.leaf_count = len(reports)
        r.batch.leaf_index = i
        r.batch.path.extend(crypto.merkle_path(leaves, i, batch_inner))
    return root, leaves, crypto.signature_input(TAG_REPORT_BATCH, statement)


def build_batch_to(drafts: Sequence[Draft], originator: str, keys: NodeKeys,
                   recipients: Sequence[list[list[Recipient]]], *, format: int = 2, rng: RandomFill | None = None,
                   epochs: KeyEpochs | None = None) -> list[BuiltReport]:
    """Build with explicit recipient lists (one list per section of each draft)."""
    rng = rng or crypto.random_bytes
    if format not in (1, 2):
        raise TearlineError("INVALID_FIELD", f"format {format} is neither 2 nor 1")
    if not 1 <= len(drafts) <= (MAX_BATCH if format == 2 else 1 << 30):
        raise TearlineError("INVALID_FIELD", f"a batch holds 1 to {MAX_BATCH} reports, not {len(drafts)}")
    drafts = _prepare(drafts, originator)
    if len(recipients) != len(drafts):
        raise TearlineError("INVALID_FIELD", f"{len(drafts)} drafts but {len(recipients)} recipient lists")
    for n, (d, rec) in enumerate(zip(drafts, recipients)):
        if len(rec) != len(d.sections):
            raise TearlineError("INVALID_FIELD", f"report {n + 1}: one recipient list per section is needed")
        for lst in rec:
            if len(lst) > MAX_RECIPIENTS:
                raise TearlineError("TOO_MANY_RECIPIENTS", f"report {n + 1}: {len(lst)} recipients")
    sealed = [_seal(d, str(n), originator, rec, rng, epochs, format)
              for n, (d, rec) in enumerate(zip(drafts, recipients))]
    out: list[BuiltReport] = []
    if format == 2:
        batch_id = rng(16)
        reports = [s[0] for s in sealed]
        root, leaves, signed = sign_batch(reports, originator, keys.signing_secret, batch_id)
        for i, ((r, h, hb, ck), d, rec) in enumerate(zip(sealed, drafts, recipients)):
            out.append(BuiltReport(serialize_canonical(r), r, h, hb, d, [list(x) for x in rec], ck, leaves[i],
                                   signed, batch_id, root, list(r.batch.path)))
    else:
        for (r, h, hb, ck), d, rec in zip(sealed, drafts, recipients):
            payload = signature_payload(hb, [s.commitment for s in r.sections])
            r.signature = crypto.sign(TAG_REPORT, payload, keys.signing_secret)
            out.append(BuiltReport(serialize_canonical(r), r, h, hb, d, [list(x) for x in rec], ck,
                                   report_leaf(r.header, [s.commitment for s in r.sections]),
                                   crypto.signature_input(TAG_REPORT, payload)))
    return out


def build_batch(drafts: Sequence[Draft], originator: str, keys: NodeKeys, directory: Directory, *,
                format: int = 2, rng: RandomFill | None = None, epochs: KeyEpochs | None = None) -> list[BuiltReport]:
    drafts = _prepare(drafts, originator)
    if directory.node(originator) is None:
        raise TearlineError("UNKNOWN_NODE", f"originator {originator} is not in the directory")
    recipients = [_recipients_from_directory(d, originator, directory) for d in drafts]
    return build_batch_to(drafts, originator, keys, recipients, format=format, rng=rng, epochs=epochs)


def build_report(draft: Draft, originator: str, keys: NodeKeys, directory: Directory, *, format: int = 2,
                 rng: RandomFill | None = None, epochs: KeyEpochs | None = None) -> BuiltReport:
    """A batch of one (format 2), or format 1 on request."""
    return build_batch([draft], originator, keys, directory, format=format, rng=rng, epochs=epochs)[0]


def build_report_to(draft: Draft, originator: str, keys: NodeKeys, recipients: list[list[Recipient]], *,
                    format: int = 2, rng: RandomFill | None = None, epochs: KeyEpochs | None = None) -> BuiltReport:
    return build_batch_to([draft], originator, keys, [recipients], format=format, rng=rng, epochs=epochs)[0]


class BatchBuilder:
    """Collects up to 64 drafts and signs them as one format 2 batch (14.5)."""

    def __init__(self, originator: str, keys: NodeKeys, directory: Directory, *, rng: RandomFill | None = None,
                 epochs: KeyEpochs | None = None) -> None:
        self.originator, self.keys, self.directory = originator, keys, directory
        self.rng, self.epochs = rng, epochs
        self.drafts: list[Draft] = []

    def add(self, draft: Draft) -> int:
        if len(self.drafts) >= MAX_BATCH:
            raise TearlineError("INVALID_FIELD", f"a batch holds at most {MAX_BATCH} reports")
        self.drafts.append(draft)
        return len(self.drafts) - 1

    def __len__(self) -> int:
        return len(self.drafts)

    def build(self) -> list[BuiltReport]:
        drafts, self.drafts = self.drafts, []
        return build_batch(drafts, self.originator, self.keys, self.directory, rng=self.rng, epochs=self.epochs)

    def build_bytes(self) -> list[bytes]:
        return [b.data for b in self.build()]


# --- tester helpers ------------------------------------------------------------------

def recommit(report: report_pb2.Report, index: int) -> None:
    """Recompute section `index`'s commitment after its sealed part was changed."""
    e = report.sections[index]
    e.commitment = section_commitment(e.sealed)


def resign(report: report_pb2.Report, signing_secret: bytes, *, originator: str | None = None,
           batch_id: bytes | None = None) -> report_pb2.Report:
    """Re-sign one report as its header's format says: format 1 over its payload; otherwise
    as a batch of one (keeping its batch id unless one is given). Returns the report."""
    hdr = report_pb2.ReportHeader()
    hdr.ParseFromString(report.header)
    if hdr.format_version == 1:
        report.signature = crypto.sign(TAG_REPORT, signature_payload(report.header,
                                                                     [s.commitment for s in report.sections]),
                                       signing_secret)
        return report
    bid = batch_id or (report.batch.batch_id if report.HasField("batch") and report.batch.batch_id
                       else crypto.random_bytes(16))
    sign_batch([report], originator or hdr.originator, signing_secret, bid)
    return report


def resign_batch(reports: list[report_pb2.Report], signing_secret: bytes, *, originator: str | None = None,
                 batch_id: bytes | None = None) -> bytes:
    """Re-sign reports as one format 2 batch (new leaves, paths, root); returns the root."""
    hdr = report_pb2.ReportHeader()
    hdr.ParseFromString(reports[0].header)
    root, _, _ = sign_batch(reports, originator or hdr.originator, signing_secret, batch_id or crypto.random_bytes(16))
    return root


def serialize(report: report_pb2.Report) -> bytes:
    return serialize_canonical(report)


def flip_byte(data: bytes, offset: int, mask: int = 0x01) -> bytes:
    b = bytearray(data)
    b[offset] ^= mask
    return bytes(b)
