"""stream_processors.kafka.reader against a REAL broker: seek by time, bounded read, same backtest as from a file."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("kafka")
from kafka import KafkaProducer

from watchfloor.schemas.events import Document, document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher
from watchfloor.stream_processors.kafka.reader import KafkaReplayStats, replay_from_kafka
from watchfloor.stream_processors.replay import replay
from watchfloor.stream_processors.rulefile import load_rules

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data" / "distributed" / "dprk_russia.jsonl"


def docs() -> list[Document]:
    return [parse_document(orjson.loads(line)) for line in DATA.read_text().splitlines() if line.strip()]


def detections(documents: list[Document]) -> list[tuple[Any, ...]]:
    result = replay(documents, Engine(load_rules(["builtin:dprk_russia"])[1]))
    return sorted((d.id, d.rule, tuple(e.event_id for e in d.evidence)) for d in result.detections)


@pytest.fixture
def make_topic(kafka_bootstrap: str, kafka_admin: Any, tmp_path: Path) -> Iterator[Any]:
    prefixes: list[str] = []

    def make(documents: list[Document]) -> str:
        prefix = f"wf-replay-{uuid.uuid4().hex[:8]}"
        prefixes.append(prefix)
        with KafkaPublisher(kafka_bootstrap, prefix, spool_path=tmp_path / f"{prefix}.jsonl") as pub:
            pub.ensure_topics()
            assert pub.publish([document_event(d) for d in documents]).sent == len(documents)
        raw = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        raw.send(Topics(prefix).documents, key=b"junk", value=b"{not json")  # stamped now: always in range
        raw.flush(timeout=30)
        raw.close()
        return Topics(prefix).documents

    yield make
    for prefix in prefixes:
        try:
            kafka_admin.delete_topics(Topics(prefix).all(), timeout_ms=30_000)
        except Exception as exc:  # best effort
            print(f"could not delete {prefix} topics: {exc!r}")


@pytest.fixture
def topic(make_topic: Any) -> str:
    return str(make_topic(docs()))


def test_replay_since_a_date_matches_the_file_backtest(kafka_bootstrap: str, topic: str) -> None:
    since = datetime(2024, 11, 1, tzinfo=UTC)
    stats = KafkaReplayStats()
    invalid: list[str] = []
    got = list(replay_from_kafka(kafka_bootstrap, topic, since, stats=stats, on_invalid=invalid.append))
    want = [d for d in docs() if d.published_at >= since]
    assert sorted(d.id for d in got) == sorted(d.id for d in want)
    assert {d.id: d for d in got} == {d.id: d for d in want}  # the whole document survives the round trip
    assert len(invalid) == 1 and invalid[0].split("@")[0] in {"0", "1", "2"}, invalid
    # offsets_for_times skipped the older documents instead of reading and dropping them
    assert stats.skipped_before == 0
    assert stats.watermarks == 3  # the publisher's markers: stamped with the newest time, so in range
    assert stats.records == len(want) + 1 + stats.watermarks
    assert detections(got) == detections(want)


def test_out_of_order_topic_is_still_read_completely(kafka_bootstrap: str, make_topic: Any) -> None:
    """Newest first: the seek lands at offset 0 of each partition, and the filter does the rest."""
    topic = make_topic(list(reversed(docs())))
    since = datetime(2024, 11, 1, tzinfo=UTC)
    stats = KafkaReplayStats()
    got = list(replay_from_kafka(kafka_bootstrap, topic, since, stats=stats, on_invalid=lambda _m: None))
    want = [d for d in docs() if d.published_at >= since]
    assert sorted(d.id for d in got) == sorted(d.id for d in want)
    assert stats.skipped_before > 0
    assert detections(got) == detections(want)


def test_replay_bounds(kafka_bootstrap: str, topic: str) -> None:
    everything = list(replay_from_kafka(kafka_bootstrap, topic, datetime(2000, 1, 1, tzinfo=UTC)))
    assert sorted(d.id for d in everything) == sorted(d.id for d in docs())
    assert detections(everything) == detections(docs())

    window = list(
        replay_from_kafka(
            kafka_bootstrap,
            topic,
            datetime(2024, 10, 1, tzinfo=UTC),
            until=datetime(2024, 11, 1, tzinfo=UTC),
        )
    )
    assert sorted(d.id for d in window) == [f"dist-{i:03d}" for i in range(5, 10)]

    late = datetime(2030, 1, 1, tzinfo=UTC)
    assert list(replay_from_kafka(kafka_bootstrap, topic, late, on_invalid=lambda _m: None)) == []


def test_unknown_topic_and_naive_times(kafka_bootstrap: str) -> None:
    with pytest.raises(LookupError, match="does not exist"):
        list(replay_from_kafka(kafka_bootstrap, f"no-such-{uuid.uuid4().hex[:6]}", datetime(2024, 1, 1, tzinfo=UTC)))
    with pytest.raises(ValueError, match="timezone-aware"):
        list(replay_from_kafka(kafka_bootstrap, "x", datetime(2024, 1, 1)))


@pytest.fixture(params=["refused", "silent"])
def broker_away(request: pytest.FixtureRequest) -> Iterator[str]:
    """A broker that is down (a closed port: connections refused at once) or hung (a listener that accepts into its
    backlog and never answers: the connection is made, no request is ever answered)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        if request.param == "silent":
            s.listen(16)
            yield f"127.0.0.1:{s.getsockname()[1]}"
            return
        down = f"127.0.0.1:{s.getsockname()[1]}"
    yield down


def test_a_replay_from_a_broker_that_is_away_fails_within_its_timeout(broker_away: str) -> None:
    """The timeout reaches the consumer: it used to bootstrap for kafka-python's own 30 s whatever `timeout_s` said,
    then raise the library's KafkaTimeoutError, which named neither the wait nor (as the caller gave it) the broker."""
    with pytest.raises(TimeoutError) as raised:
        list(replay_from_kafka(broker_away, "wf-away.documents", datetime(2024, 1, 1, tzinfo=UTC), timeout_s=1.5))
    assert str(raised.value).startswith(f"Kafka broker {broker_away} unreachable: no answer within 1.5s ("), (
        raised.value
    )


def test_a_slow_reader_is_not_cut_short(kafka_bootstrap: str, make_topic: Any) -> None:
    """The timeout bounds the waits on the broker, not the whole read: the time the caller spends with a document
    counted, and a long replay (a big topic, a slow sort behind it) failed once it took longer than the timeout."""
    base = docs()[0]
    many = [base.model_copy(update={"id": f"slow-{i:04d}"}) for i in range(1500)]  # more than one poll's 1,000
    topic = make_topic(many)
    # The caller's time is played by a clock that jumps, not by a sleep: with a 1 s timeout, a loaded machine's slow
    # broker (the JVM beside the tests) ran past the bound on its own. A generous timeout bounds the real waits.
    skew = 0.0

    def clock() -> float:
        return time.monotonic() + skew

    got = []
    for doc in replay_from_kafka(
        kafka_bootstrap, topic, datetime(2000, 1, 1, tzinfo=UTC), timeout_s=60.0, on_invalid=lambda _m: None,
        clock=clock,
    ):  # fmt: skip
        if not got:
            skew += 120.0  # the caller spends twice the timeout with its first document, the broker there all along
        got.append(doc.id)
    assert sorted(got) == [d.id for d in many]


def test_watermarks_before_finds_the_newest_watermark_before_an_offset(kafka_bootstrap: str, kafka_admin: Any) -> None:
    """What the extract agent reads back when it takes a documents partition over (outside trial 31, M1): the
    newest watermark before its first offset (of the nearest chunk that has one: a lower one after a higher, another
    producer's, is not what the agent had, since its watermark never goes back), looked for chunk by chunk, not
    further back than the limit."""
    from kafka.admin import NewTopic

    from watchfloor.schemas.events import watermark_event
    from watchfloor.stream_processors.kafka.codec import encode_event
    from watchfloor.stream_processors.kafka.reader import RECALL_CHUNK, watermarks_before

    topic = f"wf-recall-{uuid.uuid4().hex[:8]}.documents"
    kafka_admin.create_topics([NewTopic(topic, 2, 1)])
    try:
        raw = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        values = [encode_event(watermark_event(0, 100.0, idle=False)), b"{not json"]
        values += [encode_event(watermark_event(0, 200.0, idle=False))]
        values += [encode_event(watermark_event(0, 150.0, idle=False))]  # lower, after it: not the one
        values += [b"{not json"] * (RECALL_CHUNK + 10)  # the last watermark is more than one chunk back
        for v in values:
            raw.send(topic, value=v, partition=0)
        raw.send(topic, value=b"{not json", partition=1)  # a partition without any
        raw.flush(timeout=30)
        raw.close()
        end = len(values)
        assert watermarks_before(kafka_bootstrap, topic, {0: end, 1: 1}) == {0: 200.0}
        assert watermarks_before(kafka_bootstrap, topic, {0: 2}) == {0: 100.0}  # before the second one
        assert watermarks_before(kafka_bootstrap, topic, {0: 0}) == {}  # nothing before the first record
        assert watermarks_before(kafka_bootstrap, topic, {0: end}, limit=RECALL_CHUNK) == {}  # further back
    finally:
        kafka_admin.delete_topics([topic], timeout_ms=30_000)
