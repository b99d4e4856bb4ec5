"""Embedded runner: drive the engine over the event log, committing outputs and position together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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
from .ports import Checkpoint, Store

ENGINE_PROCESSOR = "engine"
# What the engine reads from the log: documents, and the marks producers record when they caught up (event
# time moves at those, so replaying the log moves it exactly as the live run did).
ENGINE_INPUT_TYPES = DOCUMENT_TYPES | {EventType.CAUGHT_UP.value}


def outputs_to_events(outputs: Sequence[Output], event: Event) -> list[Event]:
    """Engine outputs as log events. Ids are deterministic, so a replayed batch appends nothing new."""
    out: list[Event] = []
    for o in outputs:
        if isinstance(o, Signal):
            out.append(signal_event(o))
        elif isinstance(o, Detection):
            out.append(detection_event(o))
        elif isinstance(o, Retraction):
            out.append(retraction_event(o))
        elif isinstance(o, DeadLetter):
            out.append(dead_letter_event(o, event.time))
    return out


@dataclass
class RunStats:
    documents: int = 0
    signals: int = 0
    detections: list[Detection] = field(default_factory=list)  # raised, revisions included
    retractions: list[Retraction] = field(default_factory=list)
    dead_letters: int = 0  # event-time reports included (late, dated in the future)


class EmbeddedRunner:
    """Reads documents after its checkpoint; one transaction per batch holds outputs, position and state.

    A crash between batches loses nothing (the next run resumes at the saved position with the saved
    state) and repeats nothing (outputs of a re-processed batch have the same ids, so they are skipped)."""

    def __init__(self, store: Store, engine: Engine, *, batch_size: int = 500, name: str = ENGINE_PROCESSOR) -> None:
        self.store = store
        self.engine = engine
        self.batch_size = batch_size
        self.name = name

    def run_once(self, on_batch: Callable[[int], None] | None = None) -> RunStats:
        stats = RunStats()
        cp = self.store.load_checkpoint(self.name)
        state = self.engine.restore(cp.state) if cp.state is not None else self.engine.initial_state()
        position = cp.position
        while True:
            batch = self.store.read(position, types=ENGINE_INPUT_TYPES, limit=self.batch_size)
            if not batch:
                break
            events: list[Event] = []
            for stored in batch:
                state, outputs = self.engine.process(state, stored.event)
                if stored.event.type in DOCUMENT_TYPES:
                    stats.documents += 1
                for o in outputs:
                    if isinstance(o, Signal):
                        stats.signals += 1
                    elif isinstance(o, Detection):
                        stats.detections.append(o)
                    elif isinstance(o, Retraction):
                        stats.retractions.append(o)
                    else:
                        stats.dead_letters += 1
                events.extend(outputs_to_events(outputs, stored.event))
            position = batch[-1].position
            self.store.commit(self.name, Checkpoint(position, state), events)
            if on_batch is not None:
                on_batch(len(batch))
        return stats

    def backlog(self) -> int:
        """Documents not yet processed (for progress bars)."""
        cp = self.store.load_checkpoint(self.name)
        return len(self.store.read(cp.position, types=ENGINE_INPUT_TYPES, limit=1_000_000))
