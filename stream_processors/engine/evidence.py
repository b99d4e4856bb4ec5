"""What a detection is made of: observations' evidence (a tuple in the correlator's state, a JSON array in a
checkpoint) and the Detection built from them (title, attributes, the deterministic id)."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
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
from .compiled import REPORTS
from .compiler import CompiledDetection
from .patterns import (
    E_AT,
    E_CAPTURES,
    E_FIRST_SEEN,
    E_ID,
    E_MODALITY,
    E_PLACES,
    E_PUBLISHED,
    E_SENTENCE,
    E_SIGNAL,
    E_SOURCE,
    E_STORY,
    E_URL,
    EvidenceRecord,
)
from .stories import report_groups

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
        "story": None,
        "first_seen": False,
        "feed": None,
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
    "cause": None,
    "same_time": False,
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
    open: float  # how long an alert stays open for follow-ups: the window or realert, whichever is longer
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
        open=max(within, det.realert.total_seconds()),
        rank=SEVERITY_RANK[d.severity],
        fast_any=det.kind == "any" and corroborate is None,
        title=d.title if "{" not in d.title and "}" not in d.title else None,
        tags=tuple(d.tags),
    )


class EvidenceOf:
    """An observation's evidence (E_* fields) from its signal. A document's signals share its published_at:
    its text and timestamp are made once for all of them. Evidence is never mutated once made (one is
    shared by every group its signal feeds already)."""

    __slots__ = ("_at", "_iso", "_ts")

    def __init__(self) -> None:
        self._at: datetime | None = None
        self._iso = ""
        self._ts = 0.0

    def __call__(self, sig: Signal, t: float, published: float | None = None) -> EvidenceRecord:
        """`published`, when the caller has it, is sig.published_at as a timestamp (its time zone's
        utcoffset is a call into pydantic's TzInfo: a third of a microsecond each time)."""
        at = sig.published_at
        if at is not self._at:  # the same object, not an equal one: 12:00+00:00 == 13:00+01:00
            self._at, self._iso = at, at.isoformat()
            self._ts = at.timestamp() if published is None else published
        places = sig.places
        captures = sig.captures
        return (
            sig.document_id,
            sig.name,
            sig.source,
            sig.url,
            self._iso,
            sig.sentence,
            sig.modality,
            P.flat_pairs(captures),
            places if type(places) is tuple else tuple(places),
            t if t != self._ts else None,  # processed at its receive time (dated too far in the future)
            sig.story,  # independent reports: copies of one story count once (stories.py)
            True if sig.first_seen else None,  # undated: published_at is when it was first seen
        )


def evidence_record(ev: Any) -> EvidenceRecord:
    """Evidence as the engine keeps it, from a checkpoint's JSON: an array of the E_* fields (its captures
    and places arrays too), or the object of state versions 1 and 2."""
    if type(ev) is tuple:
        return ev
    if isinstance(ev, dict):
        captures = ev.get("captures") or {}
        return (
            ev["event_id"],
            ev["signal"],
            ev["source"],
            ev.get("url"),
            ev["published_at"],
            ev["sentence"],
            ev.get("modality", "asserted"),
            P.flat_pairs(captures),
            tuple(ev.get("places") or ()),
            ev.get("at"),
            ev.get("story"),
            None,
        )
    # A record saved before E_FIRST_SEEN is one of a dated document (no other was marked): made whole, so that it
    # compares equal with the same report's record made now.
    rest = ev[E_AT:] if len(ev) > E_FIRST_SEEN else (*ev[E_AT:], None)
    return (*ev[:E_CAPTURES], tuple(ev[E_CAPTURES]), tuple(ev[E_PLACES]), *rest)


def point_time(item: P.Item) -> datetime:
    """A detection's fired_at at this point: the report's own published_at, or when it was processed; in UTC, so
    that alerts sort by their text as by time (trial L2: `2026-12-02T12:00:00+14:00` sorted after later alerts).
    No id is made of it (alert ids hash the rule, group and evidence ids; the engine's records keep the alert id),
    so a store's alerts keep their ids; the report's own time keeps its offset in the evidence (`published_at`)."""
    ev = item[P.EV]
    if ev[E_AT] is not None:
        return datetime.fromtimestamp(ev[E_AT], UTC)
    return datetime.fromisoformat(ev[E_PUBLISHED]).astimezone(UTC)


def build_detection(
    names: dict[str, str],
    det: CompiledDetection,
    plan: Plan,
    group: dict[str, str],
    fired_at: datetime,
    severity: Severity,
    confidence: Literal["confirmed", "unconfirmed"] | None,
    evidence: list[EvidenceRecord],
    own: int | None = None,
    feeds: dict[str, str] | None = None,
    cases: dict[str, dict[str, str]] | None = None,
) -> Detection:
    """The detection of a firing; `evidence` is the pattern's own reports (the first `own`; default all),
    then the corroborating ones, each in time order. The alert shows MAX_EVIDENCE of them
    (shown_evidence) and says how many there were. `feeds`: report id -> the hash of the configured source it
    came through, for those that have one (Evidence.feed); `cases`: the names' forms in the cases titles ask for
    (CompiledRules.title_cases)."""
    # The id covers all the evidence, not only what the alert shows: two firings of a group whose windows
    # hold more than MAX_EVIDENCE reports may show the same ones, and one id for both would leave the
    # second unsent (the store keeps one detection per id).
    everything = [e[E_ID] for e in evidence]
    total = len(everything)
    # Story keys from all the reports, before the alert's ten are chosen: two copies shown may be linked through
    # one that is not.
    stories = story_keys(evidence) if any(e[E_STORY] for e in evidence) else None
    if total > 1:
        everything.sort()
        if total > MAX_EVIDENCE:
            evidence = shown_evidence(evidence, MAX_EVIDENCE, own)
    attributes: dict[str, list[str]] = {}
    for e in evidence:
        captured = e[E_CAPTURES]
        if captured:
            for cname, value in zip(captured[::2], captured[1::2], strict=True):
                if cname not in group:
                    seen = attributes.setdefault(cname, [])
                    if value not in seen:
                        seen.append(value)
        if e[E_PLACES] and not det.own_place:
            seen = attributes.setdefault("place", [])
            for p in e[E_PLACES]:
                if p not in seen:
                    seen.append(p)
    title = plan.title
    if title is None:
        title = render_title(det.definition.title, _title_fields(names, det, group, attributes, total), cases)
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
                            "event_id": e[E_ID],
                            "signal": e[E_SIGNAL],
                            "source": e[E_SOURCE],
                            "url": e[E_URL],
                            "published_at": datetime.fromisoformat(e[E_PUBLISHED]),
                            "sentence": e[E_SENTENCE],
                            "modality": e[E_MODALITY],
                            "story": stories.get(e[E_ID]) if stories is not None else None,
                            "first_seen": bool(e[E_FIRST_SEEN]) if len(e) > E_FIRST_SEEN else False,
                            "feed": feeds.get(e[E_ID]) if feeds else None,
                        }
                    )
                    for e in evidence
                ]
            ),
            "description": det.definition.description,
            "revises": None,
            "revision": 0,
            "evidence_total": total,
            "cause": None,
            "same_time": False,
        }
    )


def story_keys(evidence: list[EvidenceRecord]) -> dict[str, str]:
    """Each report's story key (Evidence.story), by report id: reports whose texts are copies of one story
    (stories.same_story, linked transitively, as the engine's corroboration links them) share the key of the
    story's first report by id, 12 hex digits of its hash. Reports without a story signature get none. A key
    depends only on the detection's reports, never on their order: a replay and a live run write the same."""
    # One entry per document: a document's signals share its signature. Its id stands for its source, so
    # only copies link (one outlet's several stories stay apart: the thread links them by source itself).
    docs: dict[str, str] = {}
    for e in evidence:
        story = e[E_STORY]
        if story:
            docs.setdefault(e[E_ID], story)
    names = sorted(docs)
    groups = report_groups([(i, docs[i]) for i in names])
    first: dict[int, str] = {}
    for i, g in zip(names, groups, strict=True):
        first.setdefault(g, i)  # names are sorted: a group's first is its smallest id
    return {i: stable_id("story", first[g], length=12) for i, g in zip(names, groups, strict=True)}


def _title_fields(
    names: dict[str, str],
    det: CompiledDetection,
    group: dict[str, str],
    attributes: dict[str, list[str]],
    reports: int,
) -> dict[str, str]:
    """The values a title's placeholders take: the group's (by name, and `_id`), the evidence's captures and
    places (names joined), how many reports the alert rests on (`reports`, unless a capture has that name: outside
    trial 28, F9, a `count` alert could not say how many it counted), a `_suffix` of each (" (value)"). Any other
    placeholder of the title is "" (its
    `_suffix` too): the compiler accepted each one as `place`, a group_by name or a capture of the
    detection's signals (an input detection's group_by name, over detections: checks.title_placeholders),
    so it is one this alert's evidence has no value for (a mediator named in one report of eight)."""
    fields: dict[str, str] = {}
    for k, v in group.items():
        fields[k] = names.get(v, v)
        fields[k + "_id"] = v
    for k, vals in attributes.items():
        fields.setdefault(k, ", ".join(names.get(v, v) for v in vals))
    fields.setdefault(REPORTS, str(reports))
    for k in list(fields):
        fields.setdefault(k + "_suffix", f" ({fields[k]})")
    for name in _placeholders(det.definition.title):
        fields.setdefault(name, "")
    return fields


def render_title(title: str, fields: dict[str, str], cases: dict[str, dict[str, str]] | None) -> str:
    """`title` with its placeholders filled from `fields`; one with a case ("{place:dative}") takes each name's form
    in that case from `cases` (a name with none there, or a value that is no name, as it is)."""
    if not cases or ":" not in title:
        return title.format_map(fields)
    out: list[str] = []
    for literal, name, spec, _conv in _parsed_title(title):
        out.append(literal)
        if name is not None:
            value = fields.get(name, "")
            out.append(_in_case(value, cases.get(spec, {})) if spec else value)
    return "".join(out)


def _in_case(value: str, forms: dict[str, str]) -> str:
    """A placeholder's value in a case: a name, names joined by ", ", or a suffix " (name)"."""
    if value in forms:
        return forms[value]
    if value.startswith(" (") and value.endswith(")"):
        return f" ({_in_case(value[2:-1], forms)})"
    return ", ".join(forms.get(v, v) for v in value.split(", "))


@lru_cache(maxsize=1024)
def _parsed_title(title: str) -> tuple[tuple[str, str | None, str | None, str | None], ...]:
    return tuple(string.Formatter().parse(title))


@lru_cache(maxsize=4096)
def _placeholders(title: str) -> tuple[str, ...]:
    """The placeholder names of a title the compiler accepted."""
    return tuple({name for _lit, name, _spec, _conv in string.Formatter().parse(title) if name})


def revised(
    d: Detection, revises: str | None, revision: int, cause: str | None = None, same_time: bool = False
) -> Detection:
    """`d` raised by the `revision`-th change of its group's history, replacing alert `revises` (or none); `cause`:
    what changed the history when it was not a late report (Detection.cause); `same_time`: a report of the time of
    the alerts it changed (Detection.same_time)."""
    values = dict(d.__dict__)
    values["revises"] = revises
    values["revision"] = revision
    values["cause"] = cause
    values["same_time"] = same_time
    return _make_detection(values)
