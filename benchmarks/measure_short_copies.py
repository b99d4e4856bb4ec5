"""Short lightly edited copies (outside trial 10, F3): what the short-document rule of stories.py joins in real data
beside the 3-shingle threshold, and what it must keep apart.

    .venv/bin/python benchmarks/measure_short_copies.py --json /tmp/short.json --sample 40

Every item of the 2023 RSS corpus gets its signature as the engine computes it (stories.story_signature). Candidate
pairs of different outlets published within 7 days of each other come from a MinHash LSH index (datasketch,
threshold 0.5) of the items' content-word sets, so pairs that share words but few 3-word runs are found too. For
each pair: the engine's verdict before the rule (3-shingle estimate >= STORY_THRESHOLD) and now (same_story), the
exact Jaccard similarities of word 3-shingles and of content-word sets, and whether the items give the same numbers.
Reported: the pairs each rule joins, by band of exact 3-shingle similarity; the copies the threshold measurement
read by hand (measure_story_threshold.py: every cross-outlet pair of estimate >= 0.5 was one wire story) and how
many each rule joins; the pairs in the outlets' own words (content words near, exact 3-shingle similarity below
0.15: read as separate reports) the rule joins; and what must stay apart: Al Jazeera's daily "List of key events"
pages (consecutive days), the GDELT producer's rows of different outlets, and the labelled DPRK-Russia captures
(items of one label: one event in other words). `--sample N` writes N random newly joined pairs with their texts
to the JSON file (outside the repository: the texts are the publishers') for reading by hand; the reading is kept
in BENCHMARKS.md as counts only. Also: the signature's size and the time to make one, short documents against
long ones.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from collections import Counter
from datetime import datetime
from itertools import combinations, pairwise
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
from datasketch import MinHash, MinHashLSH

from watchfloor.schemas.events import joined_text
from watchfloor.stream_processors.engine.stories import (
    SHINGLE,
    STOP_WORDS,
    STORY_THRESHOLD,
    same_story,
    similarity,
    story_signature,
    word_similarity,
)
from watchfloor.stream_processors.engine.text import strip_html, tokens

BANDS = ((0.0, 0.15), (0.15, 0.25), (0.25, 0.35), (0.35, 0.45), (0.45, 0.6), (0.6, 1.01))


def outlet(feed: str) -> str:
    return re.sub(r"_https?$", "", feed)


def shingles(words: list[str]) -> set[str]:
    n = len(words)
    return {" ".join(words[i : i + SHINGLE]) for i in range(n - SHINGLE + 1)} if n >= SHINGLE else {" ".join(words)}


def content(words: list[str]) -> set[str]:
    return {w for w in words if len(w) > 1 and w not in STOP_WORDS}


def numbers(words: list[str]) -> set[str]:
    return {w for w in words if any(ch.isdigit() for ch in w)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def band_of(x: float) -> str:
    for lo, hi in BANDS:
        if lo <= x < hi:
            return f"[{lo:.2f}, {min(hi, 1.0):.2f})"
    return "?"


def text_of(title: str, body: str) -> str:
    return joined_text(title, body)  # as Document.text


def old_rule(a: str, b: str) -> bool:
    return a == b or similarity(a, b) >= STORY_THRESHOLD


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--sample", type=int, default=0, help="newly joined pairs written with their texts")
    args = ap.parse_args(argv)
    items: list[dict[str, Any]] = []
    with c.console.status("reading the 2023 corpus"):
        for line in c.iter_prepared_lines(c.prepared_rss2023()):
            o = orjson.loads(line)
            title, body = o.get("title") or "", o.get("body") or ""
            at = o.get("published_at")
            words = tokens(strip_html(text_of(title, body)))
            items.append(
                {
                    "outlet": outlet(o["source"]["name"]),
                    "title": title,
                    "body": body,
                    "at": datetime.fromisoformat(at).timestamp() if at else None,
                    "words": words,
                }
            )
    sigs: list[str] = []
    short_t = long_t = 0.0
    short_n = 0
    sizes = {"short": 0, "long": 0}
    for it in items:
        t0 = time.perf_counter()
        s = story_signature(it["words"])
        dt = time.perf_counter() - t0
        sigs.append(s)
        if "." in s:
            short_t += dt
            short_n += 1
            sizes["short"] += len(s)
        else:
            long_t += dt
            sizes["long"] += len(s)
    lsh = MinHashLSH(threshold=0.5, num_perm=64)
    pairs: list[dict[str, Any]] = []
    with c.console.status("content-word LSH candidates"):
        for i, it in enumerate(items):
            cw = content(it["words"])
            if not cw:
                continue
            m = MinHash(num_perm=64, seed=1)
            m.update_batch([w.encode() for w in cw])
            for j in lsh.query(m):
                o = items[j]
                if o["outlet"] == it["outlet"] or o["at"] is None or it["at"] is None:
                    continue
                if abs(o["at"] - it["at"]) > 7 * 86400:
                    continue
                a, b = sigs[j], sigs[i]
                wa, wb = o["words"], it["words"]
                pairs.append(
                    {
                        "a": j,
                        "b": i,
                        "estimate": similarity(a, b),
                        "exact3": jaccard(shingles(wa), shingles(wb)),
                        "words": jaccard(content(wa), content(wb)),
                        "engine_words": word_similarity(a, b),
                        "same_numbers": numbers(wa) == numbers(wb),
                        "old": old_rule(a, b),
                        "new": same_story(a, b),
                    }
                )
            lsh.insert(i, m)
    new_only = [p for p in pairs if p["new"] and not p["old"]]
    old_only = [p for p in pairs if p["old"] and not p["new"]]
    known = [p for p in pairs if p["estimate"] >= 0.5]  # the threshold measurement's pairs: read as copies
    own_words = [p for p in pairs if p["words"] >= 0.6 and p["exact3"] < 0.15]
    result: dict[str, Any] = {
        "measure": "short lightly edited copies",
        "items": len(items),
        "short_items_with_word_part": short_n,
        "signature_chars_mean": {
            "short": round(sizes["short"] / max(short_n, 1), 1),
            "long": round(sizes["long"] / max(len(items) - short_n, 1), 1),
        },
        "signature_us_mean": {
            "short": round(1e6 * short_t / max(short_n, 1), 1),
            "long": round(1e6 * long_t / max(len(items) - short_n, 1), 1),
        },
        "candidate_pairs": len(pairs),
        "joined_before": sum(p["old"] for p in pairs),
        "joined_now": sum(p["new"] for p in pairs),
        "newly_joined": len(new_only),
        "no_longer_joined": len(old_only),
        "newly_joined_by_exact_3shingle_band": dict(sorted(Counter(band_of(p["exact3"]) for p in new_only).items())),
        "known_copies_estimate_at_least_0.5": len(known),
        "known_copies_joined_before": sum(p["old"] for p in known),
        "known_copies_joined_now": sum(p["new"] for p in known),
        "own_words_pairs_words_0.6_exact3_below_0.15": len(own_words),
        "own_words_pairs_joined_now": sum(p["new"] for p in own_words),
        "near_words_other_numbers": sum(1 for p in pairs if p["words"] >= 0.6 and not p["same_numbers"]),
        "near_words_other_numbers_joined_now_not_before": sum(
            1 for p in new_only if p["words"] >= 0.6 and not p["same_numbers"]
        ),
    }
    result["template_days"] = template_days(items, sigs)
    result["gdelt_cross_outlet"] = gdelt_cross_outlet()
    result["dprk_russia_labelled"] = dprk_labelled()
    result["own_words_joined"] = [
        {
            **{k: round(v, 3) if isinstance(v, float) else v for k, v in p.items() if k not in "ab"},
            "a": f"{items[p['a']]['outlet']} | {items[p['a']]['title']} || {items[p['a']]['body'][:400]}",
            "b": f"{items[p['b']]['outlet']} | {items[p['b']]['title']} || {items[p['b']]['body'][:400]}",
        }
        for p in own_words
        if p["new"]
    ]
    result["known_copies_apart_now"] = dict(
        Counter(
            "long, or under 10 content words"
            if p["engine_words"] is None
            else "other numbers"
            if not p["same_numbers"]
            else "short, apart"
            for p in known
            if not p["new"]
        )
    )
    if args.sample:
        rng = random.Random(1)
        result["samples"] = [
            {
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in p.items() if k not in "ab"},
                "a": f"{items[p['a']]['outlet']} | {items[p['a']]['title']} || {items[p['a']]['body'][:400]}",
                "b": f"{items[p['b']]['outlet']} | {items[p['b']]['title']} || {items[p['b']]['body'][:400]}",
            }
            for p in rng.sample(new_only, min(args.sample, len(new_only)))
        ]
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    shown = {k: v for k, v in result.items() if k not in ("samples", "own_words_joined")}
    c.Console(width=160).print_json(json.dumps(shown))
    return 0


def template_days(items: list[dict[str, Any]], sigs: list[str]) -> dict[str, Any]:
    """Consecutive days' "List of key events" pages of Al Jazeera: different news, one template, short texts."""
    days = sorted(
        (it["at"] or 0.0, i)
        for i, it in enumerate(items)
        if "List of key events" in it["title"] and it["outlet"] == "aljazeera_all"
    )
    pairs = [(a, b) for (_, a), (_, b) in pairwise(days) if sigs[a] != sigs[b]]  # a page published twice is one
    words = [jaccard(content(items[a]["words"]), content(items[b]["words"])) for a, b in pairs]
    return {
        "pairs": len(pairs),
        "content_words_at_least_0.6": sum(w >= 0.6 for w in words),
        "content_words_max": round(max(words, default=0.0), 3),
        "joined_before": sum(old_rule(sigs[a], sigs[b]) for a, b in pairs),
        "joined_now": sum(same_story(sigs[a], sigs[b]) for a, b in pairs),
    }


def gdelt_cross_outlet() -> dict[str, Any]:
    """Rows of different outlets in each GDELT sample file (the producer's documents, one template)."""
    from watchfloor.producers.gdelt import row_to_document
    from watchfloor.schemas.events import Document

    root = c.data_dir() / "gdelt"
    files = [*sorted((root / "spark-gdelt").glob("events*.csv")), root / "gdelt1_daily_sample_20160728_reed9999.tsv"]
    n = joined = near = 0
    for f in files:
        rows = []
        with open(f, encoding="utf-8", errors="replace") as fh:
            for line_no, line in enumerate(fh, 1):
                d = row_to_document(line.rstrip("\n").split("\t"), origin=str(f), line=line_no)
                if isinstance(d, Document):
                    rows.append((d.source.name, story_signature(tokens(d.text))))
        for (sa, a), (sb, b) in combinations(rows, 2):
            if sa == sb:
                continue
            n += 1
            joined += same_story(a, b)
            w = word_similarity(a, b)
            near += w is not None and w >= 0.6
    return {"pairs": n, "short_both_content_words_at_least_0.6": near, "joined_now": joined}


def dprk_labelled() -> dict[str, Any]:
    """The DPRK-Russia captures: pairs of items of one label (one event, each item in its own words)."""
    root = c.data_dir() / "dprk_russia_2024"
    labels = {r["id"]: r["label"] for r in csv.DictReader(open(root / "keydays.labels.csv", encoding="utf-8"))}
    docs = []
    for line in open(root / "keydays.jsonl", encoding="utf-8"):
        o = json.loads(line)
        words = tokens(strip_html(text_of(o.get("title") or "", o.get("body") or "")))
        docs.append((labels.get(o["id"], "NONE"), story_signature(words)))
    same = [(a, b) for (la, a), (lb, b) in combinations(docs, 2) if la == lb and la != "NONE"]
    every = list(combinations([s for _, s in docs], 2))
    return {
        "items": len(docs),
        "same_label_pairs": len(same),
        "same_label_joined_now": sum(same_story(a, b) for a, b in same),
        "all_pairs": len(every),
        "all_pairs_joined_before": sum(old_rule(a, b) for a, b in every),
        "all_pairs_joined_now": sum(same_story(a, b) for a, b in every),
    }


if __name__ == "__main__":
    raise SystemExit(main())
