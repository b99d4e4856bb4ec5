"""Backtest replay: documents in event-time order through the same engine; never sleeps or notifies."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from schemas.events import DeadLetter, Detection, Document, Signal
from schemas.inputs import CheckedInput

from .engine import Engine


@dataclass
class ReplayResult:
    documents: int = 0
    signals: int = 0
    detections: list[Detection] = field(default_factory=list)
    late: list[DeadLetter] = field(default_factory=list)
    signals_by_name: dict[str, int] = field(default_factory=dict)


def replay(
    documents: Iterable[Document | CheckedInput],
    engine: Engine,
    *,
    order: str = "event-time",
    on_document: Callable[[], None] | None = None,
) -> ReplayResult:
    """Run documents through the engine. `order="event-time"` sorts by published_at (stable), which is
    what a live system that saw every report on time would have done; `order="log"` keeps input order,
    exactly as the embedded runner saw it. Checked inputs (schemas.inputs.CheckedInput) are built into
    Documents only when a rule can match them; the alerts are the same either way (tested)."""
    docs = list(documents)
    if order == "event-time":
        docs.sort(key=lambda d: d.published_at)
    elif order != "log":
        raise ValueError(f"unknown order {order!r} (event-time or log)")
    result = ReplayResult()
    state: dict[str, Any] = engine.initial_state()
    for doc in docs:
        state, outputs = engine.process_input(state, doc)
        result.documents += 1
        for o in outputs:
            if isinstance(o, Signal):
                result.signals += 1
                result.signals_by_name[o.name] = result.signals_by_name.get(o.name, 0) + 1
            elif isinstance(o, Detection):
                result.detections.append(o)
            elif isinstance(o, DeadLetter):
                result.late.append(o)
        if on_document is not None:
            on_document()
    return result


def detection_to_json(d: Detection) -> dict[str, Any]:
    """The backtest JSON shape of one alert (DESIGN §6)."""
    return {
        "id": d.id,
        "rule": d.rule,
        "title": d.title,
        "fired_at": d.fired_at.isoformat(),
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
            }
            for e in d.evidence
        ],
    }
