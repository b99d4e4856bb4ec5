"""`produce --resend` on a healthy pipeline (outside trial 40, M1): the workers drop what they have read already (no
late reports for the documents older than their watermark, no revisions of the alerts they raised), and a worker that
lost its state (a new group started where the resend begins, its correlate state empty) takes everything re-sent as
new and raises the same alerts."""

from __future__ import annotations

from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from typer.testing import CliRunner

from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster is a fixture)
    ALERT_EVENTS,
    DATA,
    Cluster,
    assignment,
    cluster,
    end_offsets,
    engine,
    key,
    settle,
    stored_detections,
)
from tests.functional.test_distributed_event_time import late_reports
from watchfloor.backtest import log_from_store
from watchfloor.cli import app
from watchfloor.producers.poller import SourcePoller
from watchfloor.producers.relay import KafkaRelay, target_checkpoint
from watchfloor.schemas.config import JsonlSource
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher
from watchfloor.stream_processors.replay import replay
from watchfloor.stream_processors.stores import open_store

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(400)]


def raised(store_url: str) -> list[str]:
    """Every detection and retraction event id in a store (revisions included), in log order."""
    store = open_store(store_url)
    try:
        return [s.event.id for s in store.read(0, types=ALERT_EVENTS, limit=10_000)]
    finally:
        store.close()


def commit(c: Cluster, group: str, offsets: dict[tuple[str, int], int]) -> None:
    """Commit `offsets` ((topic, partition) -> offset) for consumer group `group`: where its workers start."""
    consumer = KafkaConsumer(bootstrap_servers=c.bootstrap, group_id=group, enable_auto_commit=False)
    try:
        consumer.commit({TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()})
    finally:
        consumer.close()


def test_resend_drops_what_was_read_and_a_worker_without_state_reads_it_all(
    cluster: Cluster,  # noqa: F811
    kafka_admin: Any,
) -> None:
    source = cluster.tmp / "desk.jsonl"
    source.write_text(DATA.read_text(encoding="utf-8"), encoding="utf-8")
    producer_store = open_store(f"sqlite:///{cluster.tmp / 'producer.db'}")
    publisher = KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl")
    relay = KafkaRelay(producer_store, publisher, target=target_checkpoint(cluster.bootstrap, cluster.prefix))
    t = Topics(cluster.prefix)
    try:
        relay.prepare()
        first = cluster.worker("w1").start()
        cluster.wait("the worker to take the documents", lambda: assignment(first).get(t.documents) == [0, 1, 2])
        SourcePoller(producer_store, [JsonlSource(path=str(source))]).poll_once()
        relay.run_once()
        expected = sorted(map(key, replay(list(log_from_store(producer_store)), engine()).alerts))
        assert expected
        cluster.wait(
            f"the {len(expected)} alerts", lambda: sorted(map(key, stored_detections(cluster.store_url))) == expected
        )
        settle(cluster)
        alerts_before, late_before = raised(cluster.store_url), late_reports(cluster)
        ends = {topic: end_offsets(cluster, topic) for topic in (t.documents, t.correlate, t.detections)}

        # produce --resend: the whole outbox again, to the same topics
        assert relay.prepare(resend=True) == 24
        assert relay.run_once().relayed == 24
        assert sum(end_offsets(cluster, t.documents).values()) > sum(ends[t.documents].values()) + 24
        settle(cluster)
        assert late_reports(cluster) == late_before  # no document reported late for being re-sent
        assert raised(cluster.store_url) == alerts_before  # no alert raised again, no revision
        log = first.log.read_text(errors="replace")
        assert "re-sent document(s) (produce --resend)" in log
        assert "re-sent signal(s) (produce --resend) dropped" in log
        # `replay-workers` reads the correlate topic as the correlators did, the re-sent marks included
        res = CliRunner().invoke(
            app,
            [
                "replay-workers", "--config", str(cluster.config()), "--broker", cluster.bootstrap,
                "--prefix", cluster.prefix, "--store", cluster.store_url,
            ],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        assert f"the same {len(alerts_before)} detection and retraction events as the store" in res.output, res.output

        # A worker that lost its state: a new group (and a new store), its documents partitions at the start of
        # the resend, the correlate and detections topics at their ends: its correlate partitions have no state.
        lost = Cluster(
            cluster.bootstrap,
            cluster.prefix,
            f"{cluster.app_id}-lost",
            f"sqlite:///{cluster.tmp / 'lost.db'}",
            cluster.tmp,
        )
        now = {topic: end_offsets(cluster, topic) for topic in (t.correlate, t.detections)}
        commit(
            cluster,
            lost.app_id,
            {(t.documents, p): o for p, o in ends[t.documents].items()}
            | {(topic, p): o for topic, ends_now in now.items() for p, o in ends_now.items()},
        )
        first.stop()
        second = lost.worker("w2").start()
        cluster.workers.append(second)  # stopped by the fixture
        lost.wait(
            "its alerts: everything re-sent read as new",
            lambda: sorted(map(key, stored_detections(lost.store_url))) == expected,
        )
        assert "re-sent signal(s) (produce --resend) dropped" not in second.log.read_text(errors="replace")
    finally:
        publisher.close()
        producer_store.close()
        for w in cluster.workers:
            w.stop()
        try:
            kafka_admin.delete_topics([f"{cluster.app_id}-lost-correlate-state-changelog"], timeout_ms=30_000)
        except Exception as exc:  # best effort (not made when the test failed before)
            print(f"could not delete the lost worker's changelog: {exc!r}")
