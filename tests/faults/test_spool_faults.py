"""The publisher's spool (stream_processors/kafka/spool.py) under a full disk and after a torn append: a failed
append leaves no part of a line behind, and a torn last line is cut before the next append, so no event that
was acknowledged as spooled is ever joined to a fragment and dropped at the drain (an outside audit lost one)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from watchfloor.schemas.events import Event
from watchfloor.stream_processors.kafka.codec import decode_event
from watchfloor.stream_processors.kafka.spool import Spool

T = datetime(2024, 10, 18, 8, 0, tzinfo=UTC)


def doc(i: int, body_chars: int = 200) -> Event:
    body = ("North Korean troops were seen moving toward the front. " * (body_chars // 55 + 1))[:body_chars]
    return Event(id=f"doc-{i}", type="news.article", time=T, payload={"id": f"doc-{i}", "title": "t", "body": body})


def ids(spool: Spool) -> list[str]:
    return [decode_event(line).id for line in spool.read()]


def test_a_torn_last_line_is_cut_before_the_next_append(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "p.jsonl")
    spool.append([doc(1), doc(2)])
    with open(spool.path, "ab") as f:  # a crash mid-append: half of a line, no newline
        f.write(b'{"id":"doc-3","type":"news.art')
    assert ids(spool) == ["doc-1", "doc-2"]
    spool.append([doc(4)])
    assert ids(spool) == ["doc-1", "doc-2", "doc-4"]  # doc-4 readable, not glued to the fragment
    assert spool.path.read_bytes().endswith(b"\n")


def test_an_append_that_fills_the_disk_leaves_whole_lines_only(full_disk: Path) -> None:
    spool = Spool(full_disk / "p.jsonl")
    spool.append([doc(1), doc(2)])
    try:  # leave room for the start of a big event, not all of it
        with open(full_disk / "filler", "wb", buffering=0) as f:
            f.write(b"x" * (64 * 1024 - 3 * 4096))
    except OSError:
        pass
    with pytest.raises(OSError):
        spool.append([doc(3, body_chars=20_000)])
    assert spool.path.read_bytes().endswith(b"\n")
    assert ids(spool) == ["doc-1", "doc-2"]
    (full_disk / "filler").unlink()
    spool.append([doc(3, body_chars=20_000)])  # the producer spools it again once there is room
    assert ids(spool) == ["doc-1", "doc-2", "doc-3"]
