"""The outbox relay forwards each stored document once, in log order, and resumes from its checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from watchfloor.producers.relay import KafkaRelay
from watchfloor.schemas.events import Event, document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.stores.memory import MemoryStore


class RecordingPublisher:
    def __init__(self, fail_on: int | None = None) -> None:
        self.sent: list[str] = []
        self.calls = 0
        self.fail_on = fail_on

    def append(self, events: Sequence[Event]) -> int:
        self.calls += 1
        if self.fail_on == self.calls:
            raise ConnectionError("broker gone")
        self.sent.extend(e.id for e in events)
        return len(events)


def docs(n: int) -> list[Event]:
    return [
        document_event(
            parse_document(
                {
                    "type": "news.article",
                    "id": f"d{i}",
                    "published_at": datetime(2024, 1, 1, tzinfo=UTC).isoformat(),
                    "source": "S",
                    "title": f"item {i}",
                }
            )
        )
        for i in range(n)
    ]


def test_relays_each_document_once_in_order_and_skips_other_events() -> None:
    store = MemoryStore()
    store.append(docs(5))
    pub = RecordingPublisher()
    relay = KafkaRelay(store, pub, batch_size=2)
    assert relay.run_once().relayed == 5
    assert relay.run_once().relayed == 0
    store.append(docs(7)[5:])
    relay.run_once()
    assert pub.sent == [f"d{i}" for i in range(7)]


def test_failure_keeps_position_so_nothing_is_lost() -> None:
    store = MemoryStore()
    store.append(docs(6))
    pub = RecordingPublisher(fail_on=2)
    relay = KafkaRelay(store, pub, batch_size=2)
    try:
        relay.run_once()
    except ConnectionError:
        pass
    assert pub.sent == ["d0", "d1"]
    relay.run_once()
    assert pub.sent == [f"d{i}" for i in range(6)]
