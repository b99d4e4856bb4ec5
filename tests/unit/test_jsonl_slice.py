"""A live poll reads a JSON Lines file from where the last one stopped, at most max_lines_per_poll lines when bounded
(outside trial 18, M1): every line once across polls, the position saved with the documents, a rewritten file read
again from its start, an unfinished last line left for the next poll."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path
from typing import Any

from watchfloor.producers import jsonl
from watchfloor.producers.jsonl import JsonlPosition, read_jsonl_slice
from watchfloor.producers.poller import SourcePoller
from watchfloor.schemas.config import JsonlSource
from watchfloor.schemas.events import DeadLetter, Document, EventType
from watchfloor.schemas.inputs import DEFAULT_MAX_BODY_CHARS, max_record_bytes
from watchfloor.stream_processors.stores.memory import MemoryStore


def article(n: int) -> dict[str, Any]:
    return {
        "type": "news.article",
        "id": f"sl-{n}",
        "published_at": f"2024-03-01T{n // 60 % 24:02d}:{n % 60:02d}:00+00:00",
        "source": "Harbour Gazette",
        "title": f"Harbour figures, part {n}",
        "body": "Cargo volumes rose.",
    }


def lines(first: int, n: int) -> bytes:
    return b"".join(json.dumps(article(i)).encode() + b"\n" for i in range(first, first + n))


def ids(items: list[tuple[int, Document | DeadLetter]]) -> list[str]:
    return [d.id for _, d in items if isinstance(d, Document)]


def test_slices_cover_the_file_once_in_order_and_resume_after_an_append(tmp_path: Path) -> None:
    path = tmp_path / "inbox.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + lines(0, 25))  # a BOM, read past once
    seen: list[str] = []
    at = JsonlPosition()
    slices = 0
    while True:
        got = read_jsonl_slice(path, at, max_lines=10)
        assert got.start == at and not got.rewound and got.error is None
        seen += ids(got.items)
        assert [n for n, _ in got.items] == list(range(at.line + 1, got.end.line + 1))  # line numbers go on
        at = got.end
        slices += 1
        if not got.more:
            break
    assert seen == [f"sl-{i}" for i in range(25)] and slices == 3 and at.line == 25
    with open(path, "ab") as f:
        f.write(lines(25, 3))
    got = read_jsonl_slice(path, at, max_lines=10)
    assert ids(got.items) == ["sl-25", "sl-26", "sl-27"] and not got.more and not got.rewound
    assert read_jsonl_slice(path, got.end).items == []


def test_a_rewritten_or_truncated_file_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "inbox.jsonl"
    path.write_bytes(lines(0, 6))
    at = read_jsonl_slice(path, JsonlPosition()).end
    path.write_bytes(lines(100, 8))  # replaced by a longer file: the bytes before the offset are not those read
    got = read_jsonl_slice(path, at)
    assert got.rewound and ids(got.items) == [f"sl-{i}" for i in range(100, 108)]
    path.write_bytes(lines(0, 2))  # truncated
    got = read_jsonl_slice(path, got.end)
    assert got.rewound and ids(got.items) == ["sl-0", "sl-1"]


def test_an_unfinished_last_line_waits_and_a_gz_resumes(tmp_path: Path) -> None:
    path = tmp_path / "inbox.jsonl"
    whole = json.dumps(article(3)).encode()
    path.write_bytes(lines(0, 3) + whole[:40])  # a writer in the middle of its line
    got = read_jsonl_slice(path, JsonlPosition(), growing=True)
    assert ids(got.items) == ["sl-0", "sl-1", "sl-2"] and got.end.line == 3
    with open(path, "ab") as f:
        f.write(whole[40:] + b"\n")
    assert ids(read_jsonl_slice(path, got.end, growing=True).items) == ["sl-3"]
    old = time.time() - 3600
    os.utime(path, (old, old))
    gz = tmp_path / "inbox.jsonl.gz"
    gz.write_bytes(gzip.compress(lines(0, 7)))
    first = read_jsonl_slice(gz, JsonlPosition(), max_lines=4)
    rest = read_jsonl_slice(gz, first.end, max_lines=4)
    assert ids(first.items) + ids(rest.items) == [f"sl-{i}" for i in range(7)] and not rest.more


def test_a_last_line_read_without_its_newline_keeps_the_line_numbers_when_the_newline_comes(tmp_path: Path) -> None:
    """A whole last line without its newline is read (its record is whole); the newline its writer adds next is the
    end of that line, not a blank line: the lines after it keep their numbers (a dead letter's FILE:LINE), LF or
    CRLF."""
    for eol in (b"\n", b"\r\n"):
        path = tmp_path / "inbox.jsonl"
        path.write_bytes(lines(0, 2).replace(b"\n", eol) + json.dumps(article(2)).encode())
        got = read_jsonl_slice(path, JsonlPosition(), growing=True)
        assert ids(got.items) == ["sl-0", "sl-1", "sl-2"] and got.end.line == 3
        with open(path, "ab") as f:
            f.write(eol + json.dumps(article(3)).encode() + eol + b"not json" + eol)
        after = read_jsonl_slice(path, got.end, growing=True)
        assert [n for n, _ in after.items] == [4, 5] and ids(after.items) == ["sl-3"]
        assert isinstance(after.items[1][1], DeadLetter) and after.items[1][1].line == 5
        assert after.end.line == 5 and not after.rewound


def test_an_over_long_last_line_without_its_newline_ends_the_slice_at_the_end_of_the_file(tmp_path: Path) -> None:
    """Skipped unread, it moves the position to the end of the file, not a byte past it (which no append would fit:
    the next poll read the whole file again from its start)."""
    path = tmp_path / "inbox.jsonl"
    path.write_bytes(lines(0, 1) + b'{"title": "' + b"x" * (max_record_bytes(DEFAULT_MAX_BODY_CHARS) + 2_000_000))
    got = read_jsonl_slice(path, JsonlPosition(), block_bytes=1 << 20)
    assert ids(got.items) == ["sl-0"] and isinstance(got.items[1][1], DeadLetter)
    assert got.end.offset == path.stat().st_size and got.end.line == 2
    with open(path, "ab") as f:
        f.write(b"\n" + lines(1, 2))
    after = read_jsonl_slice(path, got.end, block_bytes=1 << 20)
    assert not after.rewound and ids(after.items) == ["sl-1", "sl-2"] and [n for n, _ in after.items] == [3, 4]


def test_a_line_fixed_in_place_is_read_again_though_the_file_kept_its_length(tmp_path: Path) -> None:
    """The desk fixes a dead-lettered line in place (a month 13 made 12: the same length, so the bytes before the
    position are the same): the file, its size unchanged and its modification time not, is read from its start
    again, and the fixed line is read (as `ingest` reads it)."""
    path = tmp_path / "inbox.jsonl"
    bad = json.dumps({**article(1), "published_at": "2024-13-01T10:00:00+00:00"}).encode() + b"\n"
    good = json.dumps({**article(1), "published_at": "2024-12-01T10:00:00+00:00"}).encode() + b"\n"
    assert len(bad) == len(good)
    path.write_bytes(lines(0, 1) + bad + lines(2, 8))
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    got = read_jsonl_slice(path, JsonlPosition())
    assert isinstance(got.items[1][1], DeadLetter) and got.items[1][1].line == 2
    assert read_jsonl_slice(path, got.end).items == []  # nothing changed: nothing read
    path.write_bytes(lines(0, 1) + good + lines(2, 8))
    os.utime(path, ns=(1_700_000_060_000_000_000, 1_700_000_060_000_000_000))
    again = read_jsonl_slice(path, got.end)
    assert again.rewound and "sl-1" in ids(again.items) and again.end.line == 10
    assert read_jsonl_slice(path, again.end).items == []
    with open(path, "ab") as f:  # appended to: read on from the position, as before
        f.write(lines(10, 1))
    last = read_jsonl_slice(path, again.end)
    assert not last.rewound and ids(last.items) == ["sl-10"]


def test_a_dead_lettered_line_fixed_in_place_is_read_though_the_file_grew_since(tmp_path: Path) -> None:
    """Outside trial 20, M4: a bad line fixed to the same length in a file that has also grown since (size and
    modification time both changed, the bytes before the position the same) read like an append, and the fix was
    never read. The position keeps a print of each dead-lettered line: one no longer there is read from the start,
    the fixed line with it; lines merely appended are read on from the position."""
    path = tmp_path / "inbox.jsonl"
    bad = json.dumps({**article(3), "published_at": "2024-13-01T10:00:00+00:00"}).encode() + b"\n"
    good = json.dumps({**article(3), "published_at": "2024-12-01T10:00:00+00:00"}).encode() + b"\n"
    assert len(bad) == len(good)
    path.write_bytes(lines(0, 3) + bad + lines(4, 6))
    got = read_jsonl_slice(path, JsonlPosition(), max_lines=5)  # the bad line in the first slice, read on after it
    assert isinstance(got.items[3][1], DeadLetter) and got.items[3][1].line == 4
    assert len(got.end.dead) == 1 and JsonlPosition.from_state(got.end.as_state()) == got.end  # saved and read back
    rest = read_jsonl_slice(path, got.end)
    assert not rest.rewound and ids(rest.items) == [f"sl-{i}" for i in range(5, 10)] and rest.end.dead == got.end.dead
    with open(path, "ab") as f:  # an append alone: read on from the position, the bad line not read again
        f.write(lines(10, 2))
    appended = read_jsonl_slice(path, rest.end)
    assert not appended.rewound and ids(appended.items) == ["sl-10", "sl-11"]
    # The desk fixes the line in place, and the feed keeps appending: the file has grown since it was read.
    data = path.read_bytes()
    path.write_bytes(data.replace(bad, good) + lines(12, 1))
    fixed = read_jsonl_slice(path, appended.end)
    assert fixed.rewound and "sl-3" in ids(fixed.items) and "sl-12" in ids(fixed.items)
    assert not any(isinstance(x, DeadLetter) for _, x in fixed.items) and fixed.end.dead == ()
    assert read_jsonl_slice(path, fixed.end).items == []  # nothing changed since: nothing read


def test_the_poller_reads_a_fixed_dead_letter_and_status_says_it_is_unread(tmp_path: Path) -> None:
    """The same through the bounded poller (`run`) and its saved position: `status` (unread_sources) says the source
    has something unread once the bad line is fixed, the next poll adds the fixed document only, and then nothing
    is unread."""
    from watchfloor.producers.poller import unread_sources

    path = tmp_path / "inbox.jsonl"
    good = json.dumps({**article(50), "id": "sl-x", "title": "7"}).encode() + b"\n"
    bad = good.replace(b'"title": "7"', b'"title": 7')  # a number for a title: refused
    path.write_bytes(lines(0, 2) + bad + lines(2, 2))
    store = MemoryStore()
    source = JsonlSource(path=str(path))
    first = SourcePoller(store, [source], bounded=True).poll_due()
    assert (first.accepted, first.dead_lettered) == (4, 1)
    with open(path, "ab") as f:
        f.write(lines(4, 1))
    assert SourcePoller(store, [source], bounded=True).poll_due().accepted == 1
    assert unread_sources(store) == {}
    path.write_bytes(path.read_bytes().replace(bad, good))  # one byte longer: the lines after it move too
    assert "dead-lettered line changed" in unread_sources(store)[str(path)]
    again = SourcePoller(store, [source], bounded=True).poll_due()
    assert (again.accepted, again.dead_lettered) == (1, 0)
    docs = {e.event.id for e in store.read(0, types={EventType.NEWS_ARTICLE.value}, limit=100)}
    assert "sl-x" in docs and len(docs) == 6
    assert unread_sources(store) == {}


def test_a_file_rotated_in_during_a_read_is_read_from_its_start(tmp_path: Path) -> None:
    """logrotate renames a new file into place while a poll reads the old one: the position saved is the old file's
    (its print of the bytes read), so the next poll finds the new file is another and reads it from its start. (The
    print was read back from the path after the read: the new file's bytes, which the next poll then matched, and
    its first lines, up to the old file's length, were never read.)"""
    path = tmp_path / "inbox.jsonl"
    path.write_bytes(lines(0, 5))
    rotated = tmp_path / "inbox.jsonl.new"
    rotated.write_bytes(lines(100, 5) + lines(200, 3))  # longer than the old file, other lines
    opened: list[Path] = []

    def open_then_rotate(p: Path) -> Any:
        f = jsonl._open(p)
        if not opened:  # the read has the old file open: the new one takes its name
            os.replace(rotated, path)
        opened.append(p)
        return f

    got = read_jsonl_slice(path, JsonlPosition(), opener=open_then_rotate)
    assert opened == [path]
    assert ids(got.items) == [f"sl-{i}" for i in range(5)]
    after = read_jsonl_slice(path, got.end)
    assert after.rewound and ids(after.items) == [*(f"sl-{i}" for i in range(100, 105)), "sl-200", "sl-201", "sl-202"]


def test_a_bounded_poller_reads_a_slice_per_poll_and_saves_where_it_stopped(tmp_path: Path) -> None:
    path = tmp_path / "inbox.jsonl"
    path.write_bytes(lines(0, 23) + b"not json\n" + lines(23, 6))
    store = MemoryStore()
    source = JsonlSource(path=str(path), max_lines_per_poll=10)
    polls = []
    while True:
        # a new poller each time: the position is the store's, not the process's (a restart resumes there)
        summary = SourcePoller(store, [source], bounded=True).poll_due()
        polls.append(summary)
        if not summary.behind:
            break
    assert len(polls) == 3 and [s.accepted for s in polls] == [10, 10, 9]
    assert polls[2].dead_lettered == 1 and polls[2].dead_letters[0].line == 24  # FILE:LINE kept across slices
    docs = [e.event.id for e in store.read(0, types={EventType.NEWS_ARTICLE.value}, limit=1000)]
    assert sorted(docs) == sorted(f"sl-{i}" for i in range(29)) and len(docs) == 29
    # the caught-up mark names the file only once it has been read to the end (event time waits for the rest)
    marks = [e.event.payload["origins"] for e in store.read(0, types={EventType.CAUGHT_UP.value}, limit=100)]
    assert marks == [[str(path)]]
    assert SourcePoller(store, [source], bounded=True).poll_due().accepted == 0
    # unbounded (`ingest`): the whole file, as before, which says what the log holds already
    with open(path, "ab") as f:
        f.write(lines(100, 30))
    whole = SourcePoller(store, [source]).poll_due()
    assert (whole.accepted, whole.duplicates, whole.known_dead) == (30, 29, 1)
    assert SourcePoller(store, [source], bounded=True).poll_due().accepted == 0  # run's position was not moved back
