"""The dispatcher's suppression stage: a silenced alert is recorded, never sent, never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import Notice
from watchfloor.alerts.notifiers.base import Notifier
from watchfloor.alerts.routing import RoutingTable
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.control import Actor, Silence
from watchfloor.schemas.events import Delivery, Detection, EventType, detection_event
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional

NOW = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)


class Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[str] = []

    def send(self, notice: Notice) -> str:
        self.sent.append(notice.alert.id)
        return "ok"


class Table:
    """A routing provider whose table the test changes between cycles."""

    def __init__(self, table: RoutingTable) -> None:
        self.table = table
        self.calls = 0

    def routing(self) -> RoutingTable:
        self.calls += 1
        return self.table


def det(n: int, party: str) -> Detection:
    return Detection(
        id=f"d{n}",
        rule="treaty-ratified",
        title="Parliament approved the pact",
        severity="high",
        group={"party": party},
        fired_at=datetime(2024, 11, 1, tzinfo=UTC) + timedelta(hours=n),
    )


def test_silenced_alert_is_suppressed_with_the_silence_id_and_routing_changes_on_the_next_cycle() -> None:
    store = MemoryStore()
    desk, archive = Recorder("desk"), Recorder("archive")
    notifiers: dict[str, Notifier] = {"desk": desk, "archive": archive}
    quiet = Silence(
        id="sil-rus",
        rule="treaty-ratified",
        group={"party": "RUS"},
        channel="desk",
        starts_at=NOW - timedelta(hours=1),
        ends_at=NOW + timedelta(hours=23),
        by=Actor(via="slack", user="U1", name="alice"),
    )
    table = Table(RoutingTable((Subscription(channel="desk"), Subscription(channel="archive")), (quiet,)))
    dispatcher = AlertDispatcher(store, notifiers, [], now=lambda: NOW, routing=table)
    store.append([detection_event(det(1, "RUS")), detection_event(det(2, "PRK"))])
    assert dispatcher.run_once() == 2
    assert desk.sent == ["d2"]  # RUS silenced on desk only
    assert archive.sent == ["d1", "d2"]
    assert store.delivery_status("d1", "desk") == "suppressed"
    deliveries = [Delivery.model_validate(se.event.payload) for se in store.read(0, types={EventType.DELIVERY.value})]
    (suppressed,) = [d for d in deliveries if d.status == "suppressed"]
    assert (suppressed.alert_id, suppressed.channel, suppressed.detail) == ("d1", "desk", "silenced by sil-rus")
    alerts = [se.event.payload["id"] for se in store.read(0, types={EventType.ALERT.value})]
    assert alerts == ["d1", "d2"]  # the silenced alert is still an alert

    # The next cycle reads the table again: the silence is gone and a new subscription applies.
    table.table = RoutingTable((Subscription(channel="desk", rules=["treaty-ratified"]),))
    store.append([detection_event(det(3, "RUS"))])
    assert dispatcher.run_once() == 1
    assert desk.sent == ["d2", "d3"]
    assert table.calls == 2
    assert dispatcher.run_once() == 0
    assert table.calls == 2  # no detections, no look-up


class RacedStore(MemoryStore):
    """Two dispatchers on one store: the first enqueues its rows, then the second runs its whole intake before the
    first commits (and so the first loses the checkpoint's compare-and-set)."""

    other: AlertDispatcher | None = None

    def commit(self, processor: str, checkpoint: Any, outputs: Any, *, since: int | None = None) -> int:
        if self.other is not None:
            other, self.other = self.other, None
            other.intake()
        return super().commit(processor, checkpoint, outputs, since=since)


def test_a_suppression_is_recorded_whichever_dispatcher_commits_its_intake() -> None:
    store = RacedStore()
    quiet = Silence(
        id="sil-all",
        rule="treaty-ratified",
        starts_at=NOW - timedelta(hours=1),
        ends_at=NOW + timedelta(hours=1),
        by=Actor(via="cli", user="alice"),
    )
    table = Table(RoutingTable((Subscription(channel="desk"),), (quiet,)))
    store.append([detection_event(det(1, "RUS"))])
    first = AlertDispatcher(store, {}, [], now=lambda: NOW, routing=table, owner="A")
    store.other = AlertDispatcher(store, {}, [], now=lambda: NOW, routing=table, owner="B")
    first.intake()
    assert store.delivery_status("d1", "desk") == "suppressed"
    events = [se.event for se in store.read(0, types={EventType.DELIVERY.value})]
    assert [(e.payload["alert_id"], e.payload["status"]) for e in events] == [("d1", "suppressed")]
