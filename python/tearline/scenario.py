"""Injection scenarios (docs/injection.md, "Scenario format"): parsing only.

load_scenario(path) reads a scenario TOML file into a Scenario of Cases, or
raises ScenarioError naming the file, the case and every problem found (the
CLI's exit 2). Unknown keys are errors at every level. Nothing here talks
to a broker: tearline.inject runs what this returns.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import codes

ACCEPTED = "accepted"

# fault name -> (how it is sent, the v1 broker's verdict): docs/injection.md, "Faults".
REPORT, REPLAY, RAW_FRAME, CONNECTION, ACK, PARTNER, FROM_PARTNER = (
    "report", "replay", "raw_frame", "connection", "ack", "partner", "from_partner")
FAULTS: dict[str, str] = {
    "bad_signature": REPORT, "signed_by_other_node": REPORT, "originator_not_sender": REPORT,
    "replayed_id": REPLAY, "stale_time": REPORT, "future_time": REPORT, "sequence_back": REPORT,
    "classification_above_clearance": REPORT, "releasable_escalation": REPORT, "unit_not_member": REPORT,
    "orcon_redissemination": REPORT, "looser_derived_label": REPORT, "topic_denied": REPORT,
    "oversize_frame": REPORT, "truncated_bytes": REPORT, "garbage_frame": RAW_FRAME,
    "duplicate_header_field": REPORT, "unknown_fields": REPORT, "unknown_report_field": REPORT,
    "batch_wrong_leaf_index": REPORT, "batch_swapped_siblings": REPORT, "batch_path_truncated": REPORT,
    "batch_foreign_leaf": REPORT, "revoked_node": CONNECTION, "unknown_transport_key": CONNECTION,
    "forged_ack_receipt": ACK, "ack_receipt_other_broker": ACK, "ack_signed_by_other_node": ACK,
    "partner_subscribe": PARTNER, "one_sided_peering": PARTNER, "revoked_peering": PARTNER,
    "partner_copy": FROM_PARTNER, "forged_hop_stamp": FROM_PARTNER, "replayed_hop_stamp": FROM_PARTNER,
    "looped_copy": FROM_PARTNER, "link_cut": FROM_PARTNER,
}
_OTHER_FAULTS = ("signed_by_other_node", "originator_not_sender", "ack_signed_by_other_node")
_CLASSIFICATIONS = ("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP_SECRET")


def sends_report(kind: str) -> bool:
    return kind in (REPORT, ACK, FROM_PARTNER)


@dataclass
class SectionSpec:
    classification: str
    rel: list[str]
    units: list[str]
    orcon: bool
    text: str


@dataclass
class Case:
    name: str
    sender: str                      # `as`
    expect: str                      # "accepted" or a code name
    fault: str = ""                  # "" = a valid message
    topic: str = ""
    sections: list[SectionSpec] = field(default_factory=list)
    other: str = ""
    originator: str = ""
    derive_from: int | None = None   # index of an earlier case
    derive_sections: list[int] = field(default_factory=list)  # 0-based
    replay_of: int | None = None
    deliver: dict[str, list[int]] = field(default_factory=dict)  # node -> 1-based sections opened
    cross: dict[str, list[int]] = field(default_factory=dict)    # partner broker -> sections that cross

    @property
    def kind(self) -> str:
        return FAULTS.get(self.fault, REPORT)


@dataclass
class Scenario:
    source: str
    cases: list[Case]
    sentinel_from: str = "diran-bogota-hq"
    sentinel_topic: str = "intel.sentinel"
    admin: str = ""


class ScenarioError(Exception):
    """A bad scenario file: str(error) is one line per problem, each naming the file."""


class _Problems:
    def __init__(self, source: str) -> None:
        self.source, self.lines = source, []

    def add(self, text: str) -> None:
        self.lines.append(f"{self.source}: {text}")

    def unknown_keys(self, table: dict, known: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in known:
                self.add(f"{where}unknown key '{key}'")

    def string(self, table: dict, key: str, where: str) -> str | None:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            self.add(f"{where}{key} must be a string")
            return None
        return value

    def strings(self, table: dict, key: str, where: str) -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(f"{where}{key} must be a list of strings")
            return []
        return value

    def numbers(self, value, where: str) -> list[int] | None:
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                                                  for v in value):
            self.add(f"{where} must be a list of section numbers (from 1)")
            return None
        return value


def _sections(raw, where: str, problems: _Problems) -> list[SectionSpec]:
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        problems.add(f"{where}[[case.section]] must be one or more tables")
        return []
    out = []
    for number, t in enumerate(raw, 1):
        at = f"{where}section {number}: "
        problems.unknown_keys(t, ("classification", "rel", "unit", "releasable_to", "units", "orcon", "text"), at)
        for now, old in (("rel", "releasable_to"), ("unit", "units")):
            if now in t and old in t:
                problems.add(f"{at}give '{now}' or its older name '{old}', not both")
        classification = problems.string(t, "classification", at)
        text = problems.string(t, "text", at)
        orcon = t.get("orcon", False)
        if not isinstance(orcon, bool):
            problems.add(f"{at}orcon must be true or false")
        if classification is None:
            problems.add(f"{at}classification is required")
        elif classification not in _CLASSIFICATIONS:
            problems.add(f"{at}classification '{classification}' is not one of {', '.join(_CLASSIFICATIONS)}")
        if text is None:
            problems.add(f"{at}text is required")
        rel = problems.strings(t, "releasable_to" if "releasable_to" in t else "rel", at)
        units = problems.strings(t, "units" if "units" in t else "unit", at)
        if classification and text is not None:
            out.append(SectionSpec(classification, rel, units, bool(orcon), text))
    return out


def parse_scenario(text: str, source: str) -> Scenario:
    """The scenario in `text`; ScenarioError with every problem when it is bad."""
    problems = _Problems(source)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{source}: not TOML: {e}") from None
    problems.unknown_keys(doc, ("sentinel_from", "sentinel_topic", "admin", "case"), "")
    scenario = Scenario(source, [])
    for key in ("sentinel_from", "sentinel_topic", "admin"):
        value = problems.string(doc, key, "")
        if value:
            setattr(scenario, key, value)
    raw_cases = doc.get("case", [])
    if not isinstance(raw_cases, list) or not raw_cases:
        problems.add("no [[case]]: a scenario needs at least one")
        raw_cases = []
    index_of: dict[str, int] = {}
    for number, t in enumerate(raw_cases, 1):
        where = f"[[case]] {number}: "
        if not isinstance(t, dict):
            problems.add(f"{where}must be a table")
            continue
        problems.unknown_keys(t, ("name", "as", "fault", "expect", "other", "originator", "topic", "section",
                                  "derive_from", "derive_sections", "replay_of", "deliver", "cross"), where)
        name = problems.string(t, "name", where) or ""
        if not name:
            problems.add(f"{where}name is required")
        else:
            where = f"case '{name}': "
            if name in index_of:
                problems.add(f"{where}another case has the same name")
        sender = problems.string(t, "as", where) or ""
        if not sender:
            problems.add(f"{where}as (the sending node) is required")
        fault = problems.string(t, "fault", where) or ""
        if fault and fault not in FAULTS:
            problems.add(f"{where}unknown fault '{fault}' (known: {', '.join(FAULTS)})")
            fault = ""
        expect = problems.string(t, "expect", where)
        if expect is None:
            problems.add(f'{where}expect is required ("accepted" or a code name)')
            expect = ""
        elif expect != ACCEPTED and expect not in codes.BY_NAME:
            problems.add(f"{where}expect '{expect}' is neither \"accepted\" nor a code name such as REPORT_SIGNATURE")
        case = Case(name, sender, expect, fault)
        kind = case.kind
        case.other = problems.string(t, "other", where) or ""
        if "other" in t and fault not in _OTHER_FAULTS:
            problems.add(f"{where}other applies only to {', '.join(_OTHER_FAULTS)}")
        case.originator = problems.string(t, "originator", where) or ""
        if "originator" in t and kind != FROM_PARTNER:
            problems.add(f"{where}originator applies only to copies from a partner broker")
        if kind == FROM_PARTNER and not case.originator:
            problems.add(f"{where}originator (the node whose report the partner broker sends) is required")
        if sends_report(kind):
            case.topic = problems.string(t, "topic", where) or ""
            if "topic" not in t:
                problems.add(f"{where}topic is required")
            if "section" not in t:
                problems.add(f"{where}at least one [[case.section]] is required")
            else:
                case.sections = _sections(t["section"], where, problems)
        elif fault in ("partner_subscribe", "one_sided_peering"):
            case.topic = problems.string(t, "topic", where) or ""
            if "topic" not in t:
                problems.add(f"{where}topic (the pattern to subscribe to) is required")
            if "section" in t:
                problems.add(f"{where}a {fault} case sends no report: drop sections")
        elif "topic" in t or "section" in t:
            problems.add(f"{where}a {fault} case sends no report of its own: drop topic and sections")

        def earlier(key: str) -> int | None:
            ref = t[key]
            if not isinstance(ref, str) or ref not in index_of:
                problems.add(f"{where}{key} '{ref}' is not an earlier case")
                return None
            if not sends_report(scenario.cases[index_of[ref]].kind):
                problems.add(f"{where}{key} '{ref}' sends no report of its own")
                return None
            return index_of[ref]

        if "derive_from" in t:
            if kind != REPORT:
                problems.add(f"{where}derive_from needs a report of the case's own")
            else:
                case.derive_from = earlier("derive_from")
        if "derive_sections" in t:
            if "derive_from" not in t:
                problems.add(f"{where}derive_sections needs derive_from")
            numbers = problems.numbers(t["derive_sections"], f"{where}derive_sections")
            if numbers and case.derive_from is not None:
                have = len(scenario.cases[case.derive_from].sections)
                for n in numbers:
                    if n > have:
                        problems.add(f"{where}derive_sections: that case has no section {n}")
                case.derive_sections = [n - 1 for n in numbers]
        if fault in ("orcon_redissemination", "looser_derived_label") and "derive_from" not in t:
            problems.add(f'{where}{fault} needs derive_from = "<an earlier case>"')
        if "replay_of" in t:
            if fault not in ("replayed_id", "replayed_hop_stamp"):
                problems.add(f"{where}replay_of applies only to replayed_id and replayed_hop_stamp")
            else:
                case.replay_of = earlier("replay_of")
                if (case.replay_of is not None and fault == "replayed_hop_stamp"
                        and scenario.cases[case.replay_of].kind != FROM_PARTNER):
                    problems.add(f"{where}replay_of: case '{t['replay_of']}' is not a copy from a partner broker, "
                                 "so it has no hop stamp of one")
                    case.replay_of = None
        elif fault in ("replayed_id", "replayed_hop_stamp"):
            wanted = FROM_PARTNER if fault == "replayed_hop_stamp" else None
            for i in range(len(scenario.cases) - 1, -1, -1):
                k = scenario.cases[i].kind
                if (wanted and k == wanted) or (not wanted and sends_report(k)):
                    case.replay_of = i
                    break
            if case.replay_of is None:
                problems.add(f"{where}{fault} needs an earlier case to replay")
        sections_sent = len(case.sections)
        if fault == "replayed_id" and case.replay_of is not None:
            sections_sent = len(scenario.cases[case.replay_of].sections)
        for key in ("deliver", "cross"):
            table = t.get(key, {})
            if not isinstance(table, dict):
                problems.add(f"{where}[case.{key}] must be a table of name = [section numbers]")
                continue
            for who, value in table.items():
                numbers = problems.numbers(value, f"{where}{key}.{who}")
                if numbers is None:
                    continue
                if any(n > sections_sent for n in numbers):
                    problems.add(f"{where}{key}.{who}: the case sends {sections_sent} section(s)")
                getattr(case, key)[who] = sorted(set(numbers))
        if name and name not in index_of:
            index_of[name] = len(scenario.cases)
        scenario.cases.append(case)
    if problems.lines:
        raise ScenarioError("\n".join(problems.lines))
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read: {e.strerror}") from None
    return parse_scenario(text, str(path))
