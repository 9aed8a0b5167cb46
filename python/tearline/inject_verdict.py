"""The injection runner's values (tearline.inject): a case's verdict, what it sent, what
crossed to a partner broker, and its result. Plain data and the small helpers that make them."""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Reason, TearlineError
from .scenario import ACCEPTED


class Unreachable(Exception):
    """The broker did not answer within the timeout."""


@dataclass
class Verdict:
    got: str                       # "accepted" or a code name
    reasons: list[Reason] = field(default_factory=list)


def accepted() -> Verdict:
    return Verdict(ACCEPTED)


def failed(error: TearlineError | list[Reason]) -> Verdict:
    """The verdict of an error (its code: ERROR.code for a frame) or of REJECTED's reasons (the first's)."""
    if isinstance(error, TearlineError):
        return Verdict(error.name, list(error.reasons))
    return Verdict(error[0].name if error else "UNKNOWN", list(error))


def rejected(outcome) -> Verdict:
    """A PublishOutcome that was not accepted: its code (Rejected.code, or RECEIPT_INVALID for an
    ACCEPTED whose receipt does not verify) and every reason."""
    return Verdict(outcome.name, list(outcome.reasons))


def problem(code: str, message: str) -> Verdict:
    return failed([Reason.of(code, message)])


@dataclass
class Crossed:
    """A copy read on a link as a partner broker."""
    report_id: str           # hex
    present: list[int]       # 1-based: the sections that crossed sealed
    broken: str = ""         # why it does not verify; "" when it does


@dataclass
class Sent:
    name: str
    report_id: bytes
    data: bytes
    texts: list[bytes]


@dataclass
class CaseResult:
    name: str
    report_id: str
    expected: str
    got: str
    reasons: list[Reason]
    delivery_problems: list[str]

    @property
    def passed(self) -> bool:
        return self.got == self.expected and not self.delivery_problems


def numbers(items) -> str:
    return "[" + ", ".join(str(i) for i in items) + "]"
