"""A long-running poller keeps a .gz source's decompressor open between slices (producers/jsonl.OpenDecompressors):
a slice goes on where the last stopped instead of decompressing the file from its start up to the saved offset, which
made a backlog read a slice per poll cost the square of its length. Counted, not timed: the bytes the process read
(/proc/self/io `rchar`, the kernel's count of bytes handed to read calls). A file replaced, rewritten in place or
truncated is still read from its start; a gzip member appended is read on."""

from __future__ import annotations

import gzip
import json
import os
import random
from pathlib import Path

import pytest

from watchfloor.producers.jsonl import JsonlPosition, OpenDecompressors, read_jsonl_slice
from watchfloor.producers.poller import SourcePoller
from watchfloor.schemas.config import JsonlSource
from watchfloor.schemas.events import EventType
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux's /proc/self/io")


def bytes_read() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def lines(first: int, n: int, seed: int = 7) -> bytes:
    """n articles whose bodies do not compress much (random hex), so the .gz is about half the text."""
    rnd = random.Random(seed + first)
    return b"".join(
        json.dumps(
            {
                "type": "news.article",
                "id": f"gz-{i}",
                "published_at": f"2024-03-01T{i // 60 % 24:02d}:{i % 60:02d}:00+00:00",
                "source": "Harbour Gazette",
                "title": f"Harbour figures, part {i}",
                "body": rnd.randbytes(600).hex(),
            }
        ).encode()
        + b"\n"
        for i in range(first, first + n)
    )


def doc_ids(store: MemoryStore) -> list[str]:
    return [e.event.id for e in store.read(0, types={EventType.NEWS_ARTICLE.value}, limit=100_000)]


def test_a_gz_backlog_is_decompressed_once_across_its_slices(tmp_path: Path) -> None:
    path = tmp_path / "inbox.jsonl.gz"
    path.write_bytes(gzip.compress(lines(0, 3000)))
    size = path.stat().st_size  # ~2 MB
    store = MemoryStore()
    poller = SourcePoller(store, [JsonlSource(path=str(path), max_lines_per_poll=200)], bounded=True)
    before = bytes_read()
    polls = 0
    while True:
        polls += 1
        if not poller.poll_due().behind:
            break
    read = bytes_read() - before
    poller.close()
    assert polls == 15 and sorted(doc_ids(store)) == sorted(f"gz-{i}" for i in range(3000))  # each line once
    # Opened at each slice, the file was read from its start up to each slice's offset (and again for the print of
    # the bytes before it): about polls * size / 2 * 2 = 15 sizes. Kept open: once through, and little more.
    assert read < 2 * size, f"{read:,} bytes read for a .gz of {size:,}"


def test_a_kept_decompressor_reads_on_after_an_appended_member_and_not_after_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "inbox.jsonl.gz"
    path.write_bytes(gzip.compress(lines(0, 50)))
    store = MemoryStore()
    poller = SourcePoller(store, [JsonlSource(path=str(path), max_lines_per_poll=30)], bounded=True)
    try:
        assert poller.poll_due().accepted == 30
        assert poller.poll_due().accepted == 20  # the kept decompressor, from line 30
        with open(path, "ab") as f:  # a gzip member appended: `cat more.gz >> inbox.jsonl.gz`
            f.write(gzip.compress(lines(50, 10)))
        got = poller.poll_due()
        assert (got.accepted, got.duplicates) == (10, 0)
        # rewritten in place (same inode) with other lines: not read on from the old offset, but from its start
        with open(path, "r+b") as f:
            f.truncate(0)
            f.write(gzip.compress(lines(100, 70, seed=9)))
        got = poller.poll_due()
        assert (got.accepted, got.duplicates) == (30, 0)
        assert [poller.poll_due().accepted for _ in range(2)] == [30, 10]
        # replaced by another file (a new inode): from its start too
        other = tmp_path / "next.jsonl.gz"
        other.write_bytes(gzip.compress(lines(200, 5)))
        os.replace(other, path)
        assert poller.poll_due().accepted == 5
    finally:
        poller.close()
    expected = [f"gz-{i}" for i in [*range(60), *range(100, 170), *range(200, 205)]]
    assert sorted(doc_ids(store)) == sorted(expected)


def test_kept_or_not_the_positions_are_the_same(tmp_path: Path) -> None:
    """A slice's end (offset, line, print of the bytes before it) is the same whether the decompressor was kept: a
    restart's reader, which opens the file, agrees with the position a kept one saved."""
    path = tmp_path / "inbox.jsonl.gz"
    path.write_bytes(gzip.compress(b"\xef\xbb\xbf" + lines(0, 45)))
    kept = OpenDecompressors()
    at_kept = at_open = JsonlPosition()
    try:
        for _ in range(5):
            a = read_jsonl_slice(path, at_kept, max_lines=10, decompressors=kept)
            b = read_jsonl_slice(path, at_open, max_lines=10)
            assert a.end == b.end and [n for n, _ in a.items] == [n for n, _ in b.items]
            at_kept, at_open = a.end, b.end
    finally:
        kept.close()
    assert at_kept.line == 45


def test_what_is_carried_between_slices_stays_within_a_block_or_two(tmp_path: Path) -> None:
    """The bytes a kept decompressor carries to the next slice (read, not taken yet) are given out before more is
    read: a slice that read a block more than it took each time carried one more block each time, the whole file by
    the end (a .gz backlog's CPU grew with it: BENCHMARKS.md). Measured as the peak of memory allocated while reading
    (tracemalloc), not time."""
    import tracemalloc

    path = tmp_path / "inbox.jsonl.gz"
    text = lines(0, 4000)  # ~5 MB
    path.write_bytes(gzip.compress(text))
    kept = OpenDecompressors()
    block = 64 * 1024
    at = JsonlPosition()
    tracemalloc.start()
    try:
        while True:
            got = read_jsonl_slice(path, at, max_lines=40, block_bytes=block, decompressors=kept)
            at = got.end
            if not got.more:
                break
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        kept.close()
    assert at.line == 4000 and at.offset == len(text)
    assert peak < len(text) / 4, f"peak {peak:,} bytes for a {len(text):,}-byte file read in blocks of {block:,}"
