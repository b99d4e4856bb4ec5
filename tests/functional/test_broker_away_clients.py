"""The long-running Kafka commands, retrying against a broker that is down, leave no client thread nor descriptor."""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

pytest.importorskip("kafka")

from watchfloor.cli import app

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "distributed" / "dprk_russia.jsonl"


@pytest.fixture
def down() -> str:
    """An address nothing listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture(autouse=True)
def quiet_kafka() -> Iterator[None]:
    """A record the log capture keeps holds its traceback, and with it the sockets whose connect failed (kafka-python
    leaves them to the garbage collector): its own records are not made here."""
    lg = logging.getLogger("kafka")
    level = lg.level
    lg.setLevel(logging.CRITICAL + 1)
    yield
    lg.setLevel(level)


def running() -> tuple[set[threading.Thread], int]:
    gc.collect()
    return {t for t in threading.enumerate() if t.is_alive()}, len(os.listdir("/proc/self/fd"))


def assert_as_before(before: tuple[set[threading.Thread], int]) -> None:
    threads, fds = running()
    assert [t.name for t in threads - before[0]] == []
    assert fds <= before[1]


class StopAfter(threading.Event):
    """A stop flag that sets itself at its `n`th wait: a loop that waits between retries tries `n` times."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.waits = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        if self.waits >= self.n:
            self.set()
        return self.is_set()


def test_produce_once_run_again_and_again_without_a_broker(down: str, tmp_path: Path) -> None:
    """`produce FILE --once` in-process (a scheduler embedding the CLI runs it every few minutes): its probe of the
    broker and its publisher's producer fail each run; the documents go to the spool (exit 3)."""
    args = ["produce", str(DATA), "--once", "--broker", down, "--prefix", "wf-away"]
    args += ["--store", f"sqlite:///{tmp_path / 'out.db'}"]
    runner = CliRunner()

    def produce() -> None:
        res = runner.invoke(app, args, env={"WATCHFLOOR_SPOOL_DIR": str(tmp_path / "spool")})
        assert res.exit_code == 3, res.output

    produce()  # warm-up: anything made once per process
    before = running()
    for _ in range(2):
        produce()
    assert_as_before(before)


def test_a_live_produce_waiting_for_its_broker_then_spooling(down: str, tmp_path: Path) -> None:
    """A live `produce` tries to create the topics until the broker answers (an admin client per try), and once
    polling, each publish while the broker is away tries a new producer."""
    from watchfloor.schemas.config import AppConfig, KafkaConfig
    from watchfloor.wiring import DistributedProducer

    store_url = f"sqlite:///{tmp_path / 'outbox.db'}"
    producer: Any = DistributedProducer(
        AppConfig(store=store_url, sources=[]),
        KafkaConfig(bootstrap=down, prefix="wf-away", partitions=1, spool_dir=str(tmp_path / "spool")),
        store_url=store_url,
        sources=[],
    )
    producer.publisher.timeout_s = 1.0
    try:
        assert not producer.wait_for_broker(StopAfter(1), retry_s=0)  # warm-up
        before = running()
        stop = StopAfter(3)
        assert not producer.wait_for_broker(stop, retry_s=0)
        assert stop.waits == 3  # three tries, each a client
        for i in range(2):
            from watchfloor.schemas.events import Event

            ev = Event(id=f"e{i}", type="detection", time="2024-06-19T00:00:00+00:00", payload={})
            assert producer.publisher.publish([ev]).spooled == 1
        assert_as_before(before)
    finally:
        producer.close()


def test_an_archive_waiting_for_its_broker(down: str) -> None:
    """`watchfloor archive` started before its broker (or losing it) polls on: each poll tries a new consumer."""
    from watchfloor.stream_processors.kafka.archive import KafkaArchive

    sink = KafkaArchive(down, None, topic_prefix="wf-away", timeout_s=1.0)  # type: ignore[arg-type]
    cycles = 0

    def on_cycle() -> None:
        nonlocal cycles
        cycles += 1

    try:
        sink.run(StopAfter(1), timeout_ms=100, on_cycle=on_cycle)  # warm-up
        before = running()
        sink.run(StopAfter(3), timeout_ms=100, on_cycle=on_cycle)
        assert cycles == 4 and sink._consumer is None  # each cycle tried to make the consumer, and failed
        assert_as_before(before)
    finally:
        sink.close()


def test_an_archive_waiting_for_its_broker_says_where_the_address_comes_from_and_again_while_it_waits(
    down: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Outside trial 22, L3: `archive` with a wrong broker said it waits, once, then nothing for 45 s; the worker says
    where the address comes from and "still unreachable after 30s". The archive says the same (its clock driven
    here, not waited for)."""
    from watchfloor.cli.distributed import BROKER_HINT
    from watchfloor.stream_processors.kafka.archive import KafkaArchive

    sink = KafkaArchive(down, None, topic_prefix="wf-away", timeout_s=1.0, broker_hint=BROKER_HINT)  # type: ignore[arg-type]
    now = [1000.0]
    sink.broker.clock = lambda: now[0]
    try:
        with caplog.at_level(logging.WARNING, logger="watchfloor.stream_processors.kafka.archive"):
            sink.run(StopAfter(2), timeout_ms=100)
            now[0] += 31.0
            sink.run(StopAfter(2), timeout_ms=100)
    finally:
        sink.close()
    said = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(said) == 2, said  # one when it went, one reminder: not a line per retry
    assert said[0].startswith(f"Kafka broker {down} unreachable (") and said[0].endswith(
        f"; archive waits ({BROKER_HINT})"
    ), said
    assert said[1] == f"Kafka broker {down} still unreachable after 31s; archive waits ({BROKER_HINT})", said
