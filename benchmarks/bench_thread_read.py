"""What each delivery of a long thread reads from the delivery ledger, and costs, as the thread grows: this checkout
against an earlier commit, measured in the same run.

    flock /tmp/wf-bench.lock .venv/bin/python benchmarks/bench_thread_read.py --json /tmp/thread_read.json

One thread (a noisy rule with no group: one rule, one group, one channel): N alerts, each a new report of the same
story, so each after the first is a follow-up under the thread's first message. Each is appended to a SQLite store
on disk (or PostgreSQL, `--url`) and delivered by its own `AlertDispatcher.cycle()` (intake, the notice drawn from
the ledger's rows, the file channel's record), as a live `run` does, one alert at a time. The store is wrapped in a
counter of the rows `deliveries()` returns (the real store underneath). Reported per N and variant (each a child
process on a tree of its own: `git archive` of --before-rev, and this checkout): ledger rows read per delivered
alert, row revisions listed per alert (`thread_rows`: an id and a number each) and CPU per cycle (median), all over
the thread's last tenth, and the whole run's CPU. The variants must write the
same records (their digest is compared).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
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


class Counting:
    """A store that counts the ledger rows it returns (`deliveries()`, and the rows `thread_rows()` reads again) and
    the row revisions `thread_rows()` lists (an id and a number each, no payload); the store underneath does the rest.
    """

    def __init__(self, store: Any) -> None:
        self._store = store
        self.rows = 0
        self.revisions = 0

    def deliveries(self, **kw: Any) -> Any:
        got = self._store.deliveries(**kw)
        self.rows += len(got)
        return got

    def thread_rows(self, channel: str, thread_key: str, known: Any) -> Any:
        got = self._store.thread_rows(channel, thread_key, known)
        self.rows += len(got.rows)
        self.revisions += len(got.revisions)
        return got

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def child(n: int, url: str | None, out: Path) -> None:
    """Runs in the variant's tree (its root first on sys.path)."""
    from tests.functional.delivery_helpers import RETRY, Clock, detection
    from watchfloor.alerts.dispatcher import AlertDispatcher
    from watchfloor.alerts.notice import AlertCatalog
    from watchfloor.alerts.notifiers.file import FileNotifier
    from watchfloor.schemas.config import Subscription
    from watchfloor.schemas.events import detection_event
    from watchfloor.stream_processors.stores import open_store

    work = Path(tempfile.mkdtemp(prefix="bench-thread-read-"))
    store = Counting(open_store(url or f"sqlite:///{work / 'wf.db'}"))
    archive = work / "desk.jsonl"
    clock = Clock()
    d = AlertDispatcher(
        store,  # type: ignore[arg-type]
        {"desk": FileNotifier("desk", archive)},
        [Subscription(channel="desk")],
        RETRY,
        now=clock,
        catalog=AlertCatalog(),
    )
    cpu: list[float] = []
    rows: list[int] = []
    revisions: list[int] = []
    start = time.process_time()
    for i in range(1, n + 1):
        det = detection(
            i, rule="noisy", group={}, minutes=i, sources=(f"Outlet {i}",), confidence="unconfirmed", severity="medium"
        )
        store.append([detection_event(det)])
        before, listed, t = store.rows, store.revisions, time.process_time()
        d.cycle()
        cpu.append(time.process_time() - t)
        rows.append(store.rows - before)
        revisions.append(store.revisions - listed)
        clock.advance(1)
    total = time.process_time() - start
    records = archive.read_text().splitlines()
    # (each record names the file it is in, the run's own temporary directory)
    digest = hashlib.sha256("\n".join(records).replace(str(work), "WORK").encode()).hexdigest()[:12]
    store.close()
    shutil.rmtree(work, ignore_errors=True)
    out.write_text(
        json.dumps(
            {
                "cpu": cpu,
                "rows": rows,
                "revisions": revisions,
                "total": total,
                "records": len(records),
                "digest": digest,
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[50, 200, 600, 1000], help="alerts in the thread")
    ap.add_argument("--before-rev", default="0587c9a", help="the commit to compare with")
    ap.add_argument("--url", help="a PostgreSQL URL (its ledger tables are emptied before each run)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        sys.path.insert(0, args.child)
        child(args.n[0], args.url, args.out)
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-thread-read-trees-"))
    report: dict[str, Any] = {"before_rev": args.before_rev, "url": "postgresql" if args.url else "sqlite", "runs": []}
    try:
        before = work / "before"
        before.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", args.before_rev], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
        trees = {"before": before, "this": REPO}
        print(
            "| N | variant | rows read per alert | revisions listed per alert | ms CPU per cycle (median) | run CPU s |"
        )
        print("|---|---|---|---|---|---|")
        for n in args.n:
            got: dict[str, dict[str, Any]] = {}
            for name, tree in trees.items():
                if args.url:
                    _empty(args.url)
                out = work / f"{name}-{n}.json"
                env = {**os.environ, "PYTHONPATH": str(tree), "WATCHFLOOR_NATIVE": "0"}
                cmd = [sys.executable, __file__, "--child", str(tree), "--out", str(out), "--n", str(n)]
                cmd += ["--url", args.url] if args.url else []
                subprocess.run(cmd, check=True, env=env, cwd=tree)
                r = json.loads(out.read_text())
                tail = max(1, n // 10)
                rows = statistics.mean(r["rows"][-tail:])
                revs = statistics.mean(r.get("revisions", [0])[-tail:] or [0])
                ms = statistics.median(r["cpu"][-tail:]) * 1e3
                got[name] = {"rows_per_alert": round(rows, 1), "revisions_per_alert": round(revs, 1),
                             "ms_per_cycle": round(ms, 2),
                             "cpu_s": round(r["total"], 2), "records": r["records"], "digest": r["digest"]}  # fmt: skip
                print(f"| {n:,} | {name} | {rows:,.1f} | {revs:,.1f} | {ms:.2f} | {r['total']:.2f} |", flush=True)
            same = got["before"]["digest"] == got["this"]["digest"]
            ratio = got["this"]["ms_per_cycle"] / got["before"]["ms_per_cycle"]
            print(f"|   | this / before | | | {ratio:.2f}x | records identical: {same} |", flush=True)
            report["runs"].append({"n": n, **got, "ratio": round(ratio, 3), "identical": same})
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _empty(url: str) -> None:
    """Drops the ledger's tables of a scratch PostgreSQL database: each run starts on an empty store."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
