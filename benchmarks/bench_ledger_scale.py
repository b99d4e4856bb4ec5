"""The delivery ledger at scale: what a /metrics scrape and a throttled channel's per-pass ledger reads cost as the
ledger grows, for two source trees (before and after a change) measured in the same run on the same stores.

    .venv/bin/python benchmarks/bench_ledger_scale.py --before /work/main --after . --sizes 10000 200000 --reps 3

Per size N, one SQLite store on disk is built once by the `--before` tree: N detections (with their raise time) and
N `sent` deliveries in the log, and N `sent` ledger rows over 4 channels, one of them throttled (`10 per 1h`: each
row's decision in its payload, every 11th held), plus a few outstanding rows. Each repetition copies it afresh for
each tree (ABAB), so a tree's migration runs on its own copy, in a process of its own first (its time, with the
process's imports: `open`; measured apart, as SQLite reads slower through a fresh migration's WAL until the
checkpoint at its close). Then, in a process per tree:
  scrape first   a new LogCollector's first scrape (the activity view reads the whole log once, in both trees);
  scrape next    the next scrape with nothing new: what every scrape of a running server costs;
  scrape +10     the scrape after 10 more deliveries were sent (their events and rows added);
  admitted next  a throttled channel's count at intake after one more row (`AlertDispatcher._admitted`, after the
                 process's first count: the rows added since, `deliveries(channel=, after_seq=)`);
  held           the summary plan's read of the channel's held rows after its last summary (`_held`), which
                 reads the threads of those rows too (50 stories per channel: N / 200 rows a thread);
  counts         the ledger's rows per status that every dispatcher cycle reads (`delivery_counts`: after, of
                 the states it reports only);
  claim          a claim that finds nothing due (`claim_deliveries`), every cycle.
Medians over --reps (times in ms). No corpus is needed.
"""

from __future__ import annotations

import argparse
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

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CHANNELS = ("desk", "wire", "ops", "mail")  # desk is throttled
PAGE = 5000


def _held(i: int) -> bool:
    return CHANNELS[i % len(CHANNELS)] == "desk" and i % 11 == 0


def _build(path: Path, n: int) -> None:
    from watchfloor.schemas.events import Alert, Delivery, Detection, Event, delivery_event
    from watchfloor.stream_processors.ports import DeliveryRecord
    from watchfloor.stream_processors.stores import open_store

    st = open_store(f"sqlite:///{path}")
    try:
        for lo in range(0, n, PAGE):
            events, rows = [], []
            for i in range(lo, min(n, lo + PAGE)):
                raised = T0 + timedelta(seconds=30 * i)
                key, channel = f"det-{i}", CHANNELS[i % len(CHANNELS)]
                events.append(
                    Event(id=key, type="detection", time=raised, key="g", received_at=raised, payload={"rule": "r"})
                )
                det = Detection(id=key, rule="r", title="t", severity="high", group={"g": str(i % 50)}, fired_at=raised)
                payload: dict[str, Any] = {
                    "alert": Alert(id=key, detection=det, channels=(channel,)).model_dump(mode="json")
                }
                status = "sent"
                if channel == "desk":
                    window = raised.replace(minute=0, second=0).isoformat()
                    payload["throttle"] = {"window": window, "held": _held(i), "spec": "10 per 1h"}
                    status = "held" if _held(i) else "sent"
                if status == "sent":
                    sent = raised + timedelta(seconds=1 + i % 7)
                    events.append(delivery_event(Delivery(alert_id=key, channel=channel, status="sent", at=sent)))
                rows.append(
                    DeliveryRecord(
                        key,
                        channel,
                        status=status,
                        payload=payload,
                        thread_key=f"r|g={i % 50}",  # 50 stories per channel: a thread of N / 200 rows each
                        seq=i + 1,
                        created_at=raised.timestamp(),
                    )
                )
            st.append(events)
            st.enqueue(rows)
        # a few outstanding rows, not due (a backoff): what a cycle's claim looks past
        late = T0 + timedelta(seconds=30 * n)
        st.enqueue(
            [
                DeliveryRecord(f"out-{i}", "wire", seq=n + 1 + i, created_at=late.timestamp(), next_attempt_at=4e9)
                for i in range(5)
            ]
        )
    finally:
        st.close()


def _open_once(path: Path) -> None:
    from watchfloor.stream_processors.stores import open_store

    open_store(f"sqlite:///{path}").close()


def _ms(f: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    got = f()
    return (time.perf_counter() - t) * 1000, got


def _measure(path: Path, n: int) -> dict[str, float]:
    from watchfloor.alerts.control import ControlLog
    from watchfloor.alerts.dispatcher import AlertDispatcher
    from watchfloor.schemas.config import parse_throttle
    from watchfloor.schemas.events import Delivery, Event, delivery_event
    from watchfloor.stream_processors.ports import DeliveryRecord
    from watchfloor.stream_processors.stores import open_store
    from watchfloor.web.activity import ActivityView
    from watchfloor.web.metrics import LogCollector

    sent = sum(1 for i in range(n) if not _held(i))
    out: dict[str, float] = {}
    st = open_store(f"sqlite:///{path}")
    try:
        collector = LogCollector(st, ActivityView(st), ControlLog(st))

        def scrape() -> int:
            for m in collector.collect():
                if m.name == "watchfloor_detection_to_delivery_seconds":
                    return int(next(s.value for s in m.samples if s.name.endswith("_count")))
            raise AssertionError("no latency histogram")

        out["scrape first"], count = _ms(scrape)
        assert count == sent, (count, sent)
        out["scrape next"], count = _ms(scrape)
        assert count == sent, (count, sent)
        events, rows = [], []
        for i in range(n + 100, n + 110):
            raised = T0 + timedelta(seconds=30 * i)
            key = f"det-{i}"
            events.append(
                Event(id=key, type="detection", time=raised, key="g", received_at=raised, payload={"rule": "r"})
            )
            events.append(delivery_event(Delivery(alert_id=key, channel="ops", status="sent", at=raised)))
            rows.append(DeliveryRecord(key, "ops", status="sent", seq=n + 100 + i, created_at=raised.timestamp()))
        st.append(events)
        st.enqueue(rows)
        out["scrape +10"], count = _ms(scrape)
        assert count == sent + 10, (count, sent)

        spec = parse_throttle("10 per 1h")
        d = AlertDispatcher(st, {})
        head = n + 1000
        d._admitted("desk", head)  # the process's first count: every row of the channel once
        late = T0 + timedelta(seconds=30 * head)
        mark = {"window": late.replace(minute=0, second=0).isoformat(), "held": False, "spec": "10 per 1h"}
        st.enqueue(
            [DeliveryRecord("det-next", "desk", status="sent", payload={"throttle": mark}, seq=head, created_at=0.0)]
        )
        out["admitted next"], _ = _ms(lambda: d._admitted("desk", head + 1))
        # as if the channel's last summary listed all but the last 1,000 positions
        d._summarised_through["desk"] = max(n - 1000, 0)
        out["held"], (held, _) = _ms(lambda: d._held("desk", spec))
        assert held, "no held rows read"
        try:  # what a dispatcher cycle counts: its reported states (after), else every state (before)
            from watchfloor.alerts.dispatcher import REPORTED  # type: ignore[attr-defined,unused-ignore]

            out["counts"], counts = _ms(lambda: st.delivery_counts(REPORTED))
        except ImportError:
            out["counts"], counts = _ms(st.delivery_counts)
        assert counts.get("outstanding") == 5, counts
        out["claim"], claimed = _ms(lambda: st.claim_deliveries("bench", late.timestamp(), 60, limit=50))
        assert claimed == [], claimed
    finally:
        st.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, default=Path("/work/main"), help="the tree of the baseline")
    ap.add_argument("--after", type=Path, default=Path("."), help="the tree measured against it")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 200_000], help="sent ledger rows")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", type=Path, help="write the medians here")
    ap.add_argument("--build", nargs=2, help=argparse.SUPPRESS)  # PATH N, run in a tree's process
    ap.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--open", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build:
        _build(Path(args.build[0]), int(args.build[1]))
        return
    if args.open:  # a tree's first open of the store: its migration, if any, in a process of its own
        t = time.perf_counter()
        _open_once(Path(args.open))
        print(json.dumps({"open": (time.perf_counter() - t) * 1000}))
        return
    if args.measure:
        print(json.dumps(_measure(Path(args.measure[0]), int(args.measure[1]))))
        return
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}

    def run(tree: Path, *extra: str) -> str:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), *extra], env=env, capture_output=True, text=True
        )
        if done.returncode:
            raise SystemExit(f"{tree}: {done.stderr}")
        return done.stdout

    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        for n in args.sizes:
            base = Path(tmp) / f"ledger-{n}.db"
            t = time.perf_counter()
            run(trees["before"], "--build", str(base), str(n))
            print(f"built {n} rows in {time.perf_counter() - t:.0f}s", file=sys.stderr)
            got: dict[str, list[dict[str, float]]] = {side: [] for side in trees}
            for rep in range(args.reps):
                for side, tree in trees.items():
                    copy = Path(tmp) / f"copy-{side}-{n}.db"
                    shutil.copy(base, copy)
                    opened = json.loads(run(tree, "--open", str(copy)))
                    got[side].append({**opened, **json.loads(run(tree, "--measure", str(copy), str(n)))})
                    copy.unlink()
                    print(f"  {n} rep {rep + 1} {side}: {got[side][-1]}", file=sys.stderr)
            results[str(n)] = {
                side: {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}
                for side, runs in got.items()
            }
    keys = list(next(iter(next(iter(results.values())).values())))
    print("| rows | tree | " + " | ".join(keys) + " |")
    print("|---:|---|" + "---:|" * len(keys))
    for n, sides in results.items():
        for side, row in sides.items():
            print(f"| {int(n):,} | {side} | " + " | ".join(f"{row[k]:,.1f}" for k in keys) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
