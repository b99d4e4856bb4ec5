"""Revisions that arrival order causes: real 2023 items polled by source, each poll's batch in feed order (newest first)
against the same batch in event-time order, as `ingest` now appends it.

    .venv/bin/python benchmarks/bench_feed_order.py --items 5000 --poll 60 --json /tmp/feed_order.json

Not a timing: a count of what users see. The first N items of 2023 in event-time order are grouped by their source
and delivered in polls every `--poll` minutes: each poll hands each source's items published since the last poll to
the engine as one batch, received at the poll's time, with the source as origin, then a CaughtUp mark for the
sources polled (as `SourcePoller` does). Rules: the bundled pack plus `--rules` generated `any` rules (bench_engine's
generator, seeded: busy rules, so many groups see several reports per poll). Per ordering of the batches:
  feed       each batch newest first, ties by id descending (how feeds list items; what was appended before);
  ingest     each batch as producers.publish orders it before appending (published_at, document id);
  one batch  every source of a poll in one batch in event-time order (a lower bound: the poller commits each
             source on its own, so that a slow feed holds no other back);
the alerts raised, the revisions and retractions among the outputs, and the alerts that stand (the same for all
three: replay == live whatever the order, docs/architecture.md section 3a).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
import bench_engine as be

from watchfloor.producers.publish import in_event_time_order
from watchfloor.schemas.events import CaughtUp, Detection, Document, Event, Retraction, document_event
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.engine import Engine

Order = Callable[[list[Event]], list[Event]]


def feed_order(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.time, e.id), reverse=True)


def ingest_order(events: list[Event]) -> list[Event]:
    return in_event_time_order(events, [None] * len(events))[0]


def polls(docs: list[Document], every: timedelta) -> list[tuple[datetime, dict[str, list[Document]]]]:
    """Each poll's time and, per source, the items published since the previous poll."""
    out: list[tuple[datetime, dict[str, list[Document]]]] = []
    i, at = 0, docs[0].published_at
    while i < len(docs):
        at += every
        batch: dict[str, list[Document]] = defaultdict(list)
        while i < len(docs) and docs[i].published_at <= at:
            batch[docs[i].source.name].append(docs[i])
            i += 1
        out.append((at, batch))
    return out


def run(
    engine: Engine, schedule: list[tuple[datetime, dict[str, list[Document]]]], order: Order, merged: bool
) -> dict[str, Any]:
    state = engine.initial_state()
    counts: Counter[str] = Counter()
    raised: list[Detection | Retraction] = []
    for at, by_source in schedule:
        batches = [[document_event(d, src, at) for d in ds] for src, ds in by_source.items()]
        if merged:
            batches = [[ev for batch in batches for ev in batch]]
        outs: list[Any] = []
        for batch in batches:
            for ev in order(batch):
                state, got = engine.process(state, ev)
                outs.extend(got)
        if by_source:
            outs.extend(engine.caught_up(state, CaughtUp(at=at, origins=tuple(by_source))))
        for o in outs:
            if isinstance(o, Detection):
                counts["revisions" if o.revision else "alerts"] += 1
                raised.append(o)
            elif isinstance(o, Retraction):
                counts["retractions"] += 1
                raised.append(o)
    standing = current_alerts(raised)
    return {**counts, "standing": len(standing), "standing_ids": sorted(standing)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=5000, help="first N items of 2023 in event-time order")
    ap.add_argument("--rules", type=int, default=1000, help="generated `any` rules beside the bundled pack")
    ap.add_argument("--poll", type=int, default=60, help="minutes between polls")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = ap.parse_args(argv)
    console = c.console
    with console.status("loading documents and generating rules"):
        docs, vocab = be.load_documents(args.items, 20_000)
        pack = Path(tempfile.mkdtemp(prefix="watchfloor-feed-order-")) / "generated.json"
        be.write_pack(be.generate_rules(vocab, args.rules, 4, 2023), pack)
        engine, _info = be.compile_pack(pack, False)
    schedule = polls(docs, timedelta(minutes=args.poll))
    results: dict[str, Any] = {}
    with c.progress() as prog:
        task = prog.add_task("orderings", total=3)
        for name, order, merged in (
            ("feed", feed_order, False),
            ("ingest", ingest_order, False),
            ("one batch", ingest_order, True),
        ):
            results[name] = run(engine, schedule, order, merged)
            prog.advance(task)
    same = len({tuple(r.pop("standing_ids")) for r in results.values()}) == 1
    console.print(f"{args.items:,} items, {len(schedule):,} polls of {args.poll} min, bundled + {args.rules:,} rules")
    for name, r in results.items():
        console.print(
            f"  {name:>9}: {r.get('alerts', 0):,} alerts, {r.get('revisions', 0):,} revisions, "
            f"{r.get('retractions', 0):,} retractions, {r['standing']:,} standing"
        )
    console.print(f"  the same alerts stand in all three: {same}")
    if args.json:
        args.json.write_text(
            json.dumps({"benchmark": "feed_order", "items": args.items, "rules": args.rules, "poll_minutes": args.poll,
                        "polls": len(schedule), "results": results, "same_standing": same, "machine": c.machine()},
                       indent=2)
        )  # fmt: skip
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
