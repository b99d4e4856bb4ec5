"""The liveness file `watchfloor health` reads is touched between deliveries too, at most every few seconds (trial 50,
MED-3: a `run` in a first cycle of slow Slack posts touched it only at its start, so it read "alive" for a while after
a kill -9 and "stuck" for a long cycle of a live one). The throttle's clock is injected; the dispatcher is real,
delivering to the local Slack server and a file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, detection, feed, ledger, make
from watchfloor.cli.health import Heartbeat
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional


def test_alive_touches_the_file_at_most_every_few_seconds(tmp_path: Path) -> None:
    now = [100.0]
    path = tmp_path / "var" / "heartbeat"
    heart = Heartbeat(str(path), clock=lambda: now[0])
    heart.beat()
    os.utime(path, (0, 0))  # (its mtime is what `watchfloor health` reads: set back, to see a touch)
    now[0] = 103.0
    heart.alive()
    assert path.stat().st_mtime == 0  # 3 s after the last beat: not yet
    now[0] = 105.0
    heart.alive()
    assert path.stat().st_mtime > 0
    os.utime(path, (0, 0))
    now[0] = 106.0
    heart.alive()
    assert path.stat().st_mtime == 0  # counted from that touch
    assert Heartbeat("", clock=lambda: now[0]).path is None  # (no file asked for: nothing to touch)


def test_the_dispatcher_calls_between_after_each_attempt(slack_server: FakeSlack, tmp_path: Path) -> None:
    store = MemoryStore()
    feed(store, detection(1), detection(2, group={"route": "B"}), detection(3, group={"route": "C"}))
    dispatcher = make(store, slack_server, tmp_path / "alerts.jsonl", Clock())
    calls: list[int] = []
    dispatcher.deliverer.between = lambda: calls.append(1)
    dispatcher.cycle()
    sent = [r for r in ledger(store).values() if r.status == "sent"]
    assert len(sent) >= 3 and len(calls) == len(sent), (len(calls), sent)
