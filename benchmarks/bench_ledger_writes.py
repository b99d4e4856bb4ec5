"""What the delivery ledger's revision triggers (migration 15: every insert and update of a row gives it a new `rev`)
cost on bulk writes: this checkout against an earlier commit, alternating, in the same run.

    flock /tmp/wf-bench.lock .venv/bin/python benchmarks/bench_ledger_writes.py --json /tmp/lw.json
    flock /tmp/wf-bench.lock .venv/bin/python benchmarks/bench_ledger_writes.py --url postgresql+psycopg://...

Each variant runs in a child process on a tree of its own (`git archive` of --before-rev; this checkout, or
`git archive` of --after-rev), on a SQLite store on disk (or PostgreSQL, `--url`: its schema emptied first). The
variants alternate within each round (AB BA AB ...). Per run: N (--alerts) detections, each of its own group (no
thread), appended to the log (untimed); two subscriptions (channels `desk` and `archive`, file channels), so 2N
ledger rows. Timed, as the store's own methods (the store wrapped: wall and CPU inside the calls) and as the whole
phase:

  intake        `AlertDispatcher.intake` until the log is taken in: per alert, `enqueue` of its 2 rows with its
                events in one transaction (INSERT ... ON CONFLICT DO NOTHING RETURNING, one per row);
  deliver       `AlertDispatcher.cycle()` until nothing is outstanding: `claim_deliveries` (an UPDATE per claimed
                row: its lease) and `settle_delivery` (an UPDATE per row, with its delivery event), the file
                channel's write between;
  bulk enqueue  --bulk more rows (copies of an intake row) by one `enqueue` call, one transaction: the ledger's
                insert without the dispatcher around it;
  redeliver     every row (2N + bulk) made `expired` (one plain UPDATE, untimed), then
                `redeliver(statuses=("expired",))`: what `watchfloor alerts redeliver --all-expired
                --include-unconfirmed` does to the ledger (one UPDATE ... RETURNING of every row); --redeliveries
                times per run, the median kept (one takes a tenth of a second).

The ledger has no prune of its own rows (`watchfloor store prune` strips documents in the event log only), so there
is no prune phase. Reported: the median over --rounds of the store calls' wall seconds, rows/s, and CPU seconds:
the client's (in the store calls), and on PostgreSQL the server's (its processes' CPU over the phase: the triggers'
work is there), and after / before. CPU is the steadier figure on a loaded machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PHASES = ("intake", "deliver", "bulk enqueue", "redeliver")


class Timed:
    """A store that adds up the wall and CPU time spent in its ledger write methods; the store underneath does it."""

    WRITES = ("enqueue", "claim_deliveries", "claim_delivery", "settle_delivery", "hold_delivery", "redeliver")

    def __init__(self, store: Any) -> None:
        self._store = store
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    def __getattr__(self, name: str) -> Any:
        got = getattr(self._store, name)
        if name not in self.WRITES:
            return got

        def timed(*args: Any, **kw: Any) -> Any:
            w, c = time.perf_counter(), time.process_time()
            try:
                return got(*args, **kw)
            finally:
                self.wall[name] += time.perf_counter() - w
                self.cpu[name] += time.process_time() - c

        return timed

    def taken(self) -> tuple[float, float]:
        """(wall, CPU) spent in the write methods so far, and start again from zero."""
        out = (sum(self.wall.values()), sum(self.cpu.values()))
        self.wall.clear()
        self.cpu.clear()
        return out


def _server_cpu(postmaster: int | None) -> float:
    """CPU seconds of a PostgreSQL server's processes (the postmaster's own and its reaped children's, and its live
    backends'), 0 without one: the work a client's CPU does not show, triggers included."""
    if postmaster is None:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def child(n: int, bulk: int, redeliveries: int, url: str | None, out: Path) -> None:
    """Runs in the variant's tree (its root first on sys.path)."""
    import sqlalchemy

    from tests.functional.delivery_helpers import RETRY, T0, Clock, detection
    from watchfloor.alerts.dispatcher import AlertDispatcher
    from watchfloor.alerts.notice import AlertCatalog
    from watchfloor.alerts.notifiers.file import FileNotifier
    from watchfloor.schemas.config import Subscription
    from watchfloor.schemas.events import detection_event
    from watchfloor.stream_processors.stores import open_store

    work = Path(tempfile.mkdtemp(prefix="bench-ledger-writes-"))
    store_url = url or f"sqlite:///{work / 'wf.db'}"
    store = Timed(open_store(store_url))
    clock = Clock(T0)
    channels = ("desk", "archive")
    d = AlertDispatcher(
        store,  # type: ignore[arg-type]
        {c: FileNotifier(c, work / f"{c}.jsonl") for c in channels},
        [Subscription(channel=c) for c in channels],
        RETRY,
        now=clock,
        catalog=AlertCatalog(),
    )
    for start in range(1, n + 1, 1000):
        dets = [
            detection(i, group={"n": str(i)}, minutes=0, sources=(f"Outlet {i}",))
            for i in range(start, min(n, start + 999) + 1)
        ]
        store.append([detection_event(det) for det in dets])
    got: dict[str, Any] = {}
    postmaster = None
    if url:  # (a backend's parent is the postmaster)
        probe = sqlalchemy.create_engine(url)
        with probe.connect() as conn:  # (read while the backend lives)
            backend = int(conn.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar_one())
            postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        probe.dispose()

    def phase(name: str, rows: int, work_fn: Any) -> None:
        w, c, s = time.perf_counter(), time.process_time(), _server_cpu(postmaster)
        work_fn()
        phase_wall, phase_cpu = time.perf_counter() - w, time.process_time() - c
        server_cpu = _server_cpu(postmaster) - s
        wall, cpu = store.taken()
        got[name] = {
            "rows": rows,
            "wall": wall,
            "cpu": cpu,
            "phase_wall": phase_wall,
            "phase_cpu": phase_cpu,
            "server_cpu": server_cpu,
        }

    def intake() -> None:
        while d.intake(1000)[0]:
            pass

    def deliver() -> None:
        while d.cycle().outstanding:
            clock.advance(1)

    phase("intake", 2 * n, intake)
    counts = store.delivery_counts()
    assert counts == {"outstanding": 2 * n}, counts
    phase("deliver", 2 * n, deliver)
    counts = store.delivery_counts()
    assert counts == {"sent": 2 * n}, counts
    # (rows as intake makes them: an alert's payload, a thread of its own; settled, as a long-running ledger's are)
    template = store.deliveries(channel="desk", limit=1)[0]
    extra = [
        dataclasses.replace(template, alert_id=f"bulk-{i}", seq=2 * n + i, thread_key=f"bulk-{i}", status="sent")
        for i in range(bulk)
    ]
    phase("bulk enqueue", bulk, lambda: store.enqueue(extra))
    engine = sqlalchemy.create_engine(store_url)
    everything = 2 * n + bulk
    runs: list[dict[str, Any]] = []
    redone: list[int] = []

    def redeliver_all() -> None:
        redone.append(store.redeliver(clock().timestamp(), statuses=("expired",)))

    for _ in range(redeliveries):
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("UPDATE deliveries SET status = 'expired'"))
        phase("redeliver", everything, redeliver_all)
        runs.append(got.pop("redeliver"))
    assert redone == [everything] * redeliveries, redone
    engine.dispose()
    got["redeliver"] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    store.close()
    shutil.rmtree(work, ignore_errors=True)
    out.write_text(json.dumps(got))


def _tree(rev: str, into: Path) -> Path:
    into.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _empty(url: str) -> None:
    """Drops the tables of a scratch PostgreSQL database: each run starts on an empty store."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=2000, help="alerts (each makes 2 ledger rows)")
    ap.add_argument(
        "--bulk", type=int, default=10000, help="rows enqueued by one call (then redelivered with the rest)"
    )
    ap.add_argument("--redeliveries", type=int, default=5, help="redeliveries of every row per run (median kept)")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each variant (alternating); medians reported")
    ap.add_argument("--before-rev", default="0587c9a", help="the commit to compare with (before the triggers)")
    ap.add_argument("--after-rev", help="a commit to measure instead of this checkout")
    ap.add_argument("--url", help="a PostgreSQL URL (its schema is emptied before each run)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        sys.path.insert(0, args.child)
        child(args.alerts, args.bulk, args.redeliveries, args.url, args.out)
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-ledger-writes-trees-"))
    report: dict[str, Any] = {
        "before_rev": args.before_rev,
        "after_rev": args.after_rev or "this checkout",
        "store": "postgresql" if args.url else "sqlite",
        "alerts": args.alerts,
        "rounds": [],
    }
    try:
        trees = {
            "before": _tree(args.before_rev, work / "before"),
            "after": _tree(args.after_rev, work / "after") if args.after_rev else REPO,
        }
        runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
        for r in range(args.rounds):
            order = ["before", "after"] if r % 2 == 0 else ["after", "before"]
            for name in order:
                if args.url:
                    _empty(args.url)
                out = work / f"{name}-{r}.json"
                env = {**os.environ, "PYTHONPATH": str(trees[name]), "WATCHFLOOR_NATIVE": "0"}
                cmd = [sys.executable, __file__, "--child", str(trees[name]), "--out", str(out)]
                cmd += [
                    "--alerts",
                    str(args.alerts),
                    "--bulk",
                    str(args.bulk),
                    "--redeliveries",
                    str(args.redeliveries),
                ] + (["--url", args.url] if args.url else [])
                subprocess.run(cmd, check=True, env=env, cwd=trees[name])
                got = json.loads(out.read_text())
                runs[name].append(got)
                report["rounds"].append({"round": r, "variant": name, **got})
                line = ", ".join(f"{p} {got[p]['wall']:.2f} s" for p in PHASES)
                print(f"round {r + 1} {name}: {line}", file=sys.stderr, flush=True)
        print("| phase | rows | variant | store calls wall s | rows/s | client CPU s | server CPU s | phase wall s |")
        print("|---|---|---|---|---|---|---|---|")
        summary: dict[str, Any] = {}
        for p in PHASES:
            med: dict[str, dict[str, float]] = {}
            for name in ("before", "after"):
                med[name] = {k: statistics.median(run[p][k] for run in runs[name]) for k in runs[name][0][p]}
                m = med[name]
                print(
                    f"| {p} | {m['rows']:,.0f} | {name} | {m['wall']:.2f} | {m['rows'] / m['wall']:,.0f} | "
                    f"{m['cpu']:.2f} | {m['server_cpu']:.2f} | {m['phase_wall']:.2f} |"
                )
            ratio = med["after"]["wall"] / med["before"]["wall"]
            cpu_ratio = med["after"]["cpu"] / med["before"]["cpu"]
            server = med["before"]["server_cpu"]
            server_ratio = med["after"]["server_cpu"] / server if server else float("nan")
            server_said = f"{server_ratio:.2f}x" if server else "-"
            print(f"| {p} | | after / before | {ratio:.2f}x | | {cpu_ratio:.2f}x | {server_said} | |", flush=True)
            summary[p] = {
                **med,
                "wall_ratio": round(ratio, 3),
                "cpu_ratio": round(cpu_ratio, 3),
                "server_cpu_ratio": round(server_ratio, 3),
            }
        report["summary"] = summary
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
