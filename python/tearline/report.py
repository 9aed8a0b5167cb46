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
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

from tearline import crypto
from tearline.crypto import RandomFill
from tearline.directory import Credential, Directory
from tearline.encoding import (TAG_BATCH_LEAF, TAG_BATCH_NODE, TAG_COMMITMENT, TAG_REPORT, TAG_REPORT_BATCH,
                               TAG_SECTION_AD, ByteWriter, parse_canonical, parse_strict, serialize_canonical)
from tearline.errors import Reason, TearlineError
from tearline.keys import NodeKeys
from tearline.policy import Label, decode_label, eligible_recipients, is_valid_id, validate_label, validate_topic
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


Recipient = tuple[str, bytes]  # (node id, X25519 sealing public key)

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


# --- content-key epochs (14.6) and caches ---------------------------------------------

@dataclass
class _Epoch:
    recipients: tuple[Recipient, ...]
    start_ms: int
    last_ms: int
    count: int
    key: bytearray = field(repr=False)
    wraps: list[tuple[str, bytes]] = field(repr=False)


class KeyEpochs:
    """One content key and its wraps per label bytes and exact recipient set (14.6)."""

    def __init__(self, max_age_ms: int = EPOCH_MAX_MS, max_sections: int = EPOCH_MAX_SECTIONS) -> None:
        self.max_age_ms = max_age_ms
        self.max_sections = max_sections
        self._epochs: dict[bytes, _Epoch] = {}
        self.epochs_started = 0

    def take(self, label: bytes, recipients: Sequence[Recipient], created_at_ms: int,
             rng: RandomFill) -> tuple[bytes, list[tuple[str, bytes]], bool]:
        """(content key, wraps, new epoch?) for one section; draws 32 bytes only for a new epoch."""
        rec = tuple(recipients)
        e = self._epochs.get(label)
        if (e is None or e.recipients != rec or created_at_ms < e.last_ms
                or created_at_ms - e.start_ms >= self.max_age_ms or e.count >= self.max_sections):
            if e is not None:
                _wipe(e.key)
            key = bytearray(rng(crypto.CONTENT_KEY_BYTES))
            wraps = [(nid, crypto.seal(bytes(key), pk)) for nid, pk in rec]
            e = _Epoch(rec, created_at_ms, created_at_ms, 0, key, wraps)
            self._epochs[label] = e
            self.epochs_started += 1
            new = True
        else:
            new = False
        e.count += 1
        e.last_ms = created_at_ms
        return bytes(e.key), list(e.wraps), new

    def clear(self) -> None:
        for e in self._epochs.values():
            _wipe(e.key)
        self._epochs.clear()


def _wipe(b: bytearray) -> None:
    for i in range(len(b)):
        b[i] = 0


class RootCache:
    """Verified batch statements, per originator, LRU-bounded (14.4). An entry is the
    BLAKE2b-256 of (tag, verify key, statement, signature); the only way in is a verify that
    succeeded, so a root signed by another node or key or with other bytes never matches."""

    def __init__(self, per_originator: int = 64, originators: int = 1024) -> None:
        self.per_originator = per_originator
        self.max_originators = originators
        self._map: OrderedDict[str, OrderedDict[bytes, None]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.verifies = 0

    @staticmethod
    def _key(tag: str, public: bytes, statement: bytes, signature: bytes) -> bytes:
        return crypto.blake2b256(ByteWriter().tag(tag).field(public).field(statement).field(signature).bytes())

    def verify_statement(self, originator: str, tag: str, statement: bytes, signature: bytes, public: bytes) -> bool:
        k = self._key(tag, public, statement, signature)
        with self._lock:
            entries = self._map.get(originator)
            if entries is not None and k in entries:
                entries.move_to_end(k)
                self._map.move_to_end(originator)
                self.hits += 1
                return True
        self.verifies += 1
        if not crypto.verify(tag, statement, signature, public):
            return False
        with self._lock:
            entries = self._map.setdefault(originator, OrderedDict())
            self._map.move_to_end(originator)
            entries[k] = None
            while len(entries) > self.per_originator:
                entries.popitem(last=False)
            while len(self._map) > self.max_originators:
                self._map.popitem(last=False)
        return True

    def size(self, originator: str | None = None) -> int:
        with self._lock:
            if originator is not None:
                return len(self._map.get(originator, ()))
            return sum(len(v) for v in self._map.values())


class UnwrapCache:
    """Unwrapped content keys, LRU-bounded, keyed by BLAKE2b-256(sealing public key || wrap)."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._map: OrderedDict[bytes, bytearray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    @staticmethod
    def key_of(sealing_public: bytes, sealed_key: bytes) -> bytes:
        return crypto.blake2b256(sealing_public, sealed_key)

    def get(self, sealing_public: bytes, sealed_key: bytes) -> bytes | None:
        k = self.key_of(sealing_public, sealed_key)
        with self._lock:
            v = self._map.get(k)
            if v is None:
                return None
            self._map.move_to_end(k)
            self.hits += 1
            return bytes(v)

    def put(self, sealing_public: bytes, sealed_key: bytes, content_key: bytes) -> None:
        k = self.key_of(sealing_public, sealed_key)
        with self._lock:
            self._map[k] = bytearray(content_key)
            self._map.move_to_end(k)
            while len(self._map) > self.capacity:
                _, old = self._map.popitem(last=False)
                _wipe(old)

    def __len__(self) -> int:
        return len(self._map)


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
        raise TearlineError(reasons[0].code, "; ".join(r.message for r in reasons), reasons)
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


def _fail(reasons: list[Reason]) -> TearlineError:
    return TearlineError(reasons[0].code, "; ".join(r.message for r in reasons), reasons)


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
        raise _fail(r)
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
        raise _fail(mapped)
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
