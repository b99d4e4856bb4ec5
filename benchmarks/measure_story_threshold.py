"""Cross-outlet near-copies around the story threshold in the 2023 RSS corpus: what the pairs just above and just
below STORY_THRESHOLD (stream_processors/engine/stories.py) are, to judge whether it should move.

    .venv/bin/python benchmarks/measure_story_threshold.py --json /tmp/near.json --sample 30

Every item's signature as the engine computes it; candidate pairs of different outlets from a MinHash LSH index
(datasketch, threshold 0.4) kept when the engine's estimate (64 values) is at least 0.5. For each pair: the engine's
estimate, the exact Jaccard similarity of the two items' word 3-shingles (what the estimate estimates), and how far
apart they were published. Reported per band of the estimate and of the exact similarity: pair counts, and how often
the engine's yes/no (estimate >= threshold) differs from the exact one's (the 64-value estimate's spread: a copy of
exact similarity 0.707 is one story or not by the luck of the permutations). Beside them, what a lower threshold
would join that is not one story: the estimates between consecutive days of Al Jazeera's daily "List of key events"
page (one template, different news), and between rows of different outlets in the GDELT samples (one template of
coded events, articles of their own). `--sample N` writes N random pairs of
each band with their texts to the JSON file (outside the repository: the texts are the publishers') for reading
and labelling by hand; the labels are kept in BENCHMARKS.md as counts only.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
from datasketch import MinHash, MinHashLSH

from watchfloor.stream_processors.engine.stories import NUM_PERM, SHINGLE, STORY_THRESHOLD, _values, story_signature
from watchfloor.stream_processors.engine.stories import similarity as estimate
from watchfloor.stream_processors.engine.text import tokens

BANDS = ((0.5, 0.6), (0.6, 0.65), (0.65, 0.7), (0.7, 0.75), (0.75, 0.8), (0.8, 0.9), (0.9, 1.01))


def outlet(feed: str) -> str:
    return re.sub(r"_https?$", "", feed)  # aljazeera_all_http and aljazeera_all_https are one outlet


def shingles(words: list[str]) -> set[str]:
    n = len(words)
    if n >= SHINGLE:
        return {" ".join(words[i : i + SHINGLE]) for i in range(n - SHINGLE + 1)}
    return {" ".join(words)}


def band_of(x: float) -> str:
    for lo, hi in BANDS:
        if lo <= x < hi:
            return f"[{lo:.2f}, {min(hi, 1.0):.2f})"
    return "below"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--sample", type=int, default=0, help="pairs per band written with their texts")
    args = ap.parse_args(argv)
    items: list[dict[str, Any]] = []
    with c.console.status("reading the 2023 corpus"):
        for line in c.iter_prepared_lines(c.prepared_rss2023()):
            o = orjson.loads(line)
            items.append(
                {
                    "outlet": outlet(o["source"]["name"]),
                    "title": o.get("title", ""),
                    "body": o.get("body", ""),
                    "at": o.get("published_at"),
                    "url": o.get("url"),
                }
            )
    words = []
    sigs: list[str] = []
    with c.progress() as prog:
        task = prog.add_task("signatures", total=len(items))
        for i, it in enumerate(items):
            w = tokens(f"{it['title']} {it['body']}")
            words.append(w)
            sigs.append(story_signature(w))
            if i % 5000 == 4999:
                prog.advance(task, 5000)
    lsh = MinHashLSH(threshold=0.4, num_perm=NUM_PERM)
    pairs: list[dict[str, Any]] = []
    with c.console.status("LSH candidates, estimates and exact similarities"):
        for i, s in enumerate(sigs):
            m = MinHash(num_perm=NUM_PERM, hashvalues=_values(s), scheme="affine32")
            for j in lsh.query(m):
                if items[j]["outlet"] == items[i]["outlet"]:
                    continue
                est = estimate(sigs[j], s)
                if est < 0.5:
                    continue
                a, b = shingles(words[j]), shingles(words[i])
                exact = len(a & b) / len(a | b)
                hours = None
                if items[i]["at"] and items[j]["at"]:
                    delta = datetime.fromisoformat(items[i]["at"]) - datetime.fromisoformat(items[j]["at"])
                    hours = abs(delta.total_seconds()) / 3600
                pairs.append({"a": j, "b": i, "estimate": est, "exact": exact, "hours": hours})
            lsh.insert(i, m)
    by_est = Counter(band_of(p["estimate"]) for p in pairs)
    by_exact = Counter(band_of(p["exact"]) for p in pairs)
    disagree = [p for p in pairs if (p["estimate"] >= STORY_THRESHOLD) != (p["exact"] >= STORY_THRESHOLD)]
    near = [p for p in pairs if 0.7 <= p["exact"] < 0.75]
    missed_near = [p for p in near if p["estimate"] < STORY_THRESHOLD]
    rng = random.Random(1)
    samples: dict[str, list[dict[str, Any]]] = {}
    if args.sample:
        for lo, hi in BANDS:
            inside = [p for p in pairs if lo <= p["exact"] < hi]
            for p in rng.sample(inside, min(args.sample, len(inside))):
                a, b = items[p["a"]], items[p["b"]]
                samples.setdefault(band_of(p["exact"]), []).append(
                    {
                        **{k: round(v, 3) if isinstance(v, float) else v for k, v in p.items() if k not in "ab"},
                        "a": f"{a['outlet']} | {a['at']} | {a['title']} || {a['body'][:600]}",
                        "b": f"{b['outlet']} | {b['at']} | {b['title']} || {b['body'][:600]}",
                    }
                )
    # Pairs whose exact similarity is below every band but whose estimate is not: what a lower threshold on the
    # estimate would join besides the bands' pairs.
    low = [p for p in pairs if p["exact"] < 0.5]
    if args.sample:
        for p in low:
            a, b = items[p["a"]], items[p["b"]]
            samples.setdefault("exact below 0.5", []).append(
                {
                    **{k: round(v, 3) if isinstance(v, float) else v for k, v in p.items() if k not in "ab"},
                    "a": f"{a['outlet']} | {a['at']} | {a['title']} || {a['body'][:600]}",
                    "b": f"{b['outlet']} | {b['at']} | {b['title']} || {b['body'][:600]}",
                }
            )
    estimate_band_of_exact_band = Counter((band_of(p["estimate"]), band_of(p["exact"])) for p in pairs)
    result = {
        "measure": "story threshold",
        "items": len(items),
        "threshold": STORY_THRESHOLD,
        "cross_outlet_pairs_estimate_at_least_0.5": len(pairs),
        "pairs_by_estimate_band": dict(sorted(by_est.items())),
        "pairs_by_exact_band": dict(sorted(by_exact.items())),
        "estimate_and_exact_disagree_at_threshold": len(disagree),
        "disagree_exact_above": sum(1 for p in disagree if p["exact"] >= STORY_THRESHOLD),
        "exact_0.70_to_0.75_pairs": len(near),
        "exact_0.70_to_0.75_estimated_below_threshold": len(missed_near),
        "outlet_pairs_exact_0.6_to_0.8": Counter(
            " / ".join(sorted((items[p["a"]]["outlet"], items[p["b"]]["outlet"])))
            for p in pairs
            if 0.6 <= p["exact"] < 0.8
        ).most_common(10),
        "pairs_by_estimate_and_exact_band": sorted([e, x, n] for (e, x), n in estimate_band_of_exact_band.items()),
        "samples": samples,
    }
    result["template_days"] = template_days(items, sigs)
    result["gdelt_cross_outlet"] = gdelt_cross_outlet()
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    shown = {k: v for k, v in result.items() if k != "samples"}
    c.Console(width=160).print_json(json.dumps(shown))
    return 0


def template_days(items: list[dict[str, Any]], sigs: list[str]) -> dict[str, Any]:
    """Estimates between consecutive days' "List of key events" pages of one outlet: different news, one template."""
    days = sorted(
        (it["at"] or "", i)
        for i, it in enumerate(items)
        if "List of key events" in it["title"] and it["outlet"] == "aljazeera_all"
    )
    near = sorted((estimate(sigs[a], sigs[b]) for (_, a), (_, b) in pairwise(days)), reverse=True)
    different = [x for x in near if x < 1.0]  # a page published twice is one page
    return {
        "pairs": len(near),
        "max_below_1": max(different, default=None),
        "at_least_0.6": sum(x >= 0.6 for x in different),
        "at_least_0.7": sum(x >= 0.7 for x in different),
    }


def gdelt_cross_outlet() -> dict[str, Any]:
    """Estimates between rows of different outlets in each GDELT sample file (the producer's documents)."""
    from watchfloor.producers.gdelt import row_to_document
    from watchfloor.schemas.events import Document

    root = c.data_dir() / "gdelt"
    files = [*sorted((root / "spark-gdelt").glob("events*.csv")), root / "gdelt1_daily_sample_20160728_reed9999.tsv"]
    sims: list[float] = []
    docs = 0
    for f in files:
        rows = []
        with open(f, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                d = row_to_document(line.rstrip("\n").split("\t"), origin=str(f), line=n)
                if isinstance(d, Document):
                    rows.append((d.source.name, story_signature(tokens(d.text))))
        docs += len(rows)
        for i, (sa, a) in enumerate(rows):
            sims.extend(estimate(a, b) for sb, b in rows[i + 1 :] if sb != sa)
    return {
        "documents": docs,
        "pairs": len(sims),
        "max": max(sims, default=None),
        "at_least_0.5": sum(x >= 0.5 for x in sims),
        "at_least_0.6": sum(x >= 0.6 for x in sims),
    }


if __name__ == "__main__":
    raise SystemExit(main())
