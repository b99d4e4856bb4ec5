"""`serve` with a broker, on a REAL one: /metrics has the distributed pipeline's consumer lag, group members and
published watermark; the lag goes back to 0 when the group catches up; /healthz degrades on a group behind past
`health.kafka_behind` when that is set; a broker that cannot be asked leaves the rest of the scrape as it was and
says so (watchfloor_kafka_up 0, failed looks counted, one log line)."""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.log_lines import unstamped
from watchfloor.alerts.control import ControlLog
from watchfloor.schemas.config import AppConfig, ConsoleChannel, HealthConfig, KafkaConfig
from watchfloor.schemas.events import Document, SourceRef, document_event
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.web.build import build_services
from watchfloor.web.server import Services, WebServer, create_app

pytestmark = pytest.mark.integration

pytest.importorskip("kafka")
from kafka import KafkaConsumer  # noqa: E402

from watchfloor.stream_processors.kafka.publisher import KafkaPublisher  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
T0 = datetime(2024, 10, 21, 6, 0, tzinfo=UTC)
N_DOCS = 9
RECORDS = N_DOCS + 3  # and the publisher's watermark record on each of the 3 documents partitions

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def prefix(kafka_admin) -> Iterator[str]:
    p = f"wf-test-metrics-{uuid.uuid4().hex[:8]}"
    yield p
    try:
        kafka_admin.delete_topics(TopicNames(p).all(), timeout_ms=30_000)
    except Exception as exc:  # best effort
        print(f"could not delete topics of {p}: {exc!r}")


def publish(bootstrap: str, prefix: str, tmp_path: Path) -> float:
    """N_DOCS documents on the documents topic; returns the watermark the publisher wrote (their newest time)."""
    docs = [
        Document(
            id=f"metrics-{i}",
            type="news.article",
            published_at=T0 + timedelta(minutes=i),
            source=SourceRef(name="Harbour Gazette"),
            title=f"Dispatch {i}",
            body="Trucks were seen queueing at the bridge before dawn.",
        )
        for i in range(N_DOCS)
    ]
    with KafkaPublisher(bootstrap, prefix, spool_path=tmp_path / "spool.jsonl") as pub:
        pub.ensure_topics()
        assert pub.publish([document_event(d) for d in docs]).sent == N_DOCS
    return max(d.published_at for d in docs).timestamp()


@contextmanager
def serving(cfg: AppConfig, clock: list[datetime], store: MemoryStore | None = None) -> Iterator[tuple[str, Services]]:
    store = store or MemoryStore()
    _, rules = load_rules(cfg.rules)
    services = build_services(cfg, store, ControlLog(store), rules, env={}, now=lambda: clock[0])
    assert services.kafka is not None
    # Every request looks again and waits for the look (while the broker answers): what the broker says now.
    services.kafka.fresh_s, services.kafka.wait_s = 0.0, 60.0
    server = WebServer(create_app(services), "127.0.0.1", 0).start()
    try:
        yield server.url, services
    finally:
        server.stop()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def scrape(url: str) -> Samples:
    status, body = get(url + "/metrics")
    assert status == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(body)
        for s in fam.samples
    }


def lag(m: Samples, group: str, topic: str) -> float:
    return m[("watchfloor_kafka_consumer_lag", (("group", group), ("topic", topic)))]


def catch_up(bootstrap: str, group: str, topics: list[str], expect: int) -> KafkaConsumer:
    """A member of `group` that has read `expect` records of `topics` and committed; close it when done."""
    consumer = KafkaConsumer(
        *topics, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False
    )
    got = 0
    deadline = time.monotonic() + 60
    while got < expect and time.monotonic() < deadline:
        got += sum(len(records) for records in consumer.poll(timeout_ms=500).values())
    assert got == expect
    consumer.commit()
    return consumer


def test_lag_appears_then_returns_to_0_when_the_workers_catch_up(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    newest = publish(kafka_bootstrap, prefix, tmp_path)
    names = TopicNames(prefix)
    workers, archive = f"{prefix}-worker", f"{prefix}-archive"
    clock = [datetime.now(UTC)]
    cfg = AppConfig(
        channels=[ConsoleChannel(name="c")],
        subscriptions=[],
        kafka=KafkaConfig(bootstrap=kafka_bootstrap, prefix=prefix),
    )
    with serving(cfg, clock) as (url, _):
        m = scrape(url)
        assert m[("watchfloor_kafka_up", ())] == 1 and m[("watchfloor_kafka_status_failures_total", ())] == 0
        # No worker ever ran: everything written waits for it (the watermark records too).
        assert lag(m, workers, names.documents) == RECORDS
        assert lag(m, workers, names.correlate) == 0 and lag(m, workers, names.detections) == 0
        assert m[("watchfloor_kafka_caught_up", ())] == 0
        assert m[("watchfloor_kafka_group_members", (("group", workers),))] == 0
        assert m[("watchfloor_kafka_topic_records_total", (("topic", names.documents),))] == RECORDS
        assert not [k for k in m if k[0] == "watchfloor_kafka_consumer_lag" and ("group", archive) in k[1]]
        # The watermark the publisher wrote after the documents, on every documents partition.
        marks = {
            dict(k)["partition"]: v for (n, k), v in m.items() if n == "watchfloor_kafka_watermark_timestamp_seconds"
        }
        assert marks == {"0": newest, "1": newest, "2": newest}
        assert m[("watchfloor_kafka_watermark_age_seconds", ())] == pytest.approx(clock[0].timestamp() - newest)
        assert m[("watchfloor_kafka_consumer_behind_seconds", (("group", workers),))] == 0

        clock[0] += timedelta(minutes=10)  # the server's clock: the next look is 10 minutes after the first
        m = scrape(url)
        assert lag(m, workers, names.documents) == RECORDS
        assert m[("watchfloor_kafka_consumer_behind_seconds", (("group", workers),))] == 600

        consumer = catch_up(kafka_bootstrap, workers, [names.documents, names.correlate, names.detections], RECORDS)
        try:
            clock[0] += timedelta(minutes=1)
            m = scrape(url)
            assert {
                t: lag(m, workers, t) for t in (names.documents, names.correlate, names.detections)
            } == dict.fromkeys((names.documents, names.correlate, names.detections), 0)
            assert m[("watchfloor_kafka_caught_up", ())] == 1  # the archive never ran: not waited for
            assert m[("watchfloor_kafka_group_members", (("group", workers),))] == 1
            assert m[("watchfloor_kafka_consumer_behind_seconds", (("group", workers),))] == 0
            assert m[("watchfloor_kafka_group_members", (("group", archive),))] == 0
        finally:
            consumer.close()


def test_healthz_degrades_on_a_group_behind_past_health_kafka_behind(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    publish(kafka_bootstrap, prefix, tmp_path)
    names = TopicNames(prefix)
    workers = f"{prefix}-worker"
    clock = [datetime.now(UTC)]
    kafka = KafkaConfig(bootstrap=kafka_bootstrap, prefix=prefix)
    cfg = AppConfig(
        channels=[ConsoleChannel(name="c")], subscriptions=[], kafka=kafka, health=HealthConfig(kafka_behind="5m")
    )
    with serving(cfg, clock) as (url, _):
        status, body = get(url + "/healthz")
        health = json.loads(body)
        assert status == 200 and health["kafka"]["lag"] == {workers: RECORDS}
        # no `run` cycles here, by design: said so, not "no cycle recorded yet" (outside trial 39, L)
        assert health["pipeline"].startswith("distributed: the workers read from Kafka"), health
        clock[0] += timedelta(minutes=10)
        status, body = get(url + "/healthz")
        health = json.loads(body)
        assert status == 503 and health["status"] == "degraded"
        assert health["problems"] == [f"kafka group {workers}: behind for 600s ({RECORDS} records)"]
        assert health["kafka"]["behind_seconds"] == {workers: 600}
        consumer = catch_up(kafka_bootstrap, workers, [names.documents, names.correlate, names.detections], RECORDS)
        try:
            status, body = get(url + "/healthz")
            assert status == 200 and json.loads(body)["kafka"]["lag"] == {workers: 0}
        finally:
            consumer.close()
    # Off by default: the same lag, the same wait, and /healthz does not ask the broker at all.
    clock = [datetime.now(UTC)]
    with serving(cfg.model_copy(update={"health": HealthConfig()}), clock) as (url, _):
        get(url + "/healthz")
        clock[0] += timedelta(days=1)
        status, body = get(url + "/healthz")
        assert status == 200 and "kafka" not in json.loads(body)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_broker_that_cannot_be_asked_leaves_the_rest_of_the_scrape(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from watchfloor.producers.jsonl import read_jsonl
    from watchfloor.producers.publish import ingest

    store = MemoryStore()
    ingest(store, read_jsonl(SAMPLES), str(SAMPLES))
    clock = [datetime.now(UTC)]
    down = KafkaConfig(bootstrap=f"127.0.0.1:{closed_port()}", prefix="wf-test-nobroker")
    cfg = AppConfig(channels=[ConsoleChannel(name="c")], subscriptions=[], kafka=down)
    with serving(cfg, clock, store) as (url, services):
        assert services.kafka is not None
        m = scrape(url)  # waits for the first look, which fails
        assert m[("watchfloor_kafka_up", ())] == 0 and m[("watchfloor_kafka_status_failures_total", ())] == 1
        assert not [
            k
            for k in m
            if k[0].startswith("watchfloor_kafka_")
            and k[0] not in ("watchfloor_kafka_up", "watchfloor_kafka_status_failures_total")
        ]
        # The rest is there as without a broker.
        assert sum(v for (n, _), v in m.items() if n == "watchfloor_documents_ingested_total") == 12
        assert m[("watchfloor_log_head", ())] == store.head()
        assert ("watchfloor_pipeline_cycles_total", ()) in m and ("watchfloor_silences_active", ()) in m
        # Each request past the first starts another look, and none waits for it: they fail, are counted...
        deadline = time.monotonic() + 120
        while services.kafka.view().failures < 3 and time.monotonic() < deadline:
            m = scrape(url)
            time.sleep(0.2)
        assert services.kafka.view().failures >= 3 and m[("watchfloor_kafka_up", ())] == 0
        # ...and are said once, not once per look.
        said = [r for r in caplog.records if r.name == "watchfloor.web.broker" and r.levelno >= logging.WARNING]
        assert len(said) == 1 and "unreachable" in said[0].getMessage(), [r.getMessage() for r in said]
        status, html = get(url + "/")
        assert status == 200
        assert "the broker could not be asked" in html.split('id="kafka"')[1].split("</section>")[0]
        # a Kafka desk's pipeline is its workers: no "last pipeline cycle never (0 cycles)" of a `run` (trial 84, F6)
        assert "pipeline: the Kafka workers (below)" in html and "last pipeline cycle" not in html, html[:3000]


def test_serve_reports_on_the_broker_in_WATCHFLOOR_KAFKA(kafka_bootstrap: str, prefix: str, tmp_path: Path) -> None:
    """docker-compose.yml's `web` gets the broker as the other services do, from $WATCHFLOOR_KAFKA (its config's
    kafka: section names only the prefix)."""
    import os
    import subprocess
    import sys

    publish(kafka_bootstrap, prefix, tmp_path)
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nchannels: [{{type: console, name: c}}]\nsubscriptions: []\n"
        f"kafka: {{prefix: {prefix}}}\n",
        encoding="utf-8",
    )
    port = closed_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")}
    env.update(PYTHONPATH=str(REPO), WATCHFLOOR_NATIVE="0", WATCHFLOOR_KAFKA=kafka_bootstrap)
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchfloor", "serve", "--config", str(cfg), "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = unstamped(proc.stderr.readline())[0]  # (a live serve's lines start with their time)
        assert line.startswith("serving") and f"Kafka {kafka_bootstrap} ({prefix})" in line, line
        m = scrape(f"http://127.0.0.1:{port}")
        assert m[("watchfloor_kafka_up", ())] == 1
        assert lag(m, f"{prefix}-worker", TopicNames(prefix).documents) == RECORDS
    finally:
        proc.terminate()
        proc.communicate(timeout=60)
