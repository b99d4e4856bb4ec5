"""Two `run --once` at the same time on one store (cron overlapping itself), for real: two threads, each with
its own store object and engine, on a SQLite file and on PostgreSQL. The checkpoint's compare-and-set lets
one commit each stretch: the documents processed add up to the log's, every output is in the log once, and
the checkpoint ends at the last document."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from watchfloor.schemas.config import AppConfig, JsonlSource
from watchfloor.schemas.events import DOCUMENT_TYPES
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.runner import ENGINE_INPUT_TYPES, EmbeddedRunner
from watchfloor.stream_processors.stores.sql import SqlStore
from watchfloor.wiring import EmbeddedPipeline

STORY = Path(__file__).resolve().parents[1] / "data" / "events" / "treaty_story.jsonl"

pytestmark = pytest.mark.integration


def race(url: str) -> None:
    cfg = AppConfig(store=url, rules=["builtin:dprk_russia"], sources=[JsonlSource(path=str(STORY))])
    p = EmbeddedPipeline(cfg, env={})
    p.poller.poll_once()
    p.close()
    stores = [SqlStore(url) for _ in range(2)]
    runners = [EmbeddedRunner(s, Engine(load_rules(["builtin:dprk_russia"])[1]), batch_size=2) for s in stores]
    done = [0, 0]
    errors: list[BaseException] = []
    go = threading.Barrier(2)

    def work(i: int) -> None:
        try:
            go.wait()
            while True:  # like cron: again until a pass finds nothing new
                n = runners[i].run_once().documents
                done[i] += n
                if n == 0 and runners[i].backlog() == 0:
                    return
        except BaseException as e:  # reported below, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert not errors, errors
        st = stores[0]
        documents = st.count(types=DOCUMENT_TYPES)
        assert sum(done) == documents > 0, done
        ids = [se.event.id for se in st.read(0, types={"signal", "detection"}, limit=100_000)]
        assert len(ids) == len(set(ids)) and st.count(types={"detection"}) == 8
        last_input = max(se.position for se in st.read(0, types=ENGINE_INPUT_TYPES, limit=100_000))
        assert st.checkpoint_position("engine") == last_input
    finally:
        for s in stores:
            s.close()


def test_two_runners_at_once_on_sqlite(tmp_path: Path) -> None:
    race(f"sqlite:///{tmp_path / 'wf.db'}")


def test_two_runners_at_once_on_postgres(pg_url: str) -> None:
    race(pg_url)
