"""What the acknowledgement counts and the backtest's story preview cost (outside trial 81, F5, F6), each next to a
baseline measured in the same run.

    .venv/bin/python benchmarks/bench_ack_counts.py --alerts 20000 --story 500 --reps 3

  standing     `status`'s count of the standing alerts and the unacknowledged ones (alerts.standing.read_standing_acks)
               on a SQLite store of --alerts detections (every tenth acknowledged), against the baseline: reading
               every detection's payload once, the least a count over them can read;
  preview      `backtest --json`'s story preview (alerts.story_preview) of --story alerts of one `thread_by` rule in
               20 stories, against the same at half as many: the ratio says how it grows (2 linear, 4 quadratic).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _store(n: int, where: str) -> Any:
    from watchfloor.alerts.control import ControlLog
    from watchfloor.schemas.control import Actor
    from watchfloor.schemas.events import Detection, detection_event
    from watchfloor.stream_processors.stores import open_store

    st = open_store(f"sqlite:///{where}/wf.db")
    dets = [
        Detection(id=f"{i:020x}", rule=f"r{i % 5}", title="t", severity="high", fired_at=T0 + timedelta(minutes=i))
        for i in range(n)
    ]
    st.append([detection_event(d) for d in dets])
    control = ControlLog(st)
    for i in range(0, n, 10):
        control.acknowledge(f"{i:020x}", by=Actor(via="cli", user="kim"))
    return st


def _payloads(st: Any) -> int:
    n, position = 0, 0
    while page := st.read_payloads(position, types={"detection"}, limit=5000):
        n += len(page)
        position = page[-1][0]
    return n


def _preview(n: int) -> float:
    from watchfloor.alerts.notice import AlertCatalog
    from watchfloor.alerts.story_preview import preview_stories
    from watchfloor.schemas.events import Detection

    catalog = AlertCatalog(open_periods={"r": timedelta(days=3)}, thread_by={"r": ("country",)})
    dets = [
        Detection(
            id=f"{i:020x}",
            rule="r",
            title="t",
            severity="medium",
            group={"country": f"C{i % 20}", "imposer": f"I{i % 7}"},
            fired_at=T0 + timedelta(hours=i),
        )
        for i in range(n)
    ]
    start = time.perf_counter()
    preview_stories(dets, catalog)
    return time.perf_counter() - start


def main() -> None:
    from watchfloor.alerts.standing import read_standing_acks

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=20000)
    ap.add_argument("--story", type=int, default=500)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as where:
        st = _store(a.alerts, where)
        try:
            fold, base = [], []
            for _ in range(a.reps):  # (ABAB: the baseline and the count alternate)
                start = time.perf_counter()
                _payloads(st)
                base.append(time.perf_counter() - start)
                start = time.perf_counter()
                got = read_standing_acks(st)
                fold.append(time.perf_counter() - start)
        finally:
            st.close()
    f, b = statistics.median(fold), statistics.median(base)
    print(
        f"standing: {a.alerts:,} alerts ({got.unacknowledged:,} unacknowledged): count {f:.3f}s, baseline {b:.3f}s, "
        f"ratio {f / b:.2f}"
    )
    half, whole = [], []
    for _ in range(a.reps):
        half.append(_preview(a.story // 2))
        whole.append(_preview(a.story))
    h, w = statistics.median(half), statistics.median(whole)
    print(f"preview: {a.story // 2:,} alerts {h:.3f}s, {a.story:,} alerts {w:.3f}s, ratio {w / h:.2f}")


if __name__ == "__main__":
    main()
