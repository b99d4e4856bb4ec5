"""The dispatcher's start-up read of every detection in the log for stories (alerts.dispatcher.StoryBook; ~17 s at a
million) shows how it goes: a bar on a terminal, else one line with the count and the time when it is done; a short
read (the usual intake) says nothing. SQLite on disk through `watchfloor notify --once`, and a terminal console."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from tests.functional.delivery_helpers import RETRY, Clock, Recorder, detection
from watchfloor.alerts.dispatcher import SHOWN_READ, AlertDispatcher
from watchfloor.cli import app
from watchfloor.cli._common import StoryReadProgress
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import Event, detection_event
from watchfloor.stream_processors.ports import Checkpoint, Store
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.functional

T0 = datetime(2024, 12, 16, tzinfo=UTC)
N = SHOWN_READ // 2 + 50  # detections, each after a document: a read of more than SHOWN_READ positions


def full_log(store: Store, n: int = N) -> None:
    """n detections of one rule, each after a document; all but the last taken by the dispatcher before."""
    events: list[Event] = []
    for i in range(1, n + 1):
        d = detection(i, rule="troops", group={"party": "RUS"}, minutes=None)
        d = d.model_copy(update={"fired_at": T0 + timedelta(hours=i)})
        events += [Event(id=f"doc-{i}", type="news.article", time=d.fired_at, payload={}), detection_event(d)]
    store.append(events)
    store.commit("alerts", Checkpoint(store.head() - 1, None), [])


def test_notify_says_in_its_log_how_many_detections_it_read_and_how_long_it_took(tmp_path: Path) -> None:
    db = tmp_path / "wf.db"
    store = SqlStore(f"sqlite:///{db}")
    try:
        full_log(store)
    finally:
        store.close()
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{db}\nchannels:\n  - {{type: file, name: file, path: {tmp_path / 'alerts.jsonl'}}}\n"
        "subscriptions:\n  - {channel: file}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["notify", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    said = re.findall(r"stories: ([\d,]+) detections read from the log in (\d+\.\d) s", res.output)
    assert len(said) == 1 and said[0][0] == f"{N - 1:,}", res.output
    assert (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").count("\n") == 1


def dispatcher(store: Store, console: Console) -> AlertDispatcher:
    subs = [Subscription(channel="all")]
    progress = StoryReadProgress(console)
    return AlertDispatcher(store, {"all": Recorder("all")}, subs, RETRY, now=Clock(T0), story_progress=progress)


def test_on_a_terminal_the_read_is_a_bar() -> None:
    store = MemoryStore()
    full_log(store)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    assert dispatcher(store, console).cycle().taken == 1
    shown = screen.getvalue()
    assert "reading the log's detections for stories" in shown and f"{2 * N - 1}/{2 * N - 1}" in shown
    assert "stories:" not in shown


def test_a_short_read_says_nothing() -> None:
    store = MemoryStore()
    full_log(store, 30)
    screen = io.StringIO()
    assert dispatcher(store, Console(file=screen, force_terminal=False)).cycle().taken == 1
    assert screen.getvalue() == ""
