"""The published watermark stays readable (status, /metrics) while documents that do not move it keep coming, on
a REAL broker: the relay ends every batch of documents with it, and `pipeline_status` reads back past a tail that
holds none (outside trial 31, M2: after 16 old documents the series vanished, when its growing age was the alarm)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from watchfloor.schemas.events import CaughtUp, Document, SourceRef, caught_up_event, document_event
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.integration

pytest.importorskip("kafka")

from watchfloor.producers.relay import KafkaRelay  # noqa: E402
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher  # noqa: E402
from watchfloor.stream_processors.kafka.status import WATERMARK_TAIL, pipeline_status  # noqa: E402
from watchfloor.stream_processors.kafka.topics import ensure_topics  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 10, 21, 6, 0, tzinfo=UTC)
OLD = WATERMARK_TAIL + 4  # more documents than the tail status reads first, none of them moving the watermark


@pytest.fixture
def prefix(kafka_admin) -> Iterator[str]:
    p = f"wf-test-wmtail-{uuid.uuid4().hex[:8]}"
    yield p
    try:
        kafka_admin.delete_topics(TopicNames(p).all(), timeout_ms=30_000)
    except Exception as exc:  # best effort
        print(f"could not delete topics of {p}: {exc!r}")


def doc(i: int, at: datetime) -> Document:
    return Document(
        id=f"wm-{i}",
        type="news.article",
        published_at=at,
        source=SourceRef(name="Harbour Gazette"),
        title=f"Dispatch {i}",
        body="Trucks were seen queueing at the bridge before dawn.",
    )


def test_the_relay_keeps_the_watermark_at_the_tail_while_old_documents_come(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    store = MemoryStore()
    received = T0 + timedelta(hours=100)
    store.append([document_event(doc(0, T0 + timedelta(hours=40)), origin="a", received_at=received)])
    store.append([caught_up_event(CaughtUp(at=received, origins=("a",)))])
    with KafkaPublisher(kafka_bootstrap, prefix, partitions=1, spool_path=tmp_path / "spool.jsonl") as pub:
        pub.ensure_topics()
        relay = KafkaRelay(store, pub)
        relay.run_once()
        w = pipeline_status(kafka_bootstrap, prefix, watermarks=True).watermark
        assert w is not None
        # Old documents, in batches of a few (as a feed's late items come): they do not move the watermark.
        for b in range(0, OLD, 5):
            store.append(
                [
                    document_event(doc(i, T0 + timedelta(minutes=i)), origin="a", received_at=received)
                    for i in range(b + 1, min(b + 6, OLD + 1))
                ]
            )
            relay.run_once()
    st = pipeline_status(kafka_bootstrap, prefix, watermarks=True)
    assert st.topics[TopicNames(prefix).documents] > OLD
    assert st.watermarks == {0: w} and st.watermark == w


def test_status_reads_back_past_a_tail_without_a_watermark(kafka_bootstrap: str, prefix: str, tmp_path: Path) -> None:
    # A producer that writes no watermark (or an older watchfloor's relay) after one that did: the last watermark
    # record lies further back than the tail; status reads back for it (bounded), and says it.
    docs = [doc(i, T0 + timedelta(minutes=i)) for i in range(3)]
    with KafkaPublisher(kafka_bootstrap, prefix, partitions=1, spool_path=tmp_path / "a.jsonl") as pub:
        pub.ensure_topics()
        pub.publish([document_event(d) for d in docs])
    w = max(d.published_at for d in docs).timestamp()
    assert pipeline_status(kafka_bootstrap, prefix, watermarks=True).watermarks == {0: w}
    old = [doc(i, T0 - timedelta(hours=i)) for i in range(10, 10 + 3 * WATERMARK_TAIL)]
    with KafkaPublisher(
        kafka_bootstrap, prefix, partitions=1, spool_path=tmp_path / "b.jsonl", watermarks=False
    ) as pub:
        pub.publish([document_event(d) for d in old])
    st = pipeline_status(kafka_bootstrap, prefix, watermarks=True)
    assert st.topics[TopicNames(prefix).documents] == 3 + 1 + len(old)
    assert st.watermarks == {0: w} and st.watermark == w

    # `watchfloor status --json` says them too (it always said {}: outside trial 31, LOW).
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    res = subprocess.run(
        [sys.executable, "-m", "watchfloor.cli", "status", "--broker", kafka_bootstrap, "--prefix", prefix, "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    got = json.loads(res.stdout)
    assert got["watermarks"] == {"0": w} and got["watermark"] == w, res.stderr
    text = subprocess.run(
        [sys.executable, "-m", "watchfloor.cli", "status", "--broker", kafka_bootstrap, "--prefix", prefix],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    ).stdout  # fmt: skip
    assert "published watermark (event time): 2024-10-21T06:02:00+00:00" in text, text


def test_a_recreated_documents_topic_does_not_report_the_old_watermark(
    kafka_bootstrap: str, kafka_admin: Any, prefix: str, tmp_path: Path
) -> None:
    # What status read back is kept for the next look (serve asks at every scrape); a reset of the topic (deleted and
    # made again) must not leave the old topic's watermark reported, even once the new one is as long as the old was
    # (review finding, MED-LOW: only the partition's offsets were checked against what was kept).
    names = TopicNames(prefix)
    docs = [doc(i, T0 + timedelta(minutes=i)) for i in range(3)]
    with KafkaPublisher(kafka_bootstrap, prefix, partitions=1, spool_path=tmp_path / "a.jsonl") as pub:
        pub.ensure_topics()
        pub.publish([document_event(d) for d in docs])
    old = [doc(i, T0 - timedelta(hours=i)) for i in range(10, 10 + 2 * WATERMARK_TAIL)]
    with KafkaPublisher(
        kafka_bootstrap, prefix, partitions=1, spool_path=tmp_path / "b.jsonl", watermarks=False
    ) as pub:
        pub.publish([document_event(d) for d in old])
    w = max(d.published_at for d in docs).timestamp()
    st = pipeline_status(kafka_bootstrap, prefix, watermarks=True)
    assert st.watermarks == {0: w}  # read back past the tail, and kept
    written = st.topics[names.documents]

    kafka_admin.delete_topics([names.documents], timeout_ms=30_000)
    deadline = time.monotonic() + 60
    while True:  # the broker deletes in the background: made again once it is gone
        try:
            if names.documents not in set(kafka_admin.list_topics()) and ensure_topics(
                kafka_bootstrap, prefix, 1, timeout_s=10
            ):
                break
        except Exception as e:  # still marked for deletion
            if time.monotonic() > deadline:
                raise
            print(f"recreating {names.documents}: {e!r}")
        assert time.monotonic() < deadline, f"{names.documents} not made again"
        time.sleep(0.5)
    new = [doc(i, T0 - timedelta(days=i)) for i in range(100, 100 + written + 5)]
    with KafkaPublisher(
        kafka_bootstrap, prefix, partitions=1, spool_path=tmp_path / "c.jsonl", watermarks=False
    ) as pub:
        pub.publish([document_event(d) for d in new])
    st = pipeline_status(kafka_bootstrap, prefix, watermarks=True)
    assert st.topics[names.documents] > written  # its offsets alone are consistent with what was kept
    assert st.watermarks == {} and st.watermark is None  # the new topic holds no watermark record
