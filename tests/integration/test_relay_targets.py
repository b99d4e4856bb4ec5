"""A new pipeline fed from an existing producer store gets every document the store holds (outside trial 22, H1):
the relay's position is kept per target (its prefix), so what was sent to prefix A is not taken as sent to B."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.kafka import topic_prefix
from tests.functional.test_run_backlog import inbox_lines  # n documents a line each, ids bk-N
from tests.integration.test_produce_slices import ids_on_broker
from watchfloor.cli.distributed import settings_for
from watchfloor.config import load_config
from watchfloor.schemas.config import JsonlSource
from watchfloor.schemas.topics import TopicNames
from watchfloor.wiring import DistributedProducer

pytest.importorskip("kafka")

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def produce_once(tmp_path: Path, bootstrap: str, prefix: str, inbox: Path) -> tuple[int, str | None]:
    """One `produce --once`-like pass of the store beside `inbox` to `prefix`: documents sent, the start note."""
    cfg = load_config(None)
    settings = settings_for(cfg, bootstrap=bootstrap, prefix=prefix, partitions=1)
    source = JsonlSource(path=str(inbox))
    producer = DistributedProducer(cfg, settings, store_url=f"sqlite:///{tmp_path / 'outbox.db'}", sources=[source])
    try:
        producer.created_topics = producer.publisher.ensure_topics()
        return producer.cycle().sent, producer.start_note
    finally:
        producer.close()


def test_a_fresh_prefix_fed_from_the_same_store_gets_every_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kafka_bootstrap: str, kafka_admin: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(inbox_lines(0, 12), encoding="utf-8")
    with topic_prefix(kafka_admin, "wf-relay-a") as a, topic_prefix(kafka_admin, "wf-relay-b") as b:
        sent, note = produce_once(tmp_path, kafka_bootstrap, a, inbox)
        assert (sent, note) == (12, None)  # an empty store: nothing to send from the start, nothing said
        assert sorted(ids_on_broker(kafka_bootstrap, a, 12)) == sorted(f"bk-{i}" for i in range(12))
        # the same store, a pipeline it never sent to: the source has nothing new, the outbox is sent whole
        sent, note = produce_once(tmp_path, kafka_bootstrap, b, inbox)
        assert sent == 12
        assert note == (
            f"relaying the store's 12 documents to {b} at {kafka_bootstrap} from the start: "
            "this store has not sent to it before"
        )
        assert ids_on_broker(kafka_bootstrap, b, 12) == ids_on_broker(kafka_bootstrap, a, 12)  # log order, same ids
        # and A goes on where it was: nothing again
        assert produce_once(tmp_path, kafka_bootstrap, a, inbox) == (0, None)


def test_topics_deleted_and_created_again_get_the_store_documents_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kafka_bootstrap: str, kafka_admin: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(inbox_lines(0, 6), encoding="utf-8")
    with topic_prefix(kafka_admin, "wf-relay-again") as p:
        assert produce_once(tmp_path, kafka_bootstrap, p, inbox)[0] == 6
        cfg = load_config(None)
        settings = settings_for(cfg, bootstrap=kafka_bootstrap, prefix=p, partitions=1)
        source = JsonlSource(path=str(inbox))
        store_url = f"sqlite:///{tmp_path / 'outbox.db'}"
        # the topics still hold what was sent: nothing to decide, nothing sent again
        producer = DistributedProducer(cfg, settings, store_url=store_url, sources=[source])
        try:
            producer.created_topics = producer.publisher.ensure_topics()
            assert producer.check_topics() is None
            assert producer.cycle().sent == 0
        finally:
            producer.close()
        names = TopicNames(p)
        kafka_admin.delete_topics(names.all(), timeout_ms=30_000)
        wait_gone(kafka_admin, names.documents)
        producer = DistributedProducer(cfg, settings, store_url=store_url, sources=[source])
        try:
            producer.created_topics = producer.publisher.ensure_topics()
            note = producer.check_topics()
            assert note is not None and note.startswith(f"relaying the store's 6 documents to {p} ")
            assert "is empty, made again since this store sent to it" in note
            assert producer.cycle().sent == 6
        finally:
            producer.close()
        assert sorted(ids_on_broker(kafka_bootstrap, p, 6)) == sorted(f"bk-{i}" for i in range(6))


def wait_gone(admin: Any, topic: str) -> None:
    """Until the broker no longer lists `topic` (a deletion is asynchronous)."""
    import time

    for _ in range(100):
        if topic not in admin.list_topics():
            return
        time.sleep(0.2)
    raise AssertionError(f"{topic} still listed")
