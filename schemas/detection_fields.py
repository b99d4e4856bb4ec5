"""The few fields of a detection that decide its story, read straight from its JSON payload (msgspec, no model).

The alert dispatcher rebuilds every story from the log's detections at start-up (alerts.dispatcher.StoryBook): of
each it needs the rule, group, event time, alert id, revision and what it revises, and whether `Detection` accepts
the payload at all (intake dead-letters one it refuses, which then starts and joins no story), whether a report it
shows is dated after it fired (`ahead`), and, of a confirmed detection, its earliest report's time (`reports_from`).
Building the whole envelope and model for that was most of the start-up (BENCHMARKS.md, "Stories at dispatcher
start-up").

`detection_fields` decodes the payload with msgspec into structs that mirror `Detection` and `Evidence`, field for
field and constraint for constraint, with unknown fields refused as pydantic does (`extra="forbid"`). Like the input
contract's fast path (schemas/inputs.py) it only ever ACCEPTS: msgspec's rules are stricter than pydantic's lax
mode (no "1" for an int, no 1.0, no unix time for a date), so what it accepts `Detection` accepts too, with the same
values. `fired_at` and the reports' `published_at`, whose values count, are read by datetime.fromisoformat in the form
pydantic writes only (msgspec rounds a seventh decimal that pydantic truncates). Whatever it refuses, and a time in
any other form, is decided by `Detection.model_validate(orjson.loads(payload))`, the check the dispatcher's intake
makes.
tests/unit/test_detection_fields.py holds both to the same verdicts and values.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal, NamedTuple

import msgspec
import orjson
from pydantic import ValidationError

from .events import Detection, detection_key

_Count = Annotated[int, msgspec.Meta(ge=0)]


class _Evidence(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """events.Evidence, as msgspec checks it."""

    event_id: str
    signal: str
    source: str
    published_at: str  # (read by `_time`, as `fired_at` is: its value counts)
    sentence: str
    url: str | None = None
    modality: Literal["asserted", "hedged", "future", "conditional", "negated", "recap"] = "asserted"
    story: str | None = None
    first_seen: bool = False
    feed: str | None = None


class _Detection(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """events.Detection, as msgspec checks it; `fired_at` is kept as text and read by `_time`."""

    id: str
    rule: str
    title: str
    severity: Literal["low", "medium", "high", "critical"]
    fired_at: str
    tags: tuple[str, ...] = ()
    group: dict[str, str] = {}
    confidence: Literal["confirmed", "unconfirmed"] | None = None
    attributes: dict[str, list[str]] = {}
    evidence: tuple[_Evidence, ...] = ()
    description: str = ""
    revises: str | None = None
    revision: _Count = 0
    evidence_total: _Count = 0
    cause: str | None = None
    same_time: bool = False


_decode = msgspec.json.Decoder(_Detection).decode
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError)
# The form pydantic writes (model_dump(mode="json")): on it datetime.fromisoformat, msgspec and pydantic agree on
# validity and value. Anything else (a lower-case t, a space, seven decimals, +0000; an offset's minutes past 59,
# which fromisoformat carries over) takes the model's path.
_PLAIN_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)\Z")


class DetectionFields(NamedTuple):
    """What a detection's story is decided from (alerts.intake.Stories)."""

    key: str  # its event's id, the delivery key: detection_event_id
    id: str  # its alert id (what a later revision's `revises` names)
    rule: str
    group: dict[str, str]
    fired_at: datetime
    revises: str | None
    # a report it shows is dated after it fired: a future-dated report, processed at its receive time (stories do not
    # take its time for the newest event time: the engine's watermark does not move for it either)
    ahead: bool = False
    # a confirmed detection's earliest report (None: not confirmed, or no report shown): the story that report began
    # is the one its confirmation continues, however long before (within `corroborate.within`) that was
    reports_from: datetime | None = None


def detection_fields(payload: str | bytes) -> DetectionFields | None:
    """The story fields of a detection event's payload (JSON text), or None when `Detection` refuses it. Malformed
    JSON raises as orjson.loads does."""
    try:
        d = _decode(payload)
    except _DECODE_ERRORS:
        return _checked(payload)
    fired = _time(d.fired_at)
    if fired is None:
        return _checked(payload)
    earliest = None
    for e in d.evidence:
        at = _time(e.published_at)
        if at is None or at > fired:  # (rare: a date in another form, or a future-dated report: the model's to say)
            return _checked(payload)
        if earliest is None or at < earliest:
            earliest = at
    if d.confidence != "confirmed":
        earliest = None
    return DetectionFields(detection_key(d.id, d.revision), d.id, d.rule, d.group, fired, d.revises, False, earliest)


def _time(text: str) -> datetime | None:
    if _PLAIN_TIME.match(text) is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # a 30 February, an offset of 24 h or more: let the model say
        return None


def _checked(payload: str | bytes) -> DetectionFields | None:
    """The fields as the model reads them (what intake decides with), or None when it refuses the payload."""
    try:
        det = Detection.model_validate(orjson.loads(payload))
    except ValidationError:
        return None
    key = detection_key(det.id, det.revision)
    return DetectionFields(
        key, det.id, det.rule, det.group, det.fired_at, det.revises, dated_ahead(det), reports_from(det)
    )


def dated_ahead(det: Detection) -> bool:
    """Whether a report `det` shows is dated after it fired (DetectionFields.ahead)."""
    return any(e.published_at > det.fired_at for e in det.evidence)


def reports_from(det: Detection) -> datetime | None:
    """When `det`'s earliest report was published, when it is confirmed (DetectionFields.reports_from)."""
    if det.confidence != "confirmed" or not det.evidence:
        return None
    return min(e.published_at for e in det.evidence)
