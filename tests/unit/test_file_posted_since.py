"""The file channel's lines after a given one (`FileNotifier.posted_since`): what the dispatcher's start-up look reads
to find the deliveries a store restored from a backup raises again (trial 42, HIGH-1). A real file on disk."""

from __future__ import annotations

import os
from pathlib import Path

from tests.functional.delivery_helpers import detection
from watchfloor.alerts.notice import notice_of
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.schemas.events import Alert


def _send(notifier: FileNotifier, n: int) -> str:
    return notifier.send(notice_of(Alert(id=f"det{n:04d}", detection=detection(n), channels=("archive",))))


def test_the_lines_after_the_ledgers_newest_are_listed_newest_last_bounded(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    archive = FileNotifier("archive", path)
    first, second, third = (_send(archive, n) for n in (1, 2, 3))
    assert archive.posted_since(first, 10) == {"det0002": second, "det0003": third}
    assert archive.posted_since(first, 1) == {"det0003": third}  # the newest ones
    assert archive.posted_since(third, 10) == {}
    assert archive.posted_since(f"{tmp_path / 'other.jsonl'}@0", 10) == {}  # the channel's path changed since

    # A file cut shorter than the offset since (rotated): read from its start
    os.truncate(path, len(path.read_bytes().split(b"\n")[0]) + 1)
    assert archive.posted_since(third, 10) == {"det0001": first}
    # A half line left by a crash after the ledger's newest: not a delivery
    with path.open("ab") as f:
        f.write(b'{"id": "det0009", "key": "det00')
    assert archive.posted_since(first, 10) == {}
