"""Helpers for engine tests: build documents and run timelines through a compiled pack."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from watchfloor.schemas.events import DeadLetter, Detection, Document, Signal
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.rulefile import load_rules

DATA = Path(__file__).resolve().parents[1] / "data"
T0 = datetime.fromisoformat("2025-03-01T00:00:00+00:00")


def engine_for(*specs: str) -> Engine:
    _loaded, compiled = load_rules(list(specs))
    return Engine(compiled)


def doc(text: str, *, at: float = 0.0, source: str = "Wire A", title: str = "", doc_id: str | None = None) -> Document:
    """A document published `at` hours after T0."""
    obj = {
        "type": "news.article",
        "published_at": (T0 + timedelta(hours=at)).isoformat(),
        "source": source,
        "title": title,
        "body": text,
    }
    if doc_id:
        obj["id"] = doc_id
    return parse_document(obj)


def reading(engine: Engine, signal: str, *, body: str, title: str = "") -> tuple[str, str | None]:
    """(modality, cue) of the first `signal` the engine makes of one document; fails when it makes none."""
    got = [s for s in engine.extract(doc(body, title=title)) if s.name == signal]
    assert got, f"{signal} not found in {title!r} / {body!r}"
    return got[0].modality, got[0].cue


class Timeline:
    """Feed documents in order; collect what came out."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.state = engine.initial_state()
        self.signals: list[Signal] = []
        self.detections: list[Detection] = []
        self.late: list[DeadLetter] = []

    def feed(self, *docs: Document) -> list[Detection]:
        fired: list[Detection] = []
        for d in docs:
            self.state, outs = self.engine.process_document(self.state, d)
            for o in outs:
                if isinstance(o, Signal):
                    self.signals.append(o)
                elif isinstance(o, Detection):
                    fired.append(o)
                else:
                    self.late.append(o)
        self.detections.extend(fired)
        return fired

    def advance(self, hours: float) -> list[Detection]:
        self.state, outs = self.engine.advance(self.state, T0 + timedelta(hours=hours))
        fired = [o for o in outs if isinstance(o, Detection)]
        self.detections.extend(fired)
        return fired

    def rules_fired(self) -> list[str]:
        return [d.rule for d in self.detections]
