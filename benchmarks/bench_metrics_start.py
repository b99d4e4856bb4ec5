"""/metrics' first scrape in a new process on a big store, for two source trees (before and after a change) in the
same run: what every restart of `serve` or `run --serve` costs before its first scrape can answer.

    .venv/bin/python benchmarks/bench_metrics_start.py --store /path/to/wf.db --before /work/main --after . --reps 2
    .venv/bin/python benchmarks/bench_metrics_start.py --synthesize 200000 --before /work/main --after .

The store (a SQLite file; never changed) is copied afresh for each tree and repetition (ABAB); without --store one
is synthesized through the store API by the --before tree (per step: an article with a ~1 KB body, a signal, every
third step a detection and its alert, and a `sent` delivery of the alert raised 30 steps before; ~77 % articles, as
in the operator trial's store). Then, per copy, each step in a fresh process of its tree (times of the scrape alone,
imports apart):
  first        a new server's first scrape of a store it has not seen (no activity checkpoint yet: both trees
               read the whole log; after: saving the checkpoint too);
  next         the next scrape, nothing new;
  +tail        --tail events appended (articles, signals, detections, alerts, deliveries of older alerts);
  restart      a new process's first scrape after that: the whole log again before, the checkpoint and the tail
               after;
  restart next the next scrape, nothing new.
Each scrape is prometheus-client's text of the server's registry (LogCollector as create_app builds it). The after
tree's restart output is checked against a full read of the same copy (every watchfloor_ sample but the ages).
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

T0 = datetime(2023, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 2, tzinfo=UTC)
BODY = "The delegation met again on the second day of talks, officials said, without a statement. " * 12


def _events(lo: int, hi: int) -> list[Any]:
    from watchfloor.schemas.events import (
        Alert,
        Delivery,
        Detection,
        Document,
        Signal,
        SourceRef,
        alert_event,
        delivery_event,
        detection_event,
        document_event,
        signal_event,
    )

    out = []
    for i in range(lo, hi):
        at = T0 + timedelta(minutes=i)
        doc = Document(
            id=f"bench-doc-{i}",
            type="news.article",
            published_at=at,
            source=SourceRef(name=f"Feed {i % 18}"),
            title=f"Talks resume, day {i}",
            body=BODY,
        )
        out.append(document_event(doc, origin="bench.jsonl", received_at=at))
        if i % 4 == 0:
            sig = Signal(
                id=f"bench-sig-{i}",
                name=f"signal-{i % 9}",
                document_id=doc.id,
                source=doc.source.name,
                published_at=at,
                sentence="The delegation met again.",
                sentence_index=0,
                modality="asserted",
            )
            out.append(signal_event(sig))
        if i % 16 == 0:
            det = Detection(
                id=f"bench-det-{i}",
                rule=f"rule-{i % 5}",
                title="Talks",
                severity="high",
                group={"g": str(i)},
                fired_at=at,
            )
            out.append(detection_event(det).model_copy(update={"received_at": at}))
            out.append(alert_event(Alert(id=det.id, detection=det, channels=("desk",))))
            if i >= 480:
                sent = at + timedelta(seconds=3)
                out.append(
                    delivery_event(Delivery(alert_id=f"bench-det-{i - 480}", channel="desk", status="sent", at=sent))
                )
    return out


def _append(path: Path, lo: int, hi: int) -> None:
    from watchfloor.wiring import open_store

    st = open_store(f"sqlite:///{path}")
    try:
        for start in range(lo, hi, 5000):
            st.append(_events(start, min(hi, start + 5000)))
    finally:
        st.close()


def _scrapes(path: Path, full: bool) -> dict[str, Any]:
    from prometheus_client import generate_latest

    from watchfloor.alerts.control import ControlLog
    from watchfloor.web.activity import ActivityView
    from watchfloor.web.metrics import LogCollector, registry_for
    from watchfloor.wiring import open_store

    st = open_store(f"sqlite:///{path}", create=False)
    try:
        try:  # as create_app builds it: with the store as its checkpoints (after), or without (before)
            view = ActivityView(st) if full else ActivityView(st, st)  # type: ignore[call-arg,unused-ignore]
        except TypeError:
            view = ActivityView(st)
        registry = registry_for(LogCollector(st, view, ControlLog(st), now=lambda: NOW))
        t, c = time.perf_counter(), time.process_time()
        text = generate_latest(registry).decode()
        first, first_cpu = time.perf_counter() - t, time.process_time() - c
        t = time.perf_counter()
        generate_latest(registry)
        nxt = time.perf_counter() - t
    finally:
        st.close()
    ours = [line for line in text.splitlines() if line.startswith("watchfloor_") and "age_seconds" not in line]
    digest = hashlib.sha256("\n".join(ours).encode()).hexdigest()[:16]
    return {"first": first * 1000, "first cpu": first_cpu * 1000, "next": nxt * 1000, "sha": digest}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, help="a SQLite store to copy (not changed)")
    ap.add_argument("--synthesize", type=int, default=200_000, help="articles of a store built when --store is not")
    ap.add_argument("--before", type=Path, default=Path("/work/main"))
    ap.add_argument("--after", type=Path, default=Path("."))
    ap.add_argument("--tail", type=int, default=1000, help="articles appended between the two starts (+ the rest)")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--append", nargs=3, help=argparse.SUPPRESS)  # PATH LO HI, in a tree's process
    ap.add_argument("--scrape", help=argparse.SUPPRESS)
    ap.add_argument("--full", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.append:
        _append(Path(args.append[0]), int(args.append[1]), int(args.append[2]))
        return
    if args.scrape:
        print(json.dumps(_scrapes(Path(args.scrape), args.full)))
        return
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}

    def run(tree: Path, *extra: str) -> str:
        env = {**os.environ, "PYTHONPATH": str(tree), "WATCHFLOOR_STORE": ""}
        python = tree / ".venv" / "bin" / "python"
        done = subprocess.run(
            [str(python if python.exists() else sys.executable), str(Path(__file__).resolve()), *extra],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(f"{tree} {extra}: {done.stderr[-3000:]}")
        return done.stdout

    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        base = Path(tmp) / "base.db"
        if args.store:
            shutil.copyfile(args.store, base)
        else:
            t = time.perf_counter()
            run(trees["before"], "--append", str(base), "0", str(args.synthesize))
            print(f"synthesized {args.synthesize} articles in {time.perf_counter() - t:.0f}s", file=sys.stderr)
        run(trees["before"], "--scrape", str(base), "--full")  # (any migration of the baseline's, done once)
        lo = 10_000_000  # the tail's steps: ids of their own (dated 2042: inside the accepted years)
        got: dict[str, list[dict[str, Any]]] = {side: [] for side in trees}
        for rep in range(args.reps):
            for side, tree in trees.items():
                copy = Path(tmp) / f"{side}.db"
                shutil.copyfile(base, copy)
                first = json.loads(run(tree, "--scrape", str(copy)))
                run(tree, "--append", str(copy), str(lo), str(lo + args.tail))
                again = json.loads(run(tree, "--scrape", str(copy)))
                row = {
                    "first": first["first"],
                    "first cpu": first["first cpu"],
                    "next": first["next"],
                    "restart": again["first"],
                    "restart cpu": again["first cpu"],
                    "restart next": again["next"],
                }
                if side == "after":
                    full = json.loads(run(tree, "--scrape", str(copy), "--full"))
                    assert full["sha"] == again["sha"], ("checkpoint + tail != full read", full, again)
                got[side].append(row)
                copy.unlink()
                print(f"rep {rep + 1} {side}: " + ", ".join(f"{k} {v:,.1f}" for k, v in row.items()), file=sys.stderr)
    keys = list(got["before"][0])
    print("| tree | " + " | ".join(f"{k} (ms)" for k in keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for side, runs in got.items():
        print(f"| {side} | " + " | ".join(f"{statistics.median(r[k] for r in runs):,.1f}" for k in keys) + " |")


if __name__ == "__main__":
    main()
