"""Archive sink on the real broker: topics -> SQL store, poison records dead-lettered, then replayable."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("kafka")

from kafka import KafkaProducer

from watchfloor.backtest import documents_from_store
from watchfloor.schemas.events import EventType, document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.kafka.archive import KafkaArchive
from watchfloor.stream_processors.kafka.codec import encode_event
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher
from watchfloor.stream_processors.replay import replay
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.integration
STORY = Path(__file__).resolve().parents[1] / "data" / "events" / "treaty_story.jsonl"


@pytest.fixture
def prefix(kafka_admin) -> Iterator[str]:  # type: ignore[no-untyped-def]
    p = f"wf-archive-{uuid.uuid4().hex[:8]}"
    yield p
    try:
        kafka_admin.delete_topics(Topics(p).all(), timeout_ms=30_000)
    except Exception as exc:  # best effort
        print(f"could not delete topics of {p}: {exc!r}")


def test_archive_then_backtest_from_store(kafka_bootstrap: str, prefix: str, tmp_path: Path) -> None:
    docs = [parse_document(json.loads(line)) for line in STORY.read_text().splitlines()]
    with KafkaPublisher(kafka_bootstrap, prefix, spool_path=tmp_path / "spool.jsonl") as pub:
        pub.ensure_topics()
        assert pub.publish([document_event(d) for d in docs]).spooled == 0
    raw = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    raw.send(Topics(prefix).documents, b"not json at all").get(timeout=30)
    raw.close()

    store = SqlStore(f"sqlite:///{tmp_path / 'archive.db'}")
    archive = KafkaArchive(kafka_bootstrap, store, topic_prefix=prefix, group_id=f"{prefix}-archive")
    deadline = time.monotonic() + 60
    while store.count(types={"news.article"}) < len(docs) or store.count(types={EventType.DEAD_LETTER.value}) < 1:
        assert time.monotonic() < deadline, "archive did not catch up"
        archive.poll_once(500)
    archive.close()
    assert store.count(types={"news.article"}) == len(docs)
    dead = store.read(0, types={EventType.DEAD_LETTER.value})
    assert len(dead) == 1 and "not JSON" in dead[0].event.payload["reason"]
    assert store.count(types={"watermark"}) == 0

    # A second archiver of the same group starts after the committed offsets: nothing again.
    again = KafkaArchive(kafka_bootstrap, store, topic_prefix=prefix, group_id=f"{prefix}-archive")
    assert sum(again.poll_once(2000).archived for _ in range(2)) == 0
    again.close()

    # History replays through a rule set exactly as the files do.
    _loaded, compiled = load_rules(["builtin:dprk_russia"])
    engine = Engine(compiled)
    from_store = replay(documents_from_store(store), engine).detections
    from_files = replay(docs, engine).detections
    store.close()
    assert [d.id for d in from_store] == [d.id for d in from_files] and from_files


def test_a_record_no_store_can_keep_is_a_dead_letter_and_the_others_are_archived(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    """Records another producer wrote: valid envelopes that no store can keep (a NUL in the id, a payload
    nested 300 and 1,000 deep). Each failed its whole batch on every retry, so the archive stood still."""
    docs = [parse_document(json.loads(line)) for line in STORY.read_text().splitlines()]
    with KafkaPublisher(kafka_bootstrap, prefix, spool_path=tmp_path / "spool.jsonl") as pub:
        pub.ensure_topics()
    good = [encode_event(document_event(d)) for d in docs]
    nul = encode_event(document_event(docs[0])).replace(f'"id":"{docs[0].id}"'.encode(), b'"id":"doc\\u0000nul"', 1)

    def deep(depth: int) -> bytes:
        nested = b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)
        return (
            encode_event(document_event(docs[1]))
            .replace(f'"id":"{docs[1].id}"'.encode(), f'"id":"deep-{depth}"'.encode(), 1)
            .replace(b'"payload":{', b'"payload":{"deep":' + nested + b",", 1)
        )

    poison = [nul, deep(300), deep(1000)]
    raw = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for i, value in enumerate(good):
        raw.send(Topics(prefix).documents, value, partition=0)
        if i < len(poison):
            raw.send(Topics(prefix).documents, poison[i], partition=0)
    raw.flush(timeout=30)
    raw.close()

    store = SqlStore(f"sqlite:///{tmp_path / 'archive.db'}")
    archive = KafkaArchive(kafka_bootstrap, store, topic_prefix=prefix, group_id=f"{prefix}-archive")
    deadline = time.monotonic() + 60
    while store.count(types={"news.article", "official.statement"}) < len(docs):
        assert time.monotonic() < deadline, "archive did not catch up"
        archive.poll_once(500)
    archive.close()
    dead = [se.event.payload for se in store.read(0, types={EventType.DEAD_LETTER.value})]
    store.close()
    assert sorted((d["field"], d["origin"].split("@")[0]) for d in dead) == [
        ("id", f"kafka:{Topics(prefix).documents}[0]"),
        ("payload", f"kafka:{Topics(prefix).documents}[0]"),
        ("payload", f"kafka:{Topics(prefix).documents}[0]"),
    ]
    assert all(d["reason"].startswith("no store can keep this event: ") and d["stage"] == "archive" for d in dead)
    assert any("NUL" in d["reason"] for d in dead)
