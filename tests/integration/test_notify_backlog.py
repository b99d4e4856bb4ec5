"""`notify --broker` holds a backlog's alerts while the workers read it, then delivers them together in event time:
against a real broker, the workers' lag read from their committed offsets (stream_processors.kafka.status.WorkersLag),
and a live `notify` process whose file channel shows the order of delivery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.kafka import topic_prefix
from tests.functional.delivery_helpers import detection
from watchfloor.cli.distributed import WORKERS_BACKLOG
from watchfloor.schemas.events import detection_event
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.kafka.status import WorkersLag
from watchfloor.stream_processors.kafka.topics import ensure_topics
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.integration

WATCHFLOOR = Path(sys.executable).parent / "watchfloor"


@pytest.fixture
def prefix(kafka_admin: object, kafka_bootstrap: str) -> Iterator[str]:
    with topic_prefix(kafka_admin, "wf-test-hold") as p:
        ensure_topics(kafka_bootstrap, p, 2)
        yield p


def publish(bootstrap: str, topic: str, n: int) -> None:
    import kafka

    producer = kafka.KafkaProducer(bootstrap_servers=bootstrap)
    try:
        for i in range(n):
            producer.send(topic, key=str(i).encode(), value=b"{}")
        producer.flush(30)
    finally:
        producer.close()


def commit_all(bootstrap: str, prefix: str) -> None:
    """The workers' group read everything: its offsets committed at the end of each of its topics."""
    import kafka
    from kafka.structs import OffsetAndMetadata

    names = TopicNames(prefix)
    consumer = kafka.KafkaConsumer(bootstrap_servers=bootstrap, group_id=f"{prefix}-worker", enable_auto_commit=False)
    try:
        tps = [
            kafka.TopicPartition(t, p)
            for t in (names.documents, names.correlate, names.detections)
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        ends = consumer.end_offsets(tps)
        fields: Any = OffsetAndMetadata._fields
        consumer.commit({tp: OffsetAndMetadata(o, "", *([-1] * (len(fields) - 2))) for tp, o in ends.items()})
    finally:
        consumer.close()


def test_the_workers_lag_is_what_their_group_has_not_committed(kafka_bootstrap: str, prefix: str) -> None:
    lag = WorkersLag(kafka_bootstrap, prefix, timeout_s=10)
    try:
        assert lag.lag() == 0 and lag.answers()  # (the broker takes a connection: the look made while it was away)
        publish(kafka_bootstrap, TopicNames(prefix).documents, 7)
        assert lag.lag() == 7  # never committed: counted from the beginning
        commit_all(kafka_bootstrap, prefix)
        assert lag.lag() == 0
    finally:
        lag.close()


def test_a_broker_that_cannot_be_asked_gives_no_lag() -> None:
    lag = WorkersLag("127.0.0.1:9", "nothing", timeout_s=1)
    assert lag.lag() is None and lag.lag() is None  # (asked again: no client left behind)
    assert not lag.answers()  # (refused at once: notify looks again in LAG_PROBE seconds)
    lag.close()


@pytest.mark.parametrize("told", ["--broker", "config"])
def test_notify_holds_a_backlogs_alerts_until_the_workers_read_it_then_sends_them_in_event_time(
    kafka_bootstrap: str, prefix: str, tmp_path: Path, told: str
) -> None:
    # (told the broker by --broker, or only by the config's kafka: section, as the other distributed commands read
    # it: outside trial 27, F2)
    url, out = f"sqlite:///{tmp_path / 'wf.db'}", tmp_path / "alerts.jsonl"
    cfg = tmp_path / "watchfloor.yaml"
    section = f'kafka: {{bootstrap: "{kafka_bootstrap}", prefix: "{prefix}"}}\n' if told == "config" else ""
    cfg.write_text(
        f'store: "{url}"\nrules: [builtin:dprk_russia]\nsources: []\nbacklog_settle: 120s\n{section}'
        f'channels: [{{type: file, name: archive, path: "{out}"}}]\nsubscriptions: [{{channel: archive}}]\n',
        encoding="utf-8",
    )
    publish(kafka_bootstrap, TopicNames(prefix).documents, WORKERS_BACKLOG + 20)  # a backlog the workers have not read
    st = open_store(url)
    env = {k: v for k, v in os.environ.items() if k not in ("WATCHFLOOR_STORE", "WATCHFLOOR_KAFKA")}
    command = ["notify", "--config", str(cfg), "--interval", "0.3"]
    if told == "--broker":
        command += ["--broker", kafka_bootstrap, "--prefix", prefix]
    proc = subprocess.Popen(
        [str(WATCHFLOOR), *command],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        # The workers store a later alert first, then an earlier one of another thread (their partitions' own pace).
        st.append([detection_event(detection(2, group={"route": "B"}, minutes=300))])
        time.sleep(3)  # (several of notify's cycles: held, not sent)
        st.append([detection_event(detection(1, group={"route": "A"}, minutes=10))])
        time.sleep(2)
        assert not out.exists() or out.read_text() == ""
        commit_all(kafka_bootstrap, prefix)  # the workers have read the backlog
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 2):
            time.sleep(0.2)
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=60)
        st.close()
    said = stderr.decode()
    sent = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sent == ["det0001", "det0002"], said  # in event time, not in the order the workers stored them
    assert f"the workers are reading a backlog ({WORKERS_BACKLOG + 20:,} records behind)" in said
    assert "the workers caught up after" in said
    assert f"notify: while the workers of {prefix} on {kafka_bootstrap} read a backlog, its alerts are held" in said
