"""Labels and the read rules (docs/policy.md; docs/report-format.md 4.1, 4.3).

Contract:
- is_valid_id(s), is_known_country(c), validate_topic(t) -> list[Reason] (TOPIC_INVALID).
- Label(classification, releasable_to, units, orcon): encode() gives the canonical bytes;
  decode_label(bytes) parses canonically (BAD_ENCODING) and validates (LABEL_INVALID, every
  reason); validate_label(label) -> list[Reason]; normalized(label) sorts and de-duplicates.
- effective_releasable_to(label, originator_country).
- label_admits(directory, node_id, label, originator_country, t_ms) -> (bool, reasons):
  rules R1-R4 of policy.md 6, judged at t = t_ms // 1000 (unix seconds).
- eligible_recipients(directory, label, originator_id, t_ms) -> list[Credential]: who a
  builder seals a section to (policy.md 9, report-format 6 step 2): every node the label
  admits, in node-id order, never a credential with role "broker" (trust-model 12).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tearline.encoding import parse_canonical, serialize_canonical
from tearline.errors import Reason, TearlineError
from tearline.v1 import report_pb2

if TYPE_CHECKING:  # pragma: no cover
    from tearline.directory import Credential, Directory

CLASSIFICATIONS = {1: "UNCLASSIFIED", 2: "RESTRICTED", 3: "CONFIDENTIAL", 4: "SECRET", 5: "TOP_SECRET"}
CLASSIFICATION_BY_NAME = {v: k for k, v in CLASSIFICATIONS.items()}

# ISO 3166-1 alpha-3, as Debian's iso-codes lists them (docs/protocol.md 3.2): 249 codes.
_COUNTRIES = frozenset("""
ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD BGR
BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR COD COG
COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH
FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY
HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM
KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL
MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR
NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU
SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA
TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB
VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
""".split())
assert len(_COUNTRIES) == 249

_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SEGMENT_RE = re.compile(r"[a-z0-9_-]{1,32}")


def is_valid_id(s: str) -> bool:
    return isinstance(s, str) and bool(_ID_RE.fullmatch(s)) and not s.startswith(".")


def is_known_country(c: str) -> bool:
    return c in _COUNTRIES


def is_sorted_unique(items) -> bool:
    enc = [x.encode("utf-8") for x in items]
    return all(a < b for a, b in zip(enc, enc[1:]))


def validate_topic(topic: str) -> list[Reason]:
    """report-format 4.1: 1..128 bytes, 1..8 segments of [a-z0-9_-]{1,32}, no wildcard."""
    b = topic.encode("utf-8")
    problems = []
    if not 1 <= len(b) <= 128:
        problems.append("is not 1 to 128 bytes")
    segments = topic.split(".")
    if not 1 <= len(segments) <= 8:
        problems.append("does not have 1 to 8 segments")
    if any(not _SEGMENT_RE.fullmatch(s) for s in segments):
        problems.append("has a segment that is empty, longer than 32 or not of [a-z0-9_-]")
    return [Reason.of("TOPIC_INVALID", f"topic '{topic}' {p}") for p in problems]


def _classification_value(c: int | str) -> int:
    return CLASSIFICATION_BY_NAME[c] if isinstance(c, str) else int(c)


@dataclass(frozen=True)
class Label:
    classification: int
    releasable_to: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    orcon: bool = False

    def __init__(self, classification: int | str, releasable_to=(), units=(), orcon: bool = False):
        object.__setattr__(self, "classification", _classification_value(classification))
        object.__setattr__(self, "releasable_to", tuple(releasable_to))
        object.__setattr__(self, "units", tuple(units))
        object.__setattr__(self, "orcon", bool(orcon))

    def to_proto(self) -> report_pb2.Label:
        return report_pb2.Label(classification=self.classification, releasable_to=list(self.releasable_to),
                                units=list(self.units), orcon=self.orcon)

    def encode(self) -> bytes:
        return serialize_canonical(self.to_proto())

    @staticmethod
    def from_proto(p: report_pb2.Label) -> "Label":
        return Label(p.classification, tuple(p.releasable_to), tuple(p.units), p.orcon)

    def describe(self) -> str:
        rel = ",".join(self.releasable_to) or "(originator)"
        out = f"{CLASSIFICATIONS.get(self.classification, 'UNSET')} REL {rel}"
        if self.units:
            out += " UNITS " + ",".join(self.units)
        return out + (" ORCON" if self.orcon else "")


def normalized(label: Label) -> Label:
    return Label(label.classification, sorted(set(label.releasable_to), key=lambda s: s.encode()),
                 sorted(set(label.units), key=lambda s: s.encode()), label.orcon)


def validate_label(label: Label) -> list[Reason]:
    out = []
    if label.classification not in CLASSIFICATIONS:
        out.append(Reason.of("LABEL_INVALID", f"classification {label.classification} is not 1 to 5"))
    for c in label.releasable_to:
        if not is_known_country(c):
            out.append(Reason.of("LABEL_INVALID", f"releasable-to '{c}' is not an ISO 3166-1 alpha-3 code"))
    if not is_sorted_unique(label.releasable_to):
        out.append(Reason.of("LABEL_INVALID", "releasable-to is not sorted without duplicates"))
    for u in label.units:
        if not is_valid_id(u):
            out.append(Reason.of("LABEL_INVALID", f"unit '{u}' is not a valid id"))
    if not is_sorted_unique(label.units):
        out.append(Reason.of("LABEL_INVALID", "units is not sorted without duplicates"))
    return out


def decode_label(data: bytes) -> Label:
    proto = parse_canonical(report_pb2.Label, data, "label")
    label = Label.from_proto(proto)
    reasons = validate_label(label)
    if reasons:
        raise TearlineError.of(reasons, "LABEL_INVALID")
    return label


def effective_releasable_to(label: Label, originator_country: str) -> tuple[str, ...]:
    return label.releasable_to if label.releasable_to else (originator_country,)


def label_admits(directory: "Directory", node_id: str, label: Label, originator_country: str,
                 t_ms: int) -> tuple[bool, list[Reason]]:
    """Rules R1-R4 (policy.md 6) at t = t_ms // 1000."""
    cred = directory.node(node_id)
    if cred is None:
        return False, [Reason.of("UNKNOWN_NODE", f"{node_id} is not in the directory")]
    reasons = list(directory.check_node(node_id, t_ms))
    if label.classification == 0:
        reasons.append(Reason.of("LABEL_INVALID", "the section's classification is unset"))
    elif cred.clearance < label.classification:
        reasons.append(Reason.of("CLEARANCE_BELOW", f"{node_id} is cleared {CLASSIFICATIONS.get(cred.clearance)}, "
                                                    f"below the section's {CLASSIFICATIONS.get(label.classification)}"))
    rel = effective_releasable_to(label, originator_country)
    if cred.country not in rel:
        reasons.append(Reason.of("COUNTRY_NOT_RELEASABLE",
                                 f"{node_id}'s country {cred.country} is not in releasable-to {','.join(rel)}"))
    if label.units and not any(directory.is_member(node_id, u, t_ms) for u in label.units):
        reasons.append(Reason.of("NOT_UNIT_MEMBER", f"{node_id} is not a member of any of {','.join(label.units)}"))
    return not reasons, reasons


def eligible_recipients(directory: "Directory", label: Label, originator_id: str, t_ms: int) -> list["Credential"]:
    originator = directory.node(originator_id)
    if originator is None:
        raise TearlineError("UNKNOWN_NODE", f"originator {originator_id} is not in the directory")
    out = []
    for cred in directory.nodes():
        if "broker" in cred.roles:
            continue
        ok, _ = label_admits(directory, cred.node_id, label, originator.country, t_ms)
        if ok:
            out.append(cred)
    return out
