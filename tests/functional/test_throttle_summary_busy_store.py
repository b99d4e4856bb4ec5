"""A throttle summary is planned in the first pass after its window's detections are taken in, however busy the
store: detections raised in the open window and still pending do not put it off (review 13, F9: planning waited
for a moment with no detection pending at all, which a store written to all the time may never have). One raised
in the ended window and not taken in yet still holds it until intake has it, so that the window has one summary.

Real SQLite on disk and a file channel; the gap between intake and planning, where another writer's detections
land, is made by calling the two steps of a cycle with an append in between.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.functional.delivery_helpers import RETRY, Clock, lines
from tests.functional.test_channel_throttle import SPEC, T0, raised
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.throttle import HELD
from watchfloor.schemas.config import Subscription
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional


def held_three(tmp_path: Path) -> tuple[Store, AlertDispatcher, Clock, Path]:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    archive = tmp_path / "a.jsonl"
    clock = Clock(T0 + timedelta(minutes=10))
    notifiers = {"archive": FileNotifier("archive", archive)}
    d = AlertDispatcher(
        store, notifiers, [Subscription(channel="archive")], RETRY, now=clock, throttles={"archive": SPEC}
    )
    store.append([raised(1, 1), raised(2, 2), raised(3, 3)])
    d.cycle()
    assert store.delivery_status("det0003", "archive") == HELD
    return store, d, clock, archive


def test_detections_of_the_open_window_still_pending_do_not_put_the_summary_off(tmp_path: Path) -> None:
    store, d, clock, archive = held_three(tmp_path)
    for minute in range(60, 65):  # each pass, another writer's detection (raised now) lands after intake
        clock.at = T0 + timedelta(minutes=minute, seconds=30)
        d.intake()
        store.append([raised(minute, minute)])
        if d.plan_summaries():
            break
    else:
        pytest.fail("no summary planned while detections kept arriving")
    assert minute == 60  # the first pass after the window ended
    d.deliverer.run()
    got = lines(archive)
    assert [g["kind"] for g in got][-1] == "digest" and [a["id"] for a in got[-1]["digest"]["alerts"]] == ["det0003"]


def test_a_pending_detection_raised_in_the_ended_window_is_waited_for(tmp_path: Path) -> None:
    store, d, clock, archive = held_three(tmp_path)
    clock.at = T0 + timedelta(minutes=60, seconds=30)
    d.intake()
    store.append([raised(4, 59)])  # received at 07:59, in the log after intake's pass: it will be held in 07:00-08:00
    assert d.plan_summaries() == 0
    d.cycle()  # intake takes it in (held), then the one summary of the window lists both
    got = lines(archive)
    assert [g["kind"] for g in got] == ["alert", "alert", "digest"]
    assert [a["id"] for a in got[-1]["digest"]["alerts"]] == ["det0003", "det0004"]
