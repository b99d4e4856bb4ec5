"""A claim in event-time order with an outage's backlog: what one delivery costs (claim + settle) on SQLite when
N rows are outstanding, with the claim index (migration 12) and, in the same run on a copy of the same store,
without it (the planner then sorts every outstanding row at each claim: what `order_at` cost before the index).

    .venv/bin/python benchmarks/bench_claim_order.py --sizes 2000 20000 100000 --claims 200

Per size N, a SQLite store on disk with N outstanding rows (random event times over ~12 days, as a backlog of
several feeds) and N sent rows; `--claims` claims of one row each, every one settled `sent`, as a pass does.
Milliseconds per delivery, the median of --reps runs, alternating the two stores. No corpus is needed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from watchfloor.stream_processors.ports import DeliveryRecord, Settlement
from watchfloor.stream_processors.stores import open_store

NOW = 1.8e9
PAGE = 5000


def build(path: Path, n: int) -> None:
    st = open_store(f"sqlite:///{path}")
    rng = random.Random(2024)
    try:
        for lo in range(0, n, PAGE):
            hi = min(n, lo + PAGE)
            st.enqueue(
                [
                    DeliveryRecord(f"out-{i}", "desk", seq=i, created_at=NOW, order_at=1.7e9 + rng.random() * 1e6)
                    for i in range(lo, hi)
                ]
                + [
                    DeliveryRecord(f"sent-{i}", "desk", status="sent", seq=n + i, created_at=NOW, order_at=1.6e9)
                    for i in range(lo, hi)
                ]
            )
    finally:
        st.close()


def per_delivery(path: Path, claims: int) -> float:
    st = open_store(f"sqlite:///{path}")
    try:
        started = time.perf_counter()
        for _ in range(claims):
            [r] = st.claim_deliveries("bench", NOW, 60.0)
            st.settle_delivery(r.alert_id, r.channel, "bench", Settlement("sent"), NOW)
        return (time.perf_counter() - started) / claims * 1000
    finally:
        st.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 100000])
    ap.add_argument("--claims", type=int, default=200)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    print("| outstanding rows | with the claim index, ms | without it (sorted each claim), ms | without / with |")
    print("|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            base = Path(tmp) / f"base-{n}.db"
            build(base, n)
            got: dict[str, list[float]] = {"with": [], "without": []}
            for _ in range(args.reps):
                for kind in ("with", "without"):
                    path = Path(tmp) / f"{kind}-{n}.db"
                    shutil.copy(base, path)
                    if kind == "without":
                        st = open_store(f"sqlite:///{path}")
                        with st.engine.begin() as conn:
                            conn.execute(text("DROP INDEX ix_deliveries_claim"))
                        st.close()
                    got[kind].append(per_delivery(path, args.claims))
            w, wo = statistics.median(got["with"]), statistics.median(got["without"])
            print(f"| {n:,} | {w:.2f} | {wo:.2f} | {wo / w:.1f}x |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
