"""Known-answer vectors (tests/vectors/report_v1.txt, report_v2.txt, receipt_v1.txt) reproduced
byte for byte from the inputs docs/report-format.md sections 10, 14.7 and 15.5 name."""
from __future__ import annotations

import pytest

from _report_helpers import (K_NOW, hexbytes, hexpath, kat_credential, kat_directory, kat_draft, kat_keys,
                             kat_recipients, originator_keys, read_vectors, reader_keys)
from tearline import crypto
from tearline.directory import Authority, Directory
from tearline.encoding import TAG_CREDENTIAL, serialize_canonical
from tearline.errors import TearlineError
from tearline.keys import NodeKeys
from tearline.receipt import (DeliveryEntry, acceptance_leaf, make_acceptance_receipts, make_delivery_receipt,
                              verify_acceptance_receipt, verify_delivery)
from tearline.report import (RootCache, batch_inner, build_batch_to, build_report_to, open_sections, redact,
                             report_leaf, resign_batch, section_ad, section_commitment, signature_payload,
                             verify_report)
from tearline.v1 import identity_pb2, receipt_pb2, report_pb2


@pytest.fixture(scope="module")
def v1():
    return read_vectors("report_v1.txt")


@pytest.fixture(scope="module")
def v2():
    return read_vectors("report_v2.txt")


@pytest.fixture(scope="module")
def rv():
    return read_vectors("receipt_v1.txt")


def parse(b: bytes) -> report_pb2.Report:
    r = report_pb2.Report()
    r.ParseFromString(b)
    return r


def substitute_wraps(built: report_pb2.Report, stored: report_pb2.Report) -> None:
    """The wraps are not reproducible (crypto_box_seal's ephemeral key): take the stored ones."""
    for i, (b, s) in enumerate(zip(built.sections, stored.sections)):
        del b.sealed.wraps[:]
        b.sealed.wraps.extend(s.sealed.wraps)
        b.commitment = section_commitment(b.sealed)


# --- report_v1.txt ------------------------------------------------------------------

def test_v1_seeds_keys_and_credential(v1):
    assert crypto.test_seed("authority KAT").hex() == v1["authority_seed"]
    assert crypto.test_seed("node signing").hex() == v1["originator_signing_seed"]
    assert crypto.test_seed("node sealing").hex() == v1["originator_sealing_seed"]
    assert crypto.test_seed("reader sealing").hex() == v1["reader_sealing_seed"]
    k = kat_keys()
    assert k["auth_pk"].hex() == "b9173d9ab4def6745e2004c754a8e5d77e70a24dbd636c3c85252cdfff34da8f"
    assert k["sig_pk"].hex() == "c53feb0e8495c33b16605aad7e7064a1f0d7bb78dab175bdcf9e97fffaacfab5"
    assert k["seal_pk"].hex() == "c886035ca702d03de9ef82a332c8b4ec5d2bb7bf4e49337ff37de37f1e6e1f6c"
    assert k["reader_seal_pk"].hex() == "40d3937081cda759cd88e03f0bc9179cc55d2d06bc581d0adf37126be39ef515"
    assert kat_credential().hex() == v1["credential"]


def test_v1_counting_rng_blocks():
    rng = crypto.counting_random()
    assert rng(16).hex() == "7344481be740c609aa377c161ea9152c"
    assert rng(32).hex() == "59045235445ed95f5ba4703f2f2942bc89bd602664de39aeb01aa7882d3def64"
    assert rng(24).hex() == "6997e34c8ba6751517b0a3bb510fb93acafec46778a925c1"


def test_v1_report_byte_for_byte(v1):
    stored_bytes = hexbytes(v1["report"])
    stored = parse(stored_bytes)
    built = build_report_to(kat_draft(), "kat-originator", originator_keys(), kat_recipients(), format=1,
                            rng=crypto.counting_random())
    assert built.header_bytes.hex() == v1["header"]
    assert stored_bytes[2:58].hex() == v1["header"]
    for i in range(2):
        b, s = built.report.sections[i], stored.sections[i]
        assert b.sealed.label.hex() == v1[f"section{i}_label"]
        assert b.sealed.salt == s.sealed.salt and b.sealed.nonce == s.sealed.nonce
        assert built.content_keys[i].hex() == v1[f"section{i}_content_key"]
        assert section_ad(built.header_bytes, i, b.sealed.label).hex() == v1[f"section{i}_associated_data"]
        assert b.sealed.ciphertext.hex() == v1[f"section{i}_ciphertext"]
        assert crypto.aead_decrypt(built.content_keys[i], b.sealed.nonce,
                                   section_ad(built.header_bytes, i, b.sealed.label),
                                   b.sealed.ciphertext).hex() == v1[f"section{i}_plaintext"]
    # our own wraps differ; with the stored ones everything matches
    for i, s in enumerate(stored.sections):
        for w in s.sealed.wraps:
            sk = kat_keys()["seal_sk"] if w.node_id == "kat-originator" else kat_keys()["reader_seal_sk"]
            pk = crypto.x25519_public(sk)
            assert crypto.seal_open(w.sealed_key, pk, sk).hex() == v1[f"section{i}_content_key"]
    r = built.report
    substitute_wraps(r, stored)
    for i in range(2):
        assert r.sections[i].commitment.hex() == v1[f"section{i}_commitment"]
    payload = signature_payload(r.header, [s.commitment for s in r.sections])
    assert crypto.signature_input("tearline/v1/report", payload).hex() == v1["signature_input"]
    r.signature = crypto.sign("tearline/v1/report", payload, originator_keys().signing_secret)
    assert r.signature.hex() == v1["signature"]
    assert serialize_canonical(r) == stored_bytes


def test_v1_verify_and_open(v1):
    d = kat_directory(hexbytes(v1["credential"]))
    v = verify_report(hexbytes(v1["report"]), d)
    assert v.format_version == 1 and v.originator.node_id == "kat-originator"
    reader = open_sections(v, "kat-reader", reader_keys())
    assert [s.status for s in reader] == ["not_addressed", "opened"]
    assert reader[1].plaintext.hex() == v1["section1_plaintext"]
    own = open_sections(v, "kat-originator", originator_keys())
    assert [s.plaintext.hex() for s in own] == [v1["section0_plaintext"], v1["section1_plaintext"]]


# --- report_v2.txt ------------------------------------------------------------------

def test_v2_credential(v2):
    assert kat_credential().hex() == v2["credential"]


@pytest.mark.parametrize("n", [1, 3])
def test_v2_batch_byte_for_byte(v2, n):
    name = f"batch{n}"
    stored = [hexbytes(v2[f"{name}_report{i}"]) for i in range(n)]
    drafts = [kat_draft(i) for i in range(n)]
    built = build_batch_to(drafts, "kat-originator", originator_keys(), [kat_recipients()] * n,
                           rng=crypto.counting_random())
    assert built[0].batch_id.hex() == v2[f"{name}_batch_id"]
    reports = [b.report for b in built]
    for r, s in zip(reports, stored):
        sp = parse(s)
        assert r.header == sp.header
        for a, b in zip(r.sections, sp.sections):
            assert (a.sealed.label, a.sealed.salt, a.sealed.nonce, a.sealed.ciphertext) == \
                   (b.sealed.label, b.sealed.salt, b.sealed.nonce, b.sealed.ciphertext)
        substitute_wraps(r, sp)
    root = resign_batch(reports, originator_keys().signing_secret, batch_id=built[0].batch_id)
    assert root.hex() == v2[f"{name}_root"]
    leaves = [report_leaf(r.header, [s.commitment for s in r.sections]) for r in reports]
    for i in range(n):
        assert leaves[i].hex() == v2[f"{name}_leaf{i}"]
        assert list(reports[i].batch.path) == hexpath(v2[f"{name}_path{i}"])
        assert serialize_canonical(reports[i]) == stored[i], f"{name} report {i}"
    statement_input = crypto.signature_input(
        "tearline/v2/report-batch",
        b"".join([len(b"kat-originator").to_bytes(8, "little"), b"kat-originator", (16).to_bytes(8, "little"),
                  built[0].batch_id, n.to_bytes(4, "little"), root]))
    assert statement_input.hex() == v2[f"{name}_signature_input"]
    assert reports[0].signature.hex() == v2[f"{name}_signature"]
    if n == 3:
        assert batch_inner(leaves[0], leaves[1]).hex() == v2["batch3_node01"]
        assert batch_inner(hexbytes(v2["batch3_node01"]), leaves[2]).hex() == v2["batch3_root"]


def test_v2_verify_all_seven(v2):
    d = kat_directory(hexbytes(v2["credential"]))
    names = ["batch1_report0", "batch3_report0", "batch3_report1", "batch3_report2", "batch3_report1_redacted"]
    cache = RootCache()
    for n in names:
        v = verify_report(hexbytes(v2[n]), d, root_cache=cache)
        assert v.format_version == 2
    assert cache.verifies == 2 and cache.hits == 3  # one Ed25519 verify per batch
    for n in names:  # and without a cache
        verify_report(hexbytes(v2[n]), d)


def test_v2_redacted_copy(v2):
    full = hexbytes(v2["batch3_report1"])
    red = redact(full, {1})
    assert red.hex() == v2["batch3_report1_redacted"]
    d = kat_directory(hexbytes(v2["credential"]))
    v = verify_report(red, d)
    assert v.leaf.hex() == v2["batch3_leaf1"]
    assert [s.present for s in v.sections] == [False, True]
    opened = open_sections(v, "kat-reader", reader_keys())
    assert [s.status for s in opened] == ["withheld", "opened"]
    assert opened[1].plaintext == b"section two: tear line"


# --- receipt_v1.txt -----------------------------------------------------------------

def receipt_credential(name: str, node_id: str, role: str, serial: int) -> bytes:
    """15.5: Ed25519 from seed(name), used for all three keys; agency KAT, country COL, clearance
    SECRET, window kNow - 3600 .. kNow + 86400 (as report_v1.txt's)."""
    k = kat_keys()
    pk, _ = crypto.sign_seed_keypair(crypto.test_seed(name))
    body = identity_pb2.CredentialBody(
        format_version=1, node_id=node_id, agency="KAT", country="COL", clearance=4, roles=[role], signing_key=pk,
        sealing_key=pk, transport_key=pk, serial=serial, not_before=K_NOW - 3600, not_after=K_NOW + 86400)
    b = serialize_canonical(body)
    env = identity_pb2.SignedObject(body=b)
    env.signatures.add(agency="KAT", signature=crypto.sign(TAG_CREDENTIAL, b, k["auth_sk"]))
    return serialize_canonical(env)


def receipt_directory(rv) -> Directory:
    return Directory.build([Authority("KAT", "COL", hexbytes(rv["authority_verify_key"]))],
                           [hexbytes(rv["broker_credential"]), hexbytes(rv["reader_credential"])],
                           now_ms=K_NOW * 1000)


def test_receipt_credentials(rv):
    assert receipt_credential("broker signing", "kat-broker", "broker", 10).hex() == rv["broker_credential"]
    assert receipt_credential("reader signing", "kat-reader", "analyst", 12).hex() == rv["reader_credential"]
    d = receipt_directory(rv)
    assert [c.node_id for c in d.nodes()] == ["kat-broker", "kat-reader"]
    assert d.load_report.rejected == []


def test_acceptance_receipts_byte_for_byte(rv):
    digests = [crypto.blake2b256(f"report {i}".encode()) for i in range(3)]
    for i in range(3):
        assert digests[i].hex() == rv[f"digest{i}"]
        assert acceptance_leaf(41 + i, digests[i]).hex() == rv[f"leaf{i}"]
    _, broker_sk = crypto.sign_seed_keypair(crypto.test_seed("broker signing"))
    receipts = make_acceptance_receipts("kat-broker", broker_sk, 41, 1780272000250, digests)
    for i in range(3):
        assert receipts[i].hex() == rv[f"receipt{i}"]
    r0 = receipt_pb2.AcceptanceReceipt()
    r0.ParseFromString(receipts[0])
    assert r0.root.hex() == rv["root"]
    from tearline.receipt import acceptance_statement
    st = acceptance_statement("kat-broker", 41, 3, 1780272000250, r0.root)
    assert crypto.signature_input("tearline/v1/acceptance-batch", st).hex() == rv["acceptance_signature_input"]
    d = receipt_directory(rv)
    for i in range(3):
        info = verify_acceptance_receipt(hexbytes(rv[f"receipt{i}"]), None, 41 + i, "kat-broker", d,
                                         digest=digests[i])
        assert (info.broker_id, info.seq, info.accepted_ms) == ("kat-broker", 41 + i, 1780272000250)
    # receipt 0 is not a receipt for digest 1, nor for seq 42
    with pytest.raises(TearlineError) as e:
        verify_acceptance_receipt(hexbytes(rv["receipt0"]), None, None, None, d, digest=digests[1])
    assert e.value.name == "RECEIPT_INVALID"
    with pytest.raises(TearlineError) as e:
        verify_acceptance_receipt(hexbytes(rv["receipt0"]), None, 42, None, d, digest=digests[0])
    assert e.value.name == "RECEIPT_INVALID"


@pytest.mark.parametrize("writer,prefix", [("", "delivery"), ("kat-broker-2", "stream_delivery")])
def test_delivery_receipts_byte_for_byte(rv, writer, prefix):
    pk, sk = crypto.sign_seed_keypair(crypto.test_seed("reader signing"))
    keys = NodeKeys(sk, pk, bytes(32), bytes(32), bytes(32), bytes(32))
    entries = [DeliveryEntry(41, crypto.blake2b256(b"copy of report 0"), b"\x01" * 16, (0, 1)),
               DeliveryEntry(43, crypto.blake2b256(b"copy of report 2"), b"\x03" * 16, (1,))]
    data = make_delivery_receipt("kat-reader", keys, "kat-broker", entries, 1780272000900, writer=writer)
    assert data.hex() == rv[f"{prefix}_receipt"]
    from tearline.receipt import delivery_statement
    tag = "tearline/v1/stream-delivery-receipt" if writer else "tearline/v1/delivery-receipt"
    st = delivery_statement("kat-reader", "kat-broker", 1780272000900, entries, writer)
    assert crypto.signature_input(tag, st).hex() == rv[f"{prefix}_signature_input"]
    r = verify_delivery(data, receipt_directory(rv), 1780272000900)
    assert r.format_version == (2 if writer else 1)
