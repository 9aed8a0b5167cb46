"""The stable codes of the tearline protocol (docs/protocol.md, section 9).

Contract: ``CODES`` is the registry of section 9, number -> (name, meaning),
written from the document; numbers never change meaning and new ones are only
appended. ``name_of``/``number_of`` map between number and machine name and
raise ``KeyError`` for a code this table does not have; ``is_known`` asks
without raising. Section 6.4: a client that receives a number it does not know
MUST treat it as a failure; ``tearline.errors.Reason.from_wire`` does that
(PROTOCOL_VIOLATION, keeping the number and name in the message, as the
reference client does).

Every name is also a module constant (``codes.MALFORMED_FRAME == 101``).
"""
from __future__ import annotations

from typing import Final

#: (number, name, meaning), in the order of docs/protocol.md section 9.
TABLE: Final[tuple[tuple[int, str, str], ...]] = (
    (0, "OK", "no error"),
    (100, "PROTOCOL_VIOLATION", "frame not allowed in the session's current state"),
    (101, "MALFORMED_FRAME", "frame bytes do not parse as a tearline frame"),
    (102, "FRAME_TOO_LARGE", "frame exceeds the broker's size limit"),
    (103, "UNSUPPORTED_VERSION", "protocol name or version not supported"),
    (104, "UNEXPECTED_FRAME", "frame type not valid in this direction"),
    (105, "TOO_MANY_FAILURES", "too many rejected requests; session closed"),
    (106, "SESSION_REVOKED", "the node's credential is no longer valid; session closed"),
    (107, "NOT_AUTHORIZED", "the node lacks the role this request needs"),
    (108, "RATE_LIMITED", "the node exceeded its publish rate"),
    (109, "SLOW_CONSUMER", "the subscriber fell too far behind; session closed"),
    (110, "UNAVAILABLE", "the broker did not answer in time (client side)"),
    (111, "HANDSHAKE_REFUSED", "the broker refused the node's transport key at the handshake"),
    (112, "SESSION_REPLACED", "a newer session of the same node replaced this one"),
    (200, "BAD_ENCODING", "object bytes are not canonical (duplicate, unknown or reordered field)"),
    (201, "BAD_SIGNATURE", "signature does not verify"),
    (202, "UNKNOWN_AUTHORITY", "signer is not a pinned authority"),
    (203, "WRONG_AUTHORITY", "signed by an authority other than the required one"),
    (204, "NOT_YET_VALID", "validity window has not started"),
    (205, "EXPIRED", "validity window has ended"),
    (206, "REVOKED", "revoked by its agency's revocation list"),
    (207, "MISSING_CONSENT", "charter lacks a required agency signature"),
    (208, "REVOCATION_ROLLBACK", "revocation list number is lower than the one held"),
    (209, "INVALID_FIELD", "a field is missing or out of range"),
    (210, "DUPLICATE_OBJECT", "object conflicts with another of the same identity"),
    (211, "EMPTY_TRUST_STORE", "trust store has no authority"),
    (212, "UNKNOWN_NODE", "node id is not in the directory"),
    (213, "KEY_FILE", "key file missing, malformed or readable by others"),
    (214, "IO_ERROR", "file could not be read or written"),
    (215, "RECEIPT_INVALID", "receipt is missing, malformed or does not verify"),
    (216, "WEAK_KEY", "a public key is a small-order or otherwise unusable point"),
    (217, "PEERING_WIDENED", "a peering version signed by one side alone widens the one in effect"),
    (218, "NO_PEERING", "no version of the peering agreement is in effect"),
    (219, "FOREIGN_NODE", "the node belongs to a partner agency and connects to its own broker"),
    (300, "REPORT_MALFORMED", "report bytes are malformed"),
    (301, "REPORT_VERSION", "report format version not supported"),
    (302, "REPORT_SIGNATURE", "report signature does not verify"),
    (303, "COMMITMENT_MISMATCH", "a section does not match its commitment"),
    (304, "TOO_MANY_SECTIONS", "report has no section or more than the limit"),
    (305, "TOO_MANY_RECIPIENTS", "section is sealed to more recipients than the limit"),
    (306, "LABEL_INVALID", "section label is invalid"),
    (307, "ORIGINATOR_INVALID", "originator credential is unknown, expired or revoked"),
    (308, "NOT_ADDRESSED", "section is not sealed to this node"),
    (309, "OPEN_FAILED", "section could not be decrypted"),
    (310, "SECTION_TOO_LARGE", "section content exceeds the size limit"),
    (311, "ORIGINATOR_COMPROMISED", "originator's key was compromised before the report was accepted"),
    (400, "CLEARANCE_BELOW", "clearance below the classification"),
    (401, "COUNTRY_NOT_RELEASABLE", "country not in releasable-to"),
    (402, "NOT_UNIT_MEMBER", "not a member of any unit the label names"),
    (403, "TOPIC_READ_DENIED", "no read permission on the topic"),
    (404, "TOPIC_WRITE_DENIED", "no write permission on the topic"),
    (405, "TOPIC_INVALID", "topic or pattern is malformed"),
    (406, "ORIGINATOR_COUNTRY_MISSING", "releasable-to does not include the originator's country"),
    (407, "UNIT_NOT_HELD", "label names a unit the originator is not a member of"),
    (408, "DERIVED_LABEL_LOOSER", "derived section is less restrictive than its source"),
    (409, "ORCON_VIOLATION", "ORCON source re-disseminated by another agency"),
    (410, "PEERING_TOPIC", "topic not among those the peering lets cross"),
    (411, "ABOVE_PEERING_CEILING", "section classified above the peering's ceiling"),
    (412, "CROSSING_LOOP", "report came back over a peering to the agency it left"),
    (413, "TORN_UPSTREAM", "section was torn off before the report reached this broker"),
    (414, "HOP_LIMIT", "report would pass through more brokers than the hop limit"),
    (500, "UNKNOWN_SOURCE", "cited source report is unknown to the broker"),
    (501, "ORIGINATOR_MISMATCH", "report originator is not the authenticated node"),
    (502, "REPLAYED_REPORT", "report id seen before"),
    (503, "SEQUENCE_REGRESSION", "sequence number did not increase"),
    (504, "STALE_REPORT", "created-at is too far in the past"),
    (505, "FUTURE_REPORT", "created-at is too far in the future"),
    (506, "TOO_MANY_SUBSCRIPTIONS", "subscription limit reached"),
    (507, "BROKER_BUSY", "broker cannot take more work now"),
    (600, "STORAGE_FAILED", "report could not be stored durably"),
    (601, "STORAGE_FULL", "storage is full"),
    (602, "STORAGE_HALTED", "broker stopped accepting after a failed sync or damage to its store"),
    (603, "STORAGE_DAMAGED", "a stored record failed its re-check and was not delivered"),
    (604, "STORAGE_TRUNCATED", "the store ends before an audit checkpoint the broker had signed"),
)

CODES: Final[dict[int, tuple[str, str]]] = {number: (name, meaning) for number, name, meaning in TABLE}
_BY_NAME: Final[dict[str, int]] = {name: number for number, name, _ in TABLE}

globals().update(_BY_NAME)

# Codes after which the broker has CLOSED the session (protocol 6.3 closes_session(),
# and 6.12 for SESSION_REPLACED).
SESSION_CLOSING: Final[frozenset[int]] = frozenset({105, 106, 109, 112})

# The codes of the ERROR that answers a HELLO instead of WELCOME (protocol 4, 6.2).
HELLO_REFUSALS: Final[frozenset[int]] = frozenset({103, 105, 106, 507})

# REJECTED codes that are conditions of the broker, not faults of the client
# (protocol 5, "Failure counter"): retry later with some backoff.
RETRY_LATER: Final[frozenset[int]] = frozenset({108, 507, 600, 601, 602})


def is_known(code: int) -> bool:
    """True when ``code`` is a number of section 9."""
    return code in CODES


def name_of(code: int) -> str:
    """The machine name of a known code number (KeyError otherwise)."""
    return CODES[code][0]


def meaning_of(code: int) -> str:
    """The one-line meaning of a known code number (KeyError otherwise)."""
    return CODES[code][1]


def number_of(name: str) -> int:
    """The number of a known machine name (KeyError otherwise)."""
    return _BY_NAME[name]

#: name -> number, for every code of the table.
BY_NAME: Final[dict[str, int]] = dict(_BY_NAME)
