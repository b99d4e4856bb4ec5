"""What a poll of a 171k-line JSON Lines inbox costs once it has been read: the 2023 corpus as one file, plain and .gz.

Runs against whichever checkout is first on PYTHONPATH, so the same script measures a branch and its base:

    PYTHONPATH=/work/main .venv/bin/python benchmarks/bench_jsonl_poll.py      # before
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_jsonl_poll.py            # after

Each case reads the inbox into a fresh SQLite store (one poll, max_lines_per_poll above its length), appends 100
lines, and measures the next poll of the same poller: CPU seconds (time.process_time) and lines parsed (the poll's
documents and dead letters). `whole`: the poller `ingest` and (before this branch) `produce` build, which reads the
whole file; `position`: `run`'s (and now `produce`'s), which reads from the saved position. Then `gz backlog`: the
.gz read in slices of 1,000 lines (max_lines_per_poll's default) by one reader, without a store: the CPU seconds
of all 172 slices (a kept decompressor where the checkout has one), and of the same file read in one slice (the
floor: decompressing and parsing it once).
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import prepared_rss2023  # the benchmarks' own helpers, beside this file

from watchfloor.producers import jsonl
from watchfloor.producers.poller import SourcePoller
from watchfloor.schemas.config import JsonlSource
from watchfloor.stream_processors.stores.sql import SqlStore

EXTRA = 100


def extra_lines(n: int) -> bytes:
    return b"".join(
        b'{"type":"news.article","id":"bench-extra-%d","published_at":"2024-01-02T00:00:00+00:00",'
        b'"source":"Bench","title":"Appended %d","body":"An appended line."}\n' % (i, i)
        for i in range(n)
    )


def inbox(work: Path) -> tuple[Path, Path]:
    plain = work / "inbox.jsonl"
    with open(plain, "wb") as out:
        for f in prepared_rss2023():
            with open(f, "rb") as src:
                shutil.copyfileobj(src, out)
    gz = work / "inbox.jsonl.gz"
    with open(plain, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as out:
        shutil.copyfileobj(src, out)
    return plain, gz


def second_poll(path: Path, work: Path, bounded: bool) -> tuple[float, int, float]:
    """(CPU s of the first poll, lines the second poll parsed, its CPU s)."""
    db = work / f"store-{path.name}-{bounded}.db"
    db.unlink(missing_ok=True)
    store = SqlStore(f"sqlite:///{db}")
    poller = SourcePoller(store, [JsonlSource(path=str(path), max_lines_per_poll=10_000_000)], bounded=bounded)
    try:
        t0 = time.process_time()
        poller.poll_due()
        first = time.process_time() - t0
        if path.suffix == ".gz":
            with open(path, "ab") as f:
                f.write(gzip.compress(extra_lines(EXTRA)))
        else:
            with open(path, "ab") as f:
                f.write(extra_lines(EXTRA))
        t0 = time.process_time()
        summary = poller.poll_due()
        second = time.process_time() - t0
    finally:
        close = getattr(poller, "close", None)
        if close is not None:
            close()
        store.close()
    parsed = summary.accepted + summary.duplicates + summary.dead_lettered
    return first, parsed, second


def gz_backlog(gz: Path) -> tuple[int, float]:
    kept: Any = jsonl.OpenDecompressors() if hasattr(jsonl, "OpenDecompressors") else None
    extra = {"decompressors": kept} if kept is not None else {}
    at = jsonl.JsonlPosition()
    slices = 0
    t0 = time.process_time()
    while True:
        got = jsonl.read_jsonl_slice(gz, at, max_lines=1000, **extra)
        at = got.end
        slices += 1
        if not got.more:
            break
    cpu = time.process_time() - t0
    if kept is not None:
        kept.close()
    return slices, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-backlog", action="store_true", help="Leave out the .gz backlog in slices.")
    ap.add_argument("--backlog-only", action="store_true", help="Only the .gz backlog in slices (and its floor).")
    args = ap.parse_args()
    checkout = Path(jsonl.__file__).resolve().parents[1]
    print(f"checkout: {checkout}", flush=True)
    with tempfile.TemporaryDirectory(prefix="wf-bench-jsonl-") as tmp:
        work = Path(tmp)
        plain, gz = inbox(work)
        print(
            f"inbox: {sum(1 for _ in open(plain, 'rb')):,} lines, {plain.stat().st_size:,} bytes; "
            f".gz {gz.stat().st_size:,}"
        )
        for path in () if args.backlog_only else (plain, gz):
            for bounded in (False, True):
                # each case on a fresh copy: the appended lines must not pile up
                copy = work / f"case{path.suffix}"
                shutil.copyfile(path, copy)
                target = copy.with_name("inbox-case" + "".join(path.suffixes))
                copy.rename(target)
                first, parsed, cpu = second_poll(target, work, bounded)
                mode = "position" if bounded else "whole"
                print(
                    f"{path.name:16} {mode:9} first poll {first:7.2f} s CPU · second poll: {parsed:7,} lines parsed, "
                    f"{cpu:7.3f} s CPU",
                    flush=True,
                )
                target.unlink()
        if not args.skip_backlog:
            slices, cpu = gz_backlog(gz)
            print(f"gz backlog: {slices} slices of 1,000 lines, {cpu:.2f} s CPU", flush=True)
            t0 = time.process_time()
            whole = jsonl.read_jsonl_slice(gz, jsonl.JsonlPosition())
            print(f"gz in one read (the floor): {len(whole.items):,} lines, {time.process_time() - t0:.2f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
