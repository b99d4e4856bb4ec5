"""The status page's activity (`run --serve`, `serve`) keeps the deliveries of the alerts it shows, not of every
alert ever delivered: `Activity.latest` held one entry per (alert, channel) for the life of the process, so a
months-long `run --serve` grew by one per alert (outside trial 18, M3). The page shows the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchfloor.schemas.events import Alert, Delivery, Detection, alert_event, delivery_event
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
