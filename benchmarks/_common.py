"""Shared helpers for the benchmarks: where the real data lives, how it becomes our input format,
CPU pinning, timing and progress bars.

The real data is NOT part of the repository. It is read at run time from ../shared/data (next to the
checkout) or from $WATCHFLOOR_DATA; when it is absent the benchmarks say so and exit with status 2.
Prepared copies (our input JSON Lines format) are cached outside the repository, in
$WATCHFLOOR_BENCH_CACHE or ~/.cache/watchfloor-bench.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python benchmarks/x.py` from anywhere
    sys.path.insert(0, str(REPO))

from watchfloor import native  # noqa: E402
from watchfloor.producers.feed_text import html_to_text  # noqa: E402

console = Console(stderr=True)

PREP_VERSION = "2"  # bump when the mapping below changes: invalidates the cache (2: HTML as the feed reader reads it)


def data_dir() -> Path:
    return Path(os.environ.get("WATCHFLOOR_DATA", REPO.parent / "shared" / "data")).resolve()


def rss2023_dir() -> Path:
    return data_dir() / "news_rss_2023"


def require(path: Path, what: str) -> None:
    """Exit with a clear message (status 2) when the real data is not there."""
    if not path.exists():
        console.print(
            f"[bold red]data absent:[/bold red] {what} not found at {path}.\n"
            "These benchmarks read the real corpora from ../shared/data (see its README.md) and do not "
            "ship them. Set WATCHFLOOR_DATA=/path/to/shared/data to point elsewhere.",
            highlight=False,
        )
        raise SystemExit(2)


def rss2023_files() -> list[Path]:
    d = rss2023_dir()
    require(d, "the 2023 RSS corpus (news_rss_2023/*.jsonl.gz)")
    files = sorted(d.glob("*.jsonl.gz"))
    if not files:
        require(d / "*.jsonl.gz", "the 2023 RSS corpus files")
    return files


def cache_dir(*, make: bool = True) -> Path:
    """Where prepared copies are cached (made unless `make` is false: a --help only names it)."""
    base = os.environ.get("WATCHFLOOR_BENCH_CACHE") or str(Path.home() / ".cache" / "watchfloor-bench")
    p = Path(base)
    if make:
        p.mkdir(parents=True, exist_ok=True)
    return p


# ---------------------------------------------------------------------------------------------------
# Mapping an original 2023 RSS record to our input contract (schemas/inputs.py, DESIGN §4).
def _published_at(value: str) -> str:
    """'2023-01-01 23:39:59+00:00' or '2023-01-01T23:39:59.123+00:00' -> ISO 8601 with 'T' and offset."""
    ts = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if ts.tzinfo is None:
        raise ValueError(f"no UTC offset in {value!r}")
    return ts.isoformat()


def to_input(rec: dict[str, Any], feed: str) -> dict[str, Any] | None:
    """title, description (HTML as text, as the feed reader makes it: paragraphs stay apart, so a paragraph without
    a full stop is no part of the next one's sentence; outside trial 44, M4) as body, date_published as published_at,
    the feed as source."""
    title = (rec.get("title") or "").strip()
    body = html_to_text(rec.get("description") or "")
    if not title and not body:
        return None
    out: dict[str, Any] = {
        "type": "news.article",
        "published_at": _published_at(rec["date_published"]),
        "source": {"name": feed, "url": rec.get("source"), "kind": "feed"},
        "title": title,
        "body": body,
    }
    if rec.get("link"):
        out["url"] = rec["link"]
    if rec.get("language"):
        out["language"] = rec["language"]
    return out


def _fingerprint(files: Iterable[Path]) -> str:
    h = hashlib.sha256(PREP_VERSION.encode())
    for f in files:
        st = f.stat()
        h.update(f"{f.name}\x1f{st.st_size}\x1f{int(st.st_mtime)}\n".encode())
    return h.hexdigest()[:16]


def prepared_rss2023() -> list[Path]:
    """The whole 2023 corpus in our input JSONL format, one file per feed, cached outside the repo.

    Preparation (gunzip, map, strip HTML, write) happens once and is never timed."""
    files = rss2023_files()
    out_dir = cache_dir() / f"rss2023-{_fingerprint(files)}"
    done = out_dir / ".complete"
    targets = [out_dir / f.name.replace(".jsonl.gz", ".jsonl") for f in files]
    if done.exists():
        return targets
    out_dir.mkdir(parents=True, exist_ok=True)
    with progress() as prog:
        task = prog.add_task("preparing 2023 RSS corpus (once, not timed)", total=len(files))
        for src, dst in zip(files, targets, strict=True):
            feed = src.name.removesuffix(".jsonl.gz")
            tmp = dst.with_suffix(".tmp")
            with gzip.open(src, "rb") as fin, open(tmp, "wb") as fout:
                for line in fin:
                    if not line.strip():
                        continue
                    item = to_input(orjson.loads(line), feed)
                    if item is not None:
                        fout.write(orjson.dumps(item) + b"\n")
            tmp.replace(dst)
            prog.advance(task)
    done.write_text("ok\n")
    return targets


def iter_prepared_lines(paths: Iterable[Path]) -> Iterator[bytes]:
    for p in paths:
        with open(p, "rb") as f:
            yield from f


# ---------------------------------------------------------------------------------------------------
def pin_to_core(cpu: int | None) -> str:
    """Pin this process to one CPU (like `taskset -c N`); returns a description for the report."""
    if cpu is None or cpu < 0:
        return "not pinned"
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this OS)"
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "engine": engine_kind(),
    }


def engine_kind() -> str:
    """'native' when the engine's modules run compiled (watchfloor/native.py), else 'interpreted'."""
    return "native" if native.active() else "interpreted"


@dataclass
class Timing:
    wall: float
    cpu: float


def timed(fn: Callable[[], Any]) -> tuple[Timing, Any]:
    w0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return Timing(time.perf_counter() - w0, time.process_time() - c0), result


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def progress(transient: bool = True) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
    )
