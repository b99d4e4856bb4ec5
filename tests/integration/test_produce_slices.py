"""`watchfloor produce` reads a JSON Lines source as `run` does (outside trial 18): from the position saved with its
documents in the outbox, a slice of `max_lines_per_poll` lines per pass, so a pass after the first parses only the
lines appended since (before, every pass re-read the whole file and counted what the log held already), and each line
reaches the real broker once."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.kafka import topic_prefix
from tests.fixtures.watchfloor_process import WatchfloorProcess
from tests.functional.test_distributed_commands import cli  # the subprocess CLI helper
from tests.functional.test_run_backlog import inbox_lines  # n documents a line each, ids bk-N
from tests.integration.test_kafka_publisher import consume_all
from watchfloor.cli.distributed import settings_for
from watchfloor.config import load_config
from watchfloor.schemas.config import JsonlSource
from watchfloor.schemas.events import DOCUMENT_TYPES
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.kafka.codec import decode_event
from watchfloor.wiring import DistributedProducer

pytest.importorskip("kafka")

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def write_config(tmp_path: Path, inbox: Path) -> Path:
    """A config of one JSON Lines source read 20 lines a pass, into an outbox store beside it."""
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: 'sqlite:///{tmp_path / 'outbox.db'}'\n"
        f"sources:\n  - {{kind: jsonl, path: '{inbox}', max_lines_per_poll: 20}}\n",
        encoding="utf-8",
    )
    return cfg


def ids_on_broker(bootstrap: str, prefix: str, expect: int) -> list[str]:
    """The ids of the documents on the pipeline's documents topic, as many as there are (watermark records left out)."""
    records = consume_all(bootstrap, TopicNames(prefix).documents, expect)
    return [ev.id for ev in map(decode_event, (r.value for r in records)) if ev.type in DOCUMENT_TYPES]


@pytest.fixture
def prefix(kafka_admin: Any) -> Iterator[str]:
    with topic_prefix(kafka_admin, "wf-slices") as p:
        yield p


def test_produce_reads_a_backlog_a_slice_per_pass_and_a_later_pass_only_what_was_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kafka_bootstrap: str, prefix: str
) -> None:
    monkeypatch.chdir(tmp_path)
    inbox = tmp_path / "inbox.jsonl"
    # a bad line among them: dead-lettered once, not at every pass (an effect of what each pass parses)
    inbox.write_text(inbox_lines(0, 30) + "{not json\n" + inbox_lines(30, 20), encoding="utf-8")
    cfg = load_config(None)
    settings = settings_for(cfg, bootstrap=kafka_bootstrap, prefix=prefix, partitions=1)
    source = JsonlSource(path=str(inbox), max_lines_per_poll=20)
    producer = DistributedProducer(cfg, settings, store_url=f"sqlite:///{tmp_path / 'outbox.db'}", sources=[source])
    try:
        producer.created_topics = producer.publisher.ensure_topics()
        passes = []
        while True:
            report = producer.cycle()
            s = report.summary
            passes.append((s.accepted, s.duplicates, s.dead_lettered, s.known_dead, report.sent))
            if not s.behind:
                break
        # 51 lines, 20 a pass: three passes, each relayed (acknowledged by the broker) before the next
        assert passes == [(20, 0, 0, 0, 20), (19, 0, 1, 0, 19), (11, 0, 0, 0, 11)]
        # the position is in the outbox, with the documents of the lines before it
        assert (producer.store.load_checkpoint(f"source:{inbox}").state or {})["line"] == 51
        with open(inbox, "a", encoding="utf-8") as f:
            f.write(inbox_lines(50, 5))
        report = producer.cycle()
        s = report.summary
        # only the 5 new lines were parsed: a whole-file read counts 50 duplicates and the bad line again
        assert (s.accepted, s.duplicates, s.dead_lettered, s.known_dead, report.sent) == (5, 0, 0, 0, 5)
        report = producer.cycle()  # nothing new: nothing parsed, nothing sent
        assert (report.summary.accepted, report.summary.duplicates, report.sent) == (0, 0, 0)
    finally:
        producer.close()
    ids = ids_on_broker(kafka_bootstrap, prefix, 55)
    assert len(ids) == 55 and len(set(ids)) == 55  # each line once on the broker


def test_a_restarted_produce_goes_on_from_the_saved_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kafka_bootstrap: str, prefix: str
) -> None:
    """The position lives in the outbox store, not the process: a new producer on the same store reads on from it."""
    monkeypatch.chdir(tmp_path)
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(inbox_lines(0, 30), encoding="utf-8")
    cfg = load_config(None)
    settings = settings_for(cfg, bootstrap=kafka_bootstrap, prefix=prefix, partitions=1)
    store = f"sqlite:///{tmp_path / 'outbox.db'}"
    source = JsonlSource(path=str(inbox), max_lines_per_poll=20)
    first = DistributedProducer(cfg, settings, store_url=store, sources=[source])
    try:
        first.publisher.ensure_topics()
        report = first.cycle()
        assert (report.summary.accepted, report.sent, bool(report.summary.behind)) == (20, 20, True)
    finally:
        first.close()
    again = DistributedProducer(cfg, settings, store_url=store, sources=[source])
    try:
        report = again.cycle()
        assert (report.summary.accepted, report.summary.duplicates, report.sent) == (10, 0, 10)
    finally:
        again.close()
    ids = ids_on_broker(kafka_bootstrap, prefix, 30)
    assert sorted(ids) == sorted(f"bk-{i}" for i in range(30))


def test_produce_once_reads_the_whole_backlog_a_slice_per_pass(
    tmp_path: Path, kafka_bootstrap: str, prefix: str
) -> None:
    """`produce --once` goes on to the end of a backlog read a slice per pass, as `run --once` does, says where each
    pass stopped, and exits 0 once the broker acknowledged every line."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(inbox_lines(0, 45), encoding="utf-8")
    cfg = write_config(tmp_path, inbox)
    done = cli(tmp_path, "produce", "--once", "--config", str(cfg), "--broker", kafka_bootstrap, "--prefix", prefix)
    assert done.returncode == 0, done.stderr[-2000:]
    passes = [line for line in done.stderr.splitlines() if line.startswith("polled 1 source")]
    assert len(passes) == 3, done.stderr[-2000:]
    assert re.search(r"20 new documents.*catching up: .*inbox\.jsonl at line 20$", passes[0]), passes[0]
    assert re.search(r"5 new documents", passes[2]) and "catching up" not in passes[2], passes[2]
    ids = ids_on_broker(kafka_bootstrap, prefix, 45)
    assert sorted(ids) == sorted(f"bk-{i}" for i in range(45))


def test_produce_once_stopped_while_catching_up_exits_3_and_the_next_goes_on(
    tmp_path: Path, kafka_bootstrap: str, prefix: str
) -> None:
    """`produce --once` stopped by SIGTERM between the slices of a backlog exits 3 (not everything was read, as for
    documents left in the spool), says where, and says its stop last; the next `produce --once` reads the rest."""
    inbox = tmp_path / "inbox.jsonl"
    total = 3000
    inbox.write_text(inbox_lines(0, total), encoding="utf-8")
    cfg = write_config(tmp_path, inbox)
    args = ["produce", "--once", "--config", str(cfg), "--broker", kafka_bootstrap, "--prefix", prefix]
    with WatchfloorProcess(args, tmp_path) as proc:
        proc.wait_for("catching up")
        code = proc.stop()
    said = proc.rest()
    assert code == 3, said[-4:]
    assert re.fullmatch(r"produce stopped \(SIGTERM\) after \d+ pass(es)?", said[-1]), said[-3:]
    assert re.match(r"not everything was read: stopped while catching up \(.*inbox\.jsonl at line [\d,]+\)", said[-2])
    done = cli(tmp_path, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    ids = ids_on_broker(kafka_bootstrap, prefix, total)
    assert len(ids) == total and len(set(ids)) == total  # every line once on the broker


def test_produce_says_a_document_dated_in_the_future_when_it_sends_it(
    tmp_path: Path, kafka_bootstrap: str, prefix: str
) -> None:
    """Outside trial 27, F3: a report dated 2099 is counted by the workers at its receive time (the newest report of
    its group), and `produce`, which sent it, said nothing. It says it as `run` does, once, where the line came from:
    its file and line (trial 30, F7)."""
    inbox = tmp_path / "inbox.jsonl"
    far = {
        "type": "news.article",
        "id": "far-ahead",
        "published_at": "2099-01-01T00:00:00+00:00",
        "source": "Outlet X",
        "title": "Report: a missile strike",
    }
    inbox.write_text(inbox_lines(0, 3) + json.dumps(far) + "\n", encoding="utf-8")
    cfg = write_config(tmp_path, inbox)
    args = ["produce", "--once", "--config", str(cfg), "--broker", kafka_bootstrap, "--prefix", prefix]
    done = cli(tmp_path, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    said = [line for line in done.stderr.splitlines() if line.startswith("event time")]
    assert len(said) == 1, done.stderr[-2000:]
    assert re.match(
        r"event time .*inbox\.jsonl:4: dated in the future: document far-ahead is published 2099-01-01T00:00:00\+00:00 "
        r"but was received \S+ \(allowed skew 1:00:00\)",
        said[0],
    ), said[0]
    again = cli(tmp_path, *args)  # sent already: not said again
    assert again.returncode == 0 and "event time" not in again.stderr, again.stderr[-2000:]
    assert sorted(ids_on_broker(kafka_bootstrap, prefix, 4)) == ["bk-0", "bk-1", "bk-2", "far-ahead"]
