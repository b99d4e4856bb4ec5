"""The pure engine: (state, event) -> (state, outputs). No I/O, no clock reads; every runtime calls this."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from watchfloor.schemas.events import (
    DOCUMENT_TYPES,
    DeadLetter,
    Detection,
    Document,
    Event,
    EventType,
    Signal,
)
from watchfloor.schemas.inputs import CheckedInput
from watchfloor.schemas.rules import RulePack

from .compiler import CompiledRules, compile_packs
from .correlate import Correlator, State, new_state
from .extract import Extractor

Output = Signal | Detection | DeadLetter


class Engine:
    """Extract then correlate. The state is plain JSON; the engine owns it between calls."""

    def __init__(self, rules: CompiledRules) -> None:
        self.rules = rules
        self.extractor = Extractor(rules)
        self.correlator = Correlator(rules)

    @classmethod
    def from_packs(cls, packs: Sequence[RulePack]) -> Engine:
        return cls(compile_packs(packs))

    @staticmethod
    def initial_state() -> State:
        return new_state()

    def process(self, state: State, event: Event) -> tuple[State, list[Output]]:
        """One event in, its outputs out. Documents are extracted and correlated; signals correlated."""
        if event.type in DOCUMENT_TYPES:
            return self.process_document(state, Document.model_validate(event.payload))
        if event.type == EventType.SIGNAL.value:
            return state, list(self.correlate(state, Signal.model_validate(event.payload)))
        return state, []  # detections, alerts, deliveries: not the engine's input

    def process_document(self, state: State, doc: Document) -> tuple[State, list[Output]]:
        outputs: list[Output] = []
        for sig in self.extractor.extract(doc):
            outputs.append(sig)
            outputs.extend(self.correlator.on_signal(state, sig))
        outputs.extend(self.correlator.note_time(state, doc.published_at))
        return state, outputs

    def process_input(self, state: State, item: Document | CheckedInput | float) -> tuple[State, list[Output]]:
        """Like process_document, but a checked input that no rule can match is never built into a
        Document: it only moves event time forward, which is all such a document does in the engine.
        A float is such a document already reduced to its event time (a POSIX timestamp) by a reader
        that ran this rule set's JSON line gate (watchfloor.schemas.inputs.EventTime)."""
        if isinstance(item, float):
            return state, list(self.correlator.note_timestamp(state, item))
        if isinstance(item, Document):
            return self.process_document(state, item)
        outputs: list[Output] = []
        if self.extractor.may_match(item.title, item.body):
            # As process_document(state, item.build()), building only if a signal comes out.
            for sig in self.extractor.extract(item):
                outputs.append(sig)
                outputs.extend(self.correlator.on_signal(state, sig))
        outputs.extend(self.correlator.note_timestamp(state, item.ts))
        return state, outputs

    def extract(self, doc: Document) -> list[Signal]:
        return self.extractor.extract(doc)

    def correlate(self, state: State, sig: Signal) -> Iterable[Output]:
        return self.correlator.on_signal(state, sig)

    def advance(self, state: State, until: datetime) -> tuple[State, list[Output]]:
        """Move event time to `until` (end of a replay): windows that closed fire their absences."""
        return state, list(self.correlator.advance(state, until))


def detections_of(outputs: Iterable[Any]) -> list[Detection]:
    return [o for o in outputs if isinstance(o, Detection)]
