"""The floor under the selective target: what one pass of the phrase automaton costs per article at 1,000 and
100,000 conjunction rules, next to the whole engine, all in the same run.

    .venv/bin/python benchmarks/bench_scan_floor.py --items 5000 --json /tmp/floor.json

Issue 12 asks that 100,000 selective rules ((g) of bench_engine.py: each rule `all` of two phrases) run at
>= 50 % of the speed of 1,000 ((f)). This measures, per article (CPU, median of --reps), on the same
documents and the same generated packs as bench_engine.py's (f) and (g):
  engine       Engine.process_document, as (f)/(g) time it;
  view         the document's word view (text.aligned_word_view, split, the padded string): every
               document pays it before any rule is looked at;
  iterate      iterating the trigger automaton's hits over that string, doing nothing with them
               (pyahocorasick's C search; the least any automaton-based scan can cost);
  find         scan.find_matches: the hits, with anchored phrases checked on the words;
  viable       extract._viable_signals on what find found.
The budget is 2 x (f)'s engine time: if (g)'s view + iterate alone exceed it, no Python work on the hits
can meet the target with this automaton; the report says so (`floor_over_budget`).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
import bench_engine as be

from watchfloor.schemas.events import Document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.extract import _viable_signals
from watchfloor.stream_processors.engine.scan import find_matches
from watchfloor.stream_processors.engine.text import aligned_word_view
from watchfloor.stream_processors.rulefile import load_rules


def per_article(fn: Callable[[], Any], n: int, reps: int) -> float:
    """Median CPU microseconds per article of `fn` (which processes all n articles once)."""
    times = []
    for _ in range(reps):
        gc.collect()
        t0 = time.process_time()
        fn()
        times.append((time.process_time() - t0) / n * 1e6)
    return c.median(times)


def measure(pack: Path, docs: list[Document], reps: int) -> dict[str, Any]:
    _loaded, compiled = load_rules(["builtin:dprk_russia", str(pack)])
    engine = Engine(compiled)
    n = len(docs)
    views = []
    for d in docs:
        view, _aligned = aligned_word_view(d.text)
        words = view.split()
        views.append((" " + " ".join(words) + " ", words))
    trigger = compiled.trigger
    assert trigger is not None

    def run_engine() -> None:
        be.run_engine(engine, docs)

    def view() -> None:
        for d in docs:
            v, _a = aligned_word_view(d.text)
            words = v.split()
            " " + " ".join(words) + " "

    def iterate() -> None:
        for norm, _w in views:
            for _hit in trigger.iter(norm):
                pass

    def find() -> None:
        for norm, words in views:
            find_matches(trigger, norm, words)

    found = [find_matches(trigger, norm, words) for norm, words in views]

    def viable() -> None:
        for f, (norm, words) in zip(found, views, strict=True):
            if f:
                _viable_signals(compiled, {e.key for e, _f, _l in f}, norm, words, set())

    hits = sum(sum(1 for _h in trigger.iter(norm)) for norm, _w in views) / n
    return {
        "automaton_keys": len(trigger),
        "hits_per_article": round(hits, 2),
        "matches_per_article": round(sum(map(len, found)) / n, 2),
        "screen": compiled.screen is not None,
        **{
            name: round(per_article(fn, n, reps), 2)
            for name, fn in (
                ("engine", run_engine),
                ("view", view),
                ("iterate", iterate),
                ("find", find),
                ("viable", viable),
            )
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--rules", default="1000,100000", help="the two pack sizes: (f), (g)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    small, big = (int(x) for x in args.rules.split(","))
    with c.console.status("loading documents and generating rules (not timed)"):
        docs, vocab_docs = be.load_documents(args.items, 20_000)
        rules = be.generate_rules(vocab_docs, big, 4, args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="watchfloor-floor-"))
    results: dict[str, Any] = {"items": len(docs), "machine": c.machine()}
    for key, k in (("f", small), ("g", big)):
        path = tmp / f"{key}.json"
        be.write_pack(rules[:k], path, selective=True)
        with c.console.status(f"({key}) {k:,} selective rules: compiling and measuring"):
            results[key] = {"rules": k, **measure(path, docs, args.reps)}
        c.console.print(f"({key}) {k:,} rules: {results[key]}")
    f, g = results["f"], results["g"]
    budget = 2 * f["engine"]
    results["ratio_g_over_f"] = round(f["engine"] / g["engine"], 3)
    results["budget_us"] = round(budget, 2)
    results["g_floor_us"] = round(g["view"] + g["iterate"], 2)
    results["floor_over_budget"] = results["g_floor_us"] > budget
    c.console.print(
        f"(g)/(f) = {results['ratio_g_over_f']:.1%}; budget for 50 %: {budget:.1f} us/article; "
        f"(g)'s view + bare automaton iteration: {results['g_floor_us']:.1f} us "
        f"({'over' if results['floor_over_budget'] else 'under'} the budget)"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
