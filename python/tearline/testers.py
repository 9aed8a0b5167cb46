"""The testers' API: hostile reports, frames and PKI changes in a few lines.

A `Forge` holds a PKI folder (`tearline certs demo --out DIR`) and a broker
endpoint; it builds valid reports as any node, connects sessions as any
node, and lets a test change anything before or after signing:

    forge = Forge("/tmp/pki", "tcp://127.0.0.1:7801")
    built = forge.build("diran-bogota-hq", "intel.labs", [("CONFIDENTIAL", ["COL"], "lab near Tibu")])
    session = forge.connect("diran-bogota-hq")
    outcome = session.publish(flip_signature(built.data))     # REJECTED REPORT_SIGNATURE
    assert outcome.name == "REPORT_SIGNATURE"

The byte-level functions below are the faults of docs/injection.md, one
function each; `python3 -m tearline inject` runs them from scenario files.
They never check what they produce: that is the broker's job.
"""
from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Sequence

from . import crypto, report, wire
from .directory import COMPROMISED, Directory
from .encoding import parse_strict, serialize_canonical
from .errors import TearlineError
from .keys import AuthorityKey, BrokerKeys, NodeKeys, load_broker_public
from .policy import Label
from .session import Session
from .v1 import identity_pb2, receipt_pb2, report_pb2

CLIENT_NAME = "tearline-python-inject"
TRUNCATE_BYTES = 32                     # less than the 64-byte signature
OVERSIZE_FRAME_BYTES = 1400 * 1024      # above the 1 MiB frame limit, below the 2,162,688-byte transport limit
FAULT_BATCH_SIZE = 4                    # the batch faults' batch: the first is sent, the others never
RAW_REQUEST_ID = 1 << 40                # clear of a session's own request counter
_ORIGINATOR_KEY = (3 << 3) | 2          # ReportHeader.originator, length-delimited
_UNKNOWN_KEY = (15 << 3) | 0            # field 15, varint: in no tearline message


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# --- building ---------------------------------------------------------------------------

SectionSpec = report.Section | tuple  # (classification, releasable_to, text) or (classification, rel, units, text)


def section(classification: str | int, rel: Iterable[str] = (), text: str | bytes = "", *,
            units: Iterable[str] = (), orcon: bool = False) -> report.Section:
    """One section: its label (releasable-to and units sorted, as a label must be) and its text."""
    return report.Section(Label(classification, tuple(sorted(set(rel))), tuple(sorted(set(units))), orcon), text)


def _section_of(spec: SectionSpec) -> report.Section:
    if isinstance(spec, report.Section):
        return spec
    if len(spec) == 3:
        return section(spec[0], spec[1], spec[2])
    return section(spec[0], spec[1], spec[3], units=spec[2])


class Forge:
    """Keys, directory and sessions of a PKI folder, for hostile tests."""

    def __init__(self, pki: str | os.PathLike, endpoint: str = "tcp://127.0.0.1:7801", *,
                 timeout_ms: int = 5000) -> None:
        self.pki = Path(pki)
        self.endpoint = endpoint
        self.timeout_ms = timeout_ms
        self.directory = Directory.load(self.pki / "directory")
        self.broker_public = load_broker_public(self.pki / "directory" / "broker.pub")
        self._keys: dict[str, NodeKeys] = {}

    def reload(self) -> Directory:
        """Reads the directory again (after a PKI change)."""
        self.directory = Directory.load(self.pki / "directory", previous=self.directory)
        return self.directory

    def keys(self, node: str) -> NodeKeys:
        if node not in self._keys:
            self._keys[node] = NodeKeys.load(self.pki / "keys" / "nodes" / f"{node}.key")
        return self._keys[node]

    def broker_keys(self, broker: str | None = None) -> BrokerKeys:
        """keys/broker.key, or keys/brokers/<broker>.key for another broker."""
        if broker is None:
            return BrokerKeys.load(self.pki / "keys" / "broker.key")
        return BrokerKeys.load(self.pki / "keys" / "brokers" / f"{broker}.key")

    def authority_key(self, agency: str) -> AuthorityKey:
        return AuthorityKey.load(self.pki / "keys" / "authorities" / f"{agency}.key")

    def next_sequence(self, node: str) -> int:
        """Above every sequence this process used for the node, and time-based (microseconds), so
        that sequences also exceed those of earlier runs (report.next_sequence)."""
        return report.next_sequence(node, now_ms())

    def draft(self, originator: str, topic: str, sections: Sequence[SectionSpec], **fields) -> report.Draft:
        """A draft with created-at now and the next sequence (both overridable)."""
        fields.setdefault("created_at_ms", now_ms())
        if fields.get("sequence") is None:
            fields["sequence"] = self.next_sequence(originator)
        return report.Draft(topic, [_section_of(s) for s in sections], **fields)

    def build(self, originator: str, topic_or_draft: str | report.Draft, sections: Sequence[SectionSpec] = (), *,
              signer: str | None = None, format: int = 2) -> report.BuiltReport:
        """A report naming `originator`, sealed to every node its labels admit, signed with
        `signer`'s key (default: the originator's)."""
        d = topic_or_draft if isinstance(topic_or_draft, report.Draft) else self.draft(originator, topic_or_draft,
                                                                                          sections)
        return report.build_report(d, originator, self.keys(signer or originator), self.directory, format=format)

    def batch(self, originator: str, drafts: Sequence[report.Draft]) -> list[report.BuiltReport]:
        return report.build_batch(list(drafts), originator, self.keys(originator), self.directory)

    def in_batch(self, originator: str, d: report.Draft, size: int = FAULT_BATCH_SIZE) -> list[report.BuiltReport]:
        """`d` as the first of a batch of `size`; the others (later sequences) only give it a path."""
        drafts = [d] + [replace(d, sequence=d.sequence + i, report_id=None) for i in range(1, size)]
        return self.batch(originator, drafts)

    def connect(self, node: str, *, keys: NodeKeys | None = None, **options) -> Session:
        """A session as `node` (HELLO done); TearlineError HANDSHAKE_REFUSED when the broker refuses it.
        With `keys` (e.g. rogue_keys), the keys are not checked against the node's credential first."""
        options.setdefault("timeout_ms", self.timeout_ms)
        options.setdefault("client_name", CLIENT_NAME)
        return Session.connect(self.endpoint, self.broker_public, node, keys or self.keys(node), self.directory,
                               check_identity=keys is None, **options)

    def connect_as_broker(self, broker: str, **options) -> Session:
        """A raw session as another agency's broker (keys/brokers/<id>.key); nothing is verified or
        acknowledged for it."""
        b = self.broker_keys(broker)
        keys = NodeKeys(b"\0" * 64, b"\0" * 32, b"\0" * 32, b"\0" * 32, b.transport_secret, b.transport_public)
        options.setdefault("auto_ack", False)
        return self.connect(broker, keys=keys, **options)

    def rogue_keys(self, node: str) -> NodeKeys:
        """The node's own signing and sealing keys with a fresh transport key no credential holds."""
        own = self.keys(node)
        fresh = NodeKeys.generate()
        return NodeKeys.from_secrets(own.signing_secret, own.sealing_secret, fresh.transport_secret)

    def other_than(self, node: str) -> str:
        """The first node of the directory other than `node` (brokers skipped)."""
        for c in self.directory.nodes():
            if c.node_id != node and "broker" not in c.roles:
                return c.node_id
        return node


# --- the byte-level faults of docs/injection.md ----------------------------------------------

def parse(report_bytes: bytes) -> report_pb2.Report:
    return parse_strict(report_pb2.Report, report_bytes, "REPORT_MALFORMED", "report")


def flip_signature(report_bytes: bytes) -> bytes:
    """bad_signature: the lowest bit of the signature's last byte flipped."""
    r = parse(report_bytes)
    if r.signature:
        r.signature = report.flip_byte(r.signature, len(r.signature) - 1)
    return serialize_canonical(r)


def truncate(report_bytes: bytes, n: int = TRUNCATE_BYTES) -> bytes:
    """truncated_bytes: without the last n bytes (the cut falls inside the signature)."""
    return report_bytes[:max(0, len(report_bytes) - n)]


def unknown_field() -> bytes:
    """Field 15, a varint, in no tearline message."""
    return bytes([_UNKNOWN_KEY, 0x01])


def duplicate_originator_field(originator: str) -> bytes:
    value = originator.encode()[:127]
    return bytes([_ORIGINATOR_KEY, len(value)]) + value


def resign_with_header_suffix(report_bytes: bytes, suffix: bytes, signing_secret: bytes) -> bytes:
    """duplicate_header_field / unknown_fields: `suffix` appended to the signed header bytes,
    signed again validly (a batch of one)."""
    r = parse(report_bytes)
    r.header = bytes(r.header) + suffix
    report.resign(r, signing_secret)
    return serialize_canonical(r)


def append_unknown_report_field(report_bytes: bytes) -> bytes:
    """unknown_report_field: field 15 appended to the Report container, outside the signature."""
    return report_bytes + unknown_field()


def alter_batch_proof(report_bytes: bytes, fault: str, foreign: bytes | None = None) -> bytes:
    """The batch faults, on the first report of a batch of 4: wrong_leaf_index (leaf index 1),
    swapped_siblings (its two path entries swapped), path_truncated (the last entry removed),
    foreign_leaf (the proof and signature of `foreign`, another batch of the same drafts)."""
    r = parse(report_bytes)
    proof = r.batch
    if fault == "wrong_leaf_index":
        proof.leaf_index ^= 1
    elif fault == "swapped_siblings" and len(proof.path) >= 2:
        path = list(proof.path)
        path[0], path[1] = path[1], path[0]
        del proof.path[:]
        proof.path.extend(path)
    elif fault == "path_truncated" and proof.path:
        del proof.path[-1]
    elif fault == "foreign_leaf" and foreign is not None:
        other = parse(foreign)
        proof.CopyFrom(other.batch)
        r.signature = other.signature
    elif fault not in ("wrong_leaf_index", "swapped_siblings", "path_truncated", "foreign_leaf"):
        raise ValueError(f"unknown batch fault {fault}")
    return serialize_canonical(r)


def garbage_frame() -> bytes:
    """garbage_frame: bytes that are not a tearline frame."""
    return b"\xde\xad\xbe\xef not a tearline frame"


def padded_for_oversize(d: report.Draft) -> report.Draft:
    """oversize_frame: at least two sections (the first repeated if it is alone), each padded
    with 'x' so the PUBLISH frame is about 1.4 MiB."""
    sections = list(d.sections)
    if len(sections) == 1:
        sections.append(sections[0])
    each = OVERSIZE_FRAME_BYTES // max(1, len(sections))
    padded = [report.Section(s.label, s.content + b"x" * max(0, each - len(s.content))) for s in sections]
    return replace(d, sections=padded)


def publish_frame(report_bytes: bytes, request_id: int = RAW_REQUEST_ID) -> bytes:
    return wire.encode_frame(wire.publish(request_id, report_bytes))


def flip_receipt_signature(receipt_bytes: bytes, message=receipt_pb2.DeliveryReceipt) -> bytes:
    """forged_ack_receipt (a DeliveryReceipt) and forged_hop_stamp (message=AcceptanceReceipt):
    the lowest bit of the signature's last byte flipped."""
    r = message()
    r.ParseFromString(receipt_bytes)
    if r.signature:
        r.signature = report.flip_byte(r.signature, len(r.signature) - 1)
    return serialize_canonical(r)


def crossing_path(receipts: Sequence[bytes]) -> bytes:
    """A CrossingPath of acceptance receipts, the originator's broker first."""
    return serialize_canonical(receipt_pb2.CrossingPath(receipts=list(receipts)))


def other_broker_id(broker_id: str) -> str:
    return "broker-elsewhere-2" if broker_id == "broker-elsewhere" else "broker-elsewhere"


# --- PKI changes (docs/trust-model.md 5.3, docs/federation.md) ------------------------------------

def _signed(body, tag: str, agency: str, key: AuthorityKey) -> bytes:
    body_bytes = serialize_canonical(body)
    obj = identity_pb2.SignedObject(body=body_bytes)
    obj.signatures.add(agency=agency, signature=crypto.sign(tag, body_bytes, key.signing_secret))
    return serialize_canonical(obj)


def revoke(pki: str | os.PathLike, agency: str, directory: Directory, *, compromised: Sequence[int] = (),
           peerings: Sequence[tuple[str, int]] = (), at_s: int | None = None) -> int:
    """Issues `agency`'s next revocation list into PKI/directory/revocations/<AGENCY>.crl:
    everything its current list revokes, plus the credential serials in `compromised` (reason
    COMPROMISED from `at_s`, default now) and the peering versions in `peerings`. Returns the
    list's number. The broker takes it at its next reload (ADMIN reload)."""
    at_s = int(time.time()) if at_s is None else at_s
    path = Path(pki) / "directory" / "revocations" / f"{agency}.crl"
    body = identity_pb2.RevocationListBody(format_version=1, agency=agency, number=1)
    if path.exists():
        current = parse_strict(identity_pb2.SignedObject, path.read_bytes(), "BAD_ENCODING", str(path))
        body = parse_strict(identity_pb2.RevocationListBody, current.body, "BAD_ENCODING", str(path))
        body.number += 1
    body.issued_at = at_s
    listed = {c.serial for c in body.revoked_credentials} | set(body.revoked_serials)
    for serial in compromised:
        if serial in listed:
            for c in body.revoked_credentials:
                if c.serial == serial:
                    c.reason, c.compromised_at = COMPROMISED, at_s
        else:
            body.revoked_credentials.add(serial=serial, reason=COMPROMISED, compromised_at=at_s)
    for peering_id, version in peerings:
        body.revoked_peerings.add(peering_id=peering_id, version=version)
    key = AuthorityKey.load(Path(pki) / "keys" / "authorities" / f"{agency}.key",
                            pinned=directory.authorities[agency].verify_key if agency in directory.authorities else None)
    tmp = path.with_suffix(".crl.tmp")
    tmp.write_bytes(_signed(body, "tearline/v1/revocation-list", agency, key))
    os.replace(tmp, path)
    return body.number


def widen_peering_one_sided(pki: str | os.PathLike, peering_id: str, our_agency: str, topic: str) -> Path:
    """one_sided_peering: the next version of peering `peering_id` (the highest version file's body,
    version + 1) with `topic` added to what crosses from our agency's broker, signed by our agency
    alone, written as PKI/directory/peerings/<id>.v<N>.peering. A widening one side signed takes no
    effect (docs/federation.md)."""
    folder = Path(pki) / "directory" / "peerings"
    versions = []
    for f in folder.glob(f"{peering_id}.v*.peering"):
        middle = f.name[len(peering_id) + 2:-len(".peering")]
        if middle.isdigit():
            versions.append((int(middle), f))
    if not versions:
        raise TearlineError("NO_PEERING", f"no version of peering {peering_id} in {folder}")
    version, latest = max(versions)
    obj = parse_strict(identity_pb2.SignedObject, latest.read_bytes(), "BAD_ENCODING", str(latest))
    body = parse_strict(identity_pb2.PeeringBody, obj.body, "BAD_ENCODING", str(latest))
    body.version = version + 1
    towards = body.first_to_second if body.first.agency == our_agency else body.second_to_first
    if topic not in towards.topics:
        towards.topics.append(topic)
    key = AuthorityKey.load(Path(pki) / "keys" / "authorities" / f"{our_agency}.key")
    out = folder / f"{peering_id}.v{version + 1}.peering"
    out.write_bytes(_signed(body, "tearline/v1/peering", our_agency, key))
    return out
