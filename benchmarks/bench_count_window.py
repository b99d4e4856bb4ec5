"""A busy group under a long `count` window: the linear window search against the search over every window
and every pair that it replaced (the baseline, kept here verbatim in behaviour), same run, same items.

    .venv/bin/python benchmarks/bench_count_window.py --json /tmp/count_window.json

The items are real: 2023 RSS items in their order, one an hour, each under its real outlet, so the AP copies
that ABC, NBC and The Washington Post carry word for word are in the windows as they would be. Every item is
one observation of one group; at every point `count` (at_least 3) looks at the last 30 days: 720 items once
the window is full. Reported per point count: CPU seconds for the new search and the baseline (the baseline
only up to --baseline-max points: it grows with the cube of the window), and that the two chose the same
evidence at every point.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from watchfloor.stream_processors.engine import patterns as P
from watchfloor.stream_processors.engine.stories import same_story, story_signature
from watchfloor.stream_processors.engine.text import tokens

HOUR = 3600.0
WITHIN = 30 * 24 * HOUR


def baseline_groups(reports: list[tuple[str, str | None]]) -> list[int]:
    """Stories by comparing every pair; each counts for the source of its first report (outside trial 64, HIGH-1:
    before, a copy linked its two outlets into one)."""
    n = len(reports)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if find(i) != find(j) and same_story(reports[i][1], reports[j][1]):
                parent[find(i)] = find(j)
    origin: dict[int, int] = {}
    for i in range(n):
        origin.setdefault(find(i), i)
    first_of_source: dict[str, int] = {}
    for i, (source, _story) in enumerate(reports):
        first_of_source.setdefault(source, i)
    return [first_of_source[reports[origin[find(i)]][0]] for i in range(n)]


def baseline_independent(items: list[P.Item]) -> list[P.Item]:
    if not any(o[P.EV][P.E_STORY] for o in items):
        return list({o[P.SRC]: o for o in items}.values())
    first: dict[int, P.Item] = {}
    for o, g in zip(items, baseline_groups([(o[P.SRC], o[P.EV][P.E_STORY]) for o in items]), strict=True):
        first.setdefault(g, o)
    return list(first.values())


def baseline_count(items: list[P.Item], end: int, within: float, at_least: int, distinct: str | None) -> Any:
    t = items[end - 1][P.T]
    lo = P.first_at_or_after(items, t - within, end)
    window = [o for o in items[lo:end] if not o[P.DUP]]
    best: list[P.Item] = []
    for start in sorted({o[P.T] for o in window}):
        inside = [o for o in window if start <= o[P.T] <= start + within]
        if distinct == "source":
            inside = baseline_independent(sorted(inside, key=lambda o: o[P.T]))
        elif distinct == "document":
            inside = list({o[P.DOC]: o for o in sorted(inside, key=lambda o: o[P.T])}.values())
        if len(inside) > len(best):
            best = inside
    if len(best) >= at_least:
        return [o[P.EV] for o in sorted(best, key=lambda o: o[P.T])]
    return None


def observations(n: int) -> list[P.Item]:
    items: list[P.Item] = []
    for line in c.iter_prepared_lines(c.prepared_rss2023()):
        o = orjson.loads(line)
        doc, source = o.get("url") or f"item-{len(items)}", o["source"]["name"]
        story = story_signature(tokens(f"{o.get('title', '')} {o.get('body', '')}"))
        t = len(items) * HOUR
        ev = (doc, "signal", source, "", "", 0, "asserted", (), (), None, story)
        items.append((t, doc, 0, "signal", 0, source, ev, 0))
        if len(items) == n:
            break
    return items


def run(fn: Any, items: list[P.Item], distinct: str | None) -> tuple[float, list[Any]]:
    t0 = time.process_time()
    out = [fn(items, end, WITHIN, 3, distinct) for end in range(1, len(items) + 1)]
    return time.process_time() - t0, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", default="100,200,400,1000,3000")
    ap.add_argument("--baseline-max", type=int, default=200, help="largest point count the baseline runs")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--cpu", type=int, default=-1)
    args = ap.parse_args(argv)
    pinned = c.pin_to_core(args.cpu)
    sizes = [int(x) for x in args.points.split(",")]
    with c.console.status("signatures of the 2023 items (not timed)"):
        all_items = observations(max(sizes))
    rows: list[dict[str, Any]] = []
    with c.progress() as prog:
        task = prog.add_task("count windows", total=len(sizes) * 3)
        for n in sizes:
            items = all_items[:n]
            for distinct in (None, "document", "source"):
                new_s, new_out = run(P.count_evidence, items, distinct)
                row: dict[str, Any] = {"points": n, "distinct": distinct or "-", "new_cpu_s": round(new_s, 3)}
                if n <= args.baseline_max:
                    base_s, base_out = run(baseline_count, items, distinct)
                    row.update(baseline_cpu_s=round(base_s, 3), speedup=round(base_s / new_s, 1))
                    row["same_evidence"] = new_out == base_out
                    if new_out != base_out:
                        c.console.print(f"[red]different evidence at {n} points, distinct {distinct}[/red]")
                rows.append(row)
                prog.advance(task)
    c.console.print(f"machine: {c.machine()}, pinned: {pinned}, engine: {c.engine_kind()}")
    for r in rows:
        base = (
            f"baseline {r['baseline_cpu_s']:8.2f} s  ×{r['speedup']:<8} same: {r['same_evidence']}"
            if "speedup" in r
            else ""
        )
        print(f"{r['points']:>6} points  distinct {r['distinct']:<8}  new {r['new_cpu_s']:7.2f} s  {base}")
    if args.json:
        args.json.write_text(json.dumps({"machine": c.machine(), "engine": c.engine_kind(), "rows": rows}, indent=2))
    return 0 if all(r.get("same_evidence", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
