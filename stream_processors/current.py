"""The alerts that stand: detections minus those a later revision or retraction withdrew (a projection of the log)."""

from __future__ import annotations

from collections.abc import Iterable

from watchfloor.schemas.events import Detection, Event, EventType, Retraction


def current_alerts(outputs: Iterable[Detection | Retraction | Event]) -> dict[str, Detection]:
    """Alert id -> the detection that stands, from detections and retractions in the order they were raised
    (log order; payload objects or their events, other events ignored).

    A detection with `revises` withdraws the alert it names; a retraction withdraws its alert. An alert can
    be withdrawn and raised again as late reports keep changing its group's history: the last word counts.
    After the input is quiet this equals the backtest's alerts over the same events (docs/architecture.md)."""
    standing: dict[str, Detection] = {}
    for o in outputs:
        if isinstance(o, Event):
            if o.type == EventType.DETECTION.value:
                o = Detection.model_validate(o.payload)
            elif o.type == EventType.RETRACTION.value:
                o = Retraction.model_validate(o.payload)
            else:
                continue
        if isinstance(o, Detection):
            if o.revises is not None:
                standing.pop(o.revises, None)
            standing[o.id] = o
        else:
            standing.pop(o.alert_id, None)
    return standing
