"""The alert intake puts a detection's ledger rows in with the `alert` event they summarise, in one transaction: a
crash before its checkpoint commits leaves no row that can be sent without its alert in the log, and the next pass
repeats the detection as a no-op (outside review 49, H3)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.functional.delivery_helpers import RETRY, SUBS, Clock, detection, feed
from watchfloor.alerts.dispatcher import PROCESSOR, AlertDispatcher
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.schemas.events import Event
from watchfloor.stream_processors.ports import Checkpoint, Store
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.sql import SqlStore


class _Crash(RuntimeError):
    pass


def _crash_on_intake_checkpoint(base: type[Any]) -> type[Any]:
    """A store of `base` whose first commit of the intake's checkpoint fails (a crash just before it)."""

    class CrashOnce(base):  # type: ignore[misc,valid-type]
        crashed = False

        def commit(
            self, processor: str, checkpoint: Checkpoint, outputs: Sequence[Event], *, since: int | None = None
        ) -> int:
            if processor == PROCESSOR and not CrashOnce.crashed:
                CrashOnce.crashed = True
                raise _Crash("the process died before the intake's checkpoint committed")
            return int(super().commit(processor, checkpoint, outputs, since=since))

    return CrashOnce


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "memory":
        return _crash_on_intake_checkpoint(MemoryStore)()  # type: ignore[no-any-return]
    return _crash_on_intake_checkpoint(SqlStore)(f"sqlite:///{tmp_path / 'wf.db'}")  # type: ignore[no-any-return]


def test_a_row_is_never_there_without_its_alert(store: Store, tmp_path: Path) -> None:
    feed(store, detection(1))
    out = tmp_path / "archive.jsonl"
    subs = [s.model_copy(update={"channel": "archive"}) for s in SUBS]
    dispatcher = AlertDispatcher(store, {"archive": FileNotifier("archive", out)}, subs, RETRY, now=Clock())
    with pytest.raises(_Crash):
        dispatcher.intake()
    rows = store.deliveries()
    assert [(r.alert_id, r.channel) for r in rows] == [("det0001", "archive")]
    assert store.count(types={"alert"}) == 1  # in with its row, though the checkpoint did not move
    assert store.checkpoint_position(PROCESSOR) == 0

    dispatcher.deliverer.run()  # the row is sent: its alert is in the log
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1

    assert dispatcher.intake() == (1, 0)  # the detection again: no new row, no second alert
    assert store.count(types={"alert"}) == 1
    assert store.checkpoint_position(PROCESSOR) > 0
    dispatcher.deliverer.run()
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1
