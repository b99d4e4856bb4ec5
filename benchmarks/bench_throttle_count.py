"""What a channel throttle's count costs one decision as the channel's ledger grows, next to a baseline measured in
the same run (every row of the channel read for each decision, as the first version of the throttle did).

    .venv/bin/python benchmarks/bench_throttle_count.py --rows 1000 10000 50000 --reps 3

A SQLite store on disk holds N ledger rows of one channel, each with a throttle decision in its payload (10 per
window of an hour). Measured, medians of --reps:
  baseline  one decision reading every row of the channel (`deliveries(channel=)`) and its decision;
  first     a fresh dispatcher's first decision (`AlertDispatcher._admitted`: every row read once, a page at a time);
  next      the decision after one more row (only the rows added since: `deliveries(after_seq=)`).
No corpus is needed; the counts are checked equal to the rows'.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.throttle import Mark
from watchfloor.stream_processors.ports import DeliveryRecord
from watchfloor.stream_processors.stores import open_store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def row(i: int) -> DeliveryRecord:
    window = (T0 + timedelta(hours=i // 10)).isoformat()
    mark = {"window": window, "held": False, "spec": "10 per 1h"}
    return DeliveryRecord(
        f"k{i}", "desk", status="sent", payload={"alert": {"id": f"k{i}"}, "throttle": mark}, seq=i + 1
    )


def once(n: int, folder: Path) -> tuple[float, float, float]:
    st = open_store(f"sqlite:///{folder / f'wf-{n}-{time.monotonic_ns()}.db'}")
    try:
        for i in range(0, n, 5000):
            st.enqueue([row(j) for j in range(i, min(n, i + 5000))])
        t = time.perf_counter()
        marks = [m for r in st.deliveries(channel="desk") if (m := Mark.of(r.payload)) is not None]
        baseline = time.perf_counter() - t
        assert len(marks) == min(n, 100_000)  # (the baseline also stopped at the ledger read's default limit)
        d = AlertDispatcher(st, {})
        t = time.perf_counter()
        counted = d._admitted("desk", n + 1)
        first = time.perf_counter() - t
        assert sum(counted.values()) == n
        st.enqueue([row(n)])
        t = time.perf_counter()
        counted = d._admitted("desk", n + 2)
        nxt = time.perf_counter() - t
        assert sum(counted.values()) == n + 1
        return baseline, first, nxt
    finally:
        st.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1000, 10000, 50000])
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            runs = [once(n, Path(tmp)) for _ in range(args.reps)]
            b, f, x = (statistics.median(r[k] for r in runs) * 1000 for k in range(3))
            print(
                f"{n:>7} rows: baseline {b:8.1f} ms · first {f:8.1f} ms · next {x:6.1f} ms · "
                f"baseline/next {b / x:6.1f}x"
            )


if __name__ == "__main__":
    main()
