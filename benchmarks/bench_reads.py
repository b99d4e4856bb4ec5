"""Read commands on a big store, a baseline checkout against this one in the same run (ABAB): `status`, `alerts list`
(the default, --undelivered, one id) and the first `/metrics` collection after a start (trial 18, H1).

    python benchmarks/bench_reads.py --store /path/to/wf.db --baseline /work/main [--reps 2] [--config big.yaml]

The store is copied twice (never touched): one copy for the baseline, one for this checkout, which migrates its copy
first (the migration's time is said apart). Each command runs in a fresh process of its checkout (imports included);
wall time and the child's CPU time (user + system) are printed per run, then the median per command and side. On a
shared machine CPU time is the steadier of the two. Output goes to /dev/null; a line count says what was printed.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The /metrics collector's first scrape in a fresh process (what a `serve` restarted does at its first scrape).
METRICS = (
    "import sys,time;from watchfloor.wiring import open_store;from watchfloor.alerts.control import ControlLog;"
    "from watchfloor.web.activity import ActivityView;from watchfloor.web.metrics import LogCollector;"
    "st=open_store(sys.argv[1],create=False);t=time.perf_counter();"
    "n=len(list(LogCollector(st,ActivityView(st),ControlLog(st)).collect()));"
    "print(n,'families',round(time.perf_counter()-t,2),'s in the scrape')"
)


def run(python: Path, checkout: Path, args: list[str]) -> tuple[float, float, int]:
    """(wall seconds, child CPU seconds, lines printed) of one command in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(
        [str(python), *args],
        cwd=checkout,
        env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin", "COLUMNS": "200", "WATCHFLOOR_STORE": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 3):  # (3: status says "behind")
        sys.exit(f"{' '.join(args)} in {checkout}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return wall, cpu, len(done.stdout.splitlines()) + len(done.stderr.splitlines())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, required=True, help="SQLite store file (copied, not changed)")
    ap.add_argument("--baseline", type=Path, required=True, help="checkout to compare with (its .venv is used)")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--alert-id", help="the id for `alerts list ID` (default: the store's 200th detection)")
    args = ap.parse_args()
    python = REPO / ".venv" / "bin" / "python"
    with tempfile.TemporaryDirectory(prefix="bench-reads-") as tmp:
        copies = {}
        for side in ("baseline", "this"):
            copies[side] = Path(tmp) / f"{side}.db"
            shutil.copyfile(args.store, copies[side])
        url = {side: f"sqlite:///{path}" for side, path in copies.items()}
        checkout = {"baseline": args.baseline.resolve(), "this": REPO}
        pythons = {"baseline": args.baseline.resolve() / ".venv" / "bin" / "python", "this": python}
        t = time.perf_counter()
        opened = subprocess.run(
            [str(python), "-c", f"from watchfloor.wiring import open_store as o; print(o({url['this']!r}).migrated)"],
            cwd=REPO,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"this checkout opened its copy in {time.perf_counter() - t:.2f}s: {opened.stdout.strip()}")
        alert_id = args.alert_id
        if alert_id is None:
            import sqlite3

            conn = sqlite3.connect(copies["baseline"])
            alert_id = conn.execute(
                "SELECT json_extract(payload, '$.id') FROM events WHERE type = 'detection' ORDER BY position "
                "LIMIT 1 OFFSET 199"
            ).fetchone()[0]
            counts = conn.execute("SELECT count(*), (SELECT count(*) FROM deliveries) FROM events").fetchone()
            conn.close()
            print(f"store: {counts[0]:,} events, {counts[1]:,} delivery rows; alert id {alert_id}")
        commands = {
            "status": ["-m", "watchfloor", "status", "--store", "{url}"],
            "alerts list": ["-m", "watchfloor", "alerts", "list", "--store", "{url}"],
            "alerts list --undelivered": ["-m", "watchfloor", "alerts", "list", "--undelivered", "--store", "{url}"],
            "alerts list ID": ["-m", "watchfloor", "alerts", "list", alert_id, "--store", "{url}"],
            "/metrics first scrape": ["-c", METRICS, "{url}"],
        }
        results: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
        for rep in range(args.reps):
            for side in ("baseline", "this") if rep % 2 == 0 else ("this", "baseline"):
                for name, cmd in commands.items():
                    got = run(pythons[side], checkout[side], [a.replace("{url}", url[side]) for a in cmd])
                    results.setdefault((name, side), []).append(got)
                    print(f"rep {rep + 1} {side:8} {name:26} wall {got[0]:6.2f}s cpu {got[1]:6.2f}s lines {got[2]}")
        print("\nmedians (wall / CPU seconds, lines printed)")
        for name in commands:
            cells = []
            for side in ("baseline", "this"):
                runs = results[(name, side)]
                wall = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[1] for r in runs)
                cells.append(f"{side} {wall:6.2f} / {cpu:6.2f} ({runs[-1][2]} lines)")
            print(f"{name:26} " + "   ".join(cells))


if __name__ == "__main__":
    main()
