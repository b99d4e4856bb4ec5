"""What a signal's GDELT coded conditions cost on the hit path: the counts, tone and countries left out (outside
trial 70, M4) next to the conditions a pack had before them, measured in the same run.

    .venv/bin/python benchmarks/bench_gdelt_conditions.py --reps 7 --json /tmp/gdelt-conditions.json

The documents are every row of the real samples in $WATCHFLOOR_DATA/gdelt (root or not: 1,010 rows), made once (not
timed). Each variant is timed --reps times in this process, median:

- gdelt_miss, before's keys (the baseline): `quad_classes`, `goldstein`, `min_mentions`, `countries` (a list), what
  a pack written before these conditions asks; the new ones are left to one flag (GdeltTest.more);
- gdelt_miss, with the new keys too: `min_sources`, `min_articles`, `avg_tone`, `countries: {none: [...]}`,
  `actor1_countries: {none: [unknown]}`;
- extract, no gdelt: (the floor) a pack whose one signal is `match: GDELT event` with no `gdelt:` at all, every
  document through Extractor.extract;
- extract, before's keys / with the new keys: the same signal with the conditions above.
Reported: ns per call (gdelt_miss) or per document (extract), and each one's time over its baseline's.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from watchfloor.producers.gdelt import GdeltOptions, read_gdelt
from watchfloor.schemas.events import Document
from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.extract import Extractor
from watchfloor.stream_processors.engine.gdelt import gdelt_miss

SAMPLES = (
    "spark-gdelt/events.csv",
    "spark-gdelt/eventsT.csv",
    "spark-gdelt/events1.csv",
    "gdelt1_daily_sample_20160728_reed9999.tsv",
)
BEFORE: dict[str, Any] = {
    "quad_classes": [3, 4],
    "goldstein": {"at_most": -2},
    "min_mentions": 2,
    "countries": ["RUS", "UKR", "USA", "ISR", "TUR"],
}
NEW: dict[str, Any] = {
    **BEFORE,
    "countries": {"any": ["RUS", "UKR", "USA", "ISR", "TUR"], "none": ["unknown"]},
    "actor1_countries": {"none": ["unknown"]},
    "min_sources": 1,
    "min_articles": 2,
    "avg_tone": {"at_most": 0},
}


def _pack(gdelt: dict[str, Any] | None) -> RulePack:
    signal: dict[str, Any] = {"match": "GDELT event"}
    if gdelt is not None:
        signal["gdelt"] = gdelt
    return RulePack.model_validate(
        {
            "version": 2,
            "name": "bench",
            "signals": {"coded": signal},
            "detections": [{"id": "coded", "title": "Coded", "pattern": {"any": "coded"}}],
        }
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--loops", type=int, default=200, help="passes over the documents per gdelt_miss timing")
    ap.add_argument("--cpu", type=int, default=-1, help="pin to this CPU (-1: not pinned)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    pinned = c.pin_to_core(args.cpu)
    gdelt = c.data_dir() / "gdelt"
    c.require(gdelt, "the GDELT samples")
    every = GdeltOptions(root_only=False, min_mentions=0)
    docs = [x for name in SAMPLES for _n, x in read_gdelt(gdelt / name, options=every) if isinstance(x, Document)]
    metadata = [d.metadata for d in docs]

    def misses(gdelt_req: dict[str, Any]) -> Callable[[], int]:
        [sig] = compile_packs([_pack(gdelt_req)]).signals.values()
        test = sig.gdelt
        assert test is not None

        def run() -> int:
            kept = 0
            for _ in range(args.loops):
                kept = sum(gdelt_miss(test, m) is None for m in metadata)
            return kept

        return run

    def extracts(gdelt_req: dict[str, Any] | None) -> Callable[[], int]:
        extractor = Extractor(compile_packs([_pack(gdelt_req)]))
        return lambda: sum(len(extractor.extract(d)) for d in docs)

    # (name, timed function, calls per run, the baseline's name): interleaved per rep, so the machine's noise falls
    # on each alike.
    variants: list[tuple[str, Callable[[], int], int, str | None]] = [
        ("gdelt_miss, before's keys (baseline)", misses(BEFORE), args.loops * len(docs), None),
        (
            "gdelt_miss, with the new keys too",
            misses(NEW),
            args.loops * len(docs),
            "gdelt_miss, before's keys (baseline)",
        ),
        ("extract, no gdelt (floor)", extracts(None), len(docs), None),
        ("extract, before's keys", extracts(BEFORE), len(docs), "extract, no gdelt (floor)"),
        ("extract, with the new keys too", extracts(NEW), len(docs), "extract, no gdelt (floor)"),
    ]
    walls: dict[str, list[float]] = {name: [] for name, *_ in variants}
    outs: dict[str, int] = {}
    with c.progress() as bar:
        task = bar.add_task("GDELT conditions", total=args.reps * len(variants))
        for _rep in range(args.reps):
            for name, fn, _calls, _base in variants:
                t, outs[name] = c.timed(fn)
                walls[name].append(t.wall)
                bar.advance(task)
    per_call = {name: c.median(walls[name]) / calls * 1e9 for name, _fn, calls, _b in variants}
    results = [
        {
            "variant": name,
            "ns_per_call": round(per_call[name], 1),
            "kept_or_signals": outs[name],
            "ratio": round(per_call[name] / per_call[base], 2) if base else None,
        }
        for name, _fn, _calls, base in variants
    ]
    print(f"{len(docs)} GDELT documents, median of {args.reps}; {pinned}; {c.engine_kind()} engine")
    for r in results:
        ratio = f"  x{r['ratio']} its baseline" if r["ratio"] is not None else ""
        print(f"  {r['variant']:<40}{r['ns_per_call']:>10,.1f} ns  ({r['kept_or_signals']} kept){ratio}")
    if args.json:
        payload = {"machine": c.machine(), "documents": len(docs), "results": results}
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
