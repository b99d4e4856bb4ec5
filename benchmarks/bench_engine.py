"""Engine throughput on real 2023 RSS items: the bundled pack, the bundled pack plus 1,000 generated
phrase rules, and a naive per-rule regex loop over the same documents, in the same run.

    .venv/bin/python benchmarks/bench_engine.py                 # pinned to CPU 0, 20,000 items, 5 reps (naive: 3)
    .venv/bin/python benchmarks/bench_engine.py --items 50000 --reps 3 --json results.json

What is timed (documents are parsed into `Document`s before timing; none of this is I/O):
  (a) Engine.process_document on every document, bundled pack (builtin:dprk_russia);
  (b) the same with the bundled pack + a generated pack of 1,000 signals, each with an `any`
      detection; each signal matches any of 4 phrases (single words and 2-3-word phrases) drawn
      deterministically (seeded) from the corpus's own vocabulary, so some of them fire;
  (c) naive baseline: for each document, lower-case the text once, then for each of the 1,000
      generated rules search a Python `re` regex (word-boundary alternation of that rule's phrases).
      It only answers "which rules match this document" -- no sentences, modality, captures or
      correlation -- so it does strictly less work than (b).
Targets (issue): (b) >= 2,000 articles/s on one core, and (b)/(c) >= 50x.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import sys
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from watchfloor.schemas.events import Document, Signal
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import DEFAULT_CUES
from watchfloor.stream_processors.engine.text import split_sentences, tokens
from watchfloor.stream_processors.rulefile import load_rules

GEN_PREFIX = "gen_"
TARGET_RATE = 2000.0
TARGET_RATIO = 50.0

# Function words: a phrase that starts or ends with one of these is not a realistic rule phrase.
STOPWORDS = frozenset(
    """a an the and or but of to in on at by for with from as is are was were be been being it its
    this that these those he she they we you i his her their our your my me him them us who whom whose
    which what when where why how than then there here so not no nor if also after before over under
    into about up down out off more most less least very just can could would should will shall may might
    must do does did has have had s t says said new one two three first last year years day days week
    time after amid against during between while since until per via all any some such other""".split()
)


# ---------------------------------------------------------------------------------------------------
def load_documents(n: int, vocab_n: int) -> tuple[list[Document], list[Document]]:
    """The first n items of 2023 in event-time order, as Documents (not timed), and the vocab_n items
    after them (the rules' vocabulary comes from there: rules are written before the news they catch)."""
    records: list[tuple[datetime, int, bytes]] = []
    for i, line in enumerate(c.iter_prepared_lines(c.prepared_rss2023())):
        obj = orjson.loads(line)
        records.append((datetime.fromisoformat(obj["published_at"]), i, line))
    records.sort(key=lambda r: (r[0], r[1]))
    bench = [parse_document(orjson.loads(line)) for _t, _i, line in records[:n]]
    vocab = [parse_document(orjson.loads(line)) for _t, _i, line in records[n : n + vocab_n]]
    return bench, vocab


def vocabulary(docs: list[Document]) -> tuple[list[str], list[str], list[str]]:
    """Candidate single words, bigrams and trigrams from the documents themselves (per sentence)."""
    cue_words = {w for phrases in DEFAULT_CUES.values() for p in phrases for w in tokens(p.rstrip("*"))}
    df: Counter[str] = Counter()
    grams: Counter[tuple[str, ...]] = Counter()
    for d in docs:
        seen: set[str] = set()
        for sent in split_sentences(d.text):
            toks = tokens(sent)
            seen.update(toks)
            for n in (2, 3):
                for i in range(len(toks) - n + 1):
                    grams[tuple(toks[i : i + n])] += 1
        df.update(seen)

    def word_ok(w: str) -> bool:
        return w.isalpha() and len(w) >= 3 and w not in STOPWORDS and w not in cue_words

    # Rare-to-moderate words (topical names and nouns), never the most common ones.
    cap = max(10, len(docs) // 400)
    singles = sorted(w for w, n in df.items() if 3 <= n <= cap and word_ok(w) and len(w) >= 5)
    multi = [
        g
        for g, n in grams.items()
        if n >= 2
        and word_ok(g[0])
        and word_ok(g[-1])
        and all(w.isalpha() for w in g)
        and not any(w in cue_words for w in g)
    ]
    bigrams = sorted(" ".join(g) for g in multi if len(g) == 2)
    trigrams = sorted(" ".join(g) for g in multi if len(g) == 3)
    return singles, bigrams, trigrams


def generate_rules(docs: list[Document], n_rules: int, phrases_per_rule: int, seed: int) -> list[list[str]]:
    """n_rules rules, each a list of distinct phrases: ~25% single words, ~50% bigrams, ~25% trigrams,
    drawn from the vocabulary of `docs` (a window after the benchmark's documents)."""
    singles, bigrams, trigrams = vocabulary(docs)
    rng = random.Random(seed)
    pools = {1: singles, 2: bigrams, 3: trigrams}
    for pool in pools.values():
        rng.shuffle(pool)
    used: set[str] = set()
    rules: list[list[str]] = []
    cursor = {1: 0, 2: 0, 3: 0}
    for _ in range(n_rules):
        phrases: list[str] = []
        while len(phrases) < phrases_per_rule:
            size = rng.choices((1, 2, 3), weights=(1, 2, 1))[0]
            pool = pools[size]
            p = pool[cursor[size] % len(pool)]
            cursor[size] += 1
            if p not in used:
                used.add(p)
                phrases.append(p)
        rules.append(phrases)
    return rules


def write_pack(rules: list[list[str]], path: Path) -> None:
    """A YAML rule pack (JSON is valid YAML 1.2): one signal + one `any` detection per rule."""
    pack: dict[str, Any] = {
        "version": 1,
        "name": "generated-1000",
        "description": "Benchmark pack: phrases drawn from the corpus vocabulary (seeded).",
        "signals": {f"{GEN_PREFIX}{i:04d}": {"match": {"any": phrases}} for i, phrases in enumerate(rules)},
        "detections": [
            {
                "id": f"gen-{i:04d}",
                "title": f"generated rule {i}",
                "severity": "low",
                "pattern": {"any": f"{GEN_PREFIX}{i:04d}"},
            }
            for i in range(len(rules))
        ],
    }
    path.write_bytes(orjson.dumps(pack, option=orjson.OPT_INDENT_2))


def naive_regexes(rules: list[list[str]]) -> list[re.Pattern[str]]:
    """One regex per rule: \\b(?:phrase|phrase|...)\\b, words joined by any run of non-word characters
    (the engine also reads "Jong-un" as "jong un"). Searched on the lower-cased text."""
    out = []
    for phrases in rules:
        alts = [r"[\W_]+".join(re.escape(w) for w in p.split()) for p in phrases]
        out.append(re.compile(r"\b(?:" + "|".join(alts) + r")\b"))
    return out


# ---------------------------------------------------------------------------------------------------
def run_engine(engine: Engine, docs: list[Document], on_chunk: Any = None) -> tuple[int, set[tuple[str, str]], int]:
    state = engine.initial_state()
    n_signals = 0
    fired: set[tuple[str, str]] = set()
    detections = 0
    process = engine.process_document
    for i, doc in enumerate(docs):
        state, outs = process(state, doc)
        for o in outs:
            if isinstance(o, Signal):
                n_signals += 1
                if o.name.startswith(GEN_PREFIX):
                    fired.add((doc.id, o.name))
            elif o.__class__.__name__ == "Detection":
                detections += 1
        if on_chunk is not None and i % 1000 == 999:
            on_chunk(1000)
    return n_signals, fired, detections


def run_naive(regexes: list[re.Pattern[str]], docs: list[Document], on_chunk: Any = None) -> set[tuple[str, str]]:
    hits: set[tuple[str, str]] = set()
    for i, doc in enumerate(docs):
        text = doc.text.lower()
        for ri, rx in enumerate(regexes):
            if rx.search(text):
                hits.add((doc.id, f"{GEN_PREFIX}{ri:04d}"))
        if on_chunk is not None and i % 1000 == 999:
            on_chunk(1000)
    return hits


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=20_000, help="first N items of 2023 in event-time order")
    ap.add_argument("--rules", type=int, default=1000, help="generated rules")
    ap.add_argument("--phrases", type=int, default=4, help="phrases per generated rule")
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument(
        "--vocab-items",
        type=int,
        default=20_000,
        help="the rules' phrases come from the N items that follow the benchmark's items",
    )
    ap.add_argument("--reps", type=int, default=5, help="repetitions of the engine runs (median reported)")
    ap.add_argument("--naive-reps", type=int, default=3, help="repetitions of the naive loop")
    ap.add_argument("--cpu", type=int, default=0, help="pin to this CPU (-1: do not pin)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--keep-pack", type=Path, help="copy the generated YAML pack here (outside the repo)")
    args = ap.parse_args(argv)

    pinned = c.pin_to_core(args.cpu)
    console = c.console
    console.print(f"[bold]bench_engine[/bold]: {args.items:,} items, {args.rules} generated rules, {pinned}")

    with console.status("loading and parsing documents (not timed)"):
        docs, vocab_docs = load_documents(args.items, args.vocab_items)
    with console.status("generating the rule pack (not timed)"):
        rules = generate_rules(vocab_docs, args.rules, args.phrases, args.seed)
        tmp = Path(tempfile.mkdtemp(prefix="watchfloor-bench-"))
        pack_path = tmp / "generated.yaml"
        write_pack(rules, pack_path)
        if args.keep_pack:
            args.keep_pack.write_bytes(pack_path.read_bytes())
        _l, bundled = load_rules(["builtin:dprk_russia"])
        _l, combined = load_rules(["builtin:dprk_russia", str(pack_path)])
        eng_a, eng_b = Engine(bundled), Engine(combined)
        regexes = naive_regexes(rules)
    n = len(docs)
    chars = sum(len(d.text) for d in docs)
    console.print(
        f"{n:,} documents, {chars / n:.0f} characters each on average; {sum(map(len, rules)):,} generated phrases"
    )

    times: dict[str, list[c.Timing]] = {"a": [], "b": [], "c": []}
    results: dict[str, Any] = {}
    reps = max(args.reps, args.naive_reps)
    with c.progress() as prog:
        for rep in range(reps):
            for key, label in (("a", "bundled pack"), ("b", "bundled + 1,000 rules"), ("c", "naive re loop")):
                if key == "c" and rep >= args.naive_reps:
                    continue
                if key != "c" and rep >= args.reps:
                    continue
                task = prog.add_task(f"rep {rep + 1}/{reps} {label}", total=n)
                adv = lambda k, task=task: prog.advance(task, k)  # noqa: E731
                gc.collect()
                if key == "a":
                    t, res = c.timed(lambda adv=adv: run_engine(eng_a, docs, adv))
                elif key == "b":
                    t, res = c.timed(lambda adv=adv: run_engine(eng_b, docs, adv))
                else:
                    t, res = c.timed(lambda adv=adv: run_naive(regexes, docs, adv))
                prog.remove_task(task)
                times[key].append(t)
                results[key] = res

    def summary(key: str) -> dict[str, Any]:
        walls = [t.wall for t in times[key]]
        cpus = [t.cpu for t in times[key]]
        return {
            "reps": len(walls),
            "wall_s": walls,
            "cpu_s": cpus,
            "median_wall_s": c.median(walls),
            "median_cpu_s": c.median(cpus),
            "articles_per_s": n / c.median(walls),
            "articles_per_cpu_s": n / c.median(cpus),
        }

    out: dict[str, Any] = {
        "benchmark": "engine",
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": c.machine(),
        "pinning": pinned,
        "items": n,
        "avg_chars": round(chars / n),
        "generated_rules": args.rules,
        "phrases_per_rule": args.phrases,
        "seed": args.seed,
        "a_bundled": summary("a"),
        "b_bundled_plus_generated": summary("b"),
        "c_naive_regex_loop": summary("c"),
    }
    sig_a, _f, det_a = results["a"]
    sig_b, fired_b, det_b = results["b"]
    naive_hits: set[tuple[str, str]] = results["c"]
    out["a_bundled"].update(signals=sig_a, detections=det_a)
    out["b_bundled_plus_generated"].update(
        signals=sig_b,
        detections=det_b,
        generated_doc_rule_hits=len(fired_b),
        generated_rules_that_fired=len({r for _d, r in fired_b}),
    )
    out["c_naive_regex_loop"].update(doc_rule_hits=len(naive_hits))
    out["agreement"] = {
        "both": len(fired_b & naive_hits),
        "engine_only": len(fired_b - naive_hits),
        "naive_only": len(naive_hits - fired_b),
    }
    rb = out["b_bundled_plus_generated"]["articles_per_s"]
    rc = out["c_naive_regex_loop"]["articles_per_s"]
    out["ratio_b_over_c"] = rb / rc
    out["ratio_b_over_c_cpu"] = (
        out["b_bundled_plus_generated"]["articles_per_cpu_s"] / out["c_naive_regex_loop"]["articles_per_cpu_s"]
    )
    out["targets"] = {
        "rate_1000_rules_one_core": {"target": TARGET_RATE, "got": rb, "met": rb >= TARGET_RATE},
        "ratio_vs_naive": {
            "target": TARGET_RATIO,
            "got": out["ratio_b_over_c"],
            "met": out["ratio_b_over_c"] >= TARGET_RATIO,
        },
    }

    from rich.table import Table

    table = Table(title=f"engine throughput, {n:,} real 2023 RSS items ({pinned}; median of reps)")
    for col in ("run", "reps", "median wall s", "articles/s", "articles/CPU-s", "signals", "detections / hits"):
        table.add_column(col, justify="right" if col != "run" else "left")
    for key, label in (
        ("a_bundled", "(a) bundled pack"),
        ("b_bundled_plus_generated", "(b) bundled + 1,000 rules"),
        ("c_naive_regex_loop", "(c) naive per-rule re loop"),
    ):
        s = out[key]
        table.add_row(
            label,
            str(s["reps"]),
            f"{s['median_wall_s']:.2f}",
            f"{s['articles_per_s']:,.0f}",
            f"{s['articles_per_cpu_s']:,.0f}",
            str(s.get("signals", "")),
            str(s.get("detections", s.get("doc_rule_hits", ""))),
        )
    show = c.Console(width=150)
    show.print(table)
    ag = out["agreement"]
    show.print(
        f"ratio (b)/(c): [bold]{out['ratio_b_over_c']:.1f}x[/bold] wall, {out['ratio_b_over_c_cpu']:.1f}x CPU "
        f"(target >= {TARGET_RATIO:.0f}x: {'met' if out['targets']['ratio_vs_naive']['met'] else 'NOT met'}); "
        f"(b) {rb:,.0f} articles/s (target >= {TARGET_RATE:,.0f}: "
        f"{'met' if out['targets']['rate_1000_rules_one_core']['met'] else 'NOT met'})\n"
        f"generated rules: {out['b_bundled_plus_generated']['generated_rules_that_fired']} of {args.rules} fired; "
        f"(document, rule) hits engine {len(fired_b):,} vs naive {len(naive_hits):,} "
        f"(both {ag['both']:,}, engine only {ag['engine_only']:,}, naive only {ag['naive_only']:,})",
        highlight=False,
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
