"""The values a Session returns (tearline.session): WELCOME's fields, a PUBLISH's outcome, a
delivery and its sections, a GAP, the node's subscriptions, and DeliveryRefused, raised for a
copy that does not verify. Plain data: nothing here talks to a broker."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tearline import codes
from tearline.errors import Reason, TearlineError


@dataclass(frozen=True)
class Welcome:
    version: int
    node_id: str
    broker_time_ms: int
    max_frame_bytes: int
    max_subscriptions: int
    broker_id: str
    directory_digest: bytes
    clock_offset_ms: int        # broker_time_ms - local clock when WELCOME arrived


@dataclass
class PublishOutcome:
    accepted: bool
    report_id: str              # hex
    broker_seq: int = 0
    receipt: bytes = b""
    code: int = codes.OK
    reasons: list[Reason] = field(default_factory=list)
    accepted_ms: int = 0
    broker_id: str = ""
    request_id: int = 0
    report: bytes = b""         # the bytes sent

    @property
    def name(self) -> str:
        return codes.name_of(self.code)

    @property
    def retry_later(self) -> bool:
        """Rejected for a condition of the broker, not a fault of the report (RATE_LIMITED,
        BROKER_BUSY, STORAGE_*): the same bytes may be sent again after a backoff (6.6)."""
        return not self.accepted and self.code in codes.RETRY_LATER


@dataclass
class DeliveredSection:
    index: int
    status: str                 # "opened" | "withheld" | "not_addressed" | "open_failed"
    label: Any = None           # the section's tearline.policy.Label when present (not withheld)
    plaintext: bytes | None = None  # the opened content

    @property
    def text(self) -> str | None:
        return None if self.plaintext is None else self.plaintext.decode("utf-8", "replace")


@dataclass
class Delivery:
    broker_seq: int
    writer: str                 # the stream: empty for the broker's own (6.14)
    report_id: str              # hex
    originator: str
    topic: str
    created_at_ms: int
    sequence: int
    sections: list[DeliveredSection]
    report: bytes               # the DELIVER's report bytes exactly as received
    receipt: bytes
    path: bytes
    accepted_ms: int            # the earliest acceptance (receipt and path)
    verified: Any = None        # tearline.report's VerifiedReport
    epoch: int = 0              # the session (WELCOME count) it arrived on

    def opened(self) -> list[DeliveredSection]:
        return [s for s in self.sections if s.status == "opened"]


@dataclass(frozen=True)
class Gap:
    broker_seq: int
    writer: str
    reasons: list[Reason]

    @property
    def code(self) -> int:
        return self.reasons[0].code if self.reasons else codes.STORAGE_DAMAGED


@dataclass
class Subscriptions:
    durable: list[str]
    session: list[str]
    acked_seq: int
    streams: dict[str, int]


class DeliveryRefused(TearlineError):
    """A DELIVER that did not verify: acknowledged, never returned as a delivery."""

    def __init__(self, error: TearlineError, broker_seq: int, writer: str, report: bytes):
        super().__init__(error.code, f"seq {broker_seq}{' of ' + writer if writer else ''}: {error.message}",
                         error.reasons)
        self.broker_seq, self.writer, self.report = broker_seq, writer, report
