"""Correlation state stays bounded: the state after a steady stream twice the longest horizon long, against the
state after one horizon, measured in the same run.

    .venv/bin/python benchmarks/bench_memory.py                   # the bundled pack, 48 reports a day
    .venv/bin/python benchmarks/bench_memory.py --per-day 200 --json results.json

The horizon is what the engine must keep to stay exact: the longest window of the pack (a detection's
`within`, or its corroboration window) plus the allowed lateness. The stream is generated (our own sentences,
no corpus needed): reports of every kind the bundled pack detects (signings, ratifications by either party,
exchanges, deployments, combat by several sources), spread evenly over time, with a quarter of them arriving
up to the lateness out of order (each a late insertion, so revision state is exercised too).

Measured after 1x and 2x the horizon of event time: the state's size as a checkpoint (JSON bytes) and in
memory (bytes tracemalloc counts for a fresh copy of it), and the number of groups and observations held.
Target (issue 8): memory at 2x <= 1.1 x memory at 1x.
"""

from __future__ import annotations

import argparse
import random
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.rulefile import load_rules

T0 = datetime(2030, 1, 1, tzinfo=UTC)
TARGET = 1.1
TEMPLATES = [
    ("Putin and Kim Jong-un sign a new partnership pact", "The treaty was signed in Pyongyang."),
    ("Russia's State Duma ratifies the partnership treaty with North Korea", "Deputies backed the pact."),
    ("North Korea ratified the partnership treaty with Russia", "The decree was published in Pyongyang."),
    ("Moscow and Pyongyang exchange instruments of ratification", "The treaty with North Korea entered into force."),
    ("Seoul says North Korea sent troops to Russia", "North Korean soldiers were moved to the Kursk region."),
    ("North Korean troops fought in the Kursk region", "North Korean soldiers were killed in combat in Kursk."),
    ("Grain prices steady", "Traders expect a calm week."),
]
SOURCES = ["Wire A", "Wire B", "Wire C", "Wire D"]


def horizon(engine: Engine) -> timedelta:
    """The longest stretch of event time the correlator must keep: longest window + lateness."""
    longest = max(p.horizon for p in engine.correlator.plans.values())
    return timedelta(seconds=longest) + engine.rules.lateness


def stream(days: float, per_day: int, lateness: timedelta, seed: int) -> list[Any]:
    """Documents over `days` of event time in arrival order: evenly spread, a quarter up to `lateness` late."""
    rng = random.Random(seed)
    n = int(days * per_day)
    step = timedelta(days=1) / per_day
    docs = []
    for i in range(n):
        title, body = TEMPLATES[i % len(TEMPLATES)]
        at = T0 + i * step
        arrives = at + (lateness * rng.random() if rng.random() < 0.25 else timedelta(0))
        obj = {
            "type": "news.article",
            "id": f"m{i:07d}",
            "published_at": at.isoformat(),
            "source": SOURCES[(i // len(TEMPLATES)) % len(SOURCES)],
            "title": title,
            "body": body,
        }
        docs.append((arrives, i, parse_document(obj)))
    docs.sort(key=lambda d: (d[0], d[1]))
    return [d for _a, _i, d in docs]


def measure(state: dict[str, Any]) -> dict[str, int]:
    raw = orjson.dumps(state)
    tracemalloc.start()
    copy = orjson.loads(raw)
    size, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    groups = copy["g"]
    return {
        "json_bytes": len(raw),
        "memory_bytes": size,
        "groups": len(groups),
        "observations": sum(len(g["i"]) for g in groups.values()),
        "raised_kept": sum(len(g["f"]) for g in groups.values()),
    }


def run(engine: Engine, docs: list[Any]) -> tuple[dict[str, Any], int]:
    state = engine.initial_state()
    alerts = 0
    for d in docs:
        state, outs = engine.process_document(state, d)
        alerts += sum(1 for o in outs if o.__class__.__name__ == "Detection")
    return state, alerts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rules", default="builtin:dprk_russia")
    ap.add_argument("--per-day", type=int, default=48, help="reports per day of event time")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = ap.parse_args(argv)
    _packs, compiled = load_rules([args.rules])
    engine = Engine(compiled)
    h = horizon(engine)
    days = h.total_seconds() / 86400
    c.console.print(f"bench_memory: {args.rules}, horizon {h} (longest window + lateness), {args.per_day} reports/day")
    results: dict[str, Any] = {"rules": args.rules, "horizon_days": days, "per_day": args.per_day}
    for mult in (1, 2):
        docs = stream(days * mult, args.per_day, engine.rules.lateness, args.seed)
        state, alerts = run(engine, docs)
        m = measure(state)
        results[f"{mult}x"] = {"documents": len(docs), "alerts": alerts, **m}
        c.console.print(
            f"  {mult}x horizon ({days * mult:.0f} days, {len(docs):,} reports, {alerts} alerts): "
            f"state {m['json_bytes']:,} JSON bytes, {m['memory_bytes']:,} bytes in memory, "
            f"{m['groups']} groups, {m['observations']:,} observations, {m['raised_kept']} alerts kept"
        )
    ratio = results["2x"]["memory_bytes"] / results["1x"]["memory_bytes"]
    ratio_json = results["2x"]["json_bytes"] / results["1x"]["json_bytes"]
    results.update({"ratio_memory": ratio, "ratio_json": ratio_json, "target": TARGET, "met": ratio <= TARGET})
    c.console.print(
        f"memory at 2x / at 1x: {ratio:.3f} (JSON {ratio_json:.3f}); target <= {TARGET}: "
        + ("met" if ratio <= TARGET else "NOT met")
    )
    if args.json:
        args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
