"""A batch that fails every time, on a REAL broker (Faust worker subprocesses, faults injected).

A failed batch restarts the worker, which reads it again from the last commit (review13 F4,
test_distributed_failed_batch.py). A batch that can never go through used to restart the worker in a tight loop, a
critical traceback each time, and nothing after it was ever processed. Now (agents.BatchRetry, failed_batches): the
failures in a row are counted across the restarts (a file in the worker's data directory), the restarts back off,
and after `failed_batch_isolate_after` failures the records are tried one at a time: the one that fails alone is
dead-lettered with the reason and its place, and the rest goes on. A downstream that refuses everything is not a
record's fault: retried, nothing dead-lettered, and every alert raised once it is back.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster is a fixture)
    Cluster,
    assignment,
    cluster,
    embedded_detections,
    key,
    load_docs,
    stored_detections,
    wait_processed,
)
from watchfloor.schemas.events import document_event
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(400)]

POISON = "dist-007"  # a document with signals: its alerts differ from the others'
ISOLATE_AFTER = 3


def retry_config(c: Cluster) -> Path:
    """The workers' config with short waits between restarts (the test asserts attempts, not durations)."""
    cfg = orjson.loads(c.config().read_text())
    cfg["kafka"] = {
        "failed_batch_isolate_after": ISOLATE_AFTER,
        "failed_batch_backoff": 0.05,
        "failed_batch_backoff_max": 0.2,
    }
    path = c.tmp / "worker-retry.yaml"
    path.write_text(orjson.dumps(cfg).decode())
    return path


def all_records(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every record of a one-partition topic now (its values as JSON)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        end = consumer.end_offsets([tp])[tp]
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60
        while consumer.position(tp) < end and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                out.extend(orjson.loads(r.value) for r in records)
        return out
    finally:
        consumer.close()


def test_a_poison_record_is_dead_lettered_after_backed_off_restarts_and_the_rest_goes_on(
    cluster: Cluster,  # noqa: F811
) -> None:
    cluster.inject_fault("WF_FAULT_POISON_DOC", POISON)
    docs = load_docs()
    expected = sorted(map(key, embedded_detections([d for d in docs if d.id != POISON])))
    assert expected != sorted(map(key, embedded_detections(docs)))  # the poison document matters
    w = cluster.worker("w1", extra=["--config", str(retry_config(cluster))]).start()
    cluster.wait("the worker to own its partitions", lambda: bool(assignment(w)))
    with KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl") as pub:
        pub.publish([document_event(d) for d in docs])
    cluster.wait(
        f"the {len(expected)} alerts of every document but {POISON} in the store",
        lambda: sorted(map(key, stored_detections(cluster.store_url))) == expected,
    )
    wait_processed(cluster, Topics(cluster.prefix).documents)  # committed past the poison record
    assert w.alive()
    log = w.log.read_text(errors="replace")
    attempts = [int(n) for n in re.findall(r"extract: the batch at [^\n]*? failed again, attempt (\d+)", log)]
    assert attempts == list(range(2, ISOLATE_AFTER + 1)), log[-6000:]  # one line per restart, then the way forward
    assert log.count("extract: a batch failed (ValueError: fault injected") == 1  # the traceback once
    assert "to read it one record at a time" in log
    assert "extract: 1 record(s) dead-lettered after 3 failed attempts of their batch" in log, log[-6000:]
    assert "went through after 3 failed attempt(s) in a row" in log
    letters = [
        d["payload"]
        for d in all_records(cluster.bootstrap, Topics(cluster.prefix).dead_letters)
        if "failed alone" in d["payload"]["reason"]
    ]
    assert len(letters) == 1, letters
    (letter,) = letters
    assert re.fullmatch(rf"kafka:{re.escape(Topics(cluster.prefix).documents)}\[\d\]@\d+", letter["origin"])
    assert letter["stage"] == "extract"
    assert letter["reason"] == (
        f"poison record: the extract batch failed {ISOLATE_AFTER} times in a row, and this record failed alone: "
        f"ValueError: fault injected: the signal of {POISON} is refused"
    )
    assert f'"{POISON}"' in letter["raw"]
    counts = orjson.loads((cluster.tmp / "faust-w1" / "failed-batches.json").read_bytes())
    assert counts == {}  # reset by the batch that went through


def test_a_downstream_that_refuses_everything_is_retried_and_nothing_is_dead_lettered(
    cluster: Cluster,  # noqa: F811
) -> None:
    down = cluster.tmp / "correlate-down"
    down.touch()
    cluster.inject_fault("WF_FAULT_CORRELATE_DOWN", str(down))
    docs = load_docs()
    expected = sorted(map(key, embedded_detections(docs)))
    w = cluster.worker("w1", extra=["--config", str(retry_config(cluster))]).start()
    cluster.wait("the worker to own its partitions", lambda: bool(assignment(w)))
    with KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl") as pub:
        pub.publish([document_event(d) for d in docs])

    def isolated_twice() -> bool:
        log = w.log.read_text(errors="replace")
        return len(re.findall(r"extract: the batch at [^\n]*? failed again, attempt \d+ \(NotAttributable", log)) >= 2

    cluster.wait("the records tried one at a time, twice, and no culprit found", isolated_twice)
    down.unlink()  # the downstream is back
    cluster.wait(
        f"the {len(expected)} embedded alerts in the store",
        lambda: sorted(map(key, stored_detections(cluster.store_url))) == expected,
    )
    assert w.alive()
    log = w.log.read_text(errors="replace")
    assert "dead-lettered" not in log
    assert not [
        d
        for d in all_records(cluster.bootstrap, Topics(cluster.prefix).dead_letters)
        if "failed alone" in d["payload"]["reason"]
    ]
