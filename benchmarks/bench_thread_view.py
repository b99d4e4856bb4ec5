"""What drawing a thread's state costs each delivery of a long thread of follow-ups and late-report revisions,
this checkout against an earlier commit, measured in the same run.

    .venv/bin/python benchmarks/bench_thread_view.py --json /tmp/thread_view.json

One thread (one rule, one group, a Slack-like file channel with threads): a first alert, then N more notices, each a
follow-up (a new report, a new alert) or, one in `--revise`, a late report's revision of an earlier standing alert
(moved to an earlier report, as `Detection.cause` None: what `notice.reports_told_before` keeps). Each notice is
appended to a SQLite store on disk and delivered by its own `AlertDispatcher.cycle()` (intake, the thread's state
from the ledger's rows, the file channel's record), as a live `run` does, one alert at a time. Measured per
variant (each a child process on a tree of its own: `git archive` of --before-rev, and this checkout), interleaved
`--reps` times: CPU per cycle (median, p90) over the thread's second half (its longest). The variants must write
the same thread states but for the sources counted (that is the change), which the run prints.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def child(n: int, revise: float, seed: int, out: Path) -> None:
    """Runs in the variant's tree (its root first on sys.path)."""
    from datetime import timedelta

    from tests.functional.delivery_helpers import RETRY, Clock, detection
    from watchfloor.alerts.dispatcher import AlertDispatcher
    from watchfloor.alerts.notice import AlertCatalog
    from watchfloor.alerts.notifiers.file import FileNotifier
    from watchfloor.schemas.config import Subscription
    from watchfloor.schemas.events import detection_event
    from watchfloor.stream_processors.stores import open_store

    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="bench-thread-view-"))
    store = open_store(f"sqlite:///{work / 'wf.db'}")
    archive = work / "desk.jsonl"
    d = AlertDispatcher(
        store,
        {"desk": FileNotifier("desk", archive)},
        [Subscription(channel="desk")],
        RETRY,
        now=Clock(),
        catalog=AlertCatalog(open_periods={"troops": timedelta(days=30)}),
    )
    standing: list[tuple[str, int, int]] = []  # (alert id, minutes, revision) of the alerts that stand
    cpu: list[float] = []
    change = 0
    for i in range(1, n + 1):
        sources = (f"Outlet {i}",)
        if standing and rng.random() < revise:
            k = rng.randrange(len(standing))
            old, minutes, _rev = standing[k]
            change += 1
            det = detection(
                i, rule="troops", group={"party": "RUS"}, minutes=minutes - 5, sources=sources, revises=old,
                revision=change, confidence="unconfirmed", severity="medium",
            )  # fmt: skip
            standing[k] = (det.id, minutes - 5, change)
        else:
            det = detection(
                i, rule="troops", group={"party": "RUS"}, minutes=10 * i, sources=sources,
                confidence="unconfirmed", severity="medium",
            )  # fmt: skip
            standing.append((det.id, 10 * i, 0))
        store.append([detection_event(det)])
        t = time.process_time()
        d.cycle()
        cpu.append(time.process_time() - t)
    sources = [json.loads(line).get("thread", {}).get("sources") for line in archive.read_text().splitlines()]
    store.close()
    shutil.rmtree(work, ignore_errors=True)
    out.write_text(json.dumps({"cpu": cpu, "sources": sources}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="notices in the thread")
    ap.add_argument("--revise", type=float, default=0.3, help="the share of notices that are late-report revisions")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--before-rev", default="be2e88f", help="the commit before reports told before were kept")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        sys.path.insert(0, args.child)
        child(args.n, args.revise, args.seed, args.out)
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-thread-view-trees-"))
    try:
        before = work / "before"
        before.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", args.before_rev], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
        trees = {"before": before, "this": REPO}
        runs: dict[str, list[dict[str, Any]]] = {v: [] for v in trees}
        for rep in range(args.reps):
            for name, tree in trees.items():
                out = work / f"{name}-{rep}.json"
                env = {**os.environ, "PYTHONPATH": str(tree), "WATCHFLOOR_NATIVE": "0"}
                cmd = [sys.executable, __file__, "--child", str(tree), "--out", str(out), "--n", str(args.n)]
                cmd += ["--revise", str(args.revise), "--seed", str(args.seed)]
                subprocess.run(cmd, check=True, env=env, cwd=tree)
                runs[name].append(json.loads(out.read_text()))
        report: dict[str, Any] = {"n": args.n, "revise": args.revise, "before_rev": args.before_rev}
        for name, got in runs.items():
            half = [sorted(r["cpu"][args.n // 2 :]) for r in got]
            med = statistics.median(statistics.median(h) for h in half) * 1e3
            p90 = statistics.median(h[int(len(h) * 0.9)] for h in half) * 1e3
            report[name] = {"median_ms": round(med, 2), "p90_ms": round(p90, 2), "sources_last": got[0]["sources"][-1]}
            print(f"{name:7s} per cycle, thread's second half: median {med:.2f} ms, p90 {p90:.2f} ms; "
                  f"last record's thread sources {got[0]['sources'][-1]}")  # fmt: skip
        ratio = report["this"]["median_ms"] / report["before"]["median_ms"]
        report["ratio"] = round(ratio, 3)
        print(f"this / before: {ratio:.2f}x (median CPU per delivery cycle)")
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
