"""The status page's activity (`run --serve`, `serve`) keeps the deliveries of the alerts it shows, not of every
alert ever delivered: `Activity.latest` held one entry per (alert, channel) for the life of the process, so a
months-long `run --serve` grew by one per alert (outside trial 18, M3). The page shows the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchfloor.schemas.events import Alert, Delivery, Detection, alert_event, delivery_event, detection_event
from watchfloor.stream_processors.ports import StoredEvent
from watchfloor.web.activity import RECENT_ALERTS, Activity, delivery_key

T0 = datetime(2023, 1, 1, tzinfo=UTC)


def _alert(i: int) -> Alert:
    det = Detection(id=f"a{i:06d}", rule="r", title="t", severity="medium", fired_at=T0 + timedelta(minutes=i))
    return Alert(id=det.id, detection=det, channels=("desk", "archive"))


def _feed(activity: Activity, n: int) -> None:
    pos = 0
    for i in range(n):
        alert = _alert(i)
        pos += 1
        activity.apply(StoredEvent(pos, alert_event(alert)))
        key = delivery_key(alert.detection.model_dump(mode="json"), alert.id)
        for ch in alert.channels:
            pos += 1
            d = Delivery(alert_id=key, channel=ch, status="sent", attempts=1, detail=f"ok {i}", at=T0)
            activity.apply(StoredEvent(pos, delivery_event(d)))


def test_deliveries_are_kept_for_the_alerts_shown_only() -> None:
    activity = Activity()
    _feed(activity, RECENT_ALERTS * 5)
    assert len(activity.recent) == RECENT_ALERTS
    assert len(activity.latest) <= RECENT_ALERTS  # was RECENT_ALERTS * 5: one per alert ever delivered
    assert len(activity.shown) <= RECENT_ALERTS
    for row in activity.recent:  # every row shown still has both channels' latest delivery
        got = activity.latest[row.key]
        assert set(got) == {"desk", "archive"}
        assert got["desk"][1] == f"ok {int(row.id[1:])}"


def test_a_revision_that_keeps_the_alert_id_is_a_revision_in_place_not_a_reinstatement() -> None:
    """Review of ef3de3f: a revision of a standing alert can keep its id (the same evidence at another point:
    Detection.revises is its own id); the activity's row for it said "(reinstated)", as for an alert withdrawn and
    raised again. A raising again after a withdrawal (revises another id, or none) is still one."""
    activity = Activity()
    first = _alert(1)
    activity.apply(StoredEvent(1, alert_event(first)))
    again = first.detection.model_copy(update={"revision": 1, "revises": first.id, "fired_at": T0})
    activity.apply(StoredEvent(2, detection_event(again)))
    back = _alert(2)
    activity.apply(StoredEvent(3, alert_event(back)))
    reinstated = back.detection.model_copy(update={"revision": 2, "revises": "another"})
    activity.apply(StoredEvent(4, detection_event(reinstated)))
    rows = {(r.id, r.key): r for r in activity.recent}
    assert len(rows) == 4
    assert rows[(first.id, delivery_key(again.model_dump(mode="json"), first.id))].in_place
    assert not rows[(back.id, delivery_key(reinstated.model_dump(mode="json"), back.id))].in_place
    # kept in the checkpoint
    restored = Activity.from_state(activity.to_state())
    assert [r.in_place for r in restored.recent] == [r.in_place for r in activity.recent]
