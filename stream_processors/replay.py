"""Backtest replay: documents through the same engine, in canonical event-time order or in log order; never
sleeps or notifies."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from itertools import islice
from typing import Any, NamedTuple

from watchfloor.schemas.events import (
    DOCUMENT_TYPES,
    CaughtUp,
    DeadLetter,
    Detection,
    Document,
    Event,
    EventType,
    PassedOver,
    Signal,
)
from watchfloor.schemas.inputs import CheckedInput, EventTime

from .engine import Engine
from .engine.eventtime import effective_time, new_tracker, note_document
from .processing import EngineTally

CHUNK = 1 << 16
QUIET = datetime(9999, 1, 1, tzinfo=UTC)  # a CaughtUp mark after every origin has gone idle
"""Documents taken at a time from a streamed (order="log") input."""

Received = tuple[Document, float | None, float]
"""A document from a log, put in event-time order: (document, when it was received, its effective time)."""


class Logged(NamedTuple):
    """A file's input as the live ingest appends it to the log: with its origin (the path), so that, as in the
    live run, it moves event time only at the CaughtUp mark that ends the read (watchfloor.backtest, log
    order). The item is a document, a checked input, or an event time (a line no rule can match)."""

    item: Document | CheckedInput | EventTime
    origin: str


Replayable = Document | CheckedInput | EventTime | Event | Received | Logged
"""Documents (built, checked, or reduced to their event time by a rules' line gate), log events (documents
with their recorded origin and receive time, and the CaughtUp marks between them), or log documents in
event-time order (Received)."""


def replay(
    documents: Iterable[Replayable],
    engine: Engine,
    *,
    order: str = "event-time",
    received_at: datetime | None = None,
    on_documents: Callable[[int], None] | None = None,
    on_outputs: Callable[[list[Any]], None] | None = None,
    signalled_only: bool = False,
) -> EngineTally:
    """Run documents through the engine.

    `order="event-time"`: canonical order, (effective time, document id), what a live system that saw every
    report on time would have done (origins and CaughtUp marks do not matter then). `order="log"`: as given,
    streamed a chunk at a time, so an iterator of any length (an external sort's output) replays in bounded
    memory; log events replay exactly what the live runner did (the same engine calls, with the recorded
    origins, receive times and CaughtUp marks: the same detections, revisions and retractions). A log of
    documents with origins but no marks (an archive of the distributed runtime) ends as a quiet system does:
    event time at its newest report.
    `received_at` is when plain documents (not log events) were received: a document dated more than the skew
    after it is processed at that time, as the live engine does (a file backtest: when it runs).

    Checked inputs (watchfloor.schemas.inputs.CheckedInput) are built into Documents only when a rule can
    match them; the alerts are the same either way (tested). Event times (floats) stand for documents that a
    reader with this engine's JSON line gate found no rule can match: they only move event time forward.
    `on_documents(n)` is told as each n documents are done; `on_outputs` is given the outputs of each engine
    call that has any. `detections` of the result are the alerts that stand at the end. With `signalled_only`
    (the backtest command), the event-time reports kept are those of documents with a signal
    (signalled_reports); else every one, as the live runner reports them. Either way a late document no detection
    reads is counted in `passed_over`, not reported (Engine.late_reports), as live."""
    received = received_at.timestamp() if received_at is not None else None
    limit = received + engine.skew if received is not None else None  # the latest time not clamped
    chunks: Iterable[list[Any]]
    in_log_order = order == "log"  # (in event-time order no document is late)
    if order == "event-time":
        chunks = (canonical(documents, engine.skew, received),)
    elif order == "log":
        it = iter(documents)
        chunks = iter(lambda: list(islice(it, CHUNK)), [])
    else:
        raise ValueError(f"unknown order {order!r} (event-time or log)")
    result = EngineTally()
    state: dict[str, Any] = engine.initial_state()
    note_timestamps = engine.correlator.note_timestamps
    done = 0
    marks = origins = False  # whether the log has CaughtUp marks, and documents with an origin
    for chunk in chunks:
        i, n = 0, len(chunk)
        while i < n:
            doc = chunk[i]
            cls = doc.__class__
            if cls is float:
                # A run of documents no rule can match (most of a backtest): one call moves time over all.
                j = i + 1
                while j < n and chunk[j].__class__ is float:
                    j += 1
                times = chunk[i:j]
                if limit is not None and max(times) > limit:  # dated past receive time + skew: moves nothing
                    times = [t for t in times if t <= limit]
                late = passed_over(times, state["wm"], engine.lateness) if in_log_order else 0
                outputs: list[Any] = note_timestamps(state, times)
                if late:  # beyond the lateness, and no detection reads them: counted as the live run counts them
                    outputs = [*outputs, *(PassedOver(None),) * late]
                result.documents += j - i
            else:
                j = i + 1
                if cls is Event:
                    state, outputs = engine.process(state, doc)
                    if doc.type in DOCUMENT_TYPES:
                        result.documents += 1
                        origins = origins or doc.origin is not None
                    else:
                        marks = marks or doc.type == EventType.CAUGHT_UP.value
                elif cls is tuple:
                    state, outputs = engine.process_input(state, doc[0], doc[1])
                    result.documents += 1
                elif cls is Logged:
                    outputs = _logged(engine, state, doc.item, doc.origin, received)
                    result.documents += 1
                    origins = True
                else:
                    state, outputs = engine.process_input(state, doc, received)
                    result.documents += 1
            if outputs:
                if on_outputs is not None:
                    on_outputs(outputs)
                result.count(signalled_reports(outputs) if signalled_only and cls is not float else outputs)
            done += j - i
            if done >= 1000 and on_documents is not None:  # a progress update costs more than a document
                on_documents(done)
                done = 0
            i = j
    if done and on_documents is not None:
        on_documents(done)
    if origins and not marks:
        # Documents with origins move event time only at CaughtUp marks, and this log has none: an archive of
        # the distributed runtime (Kafka carries watermark records instead). End as a quiet system does, every
        # origin idle: event time at the newest on-time report, so absences close as they did live.
        outputs = engine.caught_up(state, CaughtUp(at=QUIET, origins=()))
        if outputs:
            if on_outputs is not None:
                on_outputs(outputs)
            result.count(outputs)
    result.late = [in_backtest_words(dl) for dl in result.late]
    return result.finish()


def _logged(engine: Engine, state: dict[str, Any], item: Any, origin: str, received: float | None) -> list[Any]:
    """A file's input with its origin, as the live runner takes the document event (Engine.process): only
    what a rule can match is built; the rest only tells the origin's event time (eventtime.note_document)."""
    if item.__class__ is CheckedInput and engine.extractor.may_match(item.title, item.body):
        item = item.build()
    if item.__class__ is Document:
        rx = datetime.fromtimestamp(received, UTC) if received is not None else None
        return engine.process_document(state, item, origin=origin, received_at=rx)[1]
    t, clamped = effective_time(item if item.__class__ is float else item.ts, received, engine.skew)
    wm = state["wm"]
    on_time = not clamped and (wm is None or t >= wm - engine.lateness)
    note_document(state.setdefault("et", new_tracker()), origin, t if on_time else None, received)
    # Beyond the lateness (not a clamped future date), and no detection reads it: counted, as the live run does
    return [] if on_time or clamped else [PassedOver(origin)]


def passed_over(times: list[float], wm: float | None, lateness: float) -> int:
    """How many of a run of origin-less documents no rule can match (their event times, in log order, from the
    watermark `wm`) come beyond the lateness: each is passed over (engine PassedOver), as Engine.process_input
    counts one. The watermark moves with them, as note_timestamps moves it."""
    n = 0
    for t in times:
        if wm is None or t > wm:
            wm = t
        elif t < wm - lateness:
            n += 1
    return n


def signalled_reports(outputs: list[Any]) -> list[Any]:
    """One document's outputs without its event-time reports if it gave no signal: a backtest counts late and
    future-dated documents that carry a signal, whichever input it reads. A file's lines that no rule can match
    reach the engine as event times only and can report nothing, so the documents of a log (which the engine
    reports whatever they say) are counted in the same unit; only a document with a signal can change an
    alert. (A late document whose signals no detection reads is passed over by the engine already, as live.)"""
    if any(o.__class__ is Signal for o in outputs):
        return outputs
    return [o for o in outputs if o.__class__ is not DeadLetter]


LIVE_CAVEAT = "its alerts may differ from a backtest's"
BACKTEST_CAVEAT = "its alerts may differ from those of a replay in event-time order (--order event-time)"


def in_backtest_words(dl: DeadLetter) -> DeadLetter:
    """An event-time report as a backtest says it: the engine's late report ends with a caveat for the live
    run ("its alerts may differ from a backtest's"), which inside a backtest names the event-time order."""
    if LIVE_CAVEAT in dl.reason:
        return dl.model_copy(update={"reason": dl.reason.replace(LIVE_CAVEAT, BACKTEST_CAVEAT)})
    return dl


def received(event: Event, skew: float) -> Received:
    """A log document for event-time order: the document, when it was received, its effective time."""
    doc = Document.model_validate(event.payload)
    rx = event.received_at.timestamp() if event.received_at is not None else None
    return doc, rx, effective_time(doc.published_at.timestamp(), rx, skew)[0]


def canonical(documents: Iterable[Replayable], skew: float, received_at: float | None) -> list[Any]:
    """Documents in canonical order: (effective time, document id). Log events become Received triples (their
    origins and CaughtUp marks do not matter in order); a float whose time is clamped is dropped (it moves no
    watermark). In memory: the backtest command orders large inputs with an external sort on the same key
    (stream_processors.external_sort.event_order_key)."""
    keyed: list[tuple[float, Any]] = []
    for d in documents:
        cls = d.__class__
        if cls is Logged:  # a file's input in log order: in event-time order its origin does not matter
            d = d.item  # type: ignore[union-attr]
            cls = d.__class__
        if cls is Event:
            if d.type in DOCUMENT_TYPES:  # type: ignore[union-attr]
                r = received(d, skew)  # type: ignore[arg-type]
                keyed.append((r[2], r))
            continue
        if cls is tuple:
            keyed.append((d[2], d))  # type: ignore[index, misc]
            continue
        ts = d if cls is float else (d.ts if cls is CheckedInput else d.published_at.timestamp())  # type: ignore[union-attr]
        t, clamped = effective_time(ts, received_at, skew)  # type: ignore[arg-type]
        if clamped and cls is float:
            continue
        keyed.append((t, d))
    keyed.sort(key=_first)
    _order_ties(keyed)
    return [d for _t, d in keyed]


def _first(pair: tuple[float, Any]) -> float:
    return pair[0]


def _order_ties(keyed: list[tuple[float, Any]]) -> None:
    """Documents with the same effective time go by document id (never by file order). Rare, so ids are
    only worked out there (a checked input's id is a hash of its content)."""
    i, n = 0, len(keyed)
    while i < n:
        j = i + 1
        while j < n and keyed[j][0] == keyed[i][0]:
            j += 1
        if j - i > 1 and sum(1 for _t, d in keyed[i:j] if d.__class__ is not float) > 1:
            keyed[i:j] = sorted(keyed[i:j], key=lambda p: _doc_id(p[1]))
        i = j


def _doc_id(d: Any) -> str:
    cls = d.__class__
    if cls is float:
        return ""
    if cls is tuple:
        return str(d[0].id)
    if cls is CheckedInput:
        return str(d.build().id)
    return str(d.id)


def detection_to_json(d: Detection) -> dict[str, Any]:
    """The backtest JSON shape of one alert (DESIGN §6)."""
    out: dict[str, Any] = {
        "id": d.id,
        "rule": d.rule,
        "title": d.title,
        # in UTC (the engine writes it so; detections stored before kept their report's offset), so the alerts of
        # a result or of `alerts list --json` sort by their text as by time
        "fired_at": d.fired_at.astimezone(UTC).isoformat(),
        "group": dict(d.group),
        "severity": d.severity,
        "confidence": d.confidence,
        "tags": list(d.tags),
        "attributes": {k: list(v) for k, v in d.attributes.items()},
        "evidence": [
            {
                "event_id": e.event_id,
                "source": e.source,
                "url": e.url,
                "published_at": e.published_at.isoformat(),
                "sentence": e.sentence,
                "signal": e.signal,
                "modality": e.modality,
                # (only when true: an undated feed entry's first-seen time, which the HTML report marks)
                **({"first_seen": True} if e.first_seen else {}),
            }
            for e in d.evidence
        ],
    }
    if d.revision:
        out["revision"] = d.revision
        out["revises"] = d.revises
    return out
