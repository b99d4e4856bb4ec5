"""What notify's intake backlog on /metrics costs a scrape: the same store scraped with and without its gauges.

    .venv/bin/python benchmarks/bench_intake_backlog.py --sizes 10000 200000 --reps 15

Per size, one SQLite store on disk is built through the store API (N detections, each with a document before it, and
a `sent` delivery event of each; ledger rows are not needed: the intake's look reads none). Then, for each state of the
intake's checkpoint, one server's registry (LogCollector as create_app builds it, its first scrape done) is scraped
alternately with and without the intake's gauges (a LogCollector whose `_intake` yields nothing), `--reps` times
each; the medians of prometheus-client's text of the registry, in ms, and the ratio of the two in the same run.
Each later scrape counts only what changed since the last look (nothing here); a server's first look counts the
backlog in full, timed apart (`first look`: a new IntakeWatch's look, median of --reps):
  caught up    the checkpoint at the log's end (a running notify): nothing to count;
  behind 1000  the last 1,000 detections not taken in (a notify a little behind, or stopped a while);
  never ran    no checkpoint: every detection of the store is counted, at each scrape (an analysis store).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _build(path: Path, n: int) -> None:
    from watchfloor.schemas.events import (
        Delivery,
        Detection,
        Document,
        SourceRef,
        delivery_event,
        detection_event,
        document_event,
    )
    from watchfloor.stream_processors.stores.sql import SqlStore

    st = SqlStore(f"sqlite:///{path}")
    try:
        for lo in range(0, n, 2000):
            batch: list[Any] = []
            for i in range(lo, min(lo + 2000, n)):
                at = T0 + timedelta(minutes=i)
                batch.append(
                    document_event(
                        Document(
                            id=f"doc{i}", type="news.article", published_at=at, source=SourceRef(name="b"), title="t"
                        ),
                        origin="bench.jsonl",
                        received_at=at,
                    )
                )
                batch.append(
                    detection_event(
                        Detection(
                            id=f"d{i}", rule="r", title=f"t{i}", severity="high", group={"g": str(i)}, fired_at=at
                        )
                    )
                )
                batch.append(delivery_event(Delivery(alert_id=f"d{i}", channel="desk", status="sent", at=at)))
            st.append(batch)
    finally:
        st.close()


def _scrapes(path: Path, reps: int) -> dict[str, tuple[float, float, float]]:
    from prometheus_client import generate_latest
    from prometheus_client.core import Metric

    from watchfloor.alerts.control import ControlLog
    from watchfloor.alerts.dispatcher import PROCESSOR
    from watchfloor.stream_processors.ports import Checkpoint
    from watchfloor.stream_processors.stores.sql import SqlStore
    from watchfloor.web.activity import ActivityView
    from watchfloor.web.metrics import IntakeWatch, LogCollector, registry_for

    class WithoutIntake(LogCollector):
        def _intake(self) -> Iterator[Metric]:
            return iter(())

    st = SqlStore(f"sqlite:///{path}")
    out: dict[str, tuple[float, float, float]] = {}
    try:
        head = st.head()
        n = st.count(types={"detection"})
        control = ControlLog(st)
        view = ActivityView(st)
        registries = {
            "with": registry_for(LogCollector(st, view, control, channels=("desk",))),
            "without": registry_for(WithoutIntake(st, view, control, channels=("desk",))),
        }
        for reg in registries.values():
            generate_latest(reg)  # the first scrape reads the log whole (the activity view): not measured here
        # positions of the last 1,000 detections: each detection is the second event of its step of three
        states = {"caught up": head, "behind 1000": max(head - 3 * 1000, 0), "never ran": 0}
        for state, position in states.items():
            st.forget_checkpoint(PROCESSOR, at=st.checkpoint_position(PROCESSOR))
            if position:
                st.commit(PROCESSOR, Checkpoint(position, None), [])
            times: dict[str, list[float]] = {"with": [], "without": [], "first": []}
            for _ in range(reps):
                t = time.perf_counter()
                IntakeWatch().look(st, 0.0)
                times["first"].append((time.perf_counter() - t) * 1000)
                for which, reg in registries.items():  # ABAB
                    t = time.perf_counter()
                    generate_latest(reg)
                    times[which].append((time.perf_counter() - t) * 1000)
            out[f"{state} ({st.count(types={'detection', 'retraction'}, after=position)} of {n})"] = (
                statistics.median(times["without"]),
                statistics.median(times["with"]),
                statistics.median(times["first"]),
            )
    finally:
        st.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 200000])
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    print("| detections | intake | scrape without, ms | scrape with, ms | with / without | first look, ms |")
    print("|---:|---|---:|---:|---:|---:|")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "wf.db"
            _build(path, n)
            for state, (without, with_, first) in _scrapes(path, args.reps).items():
                print(
                    f"| {n:,} | {state} | {without:.1f} | {with_:.1f} | {with_ / without:.2f} | {first:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
