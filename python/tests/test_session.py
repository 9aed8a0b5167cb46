"""tearline.session against a real broker (docs/protocol.md sections 2, 4-6, 11).

The broker and the demo PKI come from conftest.py (`tearline certs demo`, a
tearline-broker on tcp://127.0.0.1:*, stopped after the module); the tests
that restart a broker start their own on a fixed free port. Every test
asserts the exact code or outcome the document promises.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import zmq
from zmq.utils import z85

from brokers import CLI, Broker
from tearline import codes, keys, wire
from tearline.directory import Directory
from tearline.errors import TearlineError
from tearline.policy import Label
from tearline.receipt import verify_acceptance_receipt
from tearline.report import Draft, Section
from tearline.session import Delivery, DeliveryRefused, Session
from tearline.v1 import wire_pb2

PUBLISHER, READER, COMMANDER, LIAISON = "dea-cucuta-agent", "diran-cucuta-analyst", "diran-cucuta-commander", \
    "fgr-liaison"
SHARED = Label("CONFIDENTIAL", ["COL", "USA"])
USA_ONLY = Label("SECRET", ["USA"])


def node_keys(pki: Path, node: str) -> keys.NodeKeys:
    return keys.NodeKeys.load(pki / "keys" / "nodes" / f"{node}.key")


def open_session(broker, node: str, pki: Path | None = None, **options) -> Session:
    pki = pki or broker.pki
    return Session.connect(broker.endpoint, keys.load_broker_public(pki / "directory" / "broker.pub"), node,
                           node_keys(pki, node), Directory.load(pki / "directory"),
                           directory_folder=pki / "directory", **options)


def draft(text: str, topic: str = "intel.seizures.cucuta", sections=None) -> Draft:
    return Draft(topic, sections or [Section(SHARED, text)])


def eventually(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def drain(session: Session, timeout_ms: int = 600) -> list[Delivery]:
    got = []
    while (d := session.receive(timeout_ms)) is not None:
        got.append(d)
    return got


@pytest.fixture
def sessions(broker):
    opened: list[Session] = []

    def make(node: str, **options) -> Session:
        s = open_session(broker, node, **options)
        opened.append(s)
        return s
    yield make
    for s in opened:
        s.close()


# --- HELLO / WELCOME and admission ---------------------------------------------------------------

def test_welcome_fields(sessions):
    before = int(time.time() * 1000)
    s = sessions(PUBLISHER)
    w = s.welcome
    assert (w.version, w.node_id, w.broker_id) == (1, PUBLISHER, "tearline-broker")
    assert (w.max_frame_bytes, w.max_subscriptions) == (1048576, 256)
    assert w.directory_digest == s.directory.digest()            # protocol 6.2, computed here
    assert s.directory.folder is not None
    assert before - 5000 <= w.broker_time_ms <= int(time.time() * 1000) + 5000
    assert s.ready


def test_raw_hello_version_and_requests_before_hello(sessions, broker):
    s = open_session(broker, PUBLISHER, hello=False)
    try:
        s.send_frame(wire.list_subscriptions(7))                     # NEW: PROTOCOL_VIOLATION with its id
        answer = s.recv_frame(3000)
        assert answer.WhichOneof("body") == "error"
        assert (answer.error.code, answer.error.request_id) == (codes.PROTOCOL_VIOLATION, 7)
        s.send_frame(wire.hello(version=2))                          # UNSUPPORTED_VERSION, request id 0
        answer = s.recv_frame(3000)
        assert (answer.error.code, answer.error.request_id) == (codes.UNSUPPORTED_VERSION, 0)
        s.send_frame(wire.hello("raw"))
        assert s.recv_frame(3000).welcome.node_id == PUBLISHER
        s.send_frame(wire.hello("again"))                            # READY: PROTOCOL_VIOLATION / 0
        answer = s.recv_frame(3000)
        assert (answer.error.code, answer.error.request_id) == (codes.PROTOCOL_VIOLATION, 0)
    finally:
        s.close()


def test_unknown_transport_key_is_refused(broker):
    stranger = keys.NodeKeys.generate()
    broker_public = keys.load_broker_public(broker.pki / "directory" / "broker.pub")
    directory = Directory.load(broker.pki / "directory")
    with pytest.raises(TearlineError) as caught:                 # checked locally first: nothing is sent
        Session.connect(broker.endpoint, broker_public, PUBLISHER, stranger, directory)
    assert caught.value.code == codes.KEY_FILE
    # A timeout would be UNAVAILABLE: HANDSHAKE_REFUSED can only come from the socket monitor.
    s = Session(broker.endpoint, broker_public, PUBLISHER, stranger, directory, timeout_ms=30000)
    try:
        with pytest.raises(TearlineError) as caught:
            s.hello()
        assert caught.value.code == codes.HANDSHAKE_REFUSED and caught.value.name == "HANDSHAKE_REFUSED"
    finally:
        s.close(bye=False)


def test_no_welcome_in_time_is_unavailable(broker, tmp_path):
    context = zmq.Context.instance()
    server_public, server_secret = zmq.curve_keypair()
    silent = context.socket(zmq.ROUTER)                         # a CURVE server that never answers
    silent.curve_server, silent.curve_secretkey = True, server_secret
    silent.linger = 0
    port = silent.bind_to_random_port("tcp://127.0.0.1")
    try:
        start = time.monotonic()
        with pytest.raises(TearlineError) as caught:
            Session.connect(f"tcp://127.0.0.1:{port}", z85.decode(server_public), PUBLISHER,
                            node_keys(broker.pki, PUBLISHER), Directory.load(broker.pki / "directory"),
                            timeout_ms=800)
        assert caught.value.code == codes.UNAVAILABLE
        assert time.monotonic() - start >= 0.8                  # it waited out its timeout
    finally:
        silent.close()
    wrong_key = keys.NodeKeys.generate().transport_public        # not the broker's CURVE key
    with pytest.raises(TearlineError) as caught:
        Session.connect(broker.endpoint, wrong_key, PUBLISHER, node_keys(broker.pki, PUBLISHER),
                        Directory.load(broker.pki / "directory"), timeout_ms=800)
    assert caught.value.code == codes.UNAVAILABLE


# --- subscriptions, PING, bad frames -------------------------------------------------------------

def test_subscribe_list_unsubscribe(sessions):
    s = sessions(LIAISON)
    s.subscribe(["intel.routes.>", "intel.labs.*"])
    s.subscribe(["intel.finance.>"], session_only=True)
    listed = s.list_subscriptions()
    assert listed.durable == ["intel.labs.*", "intel.routes.>"]
    assert listed.session == ["intel.finance.>"]
    assert listed.acked_seq == 0 and listed.streams == {}
    s.unsubscribe(["intel.labs.*"])
    s.unsubscribe(["intel.finance.>"], session_only=True)
    listed = s.list_subscriptions()
    assert (listed.durable, listed.session) == (["intel.routes.>"], [])
    with pytest.raises(TearlineError) as caught:
        s.subscribe(["intel..x", "ok.>"])
    assert caught.value.code == codes.TOPIC_INVALID
    with pytest.raises(TearlineError) as caught:
        s.subscribe(["unit.cucuta-jtf.>"])                      # fgr-liaison is not a member
    assert caught.value.code == codes.NOT_UNIT_MEMBER
    with pytest.raises(TearlineError) as caught:
        s.subscribe([f"intel.p{i}" for i in range(65)])         # more than 64 in one SUBSCRIBE
    assert caught.value.code == codes.TOPIC_INVALID
    assert s.list_subscriptions().durable == ["intel.routes.>"]  # all or nothing


def test_ping_pong(sessions):
    s = sessions(PUBLISHER)
    assert s.ping() >= 0
    s.send_frame(wire.ping(424242))
    pong = s.recv_frame(3000)
    assert pong.WhichOneof("body") == "pong" and pong.pong.nonce == 424242
    assert wire.encode_frame(pong) == bytes.fromhex("6204") + b"\x08" + bytes([0xB2, 0xF2, 0x19])


@pytest.mark.parametrize("bad, code", [
    (b"\xff\xff\xff", codes.MALFORMED_FRAME),                   # does not parse
    (b"\xf2\x01\x00", codes.MALFORMED_FRAME),                   # unknown body 30
    (b"", codes.MALFORMED_FRAME),                               # no body
    (bytes.fromhex("0a1e0a08746561726c696e6510011a10746561726c696e652d636c692f302e31") + bytes.fromhex("5a020807"),
     codes.MALFORMED_FRAME),                                    # two bodies
    (bytes.fromhex("2200"), codes.MALFORMED_FRAME),             # SUBSCRIBE with request id 0
    (bytes.fromhex("62020807"), codes.UNEXPECTED_FRAME),        # a PONG from the client
    (b"\x0a" * (1048576 + 1), codes.FRAME_TOO_LARGE),           # over max_frame_bytes
    ([b"\x5a\x02\x08\x07", b"\x5a\x02\x08\x07"], codes.MALFORMED_FRAME),  # two parts
])
def test_bad_frames_are_answered_and_the_session_still_serves(sessions, bad, code):
    s = sessions(PUBLISHER)
    s.send_raw(bad)
    answer = s.recv_frame(3000)
    assert answer is not None and answer.WhichOneof("body") == "error"
    assert (answer.error.code, answer.error.request_id) == (code, 0)
    assert answer.error.reasons[0].code == code
    assert s.ready
    assert s.ping() >= 0
    assert s.list_subscriptions().session == []


# --- publish, delivery, ACK -----------------------------------------------------------------------

def test_publish_accepted_with_a_verified_receipt(sessions, broker):
    s = sessions(PUBLISHER)
    outcome = s.publish(draft("two tonnes at the border"))
    assert outcome.accepted and outcome.code == codes.OK, outcome.reasons
    assert outcome.broker_seq > 0 and len(outcome.report_id) == 32
    assert abs(outcome.accepted_ms - time.time() * 1000) < 10000
    directory = Directory.load(broker.pki / "directory")
    info = verify_acceptance_receipt(outcome.receipt, outcome.report, outcome.broker_seq, "tearline-broker",
                                     directory)
    assert (info.seq, info.accepted_ms) == (outcome.broker_seq, outcome.accepted_ms)
    # The same ACCEPTED with one byte of its receipt changed is not accepted: RECEIPT_INVALID.
    forged = wire_pb2.Frame()
    forged.accepted.request_id = 99
    forged.accepted.report_id = bytes.fromhex(outcome.report_id)
    forged.accepted.broker_seq = outcome.broker_seq
    receipt = bytearray(outcome.receipt)
    receipt[-1] ^= 1
    forged.accepted.receipt = bytes(receipt)
    refused = s._outcome(forged, outcome.report, 99)
    assert not refused.accepted and refused.code == codes.RECEIPT_INVALID
    forged.accepted.receipt = outcome.receipt
    forged.accepted.broker_seq = outcome.broker_seq + 1           # the receipt is for another seq
    assert s._outcome(forged, outcome.report, 99).code == codes.RECEIPT_INVALID


def test_publish_rejected_with_the_documents_code(sessions):
    s = sessions(PUBLISHER)
    outcome = s.publish(draft("tasking", topic="intel.hq.tasking"))
    assert not outcome.accepted
    assert outcome.code == codes.TOPIC_WRITE_DENIED and outcome.reasons[0].name == "TOPIC_WRITE_DENIED"
    again = s.publish(s.publish(draft("once")).report)              # the same bytes again
    assert not again.accepted and {r.code for r in again.reasons} == {codes.REPLAYED_REPORT,
                                                                      codes.SEQUENCE_REGRESSION}


def test_delivery_verified_opened_and_acked(sessions):
    reader = sessions(READER)
    reader.subscribe(["intel.seizures.>"])
    drain(reader)
    publisher = sessions(PUBLISHER)
    outcome = publisher.publish(draft("", sections=[Section(SHARED, "two tonnes"), Section(USA_ONLY, "source")]))
    assert outcome.accepted, outcome.reasons
    got = reader.receive(5000)
    assert got is not None
    assert (got.broker_seq, got.report_id, got.originator, got.topic) == (
        outcome.broker_seq, outcome.report_id, PUBLISHER, "intel.seizures.cucuta")
    assert got.receipt == outcome.receipt and got.accepted_ms == outcome.accepted_ms
    assert [(x.status, x.text) for x in got.sections] == [("opened", "two tonnes"), ("withheld", None)]
    assert got.sections[0].label == SHARED
    assert eventually(lambda: reader.list_subscriptions().acked_seq == got.broker_seq)
    assert not reader.faults
    # The publisher sealed the USA-only section to itself too: it opens both.
    from tearline import report
    verified = report.verify_report(outcome.report, publisher.directory)
    assert [(o.status, o.text) for o in report.open_sections(verified, PUBLISHER, publisher.keys)] == [
        ("opened", "two tonnes"), ("opened", "source")]


def test_explicit_ack_moves_the_cursor(sessions):
    reader = sessions(READER, auto_ack=False)
    reader.subscribe(["intel.seizures.>"])
    drain(reader)
    for d in drain(reader):
        reader.ack(d)
    publisher = sessions(PUBLISHER)
    before = reader.list_subscriptions().acked_seq
    first = publisher.publish(draft("first"))
    second = publisher.publish(draft("second"))
    a, b = reader.receive(5000), reader.receive(5000)
    assert (a.broker_seq, b.broker_seq) == (first.broker_seq, second.broker_seq)
    time.sleep(0.3)
    assert reader.list_subscriptions().acked_seq == before        # nothing acknowledged yet
    reader.ack(a)
    assert eventually(lambda: reader.list_subscriptions().acked_seq == a.broker_seq)
    reader.ack(b)
    assert eventually(lambda: reader.list_subscriptions().acked_seq == b.broker_seq)


def test_redelivery_is_dropped_by_report_id(sessions):
    reader = sessions(READER, auto_ack=False)
    reader.subscribe(["intel.seizures.>"])
    for d in drain(reader):
        reader.ack(d)
    publisher = sessions(PUBLISHER)
    outcome = publisher.publish(draft("not acknowledged"))
    first = reader.receive(5000)
    assert first.broker_seq == outcome.broker_seq
    reader.reconnect()                                           # the copy was not acknowledged: sent again
    assert reader.receive(1500) is None                          # ... and dropped as a duplicate
    with pytest.raises(TearlineError) as caught:                 # a copy of an earlier session
        reader.ack(first)
    assert caught.value.code == codes.RECEIPT_INVALID
    later = publisher.publish(draft("after the duplicate"))
    got = reader.receive(5000)
    assert got.broker_seq == later.broker_seq and got.sections[0].text == "after the duplicate"
    reader.ack(got)                                              # covers the duplicate's entry too
    assert eventually(lambda: reader.list_subscriptions().acked_seq == later.broker_seq)
    assert not reader.faults


def test_publish_many_is_one_batch(sessions):
    reader = sessions(READER)
    reader.subscribe(["intel.seizures.>"])
    drain(reader)
    publisher = sessions(PUBLISHER)
    outcomes = publisher.publish_many([draft(f"batch {i}") for i in range(5)])
    assert [o.accepted for o in outcomes] == [True] * 5
    seqs = [o.broker_seq for o in outcomes]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    got = [reader.receive(5000) for _ in outcomes]
    assert [g.broker_seq for g in got] == seqs
    assert [g.sections[0].text for g in got] == [f"batch {i}" for i in range(5)]
    assert len({g.verified.report.batch.batch_id for g in got}) == 1
    assert {g.verified.report.batch.leaf_count for g in got} == {5}


def test_publishes_reuse_a_content_key_within_its_epoch(sessions):
    """report-format 14.6: the same label and recipients reuse the content key and its wraps;
    salt and nonce stay fresh; another label starts its own epoch; the reader opens all."""
    from tearline.testers import parse
    reader = sessions(READER)
    reader.subscribe(["intel.seizures.>"])
    drain(reader)
    publisher = sessions(PUBLISHER)
    outcomes = [publisher.publish(draft(f"epoch {i}")) for i in range(2)]
    outcomes.append(publisher.publish(draft("other label", sections=[Section(Label("RESTRICTED", ["COL", "USA"]),
                                                                             "other label")])))
    assert [o.accepted for o in outcomes] == [True] * 3
    sealed = [parse(o.report).sections[0].sealed for o in outcomes]
    assert list(sealed[0].wraps) == list(sealed[1].wraps)
    assert sealed[0].nonce != sealed[1].nonce and sealed[0].salt != sealed[1].salt
    assert {w.sealed_key for w in sealed[2].wraps}.isdisjoint({w.sealed_key for w in sealed[0].wraps})
    assert publisher.key_epochs.epochs_started == 2
    assert [reader.receive(5000).sections[0].text for _ in outcomes] == ["epoch 0", "epoch 1", "other label"]


def test_reconnect_and_resume_gets_what_was_published_while_away(sessions):
    reader = sessions(READER)
    reader.subscribe(["intel.seizures.>"])
    drain(reader)
    reader.bye("stepping away")                                  # the broker forgets the session
    publisher = sessions(PUBLISHER)
    away = [publisher.publish(draft(f"while away {i}")) for i in range(3)]
    assert all(o.accepted for o in away)
    got = [reader.receive(5000) for _ in away]                   # re-HELLO, durable SUBSCRIBE, catch-up
    assert [g.broker_seq for g in got] == [o.broker_seq for o in away]
    assert [g.sections[0].text for g in got] == [f"while away {i}" for i in range(3)]
    assert "regained" in reader.events
    assert eventually(lambda: reader.list_subscriptions().acked_seq == away[-1].broker_seq)


def test_compromised_originator_is_refused_and_acknowledged(sessions, broker, tmp_path):
    copy = tmp_path / "pki"
    shutil.copytree(broker.pki, copy)
    subprocess.run([CLI, "certs", "revoke", "--pki", str(copy), "--node", PUBLISHER, "--reason", "compromised",
                    "--compromised-at", str(int(time.time()) - 3600)], check=True, capture_output=True)
    reader = Session.connect(broker.endpoint, keys.load_broker_public(copy / "directory" / "broker.pub"), READER,
                             node_keys(copy, READER), Directory.load(copy / "directory"))
    try:
        reader.subscribe(["intel.seizures.>"])
        while True:                                               # earlier reports: refused too
            try:
                if reader.receive(300) is None:
                    break
            except DeliveryRefused:
                pass
        outcome = sessions(PUBLISHER).publish(draft("after the theft"))
        assert outcome.accepted
        with pytest.raises(DeliveryRefused) as caught:
            reader.receive(5000)
        assert caught.value.code == codes.ORIGINATOR_COMPROMISED and caught.value.broker_seq == outcome.broker_seq
        assert eventually(lambda: reader.list_subscriptions().acked_seq == outcome.broker_seq)
    finally:
        reader.close()


# --- admin, directory, broker restart ------------------------------------------------------------

def test_admin_status_reload_and_not_authorized(sessions):
    commander = sessions(COMMANDER)
    status = commander.admin_status()
    assert status.broker_id == "tearline-broker" and status.sessions >= 1 and status.head_seq >= 1
    assert status.directory_digest == commander.welcome.directory_digest
    commander.admin_reload()
    with pytest.raises(TearlineError) as caught:
        sessions(PUBLISHER).admin_status()
    assert caught.value.code == codes.NOT_AUTHORIZED


def test_directory_changed_reloads_the_local_directory(sessions, broker):
    # No directory_folder: the session reloads from the folder its Directory was loaded from.
    watcher = Session.connect(broker.endpoint, keys.load_broker_public(broker.pki / "directory" / "broker.pub"),
                              READER, node_keys(broker.pki, READER), Directory.load(broker.pki / "directory"))
    commander = sessions(COMMANDER)
    generation = commander.admin_status().directory_generation
    subprocess.run([CLI, "certs", "issue", "--pki", str(broker.pki), "--node", "diran-new-desk", "--agency",
                    "DIRAN", "--clearance", "SECRET"], check=True, capture_output=True)
    commander.admin_reload()
    changed = watcher.recv_frame(3000)
    assert changed.WhichOneof("body") == "directory_changed"
    assert changed.directory_changed.generation == generation + 1
    assert any(e.startswith("directory_reloaded") for e in watcher.events)
    assert watcher.directory.node("diran-new-desk") is not None
    assert watcher.directory.digest() == changed.directory_changed.directory_digest
    watcher.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_broker_restart_resume(pki, tmp_path):
    port = _free_port()
    restartable = Broker(tmp_path, pki)
    restartable.config.write_text(restartable.config.read_text().replace("tcp://127.0.0.1:*",
                                                                         f"tcp://127.0.0.1:{port}"))
    with restartable:
        reader = open_session(restartable, READER, pki)
        publisher = open_session(restartable, PUBLISHER, pki)
        try:
            reader.subscribe(["intel.labs.>"])
            first = publisher.publish(draft("before", topic="intel.labs.narino"))
            assert reader.receive(5000).broker_seq == first.broker_seq
            restartable.stop()
            restartable.start()
            later = publisher.publish(draft("after the restart", topic="intel.labs.narino"), timeout_ms=10000)
            assert later.accepted and later.broker_seq == first.broker_seq + 1
            got = reader.receive(10000)
            assert got is not None and got.broker_seq == later.broker_seq
            assert got.sections[0].text == "after the restart"
        finally:
            reader.close()
            publisher.close()


def test_a_broker_that_lies_is_refused_and_the_session_goes_on(pki):
    """A fake broker holding the broker's keys sends a copy whose ciphertext was changed (its
    receipt genuine), then a genuine copy with a receipt signed by another key, then a genuine
    copy: the first two raise DeliveryRefused with the document's codes, the third arrives, and
    the client acknowledges all three (a refused copy is still acknowledged, 6.8)."""
    import threading
    from tearline import receipt, report
    from tearline.testers import Forge, parse, section
    broker_keys = keys.BrokerKeys.load(pki / "keys" / "broker.key")
    fake = zmq.Context.instance().socket(zmq.ROUTER)
    fake.curve_server, fake.curve_secretkey, fake.linger = True, z85.encode(broker_keys.transport_secret), 0
    port = fake.bind_to_random_port("tcp://127.0.0.1")
    forge = Forge(pki, f"tcp://127.0.0.1:{port}")
    reports = [forge.build("diran-bogota-hq", "intel.labs", [section("CONFIDENTIAL", ["COL", "MEX", "USA"],
                                                                     f"lab {i}")]).data for i in range(3)]
    tampered = parse(reports[0])
    tampered.sections[0].sealed.ciphertext = report.flip_byte(tampered.sections[0].sealed.ciphertext, 0)
    copies = [report.serialize(tampered), reports[1], reports[2]]
    now = int(time.time() * 1000)
    stamps = [receipt.make_acceptance_receipts("tearline-broker", broker_keys.signing_secret, 1, now,
                                               [report.report_digest(copies[0])])[0],
              receipt.make_acceptance_receipts("tearline-broker", forge.keys("fgr-liaison").signing_secret, 2,
                                               now, [report.report_digest(copies[1])])[0],
              receipt.make_acceptance_receipts("tearline-broker", broker_keys.signing_secret, 3, now,
                                               [report.report_digest(copies[2])])[0]]
    acks: list[wire_pb2.Ack] = []

    def serve() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (acks and acks[-1].broker_seq == 3):
            if not fake.poll(50):
                continue
            peer, data = fake.recv_multipart()
            frame = wire.decode_frame(data)
            if frame.WhichOneof("body") == "hello":
                answer = wire_pb2.Frame()
                answer.welcome.version, answer.welcome.node_id = 1, "fgr-liaison"
                answer.welcome.broker_id, answer.welcome.max_frame_bytes = "tearline-broker", 1 << 20
                fake.send_multipart([peer, wire.encode_frame(answer)])
                for seq, (copy, stamp) in enumerate(zip(copies, stamps), 1):
                    deliver = wire_pb2.Frame()
                    deliver.deliver.broker_seq, deliver.deliver.report, deliver.deliver.receipt = seq, copy, stamp
                    fake.send_multipart([peer, wire.encode_frame(deliver)])
            elif frame.WhichOneof("body") == "ack":
                acks.append(frame.ack)

    server = threading.Thread(target=serve)
    server.start()
    try:
        with forge.connect("fgr-liaison") as liaison:
            for code in (codes.COMMITMENT_MISMATCH, codes.RECEIPT_INVALID):
                with pytest.raises(DeliveryRefused) as caught:
                    liaison.receive(5000)
                assert caught.value.code == code
            got = liaison.receive(5000)
            assert got is not None and got.sections[0].text == "lab 2" and got.broker_seq == 3
            liaison.receive(300)  # lets the ACK go out
    finally:
        server.join()
        fake.close()
    covered = {e.broker_seq for a in acks for e in receipt.parse_delivery(a.receipt).entries}
    assert covered == {1, 2, 3}
