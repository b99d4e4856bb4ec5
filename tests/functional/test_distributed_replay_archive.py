"""`replay-workers` past Kafka's retention: `archive` keeps the correlate topic's records in the store, and the
replay reads them there once the broker no longer has them, with the same result as from the broker.

On the real broker, with a real worker: the workers raise alerts (a revision among them), `replay-workers` from the
broker gives the store's detections; `archive` keeps the correlate records (twice: nothing stored twice); the broker
then drops the first half of a partition (what retention does: `delete_records`), and the replay reads that
partition from the store then the broker; the topics are deleted, and the replay from the store alone gives the same
events again. An archive made after the broker dropped records has a gap, which the replay names to the offset and
does not call exact.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster is a fixture)
    Cluster,
    assignment,
    cluster,
)
from tests.functional.test_distributed_replay_workers import DATA, lines, produce, raised
from watchfloor.cli import app
from watchfloor.config import load_config
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.stores import open_store
from watchfloor.wiring import build_archive, kafka_settings

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(420)]


def replay(c: Cluster, store: str, *args: str) -> Any:
    base = ["replay-workers", "--config", str(c.config()), "--broker", c.bootstrap, "--prefix", c.prefix]
    return CliRunner().invoke(app, [*base, "--store", store, *args])


def end_offsets(c: Cluster) -> dict[int, int]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=c.bootstrap)
    try:
        topic = TopicNames(c.prefix).correlate
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        return {tp.partition: off for tp, off in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def kept_rows(db: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("select partition, offset from topic_records").fetchall())


def settled(c: Cluster) -> bool:
    """The correlate topic and the store's alerts the same over 5 s: the worker has done what it was given."""
    before = (end_offsets(c), raised(c.store_url))
    time.sleep(5)
    return before == (end_offsets(c), raised(c.store_url))


def archive_all(c: Cluster, db: Path, group: str, want: dict[int, int], detections: int) -> None:
    """`watchfloor archive`'s sink (as wiring builds it) polled until the store has the correlate records up to
    `want` (partition -> end offset) and `detections` detection/retraction events."""
    st = open_store(f"sqlite:///{db}")
    settings = kafka_settings(load_config(c.config()), bootstrap=c.bootstrap, prefix=c.prefix)
    sink = build_archive(settings, st)
    sink.group_id = group
    deadline = time.monotonic() + 90
    try:
        while True:
            positions = st.record_positions(TopicNames(c.prefix).correlate)  # type: ignore[attr-defined]
            alerts = st.count(types={"detection", "retraction"})
            if all(positions.get(p, 0) >= end for p, end in want.items()) and alerts >= detections:
                return
            assert time.monotonic() < deadline, (positions, want, alerts)
            sink.poll_once(500)
    finally:
        sink.close()
        st.close()


def test_archived_correlate_records_replay_the_workers_exactly_after_the_topics_are_gone(
    cluster: Cluster,  # noqa: F811
    kafka_admin: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kafka import TopicPartition

    monkeypatch.chdir(cluster.tmp)  # produce keeps its spool under var/ of the working directory
    t = TopicNames(cluster.prefix)
    later, rest = cluster.tmp / "later.jsonl", cluster.tmp / "rest.jsonl"
    later.write_text(lines("dist-003"))  # 19 June 14:40 first: its alert is revised by the earlier report
    rest.write_text(DATA.read_text())  # then all 24, the earlier report among them

    w1 = cluster.worker("w1").start()
    cluster.wait("the worker's partitions", lambda: assignment(w1).get(t.correlate) == [0, 1, 2])
    produce(cluster, later, cluster.tmp / "one.db")
    cluster.wait("the alert of the later report", lambda: len(raised(cluster.store_url)) >= 1)
    produce(cluster, rest, cluster.tmp / "two.db")
    cluster.wait("the revision", lambda: any(d.get("revision") for d in raised(cluster.store_url)))
    cluster.wait("the worker to settle", lambda: settled(cluster))
    ends = end_offsets(cluster)
    live = raised(cluster.store_url)
    assert live and any(d.get("revision") for d in live)

    # From the broker (the workers' store has no archived records: every partition is the broker's).
    from_kafka = cluster.tmp / "from_kafka.jsonl"
    res = replay(cluster, cluster.store_url, "--json", str(from_kafka))
    assert res.exit_code == 0, res.output
    assert f"source: Kafka ({t.correlate} on {cluster.bootstrap}), every partition" in res.output, res.output
    assert f"the same {len(live)} detection and retraction events as the store" in res.output, res.output
    assert "not exact" not in res.output, res.output
    kafka_events = [json.loads(ln) for ln in from_kafka.read_text().splitlines()]
    w1.stop()

    # The archive keeps every correlate record, once, however often it runs.
    db = cluster.tmp / "archive.db"
    archive_all(cluster, db, f"{cluster.prefix}-archive", ends, len(live))
    rows = kept_rows(db)
    assert rows == [(p, o) for p in sorted(ends) for o in range(ends[p])], (rows, ends)
    archive_all(cluster, db, f"{cluster.prefix}-archive-again", ends, len(live))  # another group: reads it all again
    archive_all(cluster, db, f"{cluster.prefix}-archive", ends, len(live))  # the same group: nothing new
    assert kept_rows(db) == rows
    store = f"sqlite:///{db}"
    got = open_store(store)
    try:
        alerts = got.read(0, types={"detection", "retraction"})
        assert [{"id": s.event.id, **s.event.payload} for s in alerts] == live  # archived from the detections topic
    finally:
        got.close()

    # --from-store: the store alone (the broker still has everything): the same events as from the broker.
    out = cluster.tmp / "from_store.jsonl"
    res = replay(cluster, store, "--from-store", "--json", str(out))
    assert res.exit_code == 0, res.output
    assert f"source: the store ({store}), every partition: asked (--from-store)" in res.output, res.output
    assert f"the same {len(live)} detection and retraction events as the store" in res.output, res.output
    assert "not exact" not in res.output, res.output
    assert [json.loads(ln) for ln in out.read_text().splitlines()] == kafka_events

    # Retention passes over the first half of the busiest partition: the broker starts it at `cut` now.
    busiest = max(ends, key=lambda p: ends[p])
    cut = ends[busiest] // 2
    assert cut > 0
    kafka_admin.delete_records({TopicPartition(t.correlate, busiest): cut}, timeout_ms=30_000)

    # An archive made now misses those offsets for good: a gap, said to the offset, and not called exact.
    late_db = cluster.tmp / "late.db"
    archive_all(cluster, late_db, f"{cluster.prefix}-archive-late", ends, len(live))
    res = replay(cluster, f"sqlite:///{late_db}", "--from-store")
    assert "not exact: " in res.output, res.output
    span = f"offset {cut - 1}" if cut == 1 else f"offsets 0-{cut - 1}"
    gap = f"  partition {busiest} {span} ({cut} record{'s' if cut != 1 else ''}: gone from the broker before"
    assert gap in res.output, res.output
    assert "the same " not in res.output or "though not exact" in res.output, res.output

    # The full archive: that partition from the store, then the broker past its records (none left): exact.
    res = replay(cluster, store, "--json", str(out))
    assert res.exit_code == 0, res.output
    assert f"{busiest} from the store" in res.output and "source: partition " in res.output, res.output
    assert f"the broker no longer holds the first records of partition {busiest}" in res.output, res.output
    assert "not exact" not in res.output, res.output
    assert [json.loads(ln) for ln in out.read_text().splitlines()] == kafka_events

    # An archive behind the broker (it stopped at `stop`): the store's records, then the broker's past them.
    part_db = cluster.tmp / "part.db"
    shutil.copy(db, part_db)
    stop = cut + (ends[busiest] - cut) // 2
    with sqlite3.connect(part_db) as conn:
        conn.execute("delete from topic_records where partition = ? and offset >= ?", (busiest, stop))
    res = replay(cluster, f"sqlite:///{part_db}", "--json", str(out))
    assert res.exit_code == 0, res.output
    assert f"{busiest} from the store, then Kafka from offset {stop}" in res.output, res.output
    assert "not exact" not in res.output, res.output
    assert [json.loads(ln) for ln in out.read_text().splitlines()] == kafka_events

    # The pipeline is taken down: its topics are gone, and the store alone replays the workers exactly.
    res = CliRunner().invoke(
        app, ["topics", "delete", "--broker", cluster.bootstrap, "--prefix", cluster.prefix, "--yes"]
    )
    assert res.exit_code == 0, res.output
    cluster.wait("the topics' deletion", lambda: t.correlate not in kafka_admin.list_topics())
    res = replay(cluster, store, "--json", str(out))
    assert res.exit_code == 0, res.output
    assert f"source: the store ({store}), every partition: the Kafka topic {t.correlate} does not exist" in res.output
    assert f"the same {len(live)} detection and retraction events as the store" in res.output, res.output
    assert "not exact" not in res.output, res.output
    assert [json.loads(ln) for ln in out.read_text().splitlines()] == kafka_events
    # == the store's detections (the replay lists them per partition, the store in the order notify took them in)
    mine = [json.dumps({"id": e["id"], **e["payload"]}, sort_keys=True) for e in kafka_events]
    assert sorted(mine) == sorted(json.dumps(d, sort_keys=True) for d in live)

    # Without the archive, the same command says the topic is gone and the store has none of it.
    res = replay(cluster, cluster.store_url)
    assert res.exit_code == 1, res.output
    assert "does not exist (or has no partitions) and the store holds no archived records of it" in res.output
