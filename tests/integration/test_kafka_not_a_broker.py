"""A bootstrap address where something answers that is not a Kafka broker (outside trial 40, M5: PostgreSQL's port)
is said in those words, at once, and kafka-python's two lines per connection attempt ("Invalid frame length: N") are
kept out of the output. The peer here is a local server that answers every connection as PostgreSQL does a Kafka
request: bytes whose first four read as a frame length no Kafka response has."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

pytest.importorskip("kafka")

from watchfloor.schemas.events import Document, SourceRef, document_event  # noqa: E402
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher  # noqa: E402
from watchfloor.stream_processors.kafka.reader import replay_from_kafka  # noqa: E402

ANSWER = b"EHTTP/1.1 400 Bad Request\r\n\r\n"  # "EHTT": 1,162,368,084 as a frame length


@pytest.fixture
def not_kafka() -> Iterator[str]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(1.0)
                    conn.recv(4096)
                    conn.sendall(ANSWER)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def frame_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """kafka-python's own lines about the frame (watchfloor's say it in words)."""
    return [r.getMessage() for r in caplog.records if r.name.startswith("kafka") and "frame length" in r.getMessage()]


def test_produce_says_what_answers_is_not_a_broker_at_once(
    not_kafka: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    doc = Document(
        id="nk-1",
        type="news.article",
        published_at=datetime(2024, 10, 21, tzinfo=UTC),
        source=SourceRef(name="Wire"),
        title="A dispatch",
    )
    publisher = KafkaPublisher(not_kafka, "nk", spool_path=tmp_path / "spool.jsonl", timeout_s=5.0)
    started = time.monotonic()
    try:
        result = publisher.publish([document_event(doc)])
    finally:
        publisher.close()
    assert result.spooled == 1
    said = [r.getMessage() for r in caplog.records if r.name.startswith("watchfloor") and r.levelno >= logging.WARNING]
    assert said and said[0].startswith(
        f"Kafka broker {not_kafka} unreachable: something answers at {not_kafka} that is not a Kafka broker "
        "(check the port; it said InvalidReceiveError: Invalid frame length: "
    ), said
    assert time.monotonic() - started < 5.0 + 2.0
    assert frame_lines(caplog) == []


def test_a_read_says_it_too(not_kafka: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TimeoutError) as e:
        list(replay_from_kafka(not_kafka, "nk.documents", datetime.now(UTC) - timedelta(days=1), timeout_s=2.0))
    assert str(e.value) == (
        f"Kafka broker {not_kafka} unreachable: something answers at {not_kafka} that is not a Kafka broker (check "
        "the port; it said InvalidReceiveError: Invalid frame length: 1162368084)"
    )
    assert frame_lines(caplog) == []
