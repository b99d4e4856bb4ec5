"""What the two per-alert structures outside the engine hold after a long run: the dispatcher's story index
(`alerts.intake.Stories`) and /metrics' raise times (`Activity.raised`), bounded (the default) or not (`--unbounded`).

    .venv/bin/python benchmarks/bench_alert_index_growth.py --per-day 1000 --days 365 [--unbounded]

Synthetic, in log order: `--per-day` detections a day of event time (receive time = event time), spread over 20
rules x 50 groups, one in ten a report up to a day late, one in twenty a revision of a recent alert; each detection
is sent 2 s after it is raised (a `sent` delivery event), so /metrics sees what a live `run --serve` does. Every
`--every` days: the entries held and the memory tracemalloc counts as allocated by the structure since it was made.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from watchfloor.alerts.dispatcher import STORY_MARGIN
from watchfloor.alerts.intake import Stories
from watchfloor.alerts.notice import thread_key
from watchfloor.schemas.events import Delivery, Event, EventType, delivery_event
from watchfloor.stream_processors.ports import StoredEvent
from watchfloor.web.activity import Activity

T0 = datetime(2025, 1, 1, tzinfo=UTC)
LATENESS = timedelta(days=2)  # the bundled pack's
PERIOD = timedelta(hours=6)


def _id(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()[:32]  # an alert id as long as the engine's


def raised_and_sent(activity: Activity, position: int, key: str, fired: datetime, now: datetime) -> None:
    """The detection event at `position` (received `now`) and its `sent` delivery 2 s later, at the next."""
    event = Event(id=key, type=EventType.DETECTION.value, time=fired, key="r", received_at=now, payload={})
    activity.apply(StoredEvent(position, event))
    sent = Delivery(alert_id=key, channel="desk", status="sent", at=now + timedelta(seconds=2))
    activity.apply(StoredEvent(position + 1, delivery_event(sent)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-day", type=int, default=1000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--every", type=int, default=30, help="sample every this many days")
    ap.add_argument("--unbounded", action="store_true", help="keep every entry (as before the bounds)")
    ap.add_argument("--only", choices=("stories", "raised"), help="feed one structure (its memory alone)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    rng = random.Random(1)
    threads = [thread_key(f"rule{r}", {"g": str(g)}) for r in range(20) for g in range(50)]
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    stories = Stories(None if args.unbounded else LATENESS + STORY_MARGIN)
    activity = Activity(keep_raised=None) if args.unbounded else Activity()
    after_made = tracemalloc.get_traced_memory()[0]
    step = timedelta(days=1) / args.per_day
    recent: list[tuple[str, str, datetime]] = []
    rows: list[dict[str, object]] = []
    position = 0
    started = time.process_time()
    for i in range(args.per_day * args.days):
        now = T0 + step * i
        kind = rng.random()
        if kind < 0.05 and recent:
            aid, tk, fired = recent[rng.randrange(len(recent))]
            key, revises, alert_id = _id(-i), aid, _id(-i)
        else:
            tk = threads[rng.randrange(len(threads))]
            fired = now - timedelta(days=rng.random()) if kind < 0.15 else now
            key = alert_id = _id(i)
            revises = None
        position += 1
        if args.only != "raised":
            stories.add(position, key, alert_id, tk, fired, revises, PERIOD)
        recent.append((alert_id, tk, fired))
        if len(recent) > 200:
            del recent[:100]
        position += 1
        if args.only == "stories":
            position += 1
        else:
            raised_and_sent(activity, position, key, fired, now)
            position += 1
        if (i + 1) % (args.per_day * args.every) == 0 or i + 1 == args.per_day * args.days:
            traced = tracemalloc.get_traced_memory()[0] - after_made
            row = {
                "days": (i + 1) // args.per_day,
                "alerts": i + 1,
                "stories_held": len(stories),
                "raised_held": len(activity.raised),
                "traced_bytes": traced,  # the structures fed (and the few objects of the loop)
                "cpu_s": round(time.process_time() - started, 1),
            }
            rows.append(row)
            c.console.print(" ".join(f"{k}={v:,}" for k, v in row.items()))
    c.console.print(f"made: {after_made - base:,} B; latency histogram n={activity.latency.n:,}")
    if args.json:
        args.json.write_bytes(orjson.dumps({"unbounded": args.unbounded, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
