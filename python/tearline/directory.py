"""The Directory: pinned authorities, credentials, charters, revocation lists
(docs/trust-model.md sections 1-7 and 12).

Contract:
- Directory.load(folder, now_ms=None, previous=None) reads DIR/trust.toml (no directory at
  all on a missing, malformed or empty trust store: TearlineError IO_ERROR, INVALID_FIELD,
  DUPLICATE_OBJECT, EMPTY_TRUST_STORE, WEAK_KEY) and credentials/*.cred, charters/*.charter,
  revocations/*.crl in byte order of their names; every object is verified against the pinned
  authorities (section 6) and a rejected one is left out and listed in `load_report`.
- Directory.build(authorities, credentials=[], charters=[], revocations=[], now_ms=None,
  previous=None) does the same from bytes (for vectors and tests).
- Times: the API takes unix milliseconds (t_ms) and judges windows at t = t_ms // 1000.
- node(id), nodes() (sorted by id), node_by_transport_key(k), brokers(), check_node(id, t_ms),
  charter_in_force(unit, t_ms), units_of(id, t_ms), is_member(id, unit, t_ms),
  revocation_list(agency), check_signer(id, signed_at_ms, witnessed_ms) (section 12).
Peering agreements (directory/peerings) are not read: a report client does not need them.
"""
from __future__ import annotations

import os
import time
import tomllib
from dataclasses import dataclass, field

from tearline import crypto
from tearline.encoding import (TAG_CHARTER, TAG_CREDENTIAL, TAG_REVOCATION_LIST, ByteWriter, parse_canonical,
                               parse_strict)
from tearline.errors import Reason, TearlineError
from tearline.policy import is_known_country, is_valid_id
from tearline.v1 import identity_pb2

MAX_FILE_BYTES = 1 << 20
RETIRED = 1
COMPROMISED = 2
LEGACY = 0


@dataclass(frozen=True)
class Authority:
    agency: str
    country: str
    verify_key: bytes
    partner: bool = False


@dataclass(frozen=True)
class Credential:
    node_id: str
    agency: str
    country: str
    clearance: int
    roles: tuple[str, ...]
    signing_key: bytes
    sealing_key: bytes
    transport_key: bytes
    serial: int
    not_before: int  # unix seconds, inclusive
    not_after: int   # unix seconds, exclusive
    body: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class CharterMember:
    node_id: str
    agency: str


@dataclass(frozen=True)
class Charter:
    unit_id: str
    host_agency: str
    members: tuple[CharterMember, ...]
    version: int
    not_before: int
    not_after: int


@dataclass(frozen=True)
class RevocationList:
    agency: str
    number: int
    issued_at: int
    credentials: dict  # serial -> (reason, compromised_at): reason LEGACY (field 5), RETIRED, COMPROMISED
    charters: frozenset  # {(unit_id, version)}


@dataclass
class LoadReport:
    rejected: list[tuple[str, Reason]] = field(default_factory=list)
    warnings: list[tuple[str, Reason]] = field(default_factory=list)


def _envelope(data: bytes, name: str) -> identity_pb2.SignedObject:
    try:
        env = parse_strict(identity_pb2.SignedObject, data, "BAD_ENCODING", f"{name} envelope")
    except TearlineError:
        raise
    if not env.signatures:
        raise TearlineError("BAD_SIGNATURE", f"{name}: no signature")
    return env


def parse_trust_store(text: str) -> dict[str, Authority]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TearlineError("INVALID_FIELD", f"trust store: {e}") from None
    extra = [k for k in doc if k != "authority"]
    entries = doc.get("authority", [])
    reasons: list[Reason] = [Reason.of("INVALID_FIELD", f"trust store: unknown key '{k}'") for k in extra]
    if not isinstance(entries, list):
        raise TearlineError("INVALID_FIELD", "trust store: 'authority' is not an array of tables")
    out: dict[str, Authority] = {}
    dup: list[Reason] = []
    weak: list[Reason] = []
    for i, e in enumerate(entries):
        where = f"trust store: authority {i + 1}"
        if not isinstance(e, dict):
            reasons.append(Reason.of("INVALID_FIELD", f"{where} is not a table"))
            continue
        for k in e:
            if k not in ("agency", "country", "verify_key", "partner"):
                reasons.append(Reason.of("INVALID_FIELD", f"{where}: unknown key '{k}'"))
        agency, country, key_hex = e.get("agency"), e.get("country"), e.get("verify_key")
        partner = e.get("partner", False)
        bad = False
        if not isinstance(agency, str) or not is_valid_id(agency):
            reasons.append(Reason.of("INVALID_FIELD", f"{where}: agency missing or not a valid id")); bad = True
        if not isinstance(country, str) or not is_known_country(country):
            reasons.append(Reason.of("INVALID_FIELD", f"{where}: country missing or unknown")); bad = True
        key = b""
        try:
            key = bytes.fromhex(key_hex) if isinstance(key_hex, str) and len(key_hex) == 64 else b""
        except ValueError:
            key = b""
        if len(key) != 32:
            reasons.append(Reason.of("INVALID_FIELD", f"{where}: verify_key is not 32 bytes of hex")); bad = True
        if not isinstance(partner, bool):
            reasons.append(Reason.of("INVALID_FIELD", f"{where}: partner is not a boolean")); bad = True
        if bad:
            continue
        if not crypto.is_usable_verify_key(key):
            weak.append(Reason.of("WEAK_KEY", f"trust store: the verify_key of {agency} is not a usable Ed25519 key"))
        if agency in out:
            dup.append(Reason.of("DUPLICATE_OBJECT", f"trust store: agency {agency} pinned twice"))
        out[agency] = Authority(agency, country, key, partner)
    if reasons:
        raise TearlineError.of(reasons)
    if dup:
        raise TearlineError.of(dup)
    if weak:
        raise TearlineError.of(weak)
    if not out:
        raise TearlineError("EMPTY_TRUST_STORE", "trust store pins no authority")
    return out


def _signed_once(data: bytes, body_type, tag: str, authorities: dict[str, Authority], name: str, whose: str):
    """(body, its exact bytes) of an object that carries exactly one signature, by the agency its body
    names, pinned (trust-model 3, 6.1, 6.3): BAD_SIGNATURE, UNKNOWN_AUTHORITY or WRONG_AUTHORITY."""
    env = _envelope(data, name)
    body = parse_canonical(body_type, env.body, f"{name} body")
    if len(env.signatures) != 1:
        raise TearlineError("BAD_SIGNATURE", f"{name}: {len(env.signatures)} signatures, not exactly one")
    sig = env.signatures[0]
    auth = authorities.get(sig.agency)
    if auth is None:
        raise TearlineError("UNKNOWN_AUTHORITY", f"{name}: signer {sig.agency} is not pinned")
    if not crypto.verify(tag, env.body, sig.signature, auth.verify_key):
        raise TearlineError("BAD_SIGNATURE", f"{name}: the signature of {sig.agency} does not verify")
    if sig.agency != body.agency:
        raise TearlineError("WRONG_AUTHORITY", f"{name}: signed by {sig.agency}, {whose} {body.agency}")
    return body, bytes(env.body)


def verify_credential(data: bytes, authorities: dict[str, Authority], name: str = "credential") -> Credential:
    """trust-model 6.1."""
    body, body_bytes = _signed_once(data, identity_pb2.CredentialBody, TAG_CREDENTIAL, authorities, name,
                                    "issued for")
    auth = authorities[body.agency]
    bad = []
    if body.format_version != 1:
        bad.append("format_version is not 1")
    if not is_valid_id(body.node_id):
        bad.append("node_id is not a valid id")
    if not is_valid_id(body.agency):
        bad.append("agency is not a valid id")
    if not is_known_country(body.country):
        bad.append("country is not an ISO 3166-1 alpha-3 code")
    if body.clearance not in (1, 2, 3, 4, 5):
        bad.append("clearance is not 1 to 5")
    bad += [f"role '{r}' is not a valid id" for r in body.roles if not is_valid_id(r)]
    for k in ("signing_key", "sealing_key", "transport_key"):
        if len(getattr(body, k)) != 32:
            bad.append(f"{k} is not 32 bytes")
    if body.serial == 0:
        bad.append("serial is 0")
    if body.not_after <= body.not_before:
        bad.append("not_after is not after not_before")
    if bad:
        raise TearlineError.of([Reason.of("INVALID_FIELD", f"{name}: {b}") for b in bad])
    weak = []
    if not crypto.is_usable_verify_key(body.signing_key):
        weak.append("signing_key is not an Ed25519 public key of full order")
    for k in ("sealing_key", "transport_key"):
        if not crypto.is_usable_x25519_key(getattr(body, k)):
            weak.append(f"{k} is a low-order X25519 point")
    if weak:
        raise TearlineError.of([Reason.of("WEAK_KEY", f"{name}: {w}") for w in weak])
    if body.country != auth.country:
        raise TearlineError("INVALID_FIELD", f"{name}: country {body.country} is not {auth.agency}'s {auth.country}")
    return Credential(body.node_id, body.agency, body.country, body.clearance, tuple(body.roles),
                      bytes(body.signing_key), bytes(body.sealing_key), bytes(body.transport_key), body.serial,
                      body.not_before, body.not_after, body_bytes)


def verify_charter(data: bytes, authorities: dict[str, Authority], name: str = "charter") -> Charter:
    """trust-model 6.2."""
    env = _envelope(data, name)
    body = parse_canonical(identity_pb2.CharterBody, env.body, f"{name} body")
    bad = []
    if body.format_version != 1:
        bad.append("format_version is not 1")
    if not is_valid_id(body.unit_id):
        bad.append("unit_id is not a valid id")
    if not is_valid_id(body.host_agency):
        bad.append("host_agency is not a valid id")
    if not body.members:
        bad.append("no member")
    seen = set()
    for m in body.members:
        if not is_valid_id(m.node_id) or not is_valid_id(m.agency):
            bad.append(f"member '{m.node_id}' has an invalid id")
        if m.node_id in seen:
            bad.append(f"member {m.node_id} listed twice")
        seen.add(m.node_id)
    if body.version == 0:
        bad.append("version is 0")
    if body.not_after <= body.not_before:
        bad.append("not_after is not after not_before")
    if bad:
        raise TearlineError.of([Reason.of("INVALID_FIELD", f"{name}: {b}") for b in bad])
    required = {body.host_agency} | {m.agency for m in body.members}
    reasons: list[Reason] = []
    signed: set[str] = set()
    for sig in env.signatures:
        auth = authorities.get(sig.agency)
        if auth is None:
            reasons.append(Reason.of("UNKNOWN_AUTHORITY", f"{name}: signer {sig.agency} is not pinned"))
            continue
        if not crypto.verify(TAG_CHARTER, env.body, sig.signature, auth.verify_key):
            reasons.append(Reason.of("BAD_SIGNATURE", f"{name}: the signature of {sig.agency} does not verify"))
        elif sig.agency not in required:
            reasons.append(Reason.of("WRONG_AUTHORITY", f"{name}: {sig.agency} is no party to the charter"))
        elif sig.agency in signed:
            reasons.append(Reason.of("BAD_ENCODING", f"{name}: {sig.agency} signed twice"))
        signed.add(sig.agency)
    for agency in sorted(required - signed):
        who = "the host agency" if agency == body.host_agency else "a member's home agency"
        reasons.append(Reason.of("MISSING_CONSENT", f"{name}: {agency} ({who}) has not signed"))
    if reasons:
        raise TearlineError.of(reasons)
    return Charter(body.unit_id, body.host_agency, tuple(CharterMember(m.node_id, m.agency) for m in body.members),
                   body.version, body.not_before, body.not_after)


def verify_revocation_list(data: bytes, authorities: dict[str, Authority], name: str = "revocation list") -> RevocationList:
    """trust-model 6.3."""
    body, _ = _signed_once(data, identity_pb2.RevocationListBody, TAG_REVOCATION_LIST, authorities, name, "list of")
    if body.format_version != 1 or body.number == 0:
        raise TearlineError("INVALID_FIELD", f"{name}: format_version is not 1 or number is 0")
    bad = []
    creds: dict[int, tuple[int, int]] = {}
    for s in body.revoked_serials:
        if s in creds:
            bad.append(f"serial {s} listed twice")
        creds[s] = (LEGACY, 0)
    for e in body.revoked_credentials:
        if e.serial == 0:
            bad.append("a revoked serial is 0")
        if e.reason not in (RETIRED, COMPROMISED):
            bad.append(f"serial {e.serial}: reason unset")
        if e.reason == RETIRED and e.compromised_at != 0:
            bad.append(f"serial {e.serial}: RETIRED with a compromised_at")
        if e.reason == COMPROMISED and e.compromised_at <= 0:
            bad.append(f"serial {e.serial}: COMPROMISED without a positive compromised_at")
        if e.serial in creds:
            bad.append(f"serial {e.serial} listed twice")
        creds[e.serial] = (e.reason, e.compromised_at)
    peerings = set()
    for p in body.revoked_peerings:
        if not is_valid_id(p.peering_id) or p.version == 0:
            bad.append(f"revoked peering '{p.peering_id}' v{p.version} is invalid")
        if p.peering_id in peerings:
            bad.append(f"peering {p.peering_id} listed twice")
        peerings.add(p.peering_id)
    if bad:
        raise TearlineError.of([Reason.of("INVALID_FIELD", f"{name}: {b}") for b in bad])
    return RevocationList(body.agency, body.number, body.issued_at, creds,
                          frozenset((c.unit_id, c.version) for c in body.revoked_charters))


class Directory:
    """Immutable after load; see the module docstring."""

    def __init__(self) -> None:
        self.authorities: dict[str, Authority] = {}
        self._nodes: dict[str, Credential] = {}
        self._charters: dict[str, list[Charter]] = {}
        self._lists: dict[str, RevocationList] = {}
        self._list_hashes: dict[str, bytes] = {}      # agency -> BLAKE2b-256 of the held list's file
        self._object_hashes: list[bytes] = []         # of every credential and charter file loaded
        self.folder: str | None = None                # the folder it was loaded from, if any
        self.load_report = LoadReport()

    # --- loading ---------------------------------------------------------
    @staticmethod
    def load(folder: str | os.PathLike, now_ms: int | None = None, previous: "Directory | None" = None) -> "Directory":
        folder = os.fspath(folder)
        if os.path.isdir(os.path.join(folder, "directory")) and not os.path.exists(os.path.join(folder, "trust.toml")):
            folder = os.path.join(folder, "directory")  # a PKI root
        trust = _read_file(os.path.join(folder, "trust.toml"), "trust store")
        try:
            text = trust.decode("utf-8")
        except UnicodeDecodeError:
            raise TearlineError("INVALID_FIELD", "trust store is not UTF-8") from None
        authorities = parse_trust_store(text)

        def objects(sub: str, ext: str) -> list[tuple[str, bytes | TearlineError]]:
            d = os.path.join(folder, sub)
            if not os.path.isdir(d):
                return []
            out: list[tuple[str, bytes | TearlineError]] = []
            for n in sorted(os.listdir(d), key=lambda s: s.encode()):
                p = os.path.join(d, n)
                if not n.endswith(ext) or not os.path.isfile(p):
                    continue
                try:
                    out.append((f"{sub}/{n}", _read_file(p, n)))
                except TearlineError as e:
                    out.append((f"{sub}/{n}", e))
            return out

        d = Directory.build(authorities, objects("credentials", ".cred"), objects("charters", ".charter"),
                            objects("revocations", ".crl"), now_ms=now_ms, previous=previous)
        d.folder = folder
        return d

    @staticmethod
    def build(authorities, credentials=(), charters=(), revocations=(), now_ms: int | None = None,
              previous: "Directory | None" = None) -> "Directory":
        """authorities: dict agency -> Authority, or a list of Authority. Objects: bytes or
        (name, bytes) pairs."""
        d = Directory()
        if not isinstance(authorities, dict):
            authorities = {a.agency: a for a in authorities}
        if not authorities:
            raise TearlineError("EMPTY_TRUST_STORE", "trust store pins no authority")
        d.authorities = dict(authorities)
        now = (int(time.time() * 1000) if now_ms is None else now_ms) // 1000
        rep = d.load_report

        def named(items, kind):
            for i, it in enumerate(items):
                yield it if isinstance(it, tuple) else (f"{kind} {i + 1}", it)

        def reject(name, e: TearlineError):
            for r in e.reasons:
                rep.rejected.append((name, r))

        if previous is not None:
            for agency, lst in previous._lists.items():
                if agency in d.authorities:
                    d._lists[agency] = lst
                    d._list_hashes[agency] = previous._list_hashes[agency]
        for name, data in named(revocations, "revocation list"):
            if isinstance(data, TearlineError):
                reject(name, data); continue
            try:
                lst = verify_revocation_list(data, d.authorities, name)
            except TearlineError as e:
                reject(name, e); continue
            held = d._lists.get(lst.agency)
            if held is not None and lst.number < held.number:
                rep.rejected.append((name, Reason.of("REVOCATION_ROLLBACK",
                                                     f"{name}: list {lst.number} of {lst.agency} is older than "
                                                     f"list {held.number} held")))
                continue
            d._lists[lst.agency] = lst
            d._list_hashes[lst.agency] = crypto.blake2b256(data)

        loaded: list[tuple[str, Credential, bytes]] = []
        for name, data in named(credentials, "credential"):
            if isinstance(data, TearlineError):
                reject(name, data); continue
            try:
                loaded.append((name, verify_credential(data, d.authorities, name), crypto.blake2b256(data)))
            except TearlineError as e:
                reject(name, e)
        counts: dict[str, int] = {}
        for _, c, _ in loaded:
            counts[c.node_id] = counts.get(c.node_id, 0) + 1
        transport: set[bytes] = set()
        for name, c, object_hash in loaded:
            if counts[c.node_id] > 1:
                rep.rejected.append((name, Reason.of("DUPLICATE_OBJECT", f"{name}: node {c.node_id} has "
                                                                         f"{counts[c.node_id]} credentials")))
                continue
            if c.transport_key in transport:
                rep.rejected.append((name, Reason.of("DUPLICATE_OBJECT", f"{name}: transport key already used")))
                continue
            transport.add(c.transport_key)
            d._nodes[c.node_id] = c
            d._object_hashes.append(object_hash)
            if now < c.not_before:
                rep.warnings.append((name, Reason.of("NOT_YET_VALID", f"{name}: not yet valid")))
            elif now >= c.not_after:
                rep.warnings.append((name, Reason.of("EXPIRED", f"{name}: expired")))

        seen_versions: set[tuple[str, int]] = set()
        for name, data in named(charters, "charter"):
            if isinstance(data, TearlineError):
                reject(name, data); continue
            try:
                ch = verify_charter(data, d.authorities, name)
            except TearlineError as e:
                reject(name, e); continue
            if (ch.unit_id, ch.version) in seen_versions:
                rep.rejected.append((name, Reason.of("DUPLICATE_OBJECT", f"{name}: {ch.unit_id} v{ch.version} twice")))
                continue
            seen_versions.add((ch.unit_id, ch.version))
            members = []
            for m in ch.members:
                cred = d._nodes.get(m.node_id)
                if cred is not None and cred.agency != m.agency:
                    rep.rejected.append((f"unit {ch.unit_id} member {m.node_id}",
                                         Reason.of("WRONG_AUTHORITY", f"{m.node_id} is of {cred.agency}, "
                                                                      f"not {m.agency}")))
                    continue
                members.append(m)
            ch = Charter(ch.unit_id, ch.host_agency, tuple(members), ch.version, ch.not_before, ch.not_after)
            d._charters.setdefault(ch.unit_id, []).append(ch)
            d._object_hashes.append(crypto.blake2b256(data))
            if now >= ch.not_after:
                rep.warnings.append((name, Reason.of("EXPIRED", f"{name}: expired")))
        for lst in d._charters.values():
            lst.sort(key=lambda c: c.version)
        return d

    # --- questions ---------------------------------------------------------
    def trust_toml(self) -> str:
        """The trust store's canonical rendering (docs/protocol.md 6.2, the directory digest)."""
        out = "# Pinned agency authorities. Review every key before trusting it.\n"
        for agency in sorted(self.authorities, key=lambda a: a.encode()):
            a = self.authorities[agency]
            out += (f'\n[[authority]]\nagency = "{a.agency}"\ncountry = "{a.country}"\n'
                    f'verify_key = "{a.verify_key.hex()}"\n')
            if a.partner:
                out += "partner = true\n"
        return out

    def digest(self) -> bytes:
        """The directory digest of docs/protocol.md 6.2, as WELCOME and DIRECTORY_CHANGED carry it."""
        hashes = sorted(self._object_hashes + list(self._list_hashes.values()))
        return crypto.blake2b256(ByteWriter().tag("tearline/v1/directory-digest")
                                 .field(self.trust_toml().encode()).bytes(), *hashes)

    def node(self, node_id: str) -> Credential | None:
        return self._nodes.get(node_id)

    def nodes(self) -> list[Credential]:
        return [self._nodes[k] for k in sorted(self._nodes, key=lambda s: s.encode())]

    def node_by_transport_key(self, key: bytes) -> Credential | None:
        return next((c for c in self._nodes.values() if c.transport_key == key), None)

    def brokers(self) -> list[Credential]:
        return [c for c in self.nodes() if "broker" in c.roles]

    def revocation_list(self, agency: str) -> RevocationList | None:
        return self._lists.get(agency)

    def revocation_of(self, cred: Credential) -> tuple[int, int] | None:
        """(reason, compromised_at) when the home agency's held list names the serial."""
        lst = self._lists.get(cred.agency)
        return None if lst is None else lst.credentials.get(cred.serial)

    def _window(self, cred: Credential, t: int) -> list[Reason]:
        if t < cred.not_before:
            return [Reason.of("NOT_YET_VALID", f"{cred.node_id}'s credential is not valid before {cred.not_before}")]
        if t >= cred.not_after:
            return [Reason.of("EXPIRED", f"{cred.node_id}'s credential expired at {cred.not_after}")]
        return []

    def check_node(self, node_id: str, t_ms: int) -> list[Reason]:
        cred = self._nodes.get(node_id)
        if cred is None:
            return [Reason.of("UNKNOWN_NODE", f"{node_id} is not in the directory")]
        out = self._window(cred, t_ms // 1000)
        if self.revocation_of(cred) is not None:
            out.append(Reason.of("REVOKED", f"{node_id}'s credential (serial {cred.serial}) is revoked by "
                                            f"{cred.agency}'s list"))
        return out

    def check_signer(self, node_id: str, signed_at_ms: int, witnessed_ms: int | None) -> list[Reason]:
        """trust-model 12: a signature made at s and witnessed at w stands when the credential was
        valid at s and it is not revoked, RETIRED, or COMPROMISED at T with w < T*1000."""
        cred = self._nodes.get(node_id)
        if cred is None:
            return [Reason.of("UNKNOWN_NODE", f"{node_id} is not in the directory")]
        out = self._window(cred, signed_at_ms // 1000)
        rev = self.revocation_of(cred)
        if rev is not None:
            reason, at = rev
            if reason == LEGACY:
                out.append(Reason.of("REVOKED", f"{node_id}'s credential is revoked with no reason: every "
                                                "signature is void"))
            elif reason == COMPROMISED:
                if witnessed_ms is None:
                    out.append(Reason.of("ORIGINATOR_COMPROMISED", f"{node_id}'s key was compromised at {at} and "
                                                                   "no witnessed time shows the signature earlier"))
                elif not witnessed_ms < at * 1000:
                    out.append(Reason.of("ORIGINATOR_COMPROMISED", f"{node_id}'s key was compromised at {at}, at "
                                                                   f"or before the witness {witnessed_ms} ms"))
        return out

    def _charter_revoked(self, ch: Charter) -> bool:
        parties = {ch.host_agency} | {m.agency for m in ch.members}
        return any((ch.unit_id, ch.version) in self._lists[a].charters for a in parties if a in self._lists)

    def charter_in_force(self, unit_id: str, t_ms: int) -> tuple[Charter | None, list[Reason]]:
        versions = self._charters.get(unit_id)
        if not versions:
            return None, [Reason.of("UNKNOWN_NODE", f"unit {unit_id} has no charter")]
        t = t_ms // 1000
        for ch in reversed(versions):
            if ch.not_before <= t < ch.not_after and not self._charter_revoked(ch):
                return ch, []
        top = versions[-1]
        reasons = []
        if t < top.not_before:
            reasons.append(Reason.of("NOT_YET_VALID", f"unit {unit_id} v{top.version} not yet valid"))
        elif t >= top.not_after:
            reasons.append(Reason.of("EXPIRED", f"unit {unit_id} v{top.version} expired"))
        if self._charter_revoked(top):
            reasons.append(Reason.of("REVOKED", f"unit {unit_id} v{top.version} revoked"))
        return None, reasons

    def is_member(self, node_id: str, unit_id: str, t_ms: int) -> bool:
        ch, _ = self.charter_in_force(unit_id, t_ms)
        cred = self._nodes.get(node_id)
        if ch is None or cred is None:
            return False
        return any(m.node_id == node_id and m.agency == cred.agency for m in ch.members)

    def units_of(self, node_id: str, t_ms: int) -> list[str]:
        return [u for u in sorted(self._charters) if self.is_member(node_id, u, t_ms)]


def _read_file(path: str, name: str) -> bytes:
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            raise TearlineError("IO_ERROR", f"{name} is larger than 1 MiB")
        with open(path, "rb") as f:
            return f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise TearlineError("IO_ERROR", f"{name}: {e.strerror}") from None
