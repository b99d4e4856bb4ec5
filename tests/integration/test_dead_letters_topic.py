"""`watchfloor dead-letters` with a Kafka pipeline (outside trial 22, M2): the workers dead-letter to the topic
<prefix>.dead-letters, not to the store, so an empty store's "no dead letters" read as "none anywhere" while the
topic held 14. It says how many of the topic's records `watchfloor archive` has not copied yet, and the command
that does; a broker that does not answer is one line, and the store's dead letters are listed anyway."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.kafka import topic_prefix
from tests.functional.test_distributed_commands import cli, env
from watchfloor.schemas.events import DeadLetter, dead_letter_event
from watchfloor.schemas.topics import TopicNames

pytest.importorskip("kafka")

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

LETTERS = 3


@pytest.fixture
def prefix(kafka_admin: Any) -> Iterator[str]:
    with topic_prefix(kafka_admin, "wf-dltopic") as p:
        yield p


def publish_dead_letters(bootstrap: str, prefix: str) -> None:
    """What a worker writes when it sets reports aside (event-time: dated in the future)."""
    from kafka import KafkaProducer

    from watchfloor.stream_processors.kafka.codec import encode_event

    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        for i in range(LETTERS):
            dl = DeadLetter(origin=f"kafka:{prefix}.documents[0]@{i}", reason=f"dated in the future: report {i}",
                            stage="event-time")  # fmt: skip
            producer.send(TopicNames(prefix).dead_letters, encode_event(dead_letter_event(dl, datetime.now(UTC))))
        producer.flush(timeout=30)
    finally:
        producer.close()


def test_dead_letters_says_what_the_topic_holds_that_the_store_does_not(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'desk.db'}"
    config = tmp_path / "desk.yaml"
    config.write_text(f"store: {store}\nkafka: {{bootstrap: {kafka_bootstrap}, prefix: {prefix}, partitions: 1}}\n")
    made = cli(tmp_path, "topics", "create", "--config", str(config))
    assert made.returncode == 0, made.stderr
    # the store exists (a producer's outbox), with none of the workers' dead letters
    from watchfloor.wiring import open_store

    open_store(store).close()
    publish_dead_letters(kafka_bootstrap, prefix)
    topic = f"Kafka topic {prefix}.dead-letters on {kafka_bootstrap}"

    before = cli(tmp_path, "dead-letters", "--config", str(config))
    assert before.returncode == 0, before.stderr
    assert before.stdout.strip() == "no dead letters", before.stdout
    said = " ".join(before.stderr.split())
    assert (
        f"the workers' dead letters go to {topic}: {LETTERS} records of {LETTERS} not archived into a store yet; "
        f"`watchfloor archive --config {config}` copies them there" in said
    ), said

    # The command it names copies them; then the store lists them and the topic has none left to copy.
    log = tmp_path / "archive.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "watchfloor.cli", "archive", "--config", str(config)],
            cwd=tmp_path, env=env(), stdout=out, stderr=out,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while "archived 3 new events" not in log.read_text():
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    after = cli(tmp_path, "dead-letters", "--config", str(config))
    assert after.returncode == 0, after.stderr
    assert after.stdout.count("dated in the future") == LETTERS, after.stdout
    said = " ".join(after.stderr.split())
    assert f"the workers' dead letters go to {topic}: all {LETTERS} of its records archived" in said, said


def test_dead_letters_lists_the_store_when_the_broker_does_not_answer(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'desk.db'}"
    from watchfloor.wiring import open_store

    st = open_store(store)
    try:
        dl = DeadLetter(origin="inbox/a.jsonl", line=3, reason="not JSON")
        st.append([dead_letter_event(dl, datetime.now(UTC))])
    finally:
        st.close()
    res = cli(tmp_path, "dead-letters", "--store", store, "--broker", "127.0.0.1:1", "--prefix", "wf-away")
    assert res.returncode == 0, res.stderr
    assert "not JSON" in res.stdout, res.stdout
    lines = [" ".join(line.split()) for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(
        "the workers' dead letters are on Kafka topic wf-away.dead-letters on 127.0.0.1:1, not counted here: the "
        "broker did not answer within 3s"
    ), lines
    assert lines[0].endswith("listing this store's only"), lines


def test_a_letter_a_worker_wrote_again_is_said_beside_the_topic_s_count(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    """Outside trial 77, F6: after a worker's SIGTERM the topic held 81 records and the store 78 letters, and
    `dead-letters` said "all 81 of its records archived" beside "of 78", `status --broker` 81, with nothing saying
    that 3 were a restart's repeats, kept once."""
    from kafka import KafkaProducer

    from watchfloor.stream_processors.kafka.archive import KafkaArchive
    from watchfloor.stream_processors.kafka.codec import encode_event
    from watchfloor.wiring import open_store

    store = f"sqlite:///{tmp_path / 'desk.db'}"
    config = tmp_path / "desk.yaml"
    config.write_text(f"store: {store}\nkafka: {{bootstrap: {kafka_bootstrap}, prefix: {prefix}, partitions: 1}}\n")
    assert cli(tmp_path, "topics", "create", "--config", str(config)).returncode == 0
    letters = [
        dead_letter_event(DeadLetter(origin="inbox/backfill.jsonl", line=i, reason=f"late: {i}", stage="event-time"),
                          datetime(2026, 12, 7, 17, 27, tzinfo=UTC))
        for i in range(LETTERS)
    ]  # fmt: skip
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        for ev in [*letters, letters[0]]:  # the first written again, as a worker's batch read again writes it
            producer.send(TopicNames(prefix).dead_letters, encode_event(ev))
        producer.flush(timeout=30)
    finally:
        producer.close()
    st = open_store(store)
    archive = KafkaArchive(kafka_bootstrap, st, topic_prefix=prefix)
    try:
        read, deadline = 0, time.monotonic() + 120
        while read < LETTERS + 1:
            assert time.monotonic() < deadline, read
            read += archive.poll_once().records
    finally:
        archive.close()
        st.close()
    said = " ".join(cli(tmp_path, "dead-letters", "--config", str(config)).stderr.split())
    assert (
        f"all {LETTERS + 1} of its records archived ({LETTERS + 1} records, {LETTERS} distinct: 1 repeated by a "
        "worker's restart (read again before its commit: at-least-once), kept once)" in said
    ), said
    status = cli(tmp_path, "status", "--config", str(config))
    assert "1 repeated by a worker's restart, kept once" in " ".join(status.stdout.split()), status.stdout
