"""Shared helpers of test_vectors.py and test_report.py: the vector files and the KAT world
of docs/report-format.md 10.2 and 15.5."""
from __future__ import annotations

import os
import pathlib

from tearline import crypto
from tearline.directory import Authority, Directory
from tearline.encoding import TAG_CREDENTIAL, serialize_canonical
from tearline.keys import NodeKeys
from tearline.policy import Label
from tearline.report import Draft, Section
from tearline.v1 import identity_pb2

K_NOW = 1780272000  # 2026-06-01T00:00:00Z


def source_root() -> pathlib.Path:
    env = os.environ.get("TEARLINE_SOURCE")
    if env:
        return pathlib.Path(env)
    return pathlib.Path(__file__).resolve().parent.parent.parent


def read_vectors(name: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for line in (source_root() / "tests" / "vectors" / name).read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        out[key.strip()] = value  # type: ignore[assignment]
    return out


def hexbytes(v: str) -> bytes:
    return bytes.fromhex(v)


def hexpath(v: str) -> list[bytes]:
    return [bytes.fromhex(p) for p in v.split(",") if p]


def kat_keys() -> dict:
    auth_pk, auth_sk = crypto.sign_seed_keypair(crypto.test_seed("authority KAT"))
    sig_pk, sig_sk = crypto.sign_seed_keypair(crypto.test_seed("node signing"))
    seal_pk, seal_sk = crypto.box_seed_keypair(crypto.test_seed("node sealing"))
    rseal_pk, rseal_sk = crypto.box_seed_keypair(crypto.test_seed("reader sealing"))
    return dict(auth_pk=auth_pk, auth_sk=auth_sk, sig_pk=sig_pk, sig_sk=sig_sk, seal_pk=seal_pk, seal_sk=seal_sk,
                reader_seal_pk=rseal_pk, reader_seal_sk=rseal_sk)


def originator_keys() -> NodeKeys:
    k = kat_keys()
    return NodeKeys(k["sig_sk"], k["sig_pk"], k["seal_sk"], k["seal_pk"], k["seal_sk"], k["seal_pk"])


def reader_keys() -> NodeKeys:
    k = kat_keys()
    pk, sk = crypto.sign_seed_keypair(crypto.test_seed("reader signing"))
    return NodeKeys(sk, pk, k["reader_seal_sk"], k["reader_seal_pk"], k["reader_seal_sk"], k["reader_seal_pk"])


def kat_credential() -> bytes:
    """report-format 10.2 "Credential"."""
    k = kat_keys()
    body = identity_pb2.CredentialBody(
        format_version=1, node_id="kat-originator", agency="KAT", country="COL", clearance=4, roles=["analyst"],
        signing_key=k["sig_pk"], sealing_key=k["seal_pk"], transport_key=k["seal_pk"], serial=1,
        not_before=K_NOW - 3600, not_after=K_NOW + 86400)
    body_bytes = serialize_canonical(body)
    env = identity_pb2.SignedObject(body=body_bytes)
    env.signatures.add(agency="KAT", signature=crypto.sign(TAG_CREDENTIAL, body_bytes, k["auth_sk"]))
    return serialize_canonical(env)


def kat_directory(credential: bytes) -> Directory:
    k = kat_keys()
    return Directory.build([Authority("KAT", "COL", k["auth_pk"])], [credential], now_ms=K_NOW * 1000)


def kat_draft(i: int = 0) -> Draft:
    return Draft(topic="intel.kat", created_at_ms=K_NOW * 1000 + i, sequence=1 + i, sections=[
        Section(Label("SECRET", ["COL"], [], True), b"section one: for COL only"),
        Section(Label("CONFIDENTIAL", ["COL", "USA"]), b"section two: tear line"),
    ])


def kat_recipients() -> list[list[tuple[str, bytes]]]:
    k = kat_keys()
    return [[("kat-originator", k["seal_pk"])],
            [("kat-originator", k["seal_pk"]), ("kat-reader", k["reader_seal_pk"])]]


def issue_credential(auth_sk: bytes, agency: str, country: str, node_id: str, roles: list[str], keys: NodeKeys,
                     serial: int, not_before: int = K_NOW - 3600, not_after: int = K_NOW + 86400,
                     clearance: int = 4) -> bytes:
    """A credential signed by `auth_sk` (trust-model 5.1), for synthetic worlds."""
    body = identity_pb2.CredentialBody(
        format_version=1, node_id=node_id, agency=agency, country=country, clearance=clearance, roles=roles,
        signing_key=keys.signing_public, sealing_key=keys.sealing_public, transport_key=keys.transport_public,
        serial=serial, not_before=not_before, not_after=not_after)
    b = serialize_canonical(body)
    env = identity_pb2.SignedObject(body=b)
    env.signatures.add(agency=agency, signature=crypto.sign(TAG_CREDENTIAL, b, auth_sk))
    return serialize_canonical(env)


def revocation_list(auth_sk: bytes, agency: str, number: int, compromised: dict[int, int] = None,
                    retired: list[int] = (), legacy: list[int] = ()) -> bytes:
    from tearline.encoding import TAG_REVOCATION_LIST
    body = identity_pb2.RevocationListBody(format_version=1, agency=agency, number=number,
                                           revoked_serials=list(legacy))
    for s in retired:
        body.revoked_credentials.add(serial=s, reason=1)
    for s, at in (compromised or {}).items():
        body.revoked_credentials.add(serial=s, reason=2, compromised_at=at)
    b = serialize_canonical(body)
    env = identity_pb2.SignedObject(body=b)
    env.signatures.add(agency=agency, signature=crypto.sign(TAG_REVOCATION_LIST, b, auth_sk))
    return serialize_canonical(env)
