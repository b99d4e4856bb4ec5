"""`watchfloor archive` waits out its PostgreSQL store going away with one line when it goes and one when it is
back, and archives what came meanwhile (outside trial 39, M3: a traceback of ~120 lines every 2 s, 3,800 lines a
minute, while the store was down). A real broker; the store's connections through a TCP relay that is cut."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

pytest.importorskip("kafka")

from tests.fixtures.relay import Relay
from watchfloor.schemas.events import document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.kafka.archive import KafkaArchive
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.integration
STORY = Path(__file__).resolve().parents[1] / "data" / "events" / "treaty_story.jsonl"


@pytest.fixture
def prefix(kafka_admin) -> Iterator[str]:  # type: ignore[no-untyped-def]
    p = f"wf-outage-{uuid.uuid4().hex[:8]}"
    yield p
    try:
        kafka_admin.delete_topics(Topics(p).all(), timeout_ms=30_000)
    except Exception as exc:  # best effort
        print(f"could not delete topics of {p}: {exc!r}")


def test_archive_says_a_store_outage_once_and_catches_up_after_it(
    kafka_bootstrap: str, prefix: str, pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    docs = [parse_document(json.loads(line)) for line in STORY.read_text().splitlines()]
    half = len(docs) // 2
    parts = urlsplit(pg_url)
    relay = Relay(parts.hostname or "127.0.0.1", parts.port or 5432)
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{relay.port}"))
    store = SqlStore(proxied)
    check = SqlStore(pg_url)
    archive = KafkaArchive(kafka_bootstrap, store, topic_prefix=prefix, group_id=f"{prefix}-archive")
    stop = threading.Event()
    runner = threading.Thread(target=archive.run, args=(stop,), kwargs={"timeout_ms": 200}, daemon=True)
    try:
        with KafkaPublisher(kafka_bootstrap, prefix, spool_path=tmp_path / "spool.jsonl") as pub:
            pub.ensure_topics()
            assert pub.publish([document_event(d) for d in docs[:half]]).spooled == 0
            caplog.set_level(logging.DEBUG, logger="watchfloor")
            runner.start()
            deadline = time.monotonic() + 90
            while check.count(types={"news.article"}) < half:
                assert time.monotonic() < deadline, "archive did not catch up"
                time.sleep(0.3)
            caplog.clear()
            relay.cut()  # PostgreSQL goes away for the archive
            assert pub.publish([document_event(d) for d in docs[half:]]).spooled == 0
            time.sleep(8)  # four retries at least
            relay.resume()
            deadline = time.monotonic() + 90
            while check.count(types={"news.article"}) < len(docs):
                assert time.monotonic() < deadline, "archive did not catch up after the outage"
                time.sleep(0.3)
    finally:
        stop.set()
        runner.join(30)
        archive.close()
        store.close()
        check.close()
        relay.close()
    said = [r for r in caplog.records if r.levelno >= logging.INFO and r.name.startswith("watchfloor")]
    text = "\n".join(r.getMessage() for r in said)
    assert [r.getMessage() for r in said if "the store" in r.getMessage() and "unreachable" in r.getMessage()], text
    assert sum("unreachable" in r.getMessage() for r in said) == 1, text  # once, not each retry
    assert not [r for r in said if r.levelno >= logging.ERROR], text  # no traceback per retry
    assert any("reachable again" in r.getMessage() for r in said), text
