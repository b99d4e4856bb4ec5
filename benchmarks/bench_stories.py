"""Syndicated copies in the 2023 RSS corpus: how many items are one wire story under several outlets, and
where the story threshold (stream_processors/engine/stories.py) sits between copies and look-alikes.

    .venv/bin/python benchmarks/bench_stories.py --json /tmp/stories.json

Every item's MinHash signature (64 permutations of word 3-shingles of title and description, as the engine
computes it) goes into a MinHash LSH index (datasketch, threshold 0.5); candidate pairs from different
outlets (the two Al Jazeera feeds are one outlet) are then scored by their estimated Jaccard similarity.
Reported: pairs and items per similarity band, the outlets involved, examples per band, and the time per
signature (what a document that feeds a corroborating detection pays).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
from datasketch import MinHash, MinHashLSH

from watchfloor.stream_processors.engine.stories import NUM_PERM, STORY_THRESHOLD, _values, similarity, story_signature
from watchfloor.stream_processors.engine.text import tokens

BANDS = ((0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01))


def outlet(feed: str) -> str:
    return re.sub(r"_https?$", "", feed)  # aljazeera_all_http and aljazeera_all_https are one outlet


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--cpu", type=int, default=-1)
    args = ap.parse_args(argv)
    pinned = c.pin_to_core(args.cpu)
    items: list[tuple[str, str, str]] = []
    with c.console.status("reading the 2023 corpus (not timed)"):
        for line in c.iter_prepared_lines(c.prepared_rss2023()):
            o = orjson.loads(line)
            items.append((outlet(o["source"]["name"]), o.get("title", ""), o.get("body", "")))
    sigs: list[str] = []
    t0 = time.process_time()
    with c.progress() as prog:
        task = prog.add_task("signatures", total=len(items))
        for i, (_o, title, body) in enumerate(items):
            sigs.append(story_signature(tokens(f"{title} {body}")))
            if i % 5000 == 4999:
                prog.advance(task, 5000)
    per_doc_us = (time.process_time() - t0) / len(items) * 1e6
    lsh = MinHashLSH(threshold=0.5, num_perm=NUM_PERM)
    pairs: dict[tuple[int, int], float] = {}
    with c.console.status("LSH candidates and their similarity"):
        for i, s in enumerate(sigs):
            m = MinHash(num_perm=NUM_PERM, hashvalues=_values(s), scheme="affine32")
            for j in lsh.query(m):
                if items[j][0] != items[i][0]:
                    sim = similarity(sigs[i], sigs[j])
                    if sim >= 0.5:
                        pairs[(j, i)] = sim
            lsh.insert(i, m)
    rng = random.Random(1)
    bands: list[dict[str, Any]] = []
    for lo, hi in BANDS:
        inside = [(p, s) for p, s in pairs.items() if lo <= s < hi]
        outlets = Counter(tuple(sorted((items[a][0], items[b][0]))) for (a, b), _s in inside)
        examples = [
            {
                "similarity": round(s, 2),
                "a": f"{items[a][0]}: {items[a][1][:90]}",
                "b": f"{items[b][0]}: {items[b][1][:90]}",
            }
            for (a, b), s in rng.sample(inside, min(5, len(inside)))
        ]
        bands.append(
            {
                "band": [lo, min(hi, 1.0)],
                "pairs": len(inside),
                "items": len({x for (a, b), _s in inside for x in (a, b)}),
                "outlet_pairs": [[f"{x} / {y}", n] for (x, y), n in outlets.most_common(6)],
                "examples": examples,
            }
        )
    copies = [(p, s) for p, s in pairs.items() if s >= STORY_THRESHOLD]
    result = {
        "benchmark": "stories",
        "machine": c.machine(),
        "pinning": pinned,
        "items": len(items),
        "threshold": STORY_THRESHOLD,
        "signature_cpu_us_per_item": per_doc_us,
        "cross_outlet_pairs_at_threshold": len(copies),
        "items_in_copies_at_threshold": len({x for (a, b), _s in copies for x in (a, b)}),
        "bands": bands,
    }
    show = c.Console(width=160)
    show.print(
        f"{len(items):,} items; {per_doc_us:.0f} µs CPU per signature; at similarity >= {STORY_THRESHOLD}: "
        f"{result['cross_outlet_pairs_at_threshold']:,} cross-outlet pairs, "
        f"{result['items_in_copies_at_threshold']:,} items",
        highlight=False,
    )
    for b in bands:
        show.print(
            f"[{b['band'][0]:.1f}, {b['band'][1]:.1f}): {b['pairs']:,} pairs, {b['items']:,} items; "
            f"{b['outlet_pairs'][:3]}",
            highlight=False,
        )
        for e in b["examples"][:3]:
            show.print(f"    {e['similarity']}: {e['a']}  ||  {e['b']}", highlight=False)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
