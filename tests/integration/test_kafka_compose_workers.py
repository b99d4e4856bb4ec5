"""Detections over detections in the distributed workers, on a REAL Kafka broker (a `watchfloor worker` subprocess).

The correlate agent sends each alert change of an input detection to the correlate partition of every derived
group it feeds, and tells every partition how far the documents' watermarks it applied go
(kafka/partition.py). The alerts that stand in the store must be the embedded runner's and the backtest's, for
the walkthrough pack's `last-ratification` (an `all_of` over two confirmed alerts), an `all_of` over two
detections' groups and a `sequence` of an alert then a signal; with the worker
stopped by SIGTERM mid-stream and started again: no derived alert lost or doubled, and `replay-workers` gives the
store's detection and retraction events exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("kafka")
pytest.importorskip("faust")

from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster: a fixture)
    ALERT_EVENTS,
    Cluster,
    assignment,
    cluster,
    embedded_detections,
    engine,
    key,
    settle,
    stored_detections,
)
from tests.unit.test_partition_compose import COMPOSED, MIXED, documents
from watchfloor.cli import app
from watchfloor.schemas.events import Document, document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher
from watchfloor.stream_processors.replay import replay
from watchfloor.stream_processors.stores import open_store

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

NATO = Path(__file__).resolve().parents[2] / "docs" / "examples" / "nato_accession.yaml"
DERIVED = {"last-ratification", "closure-confirmed", "both-closed", "reopened-after-closure"}


def ratifications() -> list[Document]:
    """Both holdouts ratify Sweden's accession, each reported by two outlets (in our own words)."""
    said = [
        ("2023-03-27T16:30:00+00:00", "Example Wire", "Hungary's parliament ratifies Sweden's NATO bid after delay"),
        ("2023-03-27T20:10:00+00:00", "Example Post", "Hungarian lawmakers approve Sweden's NATO membership in vote"),
        ("2023-03-30T15:00:00+00:00", "Example Daily", "Turkish parliament ratifies Sweden's NATO membership at last"),
        ("2023-03-30T19:45:00+00:00", "Example Herald", "Turkey's lawmakers approve Sweden's NATO accession bill"),
    ]
    return [
        parse_document({"type": "news.article", "published_at": at, "source": src, "title": title, "id": f"nato-{i}"})
        for i, (at, src, title) in enumerate(said)
    ]


def raised_ids(store_url: str) -> list[str]:
    st = open_store(store_url)
    try:
        return [s.event.id for s in st.read(0, types=ALERT_EVENTS, limit=10_000)]
    finally:
        st.close()


def publish(c: Cluster, docs: list[Document], spool: Path) -> None:
    with KafkaPublisher(c.bootstrap, c.prefix, spool_path=spool) as pub:
        assert pub.publish([document_event(d) for d in docs]).sent == len(docs)


def test_detections_over_detections_survive_a_worker_restart_as_embedded_and_backtest_raise_them(
    cluster: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text(MIXED, encoding="utf-8")
    cluster.rules = [str(COMPOSED), str(mixed), str(NATO)]
    docs = ratifications() + documents(1, 48)
    expected = sorted(map(key, embedded_detections(docs, cluster.rules)))
    backtest = sorted(map(key, replay(docs, engine(cluster.rules)).detections))
    assert expected == backtest
    assert DERIVED <= {k[1] for k in expected}, {k[1] for k in expected}

    t = TopicNames(cluster.prefix)
    spool = tmp_path / "spool.jsonl"
    w1 = cluster.worker("w1").start()
    cluster.wait("the worker's partitions", lambda: assignment(w1).get(t.correlate) == [0, 1, 2])
    publish(cluster, docs[:20], spool)
    cluster.wait(
        "a derived alert before the stop",
        lambda: any(d.rule in DERIVED for d in stored_detections(cluster.store_url)),
    )
    w1.stop()  # SIGTERM mid-stream: what it had not committed is read again by the next start
    publish(cluster, docs[20:40], spool)
    w1.start()
    cluster.wait("the worker's partitions again", lambda: assignment(w1).get(t.correlate) == [0, 1, 2])
    publish(cluster, docs[40:], spool)
    cluster.wait(
        "the alerts the embedded runner leaves standing",
        lambda: sorted(map(key, stored_detections(cluster.store_url))) == expected,
    )
    settle(cluster)
    assert sorted(map(key, stored_detections(cluster.store_url))) == expected
    ids = raised_ids(cluster.store_url)
    assert len(ids) == len(set(ids))

    # The correlate topic holds the alert changes each derived partition read: it replays the store exactly.
    res = CliRunner().invoke(
        app,
        ["replay-workers", "--config", str(cluster.config()), "--broker", cluster.bootstrap, "--prefix", cluster.prefix,
         "--store", cluster.store_url],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert f"the same {len(ids)} detection and retraction events as the store" in res.output, res.output
