"""The pure engine: (state, event) -> (state, outputs). No I/O, no clock reads; every runtime calls this."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from watchfloor.schemas.events import (
    DOCUMENT_TYPES,
    EDITION_MARK,
    CaughtUp,
    DeadLetter,
    Detection,
    Document,
    Event,
    EventType,
    PassedOver,
    Retraction,
    Signal,
    edition_of,
)
from watchfloor.schemas.inputs import CheckedInput
from watchfloor.schemas.rules import RulePack

from . import eventtime as et
from .compiler import CompiledRules, compile_packs
from .corrections import beyond_lateness, late_edit_reason, said_of
from .correlate import Correlator, State, new_state
from .eventtime import EventTimePolicy
from .extract import Extractor

Output = Signal | Detection | Retraction | DeadLetter | PassedOver

LATE = "late: "  # how a late_reason begins (a "late edit: …" report is another report, kept as it is)


class Engine:
    """Extract then correlate, on event time (eventtime.py). The state is JSON values (a state read back
    from JSON goes through `restore`); the engine owns it between calls. `skew` and `idle_after` come from
    the app's config (the lateness from the rule packs)."""

    def __init__(
        self,
        rules: CompiledRules,
        *,
        skew: timedelta = et.DEFAULT_SKEW,
        idle_after: timedelta = et.DEFAULT_IDLE_AFTER,
    ) -> None:
        self.rules = rules
        self.policy = EventTimePolicy(lateness=rules.lateness, skew=skew, idle_after=idle_after)
        self.extractor = Extractor(rules)
        self.correlator = Correlator(rules)
        self.lateness = rules.lateness.total_seconds()
        self.skew = skew.total_seconds()
        self.idle_after = idle_after.total_seconds()

    @classmethod
    def from_packs(cls, packs: Sequence[RulePack]) -> Engine:
        return cls(compile_packs(packs))

    @staticmethod
    def initial_state() -> State:
        state = new_state()
        state["et"] = et.new_tracker()
        return state

    def restore(self, state: State) -> State:
        """A state loaded from a checkpoint, brought up to this engine's version (see Correlator.restore)."""
        state = self.correlator.restore(state)
        state.setdefault("et", et.new_tracker())
        return state

    def process(self, state: State, event: Event) -> tuple[State, list[Output]]:
        """One event in, its outputs out: documents (with their origin and receive time), signals, and the
        CaughtUp marks producers record after each poll cycle."""
        if event.type in DOCUMENT_TYPES:
            doc = Document.model_validate(event.payload)
            return self.process_document(
                state, doc, origin=event.origin, received_at=event.received_at, line=event.line
            )
        if event.type == EventType.SIGNAL.value:
            sig = Signal.model_validate(event.payload)
            outputs: list[Output] = list(self.correlate(state, sig))
            outputs.extend(self.correlator.note_time(state, sig.published_at))
            return state, outputs
        if event.type == EventType.CAUGHT_UP.value:
            return state, self.caught_up(state, CaughtUp.model_validate(event.payload))
        return state, []  # detections, alerts, deliveries: not the engine's input

    def process_document(
        self,
        state: State,
        doc: Document,
        *,
        origin: str | None = None,
        received_at: datetime | None = None,
        line: int | None = None,
    ) -> tuple[State, list[Output]]:
        """One document; `line` is its line in `origin` (Event.line), which its event-time reports name."""
        received = received_at.timestamp() if received_at is not None else None
        t = published = doc.published_at.timestamp()
        wm = state["wm"]
        if (
            (received is not None and t > received + self.skew)
            or (wm is not None and t < wm - self.lateness)
            or t < et.EPOCH_DAY_END
        ):
            t, on_time, outputs = self._arrive(state, doc.id, doc.published_at, received, origin, doc.title, line)
        else:  # the usual case, kept cheap: on time, not dated in the future nor at the epoch
            on_time, outputs = True, []
        sigs = self.extractor.extract(doc)
        observe = True
        if EDITION_MARK in doc.id and (item := edition_of(doc.id)) is not None:
            if self.late_edit(doc, t):
                observe = False  # edited beyond the lateness: what its item raised stands as it is (corrections.py)
                outputs.append(self.late_edit_report(doc, t, origin, line))
            else:
                # A feed item edited in place: what its earlier versions said and this text contradicts is withdrawn
                # first, then its signals are observed (those an earlier version makes already are not again).
                outputs.extend(self.correlator.on_edition(state, doc.id, item, said_of(sigs), t, doc.source.name))
        if not on_time and outputs:
            outputs = self.late_reports(outputs, doc.id, sigs, observed=observe, origin=origin)
        if sigs:
            on_signal = self.correlator.on_signal
            for sig in sigs:  # (their published_at is the document's)
                outputs.append(sig)
                if observe:
                    outputs.extend(on_signal(state, sig, at=t, published=published))
        if origin is None:
            if on_time:
                outputs.extend(self.correlator.note_timestamp(state, t))
        else:
            et.note_document(state.setdefault("et", et.new_tracker()), origin, t if on_time else None, received)
        return state, outputs

    def process_input(
        self, state: State, item: Document | CheckedInput | float, received: float | None = None
    ) -> tuple[State, list[Output]]:
        """Like process_document, but a checked input that no rule can match is never built into a
        Document: it only moves event time forward, which is all such a document does in the engine.
        A float is such a document already reduced to its event time (a POSIX timestamp) by a reader
        that ran this rule set's JSON line gate (watchfloor.schemas.inputs.EventTime). `received` is the
        time the input was received (clamps future dates); no origin: an in-order stream (a backtest)."""
        if isinstance(item, float):
            t, clamped = et.effective_time(item, received, self.skew)
            return state, [] if clamped else list(self.correlator.note_timestamp(state, t))
        if isinstance(item, Document):
            return self.process_document(
                state, item, received_at=datetime.fromtimestamp(received, UTC) if received is not None else None
            )
        outputs: list[Output] = []
        if self.extractor.may_match(item.title, item.body):
            # As process_document(state, item.build()), building only if a signal comes out.
            sigs = self.extractor.extract(item, screen=False)  # may_match has screened it
            if sigs:
                doc_id = sigs[0].document_id
                t, on_time, outputs = self._arrive(state, doc_id, item.published_at, received, None, item.title)
                if not on_time and outputs:
                    outputs = self.late_reports(outputs, doc_id, sigs, observed=True)
                for sig in sigs:
                    outputs.append(sig)
                    outputs.extend(self.correlator.on_signal(state, sig, at=t))
                if on_time:
                    outputs.extend(self.correlator.note_timestamp(state, t))
                return state, outputs
        t, clamped = et.effective_time(item.ts, received, self.skew)
        if not clamped:
            wm = state["wm"]
            if wm is not None and t < wm - self.lateness:  # late, and no detection reads it: counted, as a document's
                outputs.append(PassedOver(None, ""))  # (its id is a hash of the content: not built for this)
            outputs.extend(self.correlator.note_timestamp(state, t))
        return state, outputs

    def caught_up(self, state: State, mark: CaughtUp) -> list[Output]:
        """Every origin in `mark` delivered all it had: the watermark may move (eventtime.py)."""
        tracker = state.setdefault("et", et.new_tracker())
        candidate = et.caught_up(tracker, mark.origins, mark.at.timestamp(), self.idle_after, state["wm"])
        if candidate is None:
            return []
        return list(self.correlator.advance_to(state, candidate))

    def late_reports(
        self, reports: list[Output], doc_id: str, sigs: Sequence[Signal], *, observed: bool, origin: str | None = None
    ) -> list[Output]:
        """A document's event-time `reports` (of `_arrive`), its late report passed over (`PassedOver`) when no
        detection reads the document: none of its signals is one a detection takes (`Correlator.routes`: the signal's
        name, a modality, `where` and `except_cues` a ref accepts, and the values its `group_by` needs), and it is no
        edition whose correction may withdraw what its item's earlier versions said. `observed`: whether its signals
        reach the correlator at all (not for an edition beyond its item's lateness, whose own report says why). Such a
        report would change no alert in any runtime, and a backfill has thousands. A future date stays a report."""
        if observed and (EDITION_MARK in doc_id or any(self.correlator.routes(s) for s in sigs)):
            return reports
        return [
            PassedOver(origin, doc_id) if isinstance(r, DeadLetter) and r.reason.startswith(LATE) else r
            for r in reports
        ]

    def late_edit(self, doc: Document, t: float) -> bool:
        """Whether `doc`, an edition of a feed item at effective time `t`, comes more than the lateness after its
        item's own date: then it changes no alert (corrections.beyond_lateness), in every runtime."""
        return EDITION_MARK in doc.id and beyond_lateness(doc.metadata, t, self.lateness)

    def late_edit_report(self, doc: Document, t: float, origin: str | None, line: int | None = None) -> DeadLetter:
        """The event-time report of a late edit (late_edit): said where late reports are, so a desk sees why a
        publisher's correction changed nothing."""
        item = edition_of(doc.id) or doc.id
        return DeadLetter(
            origin=origin or f"document:{doc.id}",
            line=line if origin else None,
            field="published_at",
            reason=late_edit_reason(doc.id, item, doc.metadata, t, str(self.rules.lateness)),
            raw=doc.title[:500],
            stage="event-time",
        )

    def arrival(
        self,
        doc: Document,
        origin: str | None,
        received_at: datetime | None,
        watermark: float | None,
        line: int | None = None,
    ) -> tuple[float, bool, list[Output]]:
        """For a runtime that keeps the watermark itself (the Kafka extract agent): the document's effective
        time, whether it may move a watermark, and its event-time reports against `watermark` (naming `line`, its
        line in `origin`, as process_document's do)."""
        received = received_at.timestamp() if received_at is not None else None
        return self._arrive({"wm": watermark}, doc.id, doc.published_at, received, origin, doc.title, line)

    # -- event time of one document ------------------------------------------------------------------------
    def _arrive(
        self,
        state: State,
        doc_id: str,
        published_at: datetime,
        received: float | None,
        origin: str | None,
        title: str,
        line: int | None = None,
    ) -> tuple[float, bool, list[Output]]:
        """The document's effective time, whether it may move a watermark (not clamped, not late), and the
        reports of a clamped future date, of a date at the Unix epoch or of lateness (processed either way: a report
        is never a drop), each naming where the document was read: its origin and, when known, its line there (as
        an ingest dead letter names a line)."""
        published = published_at.timestamp()
        t, clamped = et.effective_time(published, received, self.skew)
        reports: list[Output] = []
        where = origin or f"document:{doc_id}"  # (not on the hot path: only for a report)
        line = line if origin else None  # (a line of no named file says nothing)
        if clamped:
            reports.append(
                DeadLetter(
                    origin=where,
                    line=line,
                    field="published_at",
                    reason=future_dated_reason(doc_id, published_at, t, self.policy.skew),
                    raw=title[:500],
                    stage="event-time",
                )
            )
        wm = state["wm"]
        late = wm is not None and t < wm - self.lateness
        # One report per document. A document dated at the Unix epoch that is also late is reported once, as late,
        # and counted as late (run's per-source line, a backtest's stats.late_documents), not also as epoch-dated:
        # lateness is what changes how it was processed (against the state still held, moving no watermark, its
        # alerts possibly not a backtest's), and what `backtest --from-store` and `rules explain` read from "late:
        # …" reports; the late report says it is dated at the Unix epoch, so the cause is not lost.
        epoch = et.epoch_dated(published)
        if epoch and not late:
            reports.append(
                DeadLetter(
                    origin=where,
                    line=line,
                    field="published_at",
                    reason=epoch_dated_reason(doc_id, published_at),
                    raw=title[:500],
                    stage="event-time",
                )
            )
        if late:
            reports.append(
                DeadLetter(
                    origin=where,
                    line=line,
                    field="published_at",
                    reason=late_reason(doc_id, t, wm - t, str(self.rules.lateness), published_at if epoch else None),
                    raw=title[:500],
                    stage="event-time",
                )
            )
        return t, not (clamped or late), reports

    # -- parts -----------------------------------------------------------------------------------------------
    def extract(self, doc: Document) -> list[Signal]:
        return self.extractor.extract(doc)

    def correlate(self, state: State, sig: Signal) -> Iterable[Output]:
        return self.correlator.on_signal(state, sig)

    def advance(self, state: State, until: datetime) -> tuple[State, list[Output]]:
        """Move event time to `until` (end of a replay): windows that closed fire their absences."""
        return state, list(self.correlator.advance(state, until))


def detections_of(outputs: Iterable[Any]) -> list[Detection]:
    return [o for o in outputs if isinstance(o, Detection)]


def future_dated_reason(doc_id: str, published_at: datetime, received: float, skew: timedelta) -> str:
    """The report of a document dated in the future, processed at its receive time (read by received_time)."""
    return (
        f"dated in the future: document {doc_id} is published {published_at.isoformat()} but was received "
        f"{datetime.fromtimestamp(received, UTC).isoformat()} (allowed skew {skew}); processed at its receive "
        "time, moves no watermark"
    )


EPOCH_DATED = "dated at the Unix epoch"  # how an epoch_dated_reason begins (counted apart from the other reports)


def late_reason(doc_id: str, t: float, behind: float, lateness: str, epoch_dated_at: datetime | None = None) -> str:
    """The report of a document processed `behind` seconds behind the watermark, beyond the allowed lateness. One
    also dated at the Unix epoch (`epoch_dated_at`, its published_at) says so here: it has this report alone,
    counted as late (see Engine._arrive)."""
    epoch = (
        f" It is {EPOCH_DATED} ({epoch_dated_at.isoformat()}), the date a feed or CMS writes for an item it has no "
        "date for."
        if epoch_dated_at is not None
        else ""
    )
    return (
        f"late: document {doc_id} ({datetime.fromtimestamp(t, UTC).isoformat()}) is {et.describe_behind(behind)} "
        f"behind the watermark; allowed lateness is {lateness}.{epoch} Processed against the correlation state still "
        "held: its alerts may differ from a backtest's"
    )


def epoch_dated_reason(doc_id: str, published_at: datetime) -> str:
    """The report of a document dated at the Unix epoch (eventtime.epoch_dated): processed at that date."""
    return (
        f"{EPOCH_DATED}: document {doc_id} is published {published_at.isoformat()}, the date a feed or CMS writes "
        "for an item it has no date for; processed at that date, as dated (its alerts are dated then; a "
        "subscription's max_age keeps them from a channel)"
    )


_FUTURE_DATED = re.compile(r"dated in the future: document (.+?) is published \S+ but was received (\S+) \(")


def received_time(dl: DeadLetter) -> tuple[str, float] | None:
    """(document id, receive time) of a future_dated_reason report; None for any other report. Its signals count
    at that time, not at their published_at: where scoring (scoring/evidence.py) and explain keep them. Kept
    beside the writer of the text, so the two change together."""
    if dl.stage != "event-time":
        return None
    m = _FUTURE_DATED.match(dl.reason)
    if m is None:
        return None
    try:
        return m.group(1), datetime.fromisoformat(m.group(2)).timestamp()
    except ValueError:
        return None
