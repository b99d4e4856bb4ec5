"""Archive sink on the real broker: topics -> SQL store, poison records dead-lettered, then replayable."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("kafka")

from kafka import KafkaProducer

from watchfloor.backtest import documents_from_store
from watchfloor.schemas.events import EventType, document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.kafka.archive import ArchiveStats, KafkaArchive
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
    # The workers' stage: a bad documents record is one dead letter of stage `ingest`, whether a worker or the
    # archive read it first (outside trial 60, MED-2: it was `archive` when the archive came first).
    assert dead[0].event.payload["stage"] == "ingest"
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


def correlate_records(bootstrap: str, prefix: str, tmp_path: Path, per_partition: int) -> dict[int, list[bytes]]:
    """The topics, and `per_partition` records on each correlate partition (values and headers of our own: the
    archive keeps them undecoded, as the correlators read them)."""
    with KafkaPublisher(bootstrap, prefix, spool_path=tmp_path / "spool.jsonl") as pub:
        pub.ensure_topics()
    raw = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    sent: dict[int, list[bytes]] = {}
    for p in range(3):
        for i in range(per_partition):
            value = b'{"record": %d, "partition": %d}' % (i, p)
            raw.send(Topics(prefix).correlate, value, partition=p, headers=[("wf-origin", b"%d:%d:0:0" % (p, i))])
            sent.setdefault(p, []).append(value)
    raw.flush(timeout=30)
    raw.close()
    return sent


def archive_correlate(archive: KafkaArchive, store: SqlStore, topic: str, want: int) -> list[ArchiveStats]:
    got: list[ArchiveStats] = []
    deadline = time.monotonic() + 60
    while sum(store.record_positions(topic).values()) < want:
        assert time.monotonic() < deadline, store.record_positions(topic)
        got.append(archive.poll_once(500))
    return got


def test_the_correlate_records_are_kept_once_from_the_stores_position(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    """A crash between the store's commit and the consumer's leaves the group's offsets behind: the archive starts
    the correlate partitions at the store's position, so nothing is read twice; a new store on the same group (whose
    offsets are past every record) gets the whole topic."""
    sent = correlate_records(kafka_bootstrap, prefix, tmp_path, 5)
    topic = Topics(prefix).correlate
    store = SqlStore(f"sqlite:///{tmp_path / 'archive.db'}")
    crashed = KafkaArchive(kafka_bootstrap, store, topic_prefix=prefix, records=store)

    def crash() -> None:
        raise RuntimeError("killed before the commit")

    crashed.consumer.commit = crash
    with pytest.raises(RuntimeError):
        archive_correlate(crashed, store, topic, 15)
    crashed.close()  # (no commit on close: the archive commits by hand, after the store)
    assert store.record_positions(topic) == {0: 5, 1: 5, 2: 5}
    for p, values in sent.items():
        kept = store.read_records(topic, p)
        assert [r.value for r in kept] == values and [r.offset for r in kept] == list(range(5))
        assert [dict(r.headers)["wf-origin"] for r in kept] == [b"%d:%d:0:0" % (p, i) for i in range(5)]

    from kafka import TopicPartition

    again = KafkaArchive(kafka_bootstrap, store, topic_prefix=prefix, records=store)
    # (the group has no offsets: without the store's position the consumer would start at the first record)
    assert [again.consumer.committed(TopicPartition(topic, p)) for p in range(3)] == [None, None, None]
    got = [again.poll_once(500)]
    deadline = time.monotonic() + 60
    while again.assigned().get(topic) != 3:
        assert time.monotonic() < deadline, again.assigned()
        got.append(again.poll_once(500))
    got += [again.poll_once(500) for _ in range(4)]
    # started at the store's position: the last record kept read again (the same: the same topic), nothing new
    assert sum(s.correlate for s in got) == 3 and sum(s.kept for s in got) == 0
    assert [again.consumer.committed(TopicPartition(topic, p)) for p in range(3)] == [5, 5, 5]  # past everything
    again.close()
    store.close()

    fresh = SqlStore(f"sqlite:///{tmp_path / 'fresh.db'}")  # the same group, whose offsets are past everything
    other = KafkaArchive(kafka_bootstrap, fresh, topic_prefix=prefix, records=fresh)
    stats = archive_correlate(other, fresh, topic, 15)
    other.close()
    assert sum(s.kept for s in stats) == 15
    assert {p: [r.value for r in fresh.read_records(topic, p)] for p in range(3)} == sent
    fresh.close()


def test_records_gone_before_the_archive_read_them_are_said(
    kafka_bootstrap: str, kafka_admin: Any, prefix: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from kafka import TopicPartition

    correlate_records(kafka_bootstrap, prefix, tmp_path, 5)
    topic = Topics(prefix).correlate
    kafka_admin.delete_records({TopicPartition(topic, 1): 3}, timeout_ms=30_000)  # what retention does
    store = SqlStore(f"sqlite:///{tmp_path / 'archive.db'}")
    archive = KafkaArchive(kafka_bootstrap, store, topic_prefix=prefix, records=store)
    with caplog.at_level("WARNING", logger="watchfloor.stream_processors.kafka.archive"):
        archive_correlate(archive, store, topic, 15)
    archive.close()
    assert [r.offset for r in store.read_records(topic, 1)] == [3, 4]
    said = [r.getMessage() for r in caplog.records if "were gone" in r.getMessage()]
    assert said == [
        f"archive: {topic}[1] offsets 0-2 were gone from the broker before they were archived (3 records): "
        "replay-workers from this store will not be exact"
    ], said
    store.close()


class FailingOnce(SqlStore):
    """A real store whose first write of each kind fails, as a store that went away for a moment."""

    failed: set[str]

    def record(self, *args: Any, **kwargs: Any) -> int:
        if "record" not in self.failed and args[1]:
            self.failed.add("record")
            raise RuntimeError("the store went away")
        return super().record(*args, **kwargs)

    def append(self, events: Any) -> int:
        if "append" not in self.failed:
            self.failed.add("append")
            raise RuntimeError("the store went away")
        return super().append(events)


def test_a_batch_the_store_refused_is_read_again(kafka_bootstrap: str, prefix: str, tmp_path: Path) -> None:
    """The archive's retry after a failed batch (`run`: log it, wait, poll again) read on after the batch, and the
    next commit passed it by: its records were lost until a restart, and a gap in the kept correlate records."""
    docs = [parse_document(json.loads(line)) for line in STORY.read_text().splitlines()]
    sent = correlate_records(kafka_bootstrap, prefix, tmp_path, 5)
    with KafkaPublisher(kafka_bootstrap, prefix, spool_path=tmp_path / "spool.jsonl") as pub:
        assert pub.publish([document_event(d) for d in docs]).spooled == 0
    store = FailingOnce(f"sqlite:///{tmp_path / 'archive.db'}")
    store.failed = set()
    archive = KafkaArchive(kafka_bootstrap, store, topic_prefix=prefix, records=store)
    topic = Topics(prefix).correlate
    deadline = time.monotonic() + 60
    failures = 0
    while sum(store.record_positions(topic).values()) < 15 or store.count(types={"news.article"}) < len(docs):
        assert time.monotonic() < deadline, (store.record_positions(topic), store.count())
        try:
            archive.poll_once(500)
        except RuntimeError:
            failures += 1
    archive.close()
    assert failures == 2 and store.failed == {"record", "append"}
    assert {p: [r.value for r in store.read_records(topic, p)] for p in range(3)} == sent  # no gap
    assert store.count(types={"news.article"}) == len(docs)
    store.close()


def test_a_topic_made_again_under_the_kept_ones_name_stops_the_archive(
    kafka_bootstrap: str, kafka_admin: Any, prefix: str, tmp_path: Path
) -> None:
    """`topics delete`, then a new pipeline under the same prefix: its correlate offsets start at 0 again. Taken as
    "already kept", its records were lost without a word (and a replay would have mixed two topics): the archive
    stops naming the record, having kept nothing of the batch."""
    from watchfloor.stream_processors.ports import RecordConflict

    correlate_records(kafka_bootstrap, prefix, tmp_path, 2)
    topic = Topics(prefix).correlate
    store = SqlStore(f"sqlite:///{tmp_path / 'archive.db'}")
    first = KafkaArchive(kafka_bootstrap, store, topic_prefix=prefix, records=store)
    archive_correlate(first, store, topic, 6)
    first.close()
    kafka_admin.delete_topics(Topics(prefix).all(), timeout_ms=30_000)
    deadline = time.monotonic() + 60
    while topic in kafka_admin.list_topics():
        assert time.monotonic() < deadline
        time.sleep(0.5)
    while True:  # the broker may take a moment to let the name be made again
        try:
            raw = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
            with KafkaPublisher(kafka_bootstrap, prefix, spool_path=tmp_path / "spool2.jsonl") as pub:
                pub.ensure_topics()
            break
        except Exception:
            assert time.monotonic() < deadline
            time.sleep(1)
    for p in range(3):
        for _ in range(3):  # longer than the kept one was: a consumer at the kept position would pass 0-1 by
            raw.send(topic, b'{"another": "pipeline"}', partition=p)
    raw.flush(timeout=30)
    raw.close()

    again = KafkaArchive(kafka_bootstrap, store, topic_prefix=prefix, records=store)
    stop = threading.Event()
    timer = threading.Timer(30, stop.set)  # (without the conflict `run` would archive on)
    timer.start()
    with pytest.raises(RecordConflict, match=r"offset 1 is kept with other content: the topic was deleted"):
        again.run(stop, timeout_ms=500)
    timer.cancel()
    again.close()
    # `watchfloor archive` says it in one line and exits 1 (a retry would meet the same record for ever)
    from typer.testing import CliRunner

    from watchfloor.cli import app

    url = f"sqlite:///{tmp_path / 'archive.db'}"
    res = CliRunner().invoke(app, ["archive", "--broker", kafka_bootstrap, "--prefix", prefix, "--store", url])
    assert res.exit_code == 1, res.output
    assert f"error: {topic}[" in res.output and "is kept with other content" in res.output, res.output
    assert "Traceback" not in res.output, res.output
    assert {p: [r.value for r in store.read_records(topic, p)] for p in range(3)} == {
        p: [b'{"record": %d, "partition": %d}' % (i, p) for i in range(2)] for p in range(3)
    }
    store.close()
