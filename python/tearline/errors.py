"""Errors of the tearline client.

Contract: every failure raises ``TearlineError(code, message, reasons=None)``:
``code`` is a code of docs/protocol.md section 9 given as a number or a machine
name (an unknown one is a ``ValueError``: a bug of the caller, not a protocol
failure); the error carries ``code`` (int), ``name``, ``message`` and
``reasons`` (a list of ``Reason``, never empty: when none are given, one reason
repeating the code and the message).

What arrives from the wire goes through ``Reason.from_wire`` /
``reasons_from_wire`` / ``TearlineError.from_wire``: a code number this client
does not know is a failure (protocol 6.4) and becomes PROTOCOL_VIOLATION, the
received number and name kept in the message, as the reference client does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from tearline import codes


def code_number(code: int | str) -> int:
    """The number of a known code given as number or name (ValueError otherwise)."""
    if isinstance(code, bool):
        raise ValueError(f"not a code: {code!r}")
    if isinstance(code, int):
        if not codes.is_known(code):
            raise ValueError(f"unknown code number {code}")
        return code
    try:
        return codes.number_of(code)
    except KeyError:
        raise ValueError(f"unknown code name {code!r}") from None


def code_name(code: int | str) -> str:
    """The machine name of a known code given as number or name (ValueError otherwise)."""
    return codes.name_of(code_number(code))


@dataclass(frozen=True)
class Reason:
    """One stable code with a human sentence (protocol 6.4); decide on ``code``."""

    code: int
    name: str
    message: str

    @staticmethod
    def of(code: int | str, message: str) -> "Reason":
        number = code_number(code)
        return Reason(number, codes.name_of(number), message)

    @staticmethod
    def from_wire(reason: Any) -> "Reason":
        """A ``tearline.v1.Reason`` (or anything with code/name/message) as received."""
        return Reason.received(int(reason.code), str(reason.name), str(reason.message))

    @staticmethod
    def received(number: int, name: str, message: str) -> "Reason":
        """A reason as received: an unknown number (or 0) becomes PROTOCOL_VIOLATION (protocol 6.4)."""
        if codes.is_known(number) and number != codes.OK:
            return Reason(number, codes.name_of(number), message)
        return Reason(codes.PROTOCOL_VIOLATION, "PROTOCOL_VIOLATION",
                      f"unknown code {number} ({name or 'no name'}) received: {message}")

    def to_wire(self, reason_pb: Any) -> Any:
        """Fill a ``tearline.v1.Reason`` message with this reason; returns it."""
        reason_pb.code, reason_pb.name, reason_pb.message = self.code, self.name, self.message
        return reason_pb

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


def reasons_from_wire(reasons: Iterable[Any]) -> list[Reason]:
    """Every ``tearline.v1.Reason`` of a frame, unknown codes mapped as ``Reason.from_wire``."""
    return [Reason.from_wire(r) for r in reasons]


class TearlineError(Exception):
    """A failure with a protocol code, a message and every reason that applies."""

    def __init__(self, code: int | str, message: str, reasons: list[Reason] | None = None):
        self.code: int = code_number(code)
        self.name: str = codes.name_of(self.code)
        self.message: str = message
        self.reasons: list[Reason] = list(reasons) if reasons else [Reason(self.code, self.name, message)]
        super().__init__(f"{self.name}: {message}")

    @classmethod
    def of(cls, reasons: list[Reason], code: int | str | None = None) -> "TearlineError":
        """The error of every reason that applies: `code` (default: the first reason's), their
        messages joined."""
        return cls(reasons[0].code if code is None else code, "; ".join(r.message for r in reasons), reasons)

    @classmethod
    def from_wire(cls, code: int, reasons: Iterable[Any], context: str = "") -> "TearlineError":
        """The error of an ERROR or REJECTED frame: its code (unknown: PROTOCOL_VIOLATION) and reasons."""
        mapped = reasons_from_wire(reasons)
        number = int(code)
        if not codes.is_known(number) or number == codes.OK:
            first = Reason.received(number, "", "the frame's code")
            return cls(codes.PROTOCOL_VIOLATION, (context + ": " if context else "") + first.message,
                       [first] + mapped)
        text = "; ".join(str(r) for r in mapped) or codes.meaning_of(number)
        return cls(number, (context + ": " if context else "") + text, mapped or None)

    def __repr__(self) -> str:
        return f"TearlineError({self.code}, {self.name!r}, {self.message!r}, reasons={self.reasons!r})"
