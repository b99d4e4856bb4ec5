"""On a real broker, through a real worker's agents: the documents the extract agent takes beyond the lateness are
counted per source in the store (kafka.late), and `status --broker` (text and --json `late_documents`, the embedded
status's field) and /metrics (`watchfloor_late_documents`) show them; a worker started again counts on from there,
nothing twice."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("faust")

from tests.fixtures.kafka import topic_prefix
from tests.functional.test_distributed_commands import cli, start, stop
from tests.integration.test_kafka_metrics import scrape, serving
from watchfloor.schemas.config import AppConfig, ConsoleChannel, KafkaConfig
from watchfloor.schemas.events import Document, Event, SourceRef, document_event
from watchfloor.stream_processors.kafka.app import ASSIGNMENT_LOG
from watchfloor.stream_processors.kafka.codec import WATERMARK
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(400)]

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules" / "dprk_russia.yaml"  # lateness 2d
ORIGIN = "inbox/harbour.jsonl"
T0 = datetime(2024, 10, 21, 6, 0, tzinfo=UTC)
OLD = T0 - timedelta(days=30)  # beyond the lateness of the watermark T0
NO_RULE_READS = "The city council approved a new budget plan"
TREATY = "Russia's lower house ratifies the partnership treaty with North Korea"


@pytest.fixture
def prefix(kafka_admin: Any) -> Iterator[str]:
    with topic_prefix(kafka_admin, "wf-late") as p:
        yield p


def doc(i: int, at: datetime, title: str) -> Event:
    d = Document(
        id=f"late-{i}",
        type="news.article",
        published_at=at,
        source=SourceRef(name="Harbour Gazette"),
        title=title,
        body="Officials commented later in the day.",
    )
    return document_event(d).model_copy(update={"origin": ORIGIN})


def publish(bootstrap: str, prefix: str, spool: Path, events: list[Event]) -> None:
    """`events` and, behind them on every documents partition, the watermark T0 (as the relay sends its own)."""
    mark = Event(id=f"wm-{time.monotonic_ns()}", type=WATERMARK, time=T0, payload={"time": T0.timestamp()})
    with KafkaPublisher(bootstrap, prefix, spool_path=spool) as pub:
        pub.ensure_topics()
        assert pub.publish([*events, mark]).spooled == 0


def started(cwd: Path, log: Path, *args: str) -> Any:
    worker = start(cwd, log, "worker", *args)
    deadline = time.monotonic() + 120
    while ASSIGNMENT_LOG not in log.read_text(errors="replace"):
        assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.5)
    return worker


def status(cwd: Path, *args: str) -> tuple[dict[str, Any], str]:
    res = cli(cwd, "status", *args, "--wait", "120", "--json", timeout=200)
    assert res.returncode == 0, res.stdout + res.stderr
    return json.loads(res.stdout), res.stderr


def late_samples(url: str) -> dict[tuple[str, str], float]:
    return {
        (dict(labels)["source"], dict(labels)["outcome"]): v
        for (name, labels), v in scrape(url).items()
        if name == "watchfloor_late_documents_total"
    }


def test_late_documents_reach_status_broker_and_metrics_and_survive_a_worker_restart(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'wf.db'}"
    b = ["--broker", kafka_bootstrap, "--prefix", prefix, "--store", store]
    # the watermark T0 first, then two documents 30 days older: one no detection reads, one the treaty rule reads
    publish(kafka_bootstrap, prefix, tmp_path / "spool.jsonl", [doc(0, T0, NO_RULE_READS)])
    publish(kafka_bootstrap, prefix, tmp_path / "spool.jsonl", [doc(1, OLD, NO_RULE_READS), doc(2, OLD, TREATY)])
    log = tmp_path / "worker.log"
    worker = started(tmp_path, log, *b, "--rules", str(RULES))
    try:
        st, _ = status(tmp_path, *b)
        assert st["late_documents"] == {ORIGIN: {"passed_over": 1, "dead_lettered": 1}}, st
    finally:
        assert stop(worker) == 0, log.read_text()[-3000:]
    # the text says it as the embedded status does, and that the workers' dead letters are listed once archived
    # (outside trial 80, F7: without `archive` the command it named listed none)
    res = cli(tmp_path, "status", *b, timeout=200)
    said = " ".join(res.stderr.split())
    assert (
        f"source {ORIGIN}: 1 late document passed over (no detection reads them), 1 dead-lettered "
        "(`watchfloor dead-letters --stage event-time` once `watchfloor archive` stored them)" in said
    ), said

    # A worker started again reads on from the commit: one more passed over, the two before not counted again.
    publish(kafka_bootstrap, prefix, tmp_path / "spool.jsonl", [doc(3, OLD, NO_RULE_READS)])
    log2 = tmp_path / "worker2.log"
    worker = started(tmp_path, log2, *b, "--rules", str(RULES))
    try:
        st, _ = status(tmp_path, *b)
        assert st["late_documents"] == {ORIGIN: {"passed_over": 2, "dead_lettered": 1}}, st
    finally:
        assert stop(worker) == 0, log2.read_text()[-3000:]

    # /metrics of a `serve` on that store, with the pipeline's `kafka:` section
    cfg = AppConfig(
        channels=[ConsoleChannel(name="c")],
        subscriptions=[],
        kafka=KafkaConfig(bootstrap=kafka_bootstrap, prefix=prefix),
    )
    served = SqlStore(store)
    try:
        with serving(cfg, [datetime.now(UTC)], served) as (url, _):  # type: ignore[arg-type]
            assert late_samples(url) == {(ORIGIN, "passed_over"): 2.0, (ORIGIN, "dead_lettered"): 1.0}
    finally:
        served.close()
