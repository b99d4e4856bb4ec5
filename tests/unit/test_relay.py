"""The outbox relay forwards each stored document once, in log order, and resumes from its checkpoint."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from watchfloor.producers.relay import KafkaRelay
from watchfloor.schemas.events import Event, document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.engine.engine import EPOCH_DATED
from watchfloor.stream_processors.stores.memory import MemoryStore


class RecordingPublisher:
    def __init__(self, fail_on: int | None = None) -> None:
        self.sent: list[str] = []
        self.resent: list[str] = []  # the ids the relay said it sends again (`produce --resend`)
        self.calls = 0
        self.fail_on = fail_on

    def append(self, events: Sequence[Event], resent: Collection[str] = ()) -> int:
        self.calls += 1
        if self.fail_on == self.calls:
            raise ConnectionError("broker gone")
        self.sent.extend(e.id for e in events)
        self.resent.extend(e.id for e in events if e.id in resent)
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


def dated(
    doc_id: str,
    published: datetime,
    received: datetime,
    origin: str = "file:inbox/news.jsonl",
    line: int | None = None,
) -> Event:
    doc = parse_document(
        {"type": "news.article", "id": doc_id, "published_at": published.isoformat(), "source": "S", "title": doc_id}
    )
    return document_event(doc, origin=origin, received_at=received, line=line)


def test_documents_dated_beyond_the_skew_are_reported_once_when_relayed() -> None:
    """Outside trial 27, F3: `produce` said nothing of a report dated 2099, which the workers count at its receive
    time (the newest of its group). The relay reports each such document it relays, once, as the engine words it, with
    its line in its file (trial 30, F7: as an ingest dead letter names it)."""
    received = datetime(2024, 6, 20, 12, tzinfo=UTC)
    store = MemoryStore()
    store.append(
        [
            dated("on-time", datetime(2024, 6, 20, 11, tzinfo=UTC), received),
            dated("in-skew", datetime(2024, 6, 20, 12, 50, tzinfo=UTC), received),  # within the default hour
            dated("far", datetime(2099, 1, 1, tzinfo=UTC), received, line=3),
        ]
    )
    relay = KafkaRelay(store, RecordingPublisher(), batch_size=2)
    stats = relay.run_once()
    assert stats.relayed == 3
    assert [(origin, line) for origin, line, _ in stats.future_dated] == [("file:inbox/news.jsonl", 3)]
    reason = stats.future_dated[0][2]
    assert reason.startswith("dated in the future: document far is published 2099-01-01T00:00:00+00:00")
    assert "received 2024-06-20T12:00:00+00:00" in reason
    assert relay.run_once().future_dated == []  # said once: the next pass relays nothing new


def test_documents_dated_at_the_unix_epoch_are_reported_when_relayed() -> None:
    """Trial 33, a leftover: `run` says a document dated 1970-01-01 (a missing date read as 0), `produce` did not."""
    received = datetime(2024, 6, 20, 12, tzinfo=UTC)
    store = MemoryStore()
    store.append(
        [
            dated("on-time", datetime(2024, 6, 20, 11, tzinfo=UTC), received),
            dated("zero", datetime(1970, 1, 1, tzinfo=UTC), received, line=2),
        ]
    )
    stats = KafkaRelay(store, RecordingPublisher()).run_once()
    assert [(origin, line) for origin, line, _ in stats.future_dated] == [("file:inbox/news.jsonl", 2)]
    assert stats.future_dated[0][2].startswith(EPOCH_DATED), stats.future_dated


def test_a_failed_batch_reports_its_future_dated_documents_when_it_is_sent() -> None:
    received = datetime(2024, 6, 20, 12, tzinfo=UTC)
    store = MemoryStore()
    store.append([dated("far", datetime(2099, 1, 1, tzinfo=UTC), received)])
    relay = KafkaRelay(store, RecordingPublisher(fail_on=1))
    try:
        relay.run_once()
    except ConnectionError:
        pass
    stats = relay.run_once()
    assert [reason.split(" is ")[0] for _, _, reason in stats.future_dated] == ["dated in the future: document far"]
