"""Backtest at scale: 5 million generated items (the 2023 corpus, copied with shifted dates) through
`watchfloor backtest`, in bounded memory (the external sort spills runs to disk) and, as the same-run
baselines, all in memory and parse-only. Reports items/s and peak memory (max RSS) of each.

    .venv/bin/python benchmarks/bench_backtest_scale.py                     # 5,000,000 items
    .venv/bin/python benchmarks/bench_backtest_scale.py --items 1000000 --json /tmp/scale.json

Generation (not timed, cached outside the repo in $WATCHFLOOR_BENCH_CACHE or ~/.cache/watchfloor-bench):
the 171,112 prepared items of news_rss_2023 are written out again and again, copy k with every date moved
k x 12 days later and its URL (hence its id) made unique, one file per copy, each file in the corpus's own
order (feed after feed, not by time). So the copies overlap in time and event-time order needs the whole
input sorted: nothing arrives in order. Each timed run is a separate process (`watchfloor backtest FILES
--json OUT`, or a parse-only loop), so its peak RSS (os.wait4) is its own:
  parse-only:           read every line and orjson.loads it (the speed baseline);
  backtest, bounded:    --sort-run 1,000,000 (default): the external sort holds a million inputs, spills
                        sorted runs to a temporary directory and merges them;
  backtest, in memory:  --sort-run larger than the input: one run, never spilled (the memory baseline).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

SHIFT_DAYS = 12
# Peak memory is the process's own VmHWM (/proc/self/status), written at exit: getrusage's ru_maxrss of a
# child also counts the parent's memory at fork (Linux keeps the old mm's high-water mark across exec).
PEAK_AT_EXIT = """
import atexit, os, sys
def _peak():
    with open("/proc/self/status") as f:
        hwm = next(line for line in f if line.startswith("VmHWM:"))
    with open(os.environ["WF_PEAK_FILE"], "w") as out:
        out.write(hwm.split()[1])
atexit.register(_peak)
"""
PARSE_ONLY = (
    PEAK_AT_EXIT
    + """
import orjson
n = 0
for p in sys.argv[1:]:
    with open(p, "rb") as f:
        for line in f:
            orjson.loads(line)
            n += 1
print(n)
"""
)
BACKTEST = (
    PEAK_AT_EXIT
    + """
from watchfloor.cli import main
sys.argv[0] = "watchfloor"
main()
"""
)


def generate(n_items: int) -> list[Path]:
    """n_items inputs in copies of the prepared 2023 corpus with shifted dates (cached)."""
    base = c.prepared_rss2023()
    out_dir = c.cache_dir() / f"scale-{n_items}-v1"
    done = out_dir / ".complete"
    if done.exists():
        return sorted(out_dir.glob("copy-*.jsonl"))
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [line for line in c.iter_prepared_lines(base) if line.strip()]
    per_copy = len(lines)
    copies = -(-n_items // per_copy)
    written = 0
    paths: list[Path] = []
    with c.progress() as prog:
        task = prog.add_task(f"generating {n_items:,} items ({copies} shifted copies; once, not timed)", total=n_items)
        for k in range(copies):
            shift = timedelta(days=SHIFT_DAYS * k)
            path = out_dir / f"copy-{k:03d}.jsonl"
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as f:
                for raw in lines[: n_items - written]:
                    item = orjson.loads(raw)
                    item["published_at"] = (datetime.fromisoformat(item["published_at"]) + shift).isoformat()
                    if item.get("url"):
                        item["url"] = f"{item['url']}#copy{k}"
                    else:
                        item["id"] = f"copy{k}-{written}"
                    f.write(orjson.dumps(item) + b"\n")
                    written += 1
                    if written % 10_000 == 0:
                        prog.advance(task, 10_000)
            tmp.replace(path)
            paths.append(path)
    done.write_text("ok\n")
    return paths


def run_measured(cmd: list[str], cpu: int) -> dict[str, Any]:
    """Run `cmd` pinned to `cpu`; its wall time, CPU time (wait4) and peak RSS (its VmHWM at exit)."""
    peak_file = tempfile.NamedTemporaryFile(prefix="wf-peak-", delete=False)
    peak_file.close()
    env = dict(os.environ, COLUMNS="200", WF_PEAK_FILE=peak_file.name)
    t0 = time.perf_counter()
    # Output to files, not pipes: a backtest that prints thousands of alerts would fill a pipe and wait.
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, env=env)
        if cpu >= 0 and hasattr(os, "sched_setaffinity"):
            try:
                os.sched_setaffinity(proc.pid, {cpu})
            except OSError:
                pass
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out_f.seek(0)
        err_f.seek(0)
        out = out_f.read().decode(errors="replace")
        err = err_f.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd[:3])}… exited {code}:\n{err[-3000:]}")
    peak_kb = int(Path(peak_file.name).read_text() or 0)
    os.unlink(peak_file.name)
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": peak_kb / 1024,
        "stdout_tail": out[-500:],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=5_000_000, help="how many items to generate and replay")
    ap.add_argument("--sort-run", type=int, default=1_000_000, help="--sort-run of the bounded backtest")
    ap.add_argument("--rules", default="builtin:dprk_russia")
    ap.add_argument("--cpu", type=int, default=0, help="pin the timed processes to this CPU (-1: do not pin)")
    ap.add_argument("--skip-in-memory", action="store_true", help="skip the all-in-memory baseline")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)

    console = c.console
    paths = generate(args.items)
    size = sum(p.stat().st_size for p in paths)
    console.print(f"[bold]bench_backtest_scale[/bold]: {args.items:,} items in {len(paths)} files, {size / 1e9:.2f} GB")
    files = [str(p) for p in paths]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="wf-scale-") as tmp:
        with console.status("parse-only (baseline)"):
            results["parse_only"] = run_measured([sys.executable, "-c", PARSE_ONLY, *files], args.cpu)
        runs = [("bounded", args.sort_run)]
        if not args.skip_in_memory:
            runs.append(("in_memory", args.items + 1))
        for name, run_size in runs:
            out = Path(tmp) / f"{name}.json"
            cmd = [
                sys.executable,
                "-c",
                BACKTEST,
                "backtest",
                *files,
                "--rules",
                args.rules,
                "--sort-run",
                str(run_size),
            ]
            cmd += ["--spill-dir", tmp, "--json", str(out)]
            with console.status(f"backtest, {name.replace('_', ' ')} (--sort-run {run_size:,})"):
                results[name] = run_measured(cmd, args.cpu)
            data = json.loads(out.read_text())
            results[name]["stats"] = {k: v for k, v in data["stats"].items() if k != "signals_by_name"}
            results[name]["alerts"] = len(data["alerts"])
            results[name]["alert_ids_sha256"] = hashlib.sha256(
                "\n".join(a["id"] for a in data["alerts"]).encode()
            ).hexdigest()
    n = args.items
    for r in results.values():
        r["items_per_s"] = n / r["wall_s"]
        r["items_per_cpu_s"] = n / r["cpu_s"]
    report = {
        "benchmark": "backtest_scale",
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": c.machine(),
        "items": n,
        "files": len(paths),
        "input_gb": round(size / 1e9, 2),
        "sort_run": args.sort_run,
        "results": results,
    }
    from rich.table import Table

    table = Table(title=f"{n:,} generated items ({report['input_gb']} GB, {len(paths)} files)")
    for col in ("run", "wall s", "CPU s", "items/s (wall)", "items/s (CPU)", "peak RSS MB", "runs spilled"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for name, r in results.items():
        sort = (r.get("stats") or {}).get("sort") or {}
        table.add_row(
            name.replace("_", " "),
            f"{r['wall_s']:.1f}",
            f"{r['cpu_s']:.1f}",
            f"{r['items_per_s']:,.0f}",
            f"{r['items_per_cpu_s']:,.0f}",
            f"{r['peak_rss_mb']:,.0f}",
            str(sort.get("runs_spilled", "—")),
        )
    c.Console(width=150).print(table)
    if "bounded" in results and "in_memory" in results:
        b, m = results["bounded"], results["in_memory"]
        same = b["alert_ids_sha256"] == m["alert_ids_sha256"] and b["stats"]["documents"] == m["stats"]["documents"]
        report["bounded_vs_in_memory"] = {
            "rss_ratio": b["peak_rss_mb"] / m["peak_rss_mb"],
            "time_ratio": b["wall_s"] / m["wall_s"],
            "same_alerts_and_documents": same,
        }
        c.console.print(
            f"bounded / in memory: peak RSS {b['peak_rss_mb'] / m['peak_rss_mb']:.2f}x, "
            f"time {b['wall_s'] / m['wall_s']:.2f}x; same alerts and documents: {same}",
            highlight=False,
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
