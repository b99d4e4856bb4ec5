"""`produce` while its broker is away, on a PRIVATE broker this test stops and starts (outside trial 72, LOW-2).

Before, every relay batch of ~500 documents tried the dead broker for the whole `kafka.publish_timeout`, so a pass
moved ~30 documents/s while it was away, and no "still unreachable" line came at 30 s. Now the first miss is the only
try: the rest of the pass goes to the spool at disk speed, the broker is probed at a bounded interval (a reminder at
30 s), and the spool is sent once a probe finds it back: every document on the topic once. Tries and probes are
counted, on an injected clock; nothing here is timed."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.functional.test_run_backlog import inbox_lines  # n documents a line each, ids bk-N
from tests.integration.test_produce_slices import ids_on_broker
from watchfloor.cli.distributed import settings_for
from watchfloor.config import load_config
from watchfloor.schemas.config import JsonlSource
from watchfloor.stream_processors.kafka.publisher import PROBE_EVERY_S
from watchfloor.stream_processors.kafka.topics import ensure_topics
from watchfloor.wiring import DistributedProducer

pytest.importorskip("kafka")

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
PREFIX = "away"


class ClockedStop(threading.Event):
    """A stop whose waits pass on the test's clock, not the wall's."""

    def __init__(self, now: list[float]) -> None:
        super().__init__()
        self.now = now
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        self.now[0] += timeout or 0.0
        return self.is_set()


def test_a_pass_while_the_broker_is_away_tries_it_once_then_spools_and_sends_everything_once_it_is_back(
    private_kafka: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)  # (the spool's folder)
    ensure_topics(private_kafka.bootstrap, PREFIX, partitions=3)
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(inbox_lines(0, 100), encoding="utf-8")
    cfg = load_config(None)
    settings = settings_for(cfg, bootstrap=private_kafka.bootstrap, prefix=PREFIX, partitions=3)
    settings = settings.model_copy(update={"publish_timeout": 4.0})  # (the one try that misses: 4 s, not 15)
    now = [1000.0]
    source = JsonlSource(path=str(inbox), max_lines_per_poll=5000)
    producer = DistributedProducer(
        cfg, settings, store_url=f"sqlite:///{tmp_path / 'outbox.db'}", sources=[source], clock=lambda: now[0]
    )
    publisher = producer.publisher
    said = "watchfloor.stream_processors.kafka.publisher"
    try:
        assert producer.cycle().sent == 100  # the broker there

        private_kafka.stop()
        with open(inbox, "a", encoding="utf-8") as f:
            f.write(inbox_lines(100, 3000))  # six relay batches of 500
        tries = publisher.tries
        with caplog.at_level(logging.WARNING, logger=said):
            report = producer.cycle()
            assert (report.sent, report.spooled) == (0, 3000)
            # One try missed; the other five batches and the spool went to disk without one (each waited the whole
            # publish_timeout before: seven tries).
            assert publisher.tries - tries == 1 and publisher.probes == 0 and publisher.away
            now[0] += 31.0  # the next pass, 31 s on: a probe, which finds the broker still away
            report = producer.cycle()
            assert (report.sent, report.spooled) == (0, 3000)
            assert publisher.tries - tries == 1 and publisher.probes == 1
        lines = [r.getMessage() for r in caplog.records if r.name == said]
        assert len(lines) == 2, lines
        assert " unreachable (" in lines[0] and lines[0].endswith("until it is back"), lines
        assert lines[1].startswith(f"Kafka broker {private_kafka.bootstrap} still unreachable after 31s; spooling"), (
            lines
        )

        private_kafka.start()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger=said):
            report = producer.cycle()  # the probe is not due yet: nothing tried
            assert (report.sent, publisher.probes, publisher.tries - tries) == (0, 1, 1)
            # Between two passes (a produce --interval 5m): the probe due meanwhile finds it back, and sends the spool.
            stop = ClockedStop(now)
            assert producer.rest(stop, 300.0) is False
            assert stop.waits[0] == PROBE_EVERY_S and publisher.probes == 2 and not publisher.away
            assert publisher.spooled() == 0
            report = producer.cycle()  # the next pass says what went meanwhile
            assert (report.sent, report.drained, report.spooled) == (3000, 3000, 0)
        back = [r.getMessage() for r in caplog.records if r.name == said]
        assert len(back) == 1 and " reachable again after 36.0s" in back[0], back
    finally:
        producer.close()
    ids = ids_on_broker(private_kafka.bootstrap, PREFIX, 3100)
    assert len(ids) == 3100 and len(set(ids)) == 3100  # everything, each once


def test_a_live_produces_lines_start_with_the_utc_time_its_logged_ones_too(
    kafka_bootstrap: str, kafka_admin: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside trial 72, LOW-2: produce's lines carried no UTC time (worker, notify and serve's do). A live produce
    with no source but a spool (it sends the spool, then ends), as the program says its lines ($WATCHFLOOR_LOG_TIME=1):
    each line starts with the time, the logged ones ("drained … spooled event(s)") as well."""
    import socket

    from typer.testing import CliRunner

    from tests.fixtures.kafka import topic_prefix
    from tests.fixtures.log_lines import stamped, unstamped
    from watchfloor.cli import app
    from watchfloor.stream_processors.kafka.publisher import KafkaPublisher

    monkeypatch.chdir(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        down = f"127.0.0.1:{s.getsockname()[1]}"
    with topic_prefix(kafka_admin, "wf-stamped") as prefix:
        spool = tmp_path / "spool" / f"{prefix}.jsonl"
        with KafkaPublisher(down, prefix, spool_path=spool, timeout_s=1.0) as away:
            assert away.publish([ev for ev in _documents(3)]).spooled == 3
        args = ["produce", "--broker", kafka_bootstrap, "--prefix", prefix, "--partitions", "1"]
        env = {"WATCHFLOOR_SPOOL_DIR": str(spool.parent), "WATCHFLOOR_LOG_TIME": "1"}
        res = CliRunner().invoke(app, [*args, "--store", f"sqlite:///{tmp_path / 'out.db'}"], env=env)
        assert res.exit_code == 0, res.output
        lines = [line for line in res.output.splitlines() if line.strip()]
        assert lines and all(stamped(line) for line in lines), res.output
        said = unstamped(res.output)
        assert any(line.startswith("[INFO] kafka: drained ") for line in said), res.output
        assert any("3 sent to Kafka (3 of them from the spool)" in line for line in said), res.output


def _documents(n: int) -> list[Any]:
    from datetime import UTC, datetime, timedelta

    from watchfloor.schemas.events import Document, SourceRef, document_event

    return [
        document_event(
            Document(
                id=f"stamped-{i}",
                type="news.article",
                published_at=datetime(2024, 11, 4, 6, 0, tzinfo=UTC) + timedelta(minutes=i),
                source=SourceRef(name="Border Wire"),
                title=f"Report {i} from the Kursk front",
                body="Units were said to move north of the border overnight.",
            )
        )
        for i in range(n)
    ]


def test_a_producer_whose_records_cannot_be_delivered_is_closed_for_good_without_a_destructor_traceback(
    private_kafka: Any, tmp_path: Path
) -> None:
    """Outside trial 75, F2: after the broker was SIGKILLed under a live `produce`, its log showed kafka-python's
    `Exception ignored in: <function KafkaProducer.__del__ …> … KafkaTimeoutError: Timeout waiting for future`, an
    untimestamped traceback after the one outage line. The publisher drops a producer whose records could not be
    delivered (they are in its spool) with close(timeout=0), which raised from its flush before stopping anything: the
    producer stayed open, its I/O thread retrying, and its destructor raised the same when it was collected. Here a
    broker that stops answering (SIGSTOP: the record stays in flight, whatever the timing) holds a record of a real
    producer when it is closed as the publisher closes one: nothing is raised from its destructor, no I/O thread of it
    is left running."""
    import gc
    import os
    import signal
    import sys

    from kafka import KafkaProducer

    from watchfloor.stream_processors.kafka.clients import close_producer

    ensure_topics(private_kafka.bootstrap, PREFIX, partitions=1)
    producer = KafkaProducer(
        bootstrap_servers=private_kafka.bootstrap,
        client_id="abandoned",
        acks="all",
        request_timeout_ms=60_000,
        delivery_timeout_ms=120_000,
    )
    producer.send(f"{PREFIX}.documents", b"delivered").get(timeout=30)  # (the broker there)
    unraisable: list[str] = []
    hook = sys.unraisablehook
    sys.unraisablehook = lambda u: unraisable.append(f"{u.object!r}: {u.exc_type.__name__}: {u.exc_value}")
    os.kill(int((private_kafka.run_dir / "kafka.pid").read_text().strip()), signal.SIGSTOP)
    try:
        producer.send(f"{PREFIX}.documents", b"never acknowledged")
        close_producer(producer, 0)  # as KafkaPublisher._reset_producer closes the producer of a missed try
        del producer
        gc.collect()
        assert unraisable == []
        running = [t.name for t in threading.enumerate() if t.name == "abandoned-network-thread"]
        assert running == [], running
    finally:
        sys.unraisablehook = hook
        private_kafka.kill()  # (a stopped process takes SIGKILL)
