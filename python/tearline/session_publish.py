"""Publishing (docs/protocol.md 6.6, 6.7; docs/report-format.md 14.5, 14.6): a mixin of
tearline.session.Session. Drafts are built here (one report, or a batch of up to 64 under one
signature), through the session's content-key epochs; each ACCEPTED's acceptance receipt is
verified before the outcome says accepted."""
from __future__ import annotations

from typing import Any, Sequence

from tearline import codes, receipt, report, wire
from tearline.errors import Reason, TearlineError, reasons_from_wire
from tearline.session_values import PublishOutcome
from tearline.v1 import wire_pb2

Frame = wire_pb2.Frame


class Publishing:
    def publish(self, draft_or_bytes: Any, timeout_ms: int | None = None) -> PublishOutcome:
        """PUBLISH one report (bytes, or a ``tearline.report.Draft`` built and signed here)."""
        report_bytes = self._report_bytes(draft_or_bytes)
        deadline = self._deadline(timeout_ms)
        self._check_size(wire.publish(1, report_bytes))
        holder: dict[str, int] = {}

        def build(rid: int) -> Frame:
            holder["rid"] = rid
            return wire.publish(rid, report_bytes)
        frame = self._call(build, deadline, "PUBLISH", expect=None)
        return self._outcome(frame, report_bytes, holder["rid"])

    def publish_many(self, drafts: Sequence[Any], timeout_ms: int | None = None,
                     window: int = 16) -> list[PublishOutcome]:
        """Signs the drafts as one format-2 batch (report-format 14.5) and publishes them, pipelined.

        Items may also be report bytes (sent as they are). At most ``window``
        PUBLISHes wait for their answer at once (the broker verifies at most
        max_inflight_per_node, 32, of a node at once: protocol 6.6)."""
        reports = self._batch_bytes(drafts)
        for r in reports:
            self._check_size(wire.publish(1, r))
        deadline = self._deadline(timeout_ms)
        outcomes: list[PublishOutcome | None] = [None] * len(reports)
        while True:
            self._ensure_ready(deadline)
            by_rid: dict[int, int] = {}
            todo = [i for i, o in enumerate(outcomes) if o is None]
            if not todo:
                return [o for o in outcomes if o is not None]
            epoch = self._epoch
            while (todo or by_rid) and self._ready and self._epoch == epoch:
                while todo and len(by_rid) < window:
                    i = todo.pop(0)
                    rid = self._take_request_id()
                    by_rid[rid] = i
                    self._send_bytes(wire.encode_frame(wire.publish(rid, reports[i])), deadline)
                frame = self._wait(lambda f: wire.request_id_of(f) in by_rid, deadline, what="an answer to PUBLISH",
                                   until_lost=True)
                if frame is None:
                    break
                rid = wire.request_id_of(frame)
                i = by_rid.pop(rid)
                self._outstanding.discard(rid)
                if frame.WhichOneof("body") == "error" and frame.error.code == codes.PROTOCOL_VIOLATION:
                    self._lost("ERROR PROTOCOL_VIOLATION answering PUBLISH")
                    break
                outcomes[i] = self._outcome(frame, reports[i], rid)
            for rid in by_rid:
                self._outstanding.discard(rid)
            if self.closed_by is not None and not self._ready:
                raise self.closed_by

    # -- internals ------------------------------------------------------------

    def _report_bytes(self, item: Any) -> bytes:
        if isinstance(item, (bytes, bytearray, memoryview)):
            return bytes(item)
        return report.build_report(item, self.node_id, self.keys, self.directory, epochs=self.key_epochs).data

    def _batch_bytes(self, items: Sequence[Any]) -> list[bytes]:
        if all(isinstance(i, (bytes, bytearray, memoryview)) for i in items):
            return [bytes(i) for i in items]
        builder = report.BatchBuilder(self.node_id, self.keys, self.directory, epochs=self.key_epochs)
        for item in items:
            builder.add(item)
        return builder.build_bytes()

    def _outcome(self, frame: Frame, report_bytes: bytes, rid: int) -> PublishOutcome:
        body = frame.WhichOneof("body")
        report_id = receipt.copy_report_id(report_bytes)
        if body == "rejected":
            reasons = reasons_from_wire(frame.rejected.reasons)
            code = Reason.received(frame.rejected.code, "", "").code
            return PublishOutcome(False, report_id.hex(), code=code, reasons=reasons, request_id=rid,
                                  report=report_bytes)
        if body == "error":
            raise TearlineError.from_wire(frame.error.code, frame.error.reasons, "PUBLISH")
        a = frame.accepted
        broker_id = self.welcome.broker_id if self.welcome else ""
        outcome = PublishOutcome(True, report_id.hex(), a.broker_seq, bytes(a.receipt), request_id=rid,
                                 broker_id=broker_id, report=report_bytes)
        try:
            if bytes(a.report_id) != report_id:
                raise TearlineError(codes.RECEIPT_INVALID,
                                    f"ACCEPTED names report {bytes(a.report_id).hex()}, not {report_id.hex()}")
            info = receipt.verify_acceptance_receipt(bytes(a.receipt), report_bytes, a.broker_seq, broker_id,
                                                     self.directory, root_cache=self._receipt_roots)
            outcome.accepted_ms = int(info.accepted_ms)
        except TearlineError as error:
            outcome.accepted, outcome.code = False, codes.RECEIPT_INVALID
            outcome.reasons = [Reason(codes.RECEIPT_INVALID, "RECEIPT_INVALID", error.message)] + [
                r for r in error.reasons if r.code != codes.RECEIPT_INVALID]
        return outcome

