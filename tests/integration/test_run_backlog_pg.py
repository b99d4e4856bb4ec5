"""`run --once` on PostgreSQL stops on SIGTERM between the slices of a backlog and the next `run --once` reads the rest,
every line once (outside trial 18, M2: a `run --once` on PostgreSQL went on for over 2 minutes after SIGTERM)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fixtures.watchfloor_process import WatchfloorProcess
from tests.functional.test_run_backlog import alert_titles, inbox_lines, run_once, write_config
from watchfloor.schemas.events import EventType
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.integration


def test_run_once_on_postgres_stops_between_slices_and_the_next_reads_the_rest(tmp_path: Path, pg_url: str) -> None:
    inbox = tmp_path / "inbox.jsonl"
    total = 1000
    inbox.write_text(inbox_lines(0, total), encoding="utf-8")
    cfg = write_config(tmp_path, per_poll=20, store=pg_url)
    with WatchfloorProcess(["run", "--once", "--config", str(cfg)], tmp_path) as proc:
        proc.wait_for("catching up")
        code = proc.stop()
    said = proc.rest()
    assert re.fullmatch(r"run stopped \(SIGTERM\) after \d+ cycles?", said[-1]), said[-3:]
    assert code == 3, said[-3:]  # stopped with the backlog unread: not "all went through"
    store = SqlStore(pg_url)
    try:
        read = store.load_checkpoint(f"source:{inbox}").state or {}
        assert 0 < read["line"] < total / 2, read  # stopped within a few slices of 20, not at the end
    finally:
        store.close()
    done = run_once(cfg, tmp_path)
    assert done.returncode == 0, done.stderr
    store = SqlStore(pg_url)
    try:
        assert (store.load_checkpoint(f"source:{inbox}").state or {})["line"] == total
        docs = store.read(0, types={EventType.NEWS_ARTICLE.value}, limit=10 * total)
        assert len(docs) == total
    finally:
        store.close()
    titles = alert_titles(tmp_path / "alerts.jsonl")
    assert len(titles) == total and len(set(titles)) == total  # every alert once
