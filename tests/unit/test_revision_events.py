"""Revisions and retractions as events: their ids, and the projection of the alerts that stand."""

from __future__ import annotations

from datetime import UTC, datetime

from watchfloor.schemas.events import (
    CaughtUp,
    Detection,
    EventType,
    Retraction,
    caught_up_event,
    detection_event,
    retraction_event,
)
from watchfloor.stream_processors.current import current_alerts

T = datetime(2024, 10, 24, 10, tzinfo=UTC)


def det(alert_id: str, *, revises: str | None = None, revision: int = 0) -> Detection:
    return Detection(
        id=alert_id,
        rule="treaty-ratified",
        title="t",
        severity="high",
        group={"party": "RUS"},
        fired_at=T,
        revises=revises,
        revision=revision,
    )


def retraction(alert_id: str, revision: int) -> Retraction:
    return Retraction(
        alert_id=alert_id, rule="treaty-ratified", group={"party": "RUS"}, reason="r", revision=revision, at=T
    )


def test_a_detection_raised_in_order_keeps_its_id_as_event_id() -> None:
    assert detection_event(det("a1")).id == "a1"


def test_each_change_of_a_group_is_an_event_of_its_own() -> None:
    """An alert withdrawn and raised again must reach the log again: its event id cannot be the alert id."""
    again = [detection_event(det("a1", revision=n)).id for n in (1, 2)]
    assert len({"a1", *again}) == 3
    assert detection_event(det("a1", revision=2)).payload["id"] == "a1"
    r = retraction_event(retraction("a1", 1))
    assert r.type == EventType.RETRACTION.value == "detection.retracted"
    assert r.id != retraction_event(retraction("a1", 3)).id
    assert r.key == "treaty-ratified"


def test_current_alerts_follow_revisions_and_retractions_in_log_order() -> None:
    outputs = [
        det("a1"),
        det("b1"),
        det("a2", revises="a1", revision=1),  # a late report gave a1's group earlier evidence
        retraction("b1", 1),  # ... and b1 would never have fired
        det("a1", revision=2),  # a later change brought a1 back
        retraction("a2", 2),
    ]
    assert list(current_alerts(outputs)) == ["a1"]
    events = [detection_event(o) if isinstance(o, Detection) else retraction_event(o) for o in outputs]
    events.append(caught_up_event(CaughtUp(at=T, origins=("inbox/a.jsonl",))))  # not an alert: ignored
    assert list(current_alerts(events)) == ["a1"]
    assert current_alerts(events)["a1"].revision == 2
