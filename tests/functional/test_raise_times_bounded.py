"""/metrics' raise times (`Activity.raised`) are kept for a day of raise time, not for every alert ever raised: a
delivery sent after its alert's raise time was dropped looks it up in the log by id, as a view started from a
checkpoint does, so the detection -> delivered histogram is the one an unbounded view observes (SQLite store)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from watchfloor.schemas.events import Delivery, Event, EventType, delivery_event
from watchfloor.stream_processors.stores.sql import SqlStore
from watchfloor.web.activity import ActivityView, Latencies

pytestmark = pytest.mark.functional

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()
ALERTS = 3000
EVERY = 120.0  # seconds of raise time between alerts: 3,000 of them span ~4 days, 720 a day
LATE = {0: 4 * 86_400.0, 7: 2 * 86_400.0, 1500: 3 * 3600.0}  # alert -> sent this long after it was raised


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _sent(key: str, channel: str, at: float) -> Event:
    return delivery_event(Delivery(alert_id=key, channel=channel, status="sent", at=_at(at)))


def timeline(store: SqlStore, upto: int, start: int = 0) -> None:
    """Alerts `start`..`upto`-1, each raised (a detection with its receive time) and sent 2 s later, but those of
    LATE, whose sends come in the log once the time comes; a retraction (raised with alert 3, sent 2 days on) and a
    digest (no raise time in the log) too."""
    for i in range(start, upto):
        raised = T + i * EVERY
        events = [
            Event(
                id=f"d{i}",
                type=EventType.DETECTION.value,
                time=_at(raised),
                key="g",
                received_at=_at(raised),
                payload={"rule": "r"},
            )
        ]
        if i == 3:
            events.append(
                Event(
                    id="x3",
                    type=EventType.RETRACTION.value,
                    time=_at(raised),
                    key="g",
                    received_at=_at(raised),
                    payload={},
                )
            )
        if i not in LATE:
            events.append(_sent(f"d{i}", "desk", raised + 2))
        for j, after in LATE.items():  # a late send, in the log when its time comes
            if T + j * EVERY + after <= raised < T + j * EVERY + after + EVERY:
                events.append(_sent(f"d{j}", "desk", T + j * EVERY + after))
        if i == 3 + int(2 * 86_400 / EVERY):
            events.append(_sent("x3", "desk", T + 3 * EVERY + 2 * 86_400))
        if i == 2000:
            events.append(_sent("digest-1", "desk", raised))
        store.append(events)


def created(keys: object) -> dict[tuple[str, str], float]:
    return {("digest-1", "desk"): T + 2000 * EVERY - 60}  # the digest's row: made a minute before it was sent


def hist(view: ActivityView) -> tuple[list[int], float, int]:
    view.refresh()
    got: Latencies = view.latencies(created)
    return got.counts, round(got.total, 6), got.n


def test_raise_times_stay_bounded_and_the_histogram_is_the_unbounded_one(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        unbounded = ActivityView(store)
        unbounded.activity.keep_raised = None
        # raise times dropped from 64 held, not RAISED_PRUNE_MIN (4096): this log is a few thousand alerts
        bounded = ActivityView(store, raised_prune_min=64)
        checkpointed = ActivityView(store, store, save_after=1, raised_prune_min=64)
        # each read type by type (a long stretch's way)
        by_type = ActivityView(store, by_type_after=1, raised_prune_min=64)
        sizes = []
        for upto in range(500, ALERTS + 1, 500):  # scraped as the log grows
            timeline(store, upto, upto - 500)
            want = hist(unbounded)
            assert hist(bounded) == want
            assert hist(checkpointed) == want
            assert hist(by_type) == want
            sizes.append(len(bounded.activity.raised))
        restarted = ActivityView(store, store, raised_prune_min=64)  # from the last checkpoint: the same
        assert hist(restarted) == want
        _counts, total, n = want
        # every send but the digest's is timed from its alert's raise time: the late ones too
        assert n == ALERTS + 2
        assert total == pytest.approx(2 * (ALERTS - len(LATE)) + sum(LATE.values()) + 2 * 86_400 + 60)
        assert len(unbounded.activity.raised) == ALERTS + 1
        assert max(sizes) < 2 * (86_400 / EVERY) + 64  # about a day of alerts (x2 before a drop), not all of them
        assert bounded.activity.pruned and by_type.activity.pruned and not bounded.activity.lookup
        assert len(by_type.activity.raised) < 2 * (86_400 / EVERY) + 64
    finally:
        store.close()
