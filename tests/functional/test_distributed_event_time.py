"""Distributed, sources in feed order: two JSON Lines sources (the later one read first, each newest first
within a day) polled into the producer's store and relayed to Kafka as `watchfloor produce` does; two workers,
one SIGKILLed mid-stream. The alerts that stand are the backtest's (of the files, and of the producer's log in
either order) and the embedded runner's over the same log, over our own story and over the real key-day
captures (skipped without ../shared/data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from typer.testing import CliRunner

from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster is a fixture)
    ALERT_EVENTS,
    Cluster,
    assignment,
    cluster,
    dead_letters,
    end_offsets,
    engine,
    settle,
    shared,
    stored_detections,
)
from watchfloor.backtest import log_from_store
from watchfloor.cli import app
from watchfloor.producers.poller import SourcePoller
from watchfloor.producers.relay import KafkaRelay
from watchfloor.schemas.config import JsonlSource
from watchfloor.schemas.events import Detection
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.kafka.codec import decode_event
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher
from watchfloor.stream_processors.replay import replay
from watchfloor.stream_processors.runner import EmbeddedRunner
from watchfloor.stream_processors.stores import open_store

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(300)]

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "eventtime"


def key(d: Detection) -> tuple[Any, ...]:
    return (
        d.id,
        d.rule,
        tuple(sorted(d.group.items())),
        d.severity,
        d.confidence,
        tuple(e.event_id for e in d.evidence),
    )


def sources(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[list[str], list[str]]:
    """(the later items, the key days), each as feed lines in feed order."""
    if request.param == "fixture":
        return (
            (FIXTURE / "later.jsonl").read_text().splitlines(),
            (FIXTURE / "keydays.jsonl").read_text().splitlines(),
        )
    data = request.getfixturevalue("shared_data")
    lines = (data / "dprk_russia_2024" / "keydays.jsonl").read_text(encoding="utf-8").splitlines()
    later = [ln for ln in lines if json.loads(ln)["published_at"] > "2024-11-13"]
    return later, [ln for ln in lines if ln not in later]


@pytest.fixture(params=["fixture", "real"])
def feeds(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[list[str], list[str]]:
    return sources(request, tmp_path)


def test_two_workers_one_killed_give_the_backtests_alerts(cluster: Cluster, feeds: tuple[list[str], list[str]]) -> None:  # noqa: F811
    later, keydays = feeds
    later_path, keydays_path = cluster.tmp / "later.jsonl", cluster.tmp / "keydays.jsonl"
    half = len(keydays) // 2
    later_path.write_text("\n".join(later) + "\n", encoding="utf-8")
    keydays_path.write_text("\n".join(keydays[:half]) + "\n", encoding="utf-8")

    producer_store = open_store(f"sqlite:///{cluster.tmp / 'producer.db'}")
    publisher = KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl")
    poller = SourcePoller(producer_store, [JsonlSource(path=str(later_path)), JsonlSource(path=str(keydays_path))])
    relay = KafkaRelay(producer_store, publisher)
    workers = [cluster.worker(f"w{i}").start() for i in (1, 2)]
    try:
        cluster.wait(
            "both workers to share the documents partitions", lambda: shared(workers, Topics(cluster.prefix).documents)
        )
        poller.poll_once()
        relay.run_once()
        first = replay(list(log_from_store(producer_store)), engine()).alerts
        cluster.wait(f"{len(first)} alerts", lambda: len(stored_detections(cluster.store_url)) >= len(first))

        victim = workers[0]
        victim.kill()  # mid-stream: the rest of the key days arrive with one worker dead
        keydays_path.write_text("\n".join(keydays) + "\n", encoding="utf-8")  # the file grows
        poller.poll_once()
        relay.run_once()
        expected = replay(list(log_from_store(producer_store)), engine()).alerts  # the backtest, canonical order
        t = Topics(cluster.prefix)
        cluster.wait(
            "the survivor to take every partition",
            lambda: (
                assignment(workers[1]).get(t.documents) == [0, 1, 2]
                and assignment(workers[1]).get(t.correlate) == [0, 1, 2]
            ),
        )
        cluster.wait(
            f"the {len(expected)} backtest alerts",
            lambda: sorted(map(key, stored_detections(cluster.store_url))) == sorted(map(key, expected)),
        )
        settle(cluster)  # anything extra is in the store by then
        assert sorted(map(key, stored_detections(cluster.store_url))) == sorted(map(key, expected))
        assert workers[1].alive()

        # The same alerts from every other way of running it: `watchfloor backtest` over the two files, the
        # embedded runner over the producer's log (what `watchfloor run` does with it), and a replay of that
        # log in arrival order with its receive times and CaughtUp marks (`backtest --from-store --order log`).
        out = cluster.tmp / "backtest.json"
        res = CliRunner().invoke(app, ["backtest", str(later_path), str(keydays_path), "--json", str(out)])
        assert res.exit_code == 0, res.output
        from_files = sorted(
            (
                a["id"],
                a["rule"],
                tuple(sorted(a["group"].items())),
                a["severity"],
                a["confidence"],
                tuple(e["event_id"] for e in a["evidence"]),
            )
            for a in json.loads(out.read_text())["alerts"]
        )
        assert from_files == sorted(map(key, expected))
        in_log_order = replay(list(log_from_store(producer_store)), engine(), order="log").alerts
        assert sorted(map(key, in_log_order)) == sorted(map(key, expected))
        EmbeddedRunner(producer_store, engine()).run_once()
        embedded = current_alerts(se.event for se in producer_store.read(types=ALERT_EVENTS, limit=100_000))
        assert sorted(map(key, embedded.values())) == sorted(map(key, expected))
        if any('"et-2099"' in line for line in keydays):  # our story's typo: the workers report its clamp
            reports = [
                dl["payload"]
                for dl in dead_letters(cluster.bootstrap, t.dead_letters, 1)
                if dl["payload"].get("stage") == "event-time"
            ]
            # Named by its line in the file, as an ingest dead letter is (trial 30, F7).
            line = next(i for i, text in enumerate(keydays, 1) if '"et-2099"' in text)
            assert reports and {(r["origin"], r["line"], r["reason"].split()[5]) for r in reports} == {
                (str(keydays_path), line, "et-2099")
            }
    finally:
        publisher.close()
        producer_store.close()


# A report of combat a rule reads, and its denial (negated), which no rule takes (`{}`: the document's number)
ENGAGED = "North Korean troops killed in heavy fighting in Kursk, officials say ({})"
DENIED = "Kremlin denies North Korean troops are fighting in Kursk ({})"


def late_reports(c: Cluster) -> list[str]:
    """The documents the workers reported late, from the dead-letter topic as far as it is written now."""
    topic = Topics(c.prefix).dead_letters
    ends = end_offsets(c, topic)
    consumer = KafkaConsumer(bootstrap_servers=c.bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in ends]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        out: list[str] = []
        while any(consumer.position(tp) < ends[tp.partition] for tp in tps):
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    reason = decode_event(r.value).payload.get("reason", "")
                    if reason.startswith("late: "):
                        out.append(reason.split()[2])  # "late: document <id> (...)"
        return sorted(out)
    finally:
        consumer.close()


def test_a_restarted_worker_reports_late_documents_as_before(cluster: Cluster) -> None:  # noqa: F811
    """A worker that takes a documents partition over (here: after a restart) judges lateness against the
    watermark the partition had reached, read back from it, not against none until the publisher writes a new
    one (outside trial 31, M1): the late reports are those of a worker that never stopped and of the backtest of
    the producer's log in log order. Only the late documents a detection reads are dead-lettered; the others (a
    backfill's, mostly: no signal, or a denial no rule takes) are passed over, counted in the extract agent's log
    and in the backtest as many (outside trial 67, MED-4)."""

    def article(day: str, n: int) -> str:
        return json.dumps(
            {
                "type": "news.article",
                "id": f"late-{day}-{n}",
                "published_at": f"{day}T10:00:00+00:00",
                "source": "Wire",
                "title": ENGAGED.format(n) if n % 2 else DENIED.format(n) if n == 4 else f"Markets update {n}",
            }
        )

    files = {
        "current": [article(f"2024-12-{d:02d}", d) for d in (1, 5, 10, 15, 20)],
        "old1": [article(f"2016-01-{d:02d}", d) for d in (1, 2, 3, 4, 5)],
        "old2": [article(f"2016-01-{d:02d}", d) for d in (6, 7, 8, 9)],
    }
    producer_store = open_store(f"sqlite:///{cluster.tmp / 'producer.db'}")
    publisher = KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl")
    relay = KafkaRelay(producer_store, publisher)
    docs = Topics(cluster.prefix).documents

    def send(name: str) -> None:
        path = cluster.tmp / f"{name}.jsonl"
        path.write_text("\n".join(files[name]) + "\n", encoding="utf-8")
        SourcePoller(producer_store, [JsonlSource(path=str(path))]).poll_once()
        relay.run_once()
        settle(cluster)  # the workers committed every document: their dead letters were sent before

    try:
        first = cluster.worker("w1").start()
        cluster.wait("the worker to take the documents", lambda: assignment(first).get(docs) == [0, 1, 2])
        send("current")
        assert late_reports(cluster) == []
        send("old1")
        assert late_reports(cluster) == [f"late-2016-01-{d:02d}-{d}" for d in (1, 3, 5)]  # a detection reads them
        first.stop()
        passed = first.log.read_text()
        assert "2 passed over (no detection reads them), 3 dead-lettered" in passed

        second = cluster.worker("w2").start()
        cluster.wait("the new worker to take the documents", lambda: assignment(second).get(docs) == [0, 1, 2])
        send("old2")
        late = [f"late-2016-01-{d:02d}-{d}" for d in range(1, 10, 2)]
        assert late_reports(cluster) == late
        # ... as `backtest --from-store --order log` reports them, and passes over as many as the workers did
        in_log_order = replay(list(log_from_store(producer_store)), engine(), order="log", signalled_only=True)
        assert sorted(r.reason.split()[2] for r in in_log_order.late) == late
        assert in_log_order.late_passed_over == 4  # 2, 4 (a denial), 6, 8
    finally:
        publisher.close()
        producer_store.close()
