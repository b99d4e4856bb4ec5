"""The first /metrics scrape after an upgrade (a store without a `web:activity` checkpoint), this checkout against a
baseline in the same run, each in a fresh process on its own copy of the store (the checkpoint removed from each):
how long the scrape takes to answer, and, with the background warm-up, how long until the counts are there.

    python benchmarks/bench_warmup.py --store /path/to/wf.db --baseline /work/main [--reps 2]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# What `create_app` does at start and then one scrape, timed; then (with a warm-up) the wait until it is done.
SCRAPE = """
import sys, time
from watchfloor.wiring import open_store
from watchfloor.alerts.control import ControlLog
from watchfloor.web.activity import ActivityView
from watchfloor.web.metrics import LogCollector, registry_for
from prometheus_client import generate_latest
st = open_store(sys.argv[1], create=False)
t = time.perf_counter()
view = ActivityView(st, st)
thread = view.warm_up() if hasattr(view, "warm_up") else None
text = generate_latest(registry_for(LogCollector(st, view, ControlLog(st)))).decode()
first = time.perf_counter() - t
if thread is not None:
    thread.join()
print(f"{first:.3f} {time.perf_counter() - t:.3f} {'watchfloor_metrics_warming 1.0' in text}")
"""


def once(checkout: Path, store: Path) -> tuple[float, float, bool]:
    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM checkpoints WHERE processor = 'web:activity'")
    python = checkout / ".venv" / "bin" / "python"
    out = subprocess.run(
        [str(python), "-c", SCRAPE, f"sqlite:///{store}"],
        cwd=checkout,
        env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin", "WATCHFLOOR_STORE": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1]), out[2] == "True"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, required=True, help="SQLite store file (copied, not changed)")
    ap.add_argument("--baseline", type=Path, required=True, help="checkout to compare with (its .venv is used)")
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copies = {}
        for side, checkout in (("baseline", args.baseline), ("this", REPO)):
            copies[side] = (checkout, Path(tmp) / f"{side}.db")
            shutil.copyfile(args.store, copies[side][1])
        got: dict[str, list[tuple[float, float, bool]]] = {"baseline": [], "this": []}
        for rep in range(args.reps):
            for side, (checkout, store) in copies.items():  # ABAB
                r = once(checkout, store)
                got[side].append(r)
                print(f"rep {rep} {side}: first scrape {r[0]:.2f} s, counts there after {r[1]:.2f} s, warming={r[2]}")
        for side, rs in got.items():
            print(
                f"{side}: median first scrape {statistics.median(r[0] for r in rs):.2f} s, "
                f"counts after {statistics.median(r[1] for r in rs):.2f} s"
            )


if __name__ == "__main__":
    main()
