"""Embedded runner: drive the engine over the event log, committing outputs and position together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from watchfloor.schemas.events import (
    DOCUMENT_TYPES,
    DeadLetter,
    Detection,
    Event,
    EventType,
    Retraction,
    Signal,
    dead_letter_event,
    detection_event,
    retraction_event,
    signal_event,
)

from .engine import Engine, Output
from .ports import Store, StoredEvent
from .processing import EngineTally, pull_and_process

ENGINE_PROCESSOR = "engine"
# What the engine reads from the log: documents, and the marks producers record when they caught up (event
# time moves at those, so replaying the log moves it exactly as the live run did).
ENGINE_INPUT_TYPES = DOCUMENT_TYPES | {EventType.CAUGHT_UP.value}


def raised_at(event: Event) -> datetime | None:
    """When a detection or retraction that `event` caused was raised, on watchfloor's clock: when the document
    was received, or when the producer that recorded a caught-up mark had caught up. Taken from the log, not
    read from a clock, so a replay stamps the same time; None for documents recorded before receive times."""
    if event.type == EventType.CAUGHT_UP.value:
        return event.time
    return event.received_at


def outputs_to_events(outputs: Sequence[Output], event: Event) -> list[Event]:
    """Engine outputs as log events. Ids are deterministic, so a replayed batch appends nothing new.

    Detections and retractions carry `raised_at(event)` as their receive time (the log got them then): the
    detection -> delivered latency on /metrics counts from it, so the wait before the dispatcher counts too."""
    out: list[Event] = []
    raised = raised_at(event)
    for o in outputs:
        if isinstance(o, Signal):
            out.append(signal_event(o))
        elif isinstance(o, Detection):
            out.append(detection_event(o).model_copy(update={"received_at": raised}))
        elif isinstance(o, Retraction):
            out.append(retraction_event(o).model_copy(update={"received_at": raised}))
        elif isinstance(o, DeadLetter):
            out.append(dead_letter_event(o, event.time))
    return out


class EmbeddedRunner:
    """Reads documents after its checkpoint; one transaction per batch holds outputs, position and state.

    A crash between batches loses nothing (the next run resumes at the saved position with the saved
    state) and repeats nothing (outputs of a re-processed batch have the same ids, so they are skipped)."""

    def __init__(self, store: Store, engine: Engine, *, batch_size: int = 500, name: str = ENGINE_PROCESSOR) -> None:
        self.store = store
        self.engine = engine
        self.batch_size = batch_size
        self.name = name

    def run_once(self, on_batch: Callable[[int], None] | None = None) -> EngineTally:
        """Process what is new in the log (the one pull-and-process loop); the tally of this pass."""
        tally = EngineTally()
        engine = self.engine

        def process(batch: Sequence[StoredEvent], state: dict[str, Any]) -> tuple[dict[str, Any], list[Event]]:
            events: list[Event] = []
            for stored in batch:
                state, outputs = engine.process(state, stored.event)
                if stored.event.type in DOCUMENT_TYPES:
                    tally.documents += 1
                if outputs:
                    tally.count(outputs)
                    events.extend(outputs_to_events(outputs, stored.event))
            return state, events

        pull_and_process(
            self.store,
            self.name,
            ENGINE_INPUT_TYPES,
            process,
            batch_size=self.batch_size,
            restore=engine.restore,
            initial_state=engine.initial_state,
            on_batch=on_batch,
        )
        return tally.finish()

    def backlog(self) -> int:
        """Documents not yet processed (for progress bars)."""
        cp = self.store.load_checkpoint(self.name)
        return len(self.store.read(cp.position, types=ENGINE_INPUT_TYPES, limit=1_000_000))
