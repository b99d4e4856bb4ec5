"""What a detection is made of: observations' evidence (plain JSON in the correlator's state) and the
Detection built from them (title, attributes, the deterministic id)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from watchfloor.schemas.events import Detection, Evidence, Severity, Signal, stable_id
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
}
_make_detection = trusted_maker(Detection, _DETECTION_FIELDS)


def evidence_of(sig: Signal, t: float) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "event_id": sig.document_id,
        "signal": sig.name,
        "source": sig.source,
        "url": sig.url,
        "published_at": sig.published_at.isoformat(),
        "sentence": sig.sentence,
        "modality": sig.modality,
        "captures": dict(sig.captures),
        "places": list(sig.places),
    }
    if t != sig.published_at.timestamp():
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
    group: dict[str, str],
    fired_at: datetime,
    severity: Severity,
    confidence: Literal["confirmed", "unconfirmed"] | None,
    evidence: list[dict[str, Any]],
) -> Detection:
    # The id covers all the evidence, not only what the alert shows: two firings of a group whose windows
    # hold more than MAX_EVIDENCE reports can show the same oldest ones, and one id for both would leave the
    # second unsent (the store keeps one detection per id).
    everything = sorted(e["event_id"] for e in evidence)
    evidence = evidence[:MAX_EVIDENCE]
    attributes: dict[str, list[str]] = {}
    for e in evidence:
        for cname, value in e["captures"].items():
            if cname not in group:
                attributes.setdefault(cname, [])
                if value not in attributes[cname]:
                    attributes[cname].append(value)
        for p in e["places"]:
            attributes.setdefault("place", [])
            if p not in attributes["place"]:
                attributes["place"].append(p)
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
    gkey = "|".join(f"{k}={v}" for k, v in group.items())
    alert_id = stable_id(det.id, gkey, *everything, length=20)
    return _make_detection(
        {
            "id": alert_id,
            "rule": det.id,
            "title": det.definition.title.format_map(fields),
            "severity": severity,
            "tags": tuple(det.definition.tags),
            "group": dict(group),
            "fired_at": fired_at,
            "confidence": confidence,
            "attributes": {k: [names.get(v, v) for v in vals] for k, vals in attributes.items()},
            "evidence": tuple(
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
            ),
            "description": det.definition.description,
            "revises": None,
            "revision": 0,
        }
    )


def revised(d: Detection, revises: str | None, revision: int) -> Detection:
    """`d` raised by the `revision`-th change of its group's history, replacing alert `revises` (or none)."""
    values = dict(d.__dict__)
    values["revises"] = revises
    values["revision"] = revision
    return _make_detection(values)
