"""What a detection is made of: observations' evidence (plain JSON in the correlator's state) and the
Detection built from them (title, attributes, the deterministic id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from watchfloor.schemas.events import (
    SEVERITY_RANK,
    Detection,
    Evidence,
    Severity,
    Signal,
    shown_evidence,
    stable_id,
)
from watchfloor.schemas.fast import trusted_maker

from . import patterns as P
from .compiler import CompiledDetection

MAX_EVIDENCE = 10

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_make_evidence = trusted_maker(
    Evidence,
    {
        "event_id": "e",
        "signal": "s",
        "source": "s",
        "url": None,
        "published_at": _EPOCH,
        "sentence": "",
        "modality": "asserted",
    },
)
_DETECTION_FIELDS: dict[str, Any] = {
    "id": "i",
    "rule": "r",
    "title": "t",
    "severity": "low",
    "tags": (),
    "group": {},
    "fired_at": _EPOCH,
    "confidence": None,
    "attributes": {},
    "evidence": (),
    "description": "",
    "revises": None,
    "revision": 0,
    "evidence_total": 0,
}
_make_detection = trusted_maker(Detection, _DETECTION_FIELDS)


@dataclass(frozen=True, slots=True)
class Plan:
    """A detection's numbers, and the parts of its alerts that do not depend on the evidence, computed once."""

    kind: str
    nrefs: int
    within: float
    realert: float
    horizon: float  # how far before a point an observation can still matter to it
    rank: int  # severity rank without corroboration
    fast_any: bool  # `any` without corroboration: throttle before building anything
    title: str | None  # the title when it has no placeholder (the same whatever the evidence), else None
    tags: tuple[str, ...]


def plan_of(det: CompiledDetection) -> Plan:
    within = det.within.total_seconds() if det.within else 0.0
    d = det.definition
    corroborate = d.corroborate
    horizon = max(within, corroborate.within.total_seconds() if corroborate is not None else 0.0)
    return Plan(
        kind=det.kind,
        nrefs=len(det.refs),
        within=within,
        realert=det.realert.total_seconds(),
        horizon=horizon,
        rank=SEVERITY_RANK[d.severity],
        fast_any=det.kind == "any" and corroborate is None,
        title=d.title if "{" not in d.title and "}" not in d.title else None,
        tags=tuple(d.tags),
    )


class EvidenceOf:
    """An observation's evidence (plain JSON, kept in the correlator's state) from its signal. A document's
    signals share its published_at: its text and timestamp are made once for all of them; and a sentence's
    signals share its places: one list for all of their evidence. Evidence is never mutated once made (one
    is shared by every group its signal feeds already), so sharing a part is safe; and each container kept
    in the state costs at every full garbage collection (a fifth of the time at 10,000 rules, BENCHMARKS.md)."""

    __slots__ = ("_at", "_iso", "_places", "_places_of", "_ts")

    def __init__(self) -> None:
        self._at: datetime | None = None
        self._iso = ""
        self._ts = 0.0
        self._places_of: tuple[str, ...] | None = None
        self._places: list[str] = []

    def __call__(self, sig: Signal, t: float, published: float | None = None) -> dict[str, Any]:
        """`published`, when the caller has it, is sig.published_at as a timestamp (its time zone's
        utcoffset is a call into pydantic's TzInfo: a third of a microsecond each time)."""
        at = sig.published_at
        if at is not self._at:  # the same object, not an equal one: 12:00+00:00 == 13:00+01:00
            self._at, self._iso = at, at.isoformat()
            self._ts = at.timestamp() if published is None else published
        places = sig.places
        captures = sig.captures
        if places is not self._places_of:  # the same tuple: the same sentence's facts (or the empty tuple)
            self._places_of, self._places = places, list(places)
        ev: dict[str, Any] = {
            "event_id": sig.document_id,
            "signal": sig.name,
            "source": sig.source,
            "url": sig.url,
            "published_at": self._iso,
            "sentence": sig.sentence,
            "modality": sig.modality,
            "captures": dict(captures) if captures else {},
            "places": self._places,
        }
        if t != self._ts:
            ev["at"] = t  # processed at its receive time (dated too far in the future)
        if sig.story is not None:
            ev["story"] = sig.story  # independent reports: copies of one story count once (stories.py)
        return ev


def point_time(item: P.Item) -> datetime:
    """A detection's fired_at at this point: the report's own published_at, or when it was processed."""
    ev = item[P.EV]
    if "at" in ev:
        return datetime.fromtimestamp(ev["at"], UTC)
    return datetime.fromisoformat(ev["published_at"])


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def build_detection(
    names: dict[str, str],
    det: CompiledDetection,
    plan: Plan,
    group: dict[str, str],
    fired_at: datetime,
    severity: Severity,
    confidence: Literal["confirmed", "unconfirmed"] | None,
    evidence: list[dict[str, Any]],
    own: int | None = None,
) -> Detection:
    """The detection of a firing; `evidence` is the pattern's own reports (the first `own`; default all),
    then the corroborating ones, each in time order. The alert shows MAX_EVIDENCE of them
    (shown_evidence) and says how many there were."""
    # The id covers all the evidence, not only what the alert shows: two firings of a group whose windows
    # hold more than MAX_EVIDENCE reports may show the same ones, and one id for both would leave the
    # second unsent (the store keeps one detection per id).
    everything = [e["event_id"] for e in evidence]
    total = len(everything)
    if total > 1:
        everything.sort()
        if total > MAX_EVIDENCE:
            evidence = shown_evidence(evidence, MAX_EVIDENCE, own)
    attributes: dict[str, list[str]] = {}
    for e in evidence:
        captured = e["captures"]
        if captured:
            for cname, value in captured.items():
                if cname not in group:
                    seen = attributes.setdefault(cname, [])
                    if value not in seen:
                        seen.append(value)
        if e["places"]:
            seen = attributes.setdefault("place", [])
            for p in e["places"]:
                if p not in seen:
                    seen.append(p)
    title = plan.title
    if title is None:
        title = det.definition.title.format_map(_title_fields(names, det, group, attributes))
    gkey = "|".join(f"{k}={v}" for k, v in group.items()) if group else ""
    alert_id = stable_id(det.id, gkey, *everything, length=20)
    return _make_detection(
        {
            "id": alert_id,
            "rule": det.id,
            "title": title,
            "severity": severity,
            "tags": plan.tags,
            "group": dict(group),
            "fired_at": fired_at,
            "confidence": confidence,
            "attributes": {k: [names.get(v, v) for v in vals] for k, vals in attributes.items()} if attributes else {},
            "evidence": tuple(
                [
                    _make_evidence(
                        {
                            "event_id": e["event_id"],
                            "signal": e["signal"],
                            "source": e["source"],
                            "url": e["url"],
                            "published_at": datetime.fromisoformat(e["published_at"]),
                            "sentence": e["sentence"],
                            "modality": e["modality"],
                        }
                    )
                    for e in evidence
                ]
            ),
            "description": det.definition.description,
            "revises": None,
            "revision": 0,
            "evidence_total": total,
        }
    )


def _title_fields(
    names: dict[str, str], det: CompiledDetection, group: dict[str, str], attributes: dict[str, list[str]]
) -> dict[str, str]:
    """The values a title's placeholders take: the group's (by name, and `_id`), the evidence's captures and
    places (names joined), a `_suffix` of each (" (value)", or "" when absent); unknown ones stay as written."""
    fields = _Missing()
    for k, v in group.items():
        fields[k] = names.get(v, v)
        fields[k + "_id"] = v
    for k, vals in attributes.items():
        fields.setdefault(k, ", ".join(names.get(v, v) for v in vals))
    for k in list(fields):
        fields.setdefault(k + "_suffix", f" ({fields[k]})")
    for cname in ("place", *det.definition.group_by):
        fields.setdefault(cname + "_suffix", "")
    return fields


def revised(d: Detection, revises: str | None, revision: int) -> Detection:
    """`d` raised by the `revision`-th change of its group's history, replacing alert `revises` (or none)."""
    values = dict(d.__dict__)
    values["revises"] = revises
    values["revision"] = revision
    return _make_detection(values)
