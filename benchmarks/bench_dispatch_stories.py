"""What deciding each detection's story (alerts.intake.Stories, kept by the dispatcher's StoryBook) costs the
alert dispatcher's intake on a big store, next to a baseline measured in the same run.

    .venv/bin/python benchmarks/bench_dispatch_stories.py --json /tmp/dispatch_stories.json
    .venv/bin/python benchmarks/bench_dispatch_stories.py --pg postgresql+psycopg://postgres@127.0.0.1:54329/postgres

A store (SQLite on disk; PostgreSQL with --pg, one scratch database per run made from a template) holds N
detection events (default 50,000: 4 rules with open periods of 6 h to 2 days, 25 groups each, bursts of reports
so stories form and end, 3 % late reports, 5 % revisions), each after two document events, as a pipeline's log
holds them. Three channels (all, min_severity high, a `where` on the group); intake only (`AlertDispatcher.intake`:
routing, stories, ledger rows, commits; nothing is delivered). The dispatcher's checkpoint is put just before the
last K detections (default 1,000), and the ledger is empty before them (so every variant's per-channel thread
reads are those of a young ledger: what differs between the variants is the story).

Measured, per variant, in a child process of its own on a fresh copy of the store:
  (a) a fresh dispatcher's first intake cycle over the last K detections, split into its first detection
      (StoryBook's start-up read of every earlier detection; wall time, and the child's CPU time, which other work
      on a shared machine moves less) and the K-1 after it;
  (b) steady state: S more detections appended one at a time (with their documents; not timed), each taken
      by its own intake call, as `run` does;
  (c) memory: the process's RSS and the Python heap (tracemalloc, a separate run of (a)'s first detection)
      retained after the start-up read.

Variants (each a source tree: `git archive` of a commit into a temporary directory, or this checkout), chosen with
--variants (default baseline,before,this):
  baseline  --baseline-rev (default 9e4ed97~1, the commit before stories: threads decided per channel, no read)
  landed    --landed-rev (default fc5b7c0: stories as they landed)
  before    --before-rev (default 27d2cd6: the StoryBook reading each detection as an Event and a Detection)
  this      this checkout (the StoryBook reading payloads: schemas/detection_fields.py, intake.Stories in columns)
  this+bar  this checkout, the start-up read shown as the command line shows it on a terminal (cli StoryReadProgress:
            a rich bar, drawn on this run's stderr)
  this+line this checkout, the start-up read said as the command line says it without a terminal (one line)

Every variant but the baseline decides the same stories, so its ledger (every row's kind, parent and status) is the
same: the run says so, and exits 1 when `before` and `this` differ.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

RULES = {"troops": 12, "shells": 24, "sanctions": 48, "strikes": 6}  # rule -> open period in hours
GROUPS = 25
T0 = datetime(2025, 1, 1, tzinfo=UTC)
CHANNELS = ("all", "high", "east")


# -- generation (parent, this checkout's code) ----------------------------------------------------------------


def generate(n: int, seed: int) -> list[dict[str, Any]]:
    """n detections as JSON payloads in log order, deterministic in `seed`."""
    rng = random.Random(seed)
    threads = [(rule, g) for rule in RULES for g in range(GROUPS)]
    per = -(-n // len(threads))
    raised: list[tuple[datetime, int, dict[str, Any]]] = []
    serial = 0
    for rule, g in threads:
        group = {"party": f"P{g:02d}", "region": "east" if g % 3 == 0 else "west"}
        t = T0 + timedelta(hours=rng.uniform(0, 48))
        made: list[dict[str, Any]] = []
        while len(made) < per:
            for _ in range(rng.randint(1, 6)):  # a burst: one story, or two when it outlasts the open period
                if len(made) >= per:
                    break
                t += timedelta(hours=rng.expovariate(1 / 2.0))
                serial += 1
                det: dict[str, Any] = {
                    "id": f"{rule}-{g:02d}-{serial:07d}",
                    "rule": rule,
                    "title": f"{rule} report #{serial} for {group['party']}",
                    "severity": rng.choice(("low", "medium", "medium", "high", "critical")),
                    "tags": ["bench", rule],
                    "group": group,
                    "fired_at": t.isoformat(),
                    "confidence": rng.choice(("confirmed", "unconfirmed")),
                    "attributes": {"place": [rng.choice(("KHARKIV", "DONBAS", "KURSK", "RAJIN"))]},
                    "evidence": [
                        {
                            "event_id": f"doc-{serial}-{i}",
                            "signal": f"{rule}_signal",
                            "source": f"Outlet {rng.randrange(12)}",
                            "url": f"https://news.example.net/{serial}/{i}",
                            "published_at": t.isoformat(),
                            "sentence": "Satellite images appear to show containers stacked at the port.",
                        }
                        for i in range(3)
                    ],
                    "description": "Bench detection.",
                    "evidence_total": 3,
                }
                late = timedelta(days=rng.uniform(1, 3)) if rng.random() < 0.03 else timedelta(0)
                if made and rng.random() < 0.05:  # a revision of a recent alert of the thread
                    old = made[-rng.randint(1, min(3, len(made)))]
                    det["revises"] = old["id"]
                    det["revision"] = rng.randint(1, 3)
                    det["fired_at"] = old["fired_at"]
                made.append(det)
                raised.append((t + late, serial, det))
            t += timedelta(hours=rng.expovariate(1 / 60.0))  # the gap to the next burst: 2.5 days on average
    raised.sort(key=lambda r: (r[0], r[1]))
    return [d for _, _, d in raised[:n]]


def fill_store(url: str, dets: list[dict[str, Any]], prog: Any) -> list[int]:
    """Append the detections (two documents before each) and return their positions."""
    from watchfloor.schemas.events import Detection, Event, detection_event
    from watchfloor.stream_processors.stores import open_store

    store = open_store(url)
    positions: list[int] = []
    task = prog.add_task("filling the store (not timed)", total=len(dets))
    batch: list[Any] = []
    for i, d in enumerate(dets):
        det = Detection.model_validate(d)
        for j in range(2):
            batch.append(Event(id=f"doc-{i}-{j}", type="news.article", time=det.fired_at, payload={"title": "x"}))
        batch.append(detection_event(det))
        if len(batch) >= 3000 or i == len(dets) - 1:
            store.append(batch)
            prog.advance(task, len(batch) // 3)
            batch = []
    from watchfloor.schemas.events import EventType

    after = 0
    while got := store.read(after, types={EventType.DETECTION.value}, limit=5000):
        positions.extend(se.position for se in got)
        after = got[-1].position
    store.close()
    return positions


# -- one measured run (child, the variant's source tree) ------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(args.child).resolve()))
    os.environ.setdefault("WATCHFLOOR_NATIVE", "0")
    import gc
    import tracemalloc

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from watchfloor.alerts.dispatcher import PROCESSOR, AlertDispatcher
    from watchfloor.alerts.notice import AlertCatalog
    from watchfloor.alerts.notifiers.file import FileNotifier
    from watchfloor.schemas.config import Subscription
    from watchfloor.schemas.events import Detection, Event, detection_event
    from watchfloor.stream_processors.ports import Checkpoint
    from watchfloor.stream_processors.stores import open_store

    def rss() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    store = open_store(args.store)
    store.commit(PROCESSOR, Checkpoint(args.start, None), [], since=None)
    subs = [
        Subscription(channel="all"),
        Subscription(channel="high", min_severity="high"),
        Subscription(channel="east", where={"region": "east"}),
    ]
    tmp = Path(tempfile.mkdtemp(prefix="bench-stories-"))
    notifiers = {c: FileNotifier(c, tmp / f"{c}.jsonl") for c in CHANNELS}
    catalog = AlertCatalog(open_periods={r: timedelta(hours=h) for r, h in RULES.items()})
    now = T0 + timedelta(days=800)
    shown: dict[str, Any] = {}
    if args.progress != "none":  # (only this checkout has it)
        from watchfloor.cli._common import StoryReadProgress

        terminal = Console(stderr=True, force_terminal=args.progress == "bar")
        shown["story_progress"] = StoryReadProgress(terminal)
    d = AlertDispatcher(store, notifiers, subs, now=lambda: now, catalog=catalog, **shown)
    out: dict[str, Any] = {}
    if args.traced:
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        d.intake(1)
        gc.collect()
        out["traced_retained"] = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)
        print(json.dumps(out))
        return
    gc.collect()
    rss0 = rss()
    t, cpu = time.perf_counter(), time.process_time()
    taken, _ = d.intake(1)
    out["first"] = time.perf_counter() - t
    out["first_cpu"] = time.process_time() - cpu  # this process's CPU alone: steadier than wall time on a busy VM
    gc.collect()
    out["rss_retained"] = rss() - rss0
    assert taken == 1, taken
    console = Console(stderr=True)
    cols = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*cols, console=console, transient=True) as prog:
        task = prog.add_task(f"  {args.label}: the rest of the first cycle", total=args.k - 1)
        t, cpu = time.perf_counter(), time.process_time()
        rest = 0
        while rest < args.k - 1:
            got, _ = d.intake(min(100, args.k - 1 - rest))
            if not got:
                break
            rest += got
            prog.advance(task, got)
        out["rest"] = time.perf_counter() - t
        out["rest_cpu"] = time.process_time() - cpu
        out["rest_n"] = rest
        steady = [orjson_loads(line) for line in Path(args.steady_file).read_text().splitlines()]
        task = prog.add_task(f"  {args.label}: steady state", total=len(steady))
        times: list[float] = []
        for i, payload in enumerate(steady):
            det = Detection.model_validate(payload)
            docs = [Event(id=f"sdoc-{i}-{j}", type="news.article", time=det.fired_at, payload={"x": 1}) for j in (0, 1)]
            store.append([*docs, detection_event(det)])
            t = time.perf_counter()
            got, _ = d.intake(500)
            times.append(time.perf_counter() - t)
            assert got == 1, got
            prog.advance(task)
    out["steady"] = times
    ledger = sorted((r.alert_id, r.channel, r.kind, r.parent_id or "", r.status) for r in store.deliveries())
    out["rows"] = len(ledger)
    out["ledger_sha"] = hashlib.sha256(json.dumps(ledger).encode()).hexdigest()[:16]
    out["kinds"] = {k: sum(1 for r in store.deliveries() if r.kind == k) for k in ("alert", "followup", "revision")}
    store.close()
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out))


def orjson_loads(line: str) -> Any:
    return json.loads(line)


# -- parent ---------------------------------------------------------------------------------------------------


def tree_of(rev: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


def pg_db(url: str, name: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{name}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50_000, help="detections in the store")
    ap.add_argument("--k", type=int, default=1_000, help="detections the first intake cycle takes")
    ap.add_argument("--steady", type=int, default=200, help="detections taken one at a time after it")
    ap.add_argument("--reps", type=int, default=1, help="runs per variant (interleaved); medians reported")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pg", help="an admin URL of a PostgreSQL server (scratch databases are made and dropped)")
    ap.add_argument("--baseline-rev", default="9e4ed97~1")
    ap.add_argument("--landed-rev", default="fc5b7c0")
    ap.add_argument("--before-rev", default="27d2cd6")
    ap.add_argument(
        "--variants", default="baseline,before,this", help="of baseline, landed, before, this, this+bar, this+line"
    )
    ap.add_argument("--no-traced", action="store_true", help="skip the tracemalloc runs")
    ap.add_argument("--cpu", type=int, default=-1)
    ap.add_argument("--json", type=Path)
    # child mode (internal)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("--start", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--steady-file", help=argparse.SUPPRESS)
    ap.add_argument("--label", default="", help=argparse.SUPPRESS)
    ap.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--progress", default="none", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args)
        return 0

    sys.path.insert(0, str(HERE))
    import _common as c

    pinned = c.pin_to_core(args.cpu)
    work = Path(tempfile.mkdtemp(prefix="bench-dispatch-stories-"))
    try:
        revs = {"baseline": args.baseline_rev, "landed": args.landed_rev, "before": args.before_rev}
        trees: dict[str, Path] = {}
        for v in args.variants.split(","):
            if v not in (*revs, "this", "this+bar", "this+line"):
                ap.error(f"--variants: unknown variant {v!r} (baseline, landed, before, this, this+bar, this+line)")
            trees[v] = REPO if v.startswith("this") else tree_of(revs[v], work / v)
        dets = generate(args.n + args.steady, args.seed)
        main_dets, steady = dets[: args.n], dets[args.n :]
        steady_file = work / "steady.jsonl"
        steady_file.write_text("".join(json.dumps(d) + "\n" for d in steady))
        src_db = f"bench_stories_src_{os.getpid()}"
        src_url = pg_db(args.pg, src_db) if args.pg else f"sqlite:///{work / 'src.db'}"
        if args.pg:
            pg_admin(args.pg, f"CREATE DATABASE {src_db}")
        with c.progress() as prog:
            positions = fill_store(src_url, main_dets, prog)
        if args.pg:
            pg_admin(args.pg, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{src_db}'")
        start = positions[args.n - args.k - 1]
        runs: dict[str, list[dict[str, Any]]] = {v: [] for v in trees}
        load = os.getloadavg()
        with c.progress(transient=False) as prog:
            task = prog.add_task("variants", total=args.reps * len(trees) * (1 if args.no_traced else 2))
            for rep in range(args.reps):
                for variant, tree in trees.items():
                    for traced in (False,) if args.no_traced else (False, True):
                        name = f"bench_stories_{variant}_{rep}_{int(traced)}_{os.getpid()}"
                        if args.pg:
                            pg_admin(args.pg, f"CREATE DATABASE {name} TEMPLATE {src_db}")
                            url = pg_db(args.pg, name)
                        else:
                            shutil.copy(work / "src.db", work / f"{name}.db")
                            url = f"sqlite:///{work / f'{name}.db'}"
                        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(tree), "--store", url]
                        cmd += ["--start", str(start), "--k", str(args.k), "--steady-file", str(steady_file)]
                        cmd += ["--label", variant] + (["--traced"] if traced else [])
                        cmd += ["--progress", variant.partition("+")[2] or "none"]
                        env = {**os.environ, "PYTHONPATH": str(tree), "WATCHFLOOR_NATIVE": "0"}
                        got = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, env=env, text=True)
                        result = json.loads(got.stdout.strip().splitlines()[-1])
                        if traced:
                            runs[variant][-1].update(result)
                        else:
                            runs[variant].append(result)
                        if args.pg:
                            pg_admin(args.pg, f"DROP DATABASE {name}")
                        else:
                            (work / f"{name}.db").unlink()
                        prog.advance(task)
        load_after = os.getloadavg()
    finally:
        if args.pg:
            pg_admin(args.pg, f"DROP DATABASE IF EXISTS {src_db}")
        shutil.rmtree(work, ignore_errors=True)

    def med(variant: str, f: Any) -> float:
        return c.median([f(r) for r in runs[variant]])

    summary: dict[str, dict[str, float]] = {}
    for v in runs:
        summary[v] = {
            "first_s": med(v, lambda r: r["first"]),
            "first_cpu_s": med(v, lambda r: r["first_cpu"]),
            "rest_ms_per_det": med(v, lambda r: r["rest"] / max(r["rest_n"], 1) * 1e3),
            "rest_cpu_ms_per_det": med(v, lambda r: r.get("rest_cpu", 0) / max(r["rest_n"], 1) * 1e3),
            "cycle_s": med(v, lambda r: r["first"] + r["rest"]),
            "steady_ms_per_det": med(v, lambda r: c.median(r["steady"]) * 1e3),
            "rss_retained_mb": med(v, lambda r: r["rss_retained"] / 2**20),
            "traced_retained_mb": med(v, lambda r: r.get("traced_retained", 0) / 2**20),
        }
    from rich.table import Table

    base = summary.get("baseline") or next(iter(summary.values()))
    first_of = summary.get("before") or base
    table = Table(title=f"dispatcher intake, {args.n:,} detections ({'PostgreSQL' if args.pg else 'SQLite'})")
    for col in (
        "variant",
        "first detection s",
        "× before",
        "CPU s",
        "× before",
        f"next {args.k - 1} ms/det",
        "× base",
        "first cycle s",
        "× base",
        "steady ms/det",
        "× base",
        "RSS retained MiB",
        "traced MiB",
    ):
        table.add_column(col, justify="right")
    for v, s in summary.items():
        table.add_row(
            v,
            f"{s['first_s']:.3f}", f"{s['first_s'] / first_of['first_s']:.2f}",
            f"{s['first_cpu_s']:.3f}", f"{s['first_cpu_s'] / first_of['first_cpu_s']:.2f}",
            f"{s['rest_ms_per_det']:.2f}", f"{s['rest_ms_per_det'] / base['rest_ms_per_det']:.2f}",
            f"{s['cycle_s']:.2f}", f"{s['cycle_s'] / base['cycle_s']:.2f}",
            f"{s['steady_ms_per_det']:.2f}", f"{s['steady_ms_per_det'] / base['steady_ms_per_det']:.2f}",
            f"{s['rss_retained_mb']:.1f}", f"{s['traced_retained_mb']:.1f}",
        )  # fmt: skip
    from rich.console import Console

    Console(stderr=True, width=200).print(table)
    for v in runs:  # the same ledger (every row's kind and parent) in every variant with stories
        c.console.print(f"{v}: ledger {sorted({r['ledger_sha'] for r in runs[v]})}, kinds {runs[v][0]['kinds']}")
    ledgers = {v: {r["ledger_sha"] for r in runs[v]} for v in runs if v != "baseline"}
    same = len(set().union(*ledgers.values())) <= 1 if ledgers else True
    c.console.print(f"same ledger in {', '.join(ledgers) or 'no variant'}: {'yes' if same else 'NO'}")
    c.console.print(f"pinned: {pinned}; load average {load[0]:.2f} before, {load_after[0]:.2f} after")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"args": {k: str(v) for k, v in vars(args).items()}, "machine": c.machine(), "summary": summary,
                 "runs": runs, "load": [load, load_after]},
                indent=1,
            )
        )  # fmt: skip
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
