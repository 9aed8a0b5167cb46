"""Receiving and acknowledging (docs/protocol.md 6.8, 6.13, 6.14): a mixin of
tearline.session.Session, whose connection state it uses. Each DELIVER is checked as the
Session's contract says (receipt, crossing path, report at the earliest acceptance, opening),
duplicates are dropped, and copies are acknowledged with signed delivery receipts, one ACK per
stream."""
from __future__ import annotations

import time
from dataclasses import dataclass

from tearline import codes, receipt, report, wire
from tearline.errors import TearlineError, reasons_from_wire
from tearline.session_values import DeliveredSection, Delivery, DeliveryRefused, Gap

PING_AFTER_WAIT_MS = 1000       # the reference client's receive() cadence (protocol 6.9)
ACK_BATCH = 64                  # copies per ACK at most before one is sent (protocol 6.8)
SEEN_REPORT_IDS = 65536         # report ids remembered for dropping duplicates (6.8)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _mono_ms() -> float:
    return time.monotonic() * 1000.0


@dataclass
class _AckEntry:
    broker_seq: int
    copy: bytes


class Receiving:
    def receive(self, timeout_ms: int | None = None) -> Delivery | None:
        """The next verified delivery, or None after ``timeout_ms`` (see the module's contract)."""
        deadline = self._deadline(timeout_ms)
        last_error: TearlineError | None = None
        while True:
            self._pump(0)
            if not self._ready:
                try:
                    self.reconnect(max(1, int(deadline - _mono_ms())))
                    last_error = None
                except TearlineError as error:
                    if error.code == codes.HANDSHAKE_REFUSED:
                        raise
                    last_error = error
                    self._sleep_pumping(min(1000.0, deadline - _mono_ms()))
                    if _mono_ms() >= deadline:
                        raise last_error
                    continue
            item = self._take_first(lambda f: f.WhichOneof("body") in ("deliver", "gap"))
            if item is not None:
                if item.frame.WhichOneof("body") == "gap":
                    g = item.frame.gap
                    self.gaps.append(Gap(g.broker_seq, g.writer, reasons_from_wire(g.reasons)))
                    continue
                delivery = self._take_delivery(item)
                if delivery is not None:
                    return delivery
                continue
            self._prune()
            remaining = deadline - _mono_ms()
            if remaining <= 0:
                self._flush_acks()
                if last_error is not None:
                    raise last_error
                return None
            step = max(1.0, min(remaining, PING_AFTER_WAIT_MS - self._waited_ms))
            start = _mono_ms()
            got = self._pump(step)
            if got == 0:
                self._waited_ms += _mono_ms() - start
                if self._waited_ms >= PING_AFTER_WAIT_MS:
                    self._waited_ms = 0.0
                    if self._ready:
                        try:
                            self._send_ping()
                        except TearlineError:
                            self._lost("PING could not be sent")

    def ack(self, delivery: Delivery) -> None:
        """ACK every copy of the delivery's stream taken up to and including it (6.8)."""
        if delivery.epoch != self._epoch:
            raise TearlineError(codes.RECEIPT_INVALID,
                                f"seq {delivery.broker_seq} came on an earlier session: it is delivered again")
        self._flush_acks(delivery.writer, upto=delivery.broker_seq)

    def _take_delivery(self, item) -> Delivery | None:
        d = item.frame.deliver
        copy, writer = bytes(d.report), self._stream(d.writer)
        report_id = receipt.copy_report_id(copy)
        current = item.epoch == self._epoch
        if current:
            pending = self._pending_acks.setdefault(writer, [])
            if pending and d.broker_seq <= pending[-1].broker_seq:
                # Seqs rise strictly on one session (6.8): a broker that breaks that is told nothing
                # it did not deliver in order; the copy is still judged below.
                self.faults.append(TearlineError(codes.PROTOCOL_VIOLATION, f"DELIVER seq {d.broker_seq} after "
                                                                           f"{pending[-1].broker_seq}"))
                current = False
            else:
                pending.append(_AckEntry(d.broker_seq, copy))
        try:
            if report_id and report_id in self._seen:
                return None
            welcome = self.welcome
            stream_broker = writer or (welcome.broker_id if welcome else "")
            try:
                info = receipt.verify_acceptance_receipt(bytes(d.receipt), copy, d.broker_seq, stream_broker,
                                                         self.directory, root_cache=self._receipt_roots)
                earliest = self._earliest_acceptance(bytes(d.path), copy, info)
                verified = report.verify_report(copy, self.directory, accepted_ms=earliest,
                                                root_cache=self._report_roots)
                opened = report.open_sections(verified, self.node_id, self.keys, self._unwraps)
            except TearlineError as error:
                raise DeliveryRefused(error, d.broker_seq, writer, copy) from None
            self._remember(report_id)
            return Delivery(
                broker_seq=d.broker_seq, writer=writer, report_id=report_id.hex(),
                originator=verified.header.originator, topic=verified.header.topic,
                created_at_ms=verified.header.created_at_ms, sequence=verified.header.sequence,
                sections=[DeliveredSection(o.index, o.status, o.label, o.plaintext) for o in opened],
                report=copy, receipt=bytes(d.receipt), path=bytes(d.path),
                accepted_ms=earliest, verified=verified, epoch=item.epoch)
        finally:
            if current and self.auto_ack:
                waiting = sum(1 for i in self._inbox if i.epoch == self._epoch
                              and i.frame.WhichOneof("body") == "deliver"
                              and self._stream(i.frame.deliver.writer) == writer)
                if not waiting or len(self._pending_acks.get(writer, ())) >= ACK_BATCH:
                    try:  # never in place of the delivery or its refusal: the next flush tries again
                        self._flush_acks(writer)
                    except TearlineError as error:
                        self.faults.append(error)

    def _earliest_acceptance(self, path: bytes, copy: bytes, delivered: receipt.AcceptanceInfo) -> int:
        """The earliest acceptance of the crossing path (6.8) and the DELIVER's receipt."""
        if not path:
            return int(delivered.accepted_ms)
        header, _ = receipt.copy_header(copy)
        infos = receipt.verify_crossing_path(path, report.report_digest(copy), self.directory, node_id=self.node_id,
                                             originator=header.originator if header is not None else "",
                                             delivered=delivered, root_cache=self._receipt_roots)
        return int(receipt.witness_ms(infos, delivered))

    def _stream(self, writer: str) -> str:
        """The stream a DELIVER's writer names: "" for this broker's own (6.14)."""
        return "" if self.welcome is not None and writer == self.welcome.broker_id else writer

    def _remember(self, report_id: bytes) -> None:
        if not report_id:
            return
        self._seen[report_id] = None
        while len(self._seen) > SEEN_REPORT_IDS:
            self._seen.pop(next(iter(self._seen)))

    def _flush_acks(self, writer: str | None = None, upto: int | None = None) -> None:
        """Signs and sends one ACK per stream for the pending copies (6.8)."""
        if not self._ready or self.welcome is None:
            return
        for stream in ([writer] if writer is not None else list(self._pending_acks)):
            pending = self._pending_acks.get(stream, [])
            entries = [e for e in pending if upto is None or e.broker_seq <= upto]
            while entries:
                batch, entries = entries[:1024], entries[1024:]
                done = {e.broker_seq for e in batch}
                try:
                    receipt_bytes = receipt.make_delivery_receipt(
                        self.node_id, self.keys, self.welcome.broker_id,
                        [receipt.describe_copy(e.broker_seq, e.copy) for e in batch], _now_ms(), writer=stream)
                except TearlineError as error:  # copies no receipt can describe: never acknowledged
                    self.faults.append(error)
                    pending[:] = [e for e in pending if e.broker_seq not in done]
                    continue
                self.send_frame(wire.ack(batch[-1].broker_seq, receipt_bytes, stream))
                pending[:] = [e for e in pending if e.broker_seq not in done]

