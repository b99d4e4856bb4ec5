"""Engine throughput on real 2023 RSS items, all in the same run: the bundled pack; the bundled pack plus
1,000, 10,000 and 100,000 generated phrase rules; a selective workload; and a naive per-rule regex loop.

    .venv/bin/python benchmarks/bench_engine.py --json /tmp/engine.json        # 20,000 items; about 20 minutes
    .venv/bin/python benchmarks/bench_engine.py --no-scale                     # (a), (b), (b0), (c) only
    .venv/bin/python benchmarks/bench_engine.py --only f,g --scale-reps 2      # just the selective pair

What is timed (documents are parsed into `Document`s before timing; none of this is I/O), per run the
median of its repetitions:
  (a)  Engine.process_document on every document, bundled pack (builtin:dprk_russia);
  (b)  the bundled pack + a generated pack of 1,000 signals, each with an `any` detection; each signal
       matches any of 4 phrases (single words and 2-3-word phrases) drawn deterministically (seeded)
       from the corpus's own vocabulary. The generated pack is `version: 2`: its phrases match their
       inflected forms (the new features on);
  (b0) the same 1,000 rules with `morphology: exact` (as version 1 packs): what word forms cost;
  (c)  naive baseline: for each document, lower-case the text once, then for each of the 1,000
       generated rules search a Python `re` regex (word-boundary alternation of that rule's phrases).
       It only answers "which rules match this document" -- no sentences, modality, captures,
       correlation or word forms -- so it does strictly less work than (b);
  (d)  (e) the same generator with 10,000 and 100,000 rules (the first 1,000 are (b)'s);
  (f)  (g) selective: 1,000 and 100,000 rules, each the conjunction of two of its phrases (`all`), so
       few rules hit an article.
Also reported: compile time (CPU) and memory (traced peak of the compile) of each generated pack.
Targets (issue 12): (b) >= 2,000 articles/s and (b)/(c) >= 50x; (d) >= 40% of (b); (e) >= 10% of (b);
(g) >= 50% of (f). `--only` picks runs by key (a comma list of a, b, b0, c, c0, d, e, f, g, and d0, e0 with
`--scale-exact`); a ratio, target or agreement is reported only when both of its runs ran.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import sys
import tempfile
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
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
from watchfloor.stream_processors.engine.morphology import word_forms
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
    drawn from the vocabulary of `docs` (a window after the benchmark's documents). Phrases are distinct
    across rules while the vocabulary lasts; past that (tens of thousands of rules), rules reuse them,
    as analysts' own rules do. The first N rules are the same whatever n_rules is."""
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
            fresh = cursor[size] < len(pool)
            cursor[size] += 1
            if (p not in used or not fresh) and p not in phrases:
                used.add(p)
                phrases.append(p)
        rules.append(phrases)
    return rules


def write_pack(
    rules: list[list[str]], path: Path, *, version: int = 2, morphology: str = "forms", selective: bool = False
) -> None:
    """A rule pack (JSON is valid YAML 1.2): one signal + one `any` detection per rule. A signal matches
    any of its phrases, or with `selective` all of its first two (a conjunction: few rules hit)."""

    def match(phrases: list[str]) -> Any:
        return {"all": phrases[:2]} if selective else {"any": phrases}

    pack: dict[str, Any] = {
        "version": version,
        "name": f"generated-{len(rules)}",
        "description": "Benchmark pack: phrases drawn from the corpus vocabulary (seeded).",
        "signals": {f"{GEN_PREFIX}{i:06d}": {"match": match(phrases)} for i, phrases in enumerate(rules)},
        "detections": [
            {
                "id": f"gen-{i:06d}",
                "title": f"generated rule {i}",
                "severity": "low",
                "pattern": {"any": f"{GEN_PREFIX}{i:06d}"},
            }
            for i in range(len(rules))
        ],
    }
    if version >= 2:
        pack["morphology"] = morphology
    path.write_bytes(orjson.dumps(pack, option=orjson.OPT_INDENT_2))


def naive_regexes(rules: list[list[str]], *, forms: bool = False) -> list[re.Pattern[str]]:
    """One regex per rule: \\b(?:phrase|phrase|...)\\b, words joined by any run of non-word characters
    (the engine also reads "Jong-un" as "jong un"). Searched on the lower-cased text. With `forms`, each
    word is the alternation of its inflected forms, the ones the engine's version 2 phrases match."""

    def word(w: str) -> str:
        if not forms or not w.isalpha():
            return re.escape(w)
        return "(?:" + "|".join(re.escape(f) for f in sorted(word_forms("en", w), key=len, reverse=True)) + ")"

    out = []
    for phrases in rules:
        alts = [r"[\W_]+".join(word(w) for w in p.split()) for p in phrases]
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
                hits.add((doc.id, f"{GEN_PREFIX}{ri:06d}"))
        if on_chunk is not None and i % 1000 == 999:
            on_chunk(1000)
    return hits


@dataclass
class Run:
    key: str
    label: str
    engine: Engine | None  # None: the naive loop
    reps: int
    rules: int = 0
    compile_cpu_s: float = 0.0
    compile_wall_s: float = 0.0
    compile_peak_mb: float = 0.0
    times: list[c.Timing] = field(default_factory=list)
    result: Any = None


def compile_pack(path: Path, trace_memory: bool, screen: bool = True) -> tuple[Engine, dict[str, float]]:
    """Compile the bundled pack with a generated one: timed, with the engine's start (the native engine builds
    its word screen there); then, apart, the traced memory peak of the compile."""
    gc.collect()

    def start() -> Engine:
        rules = load_rules(["builtin:dprk_russia", str(path)])[1]
        return Engine(rules if screen else rules.without_word_screen())

    t, engine = c.timed(start)
    info = {"cpu": t.cpu, "wall": t.wall, "peak_mb": 0.0}
    if trace_memory:
        del engine
        gc.collect()
        tracemalloc.start()
        _l, compiled = load_rules(["builtin:dprk_russia", str(path)])
        info["peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        engine = Engine(compiled if screen else compiled.without_word_screen())
    return engine, info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=20_000, help="first N items of 2023 in event-time order")
    ap.add_argument("--rules", type=int, default=1000, help="generated rules of (b)")
    ap.add_argument("--scale", default="10000,100000", help="generated rules of the scale runs (d), (e)")
    ap.add_argument("--no-scale", action="store_true", help="skip (d)-(g)")
    ap.add_argument(
        "--scale-exact", action="store_true", help="also (d0), (e0): the scale runs with morphology exact, vs (b0)"
    )
    ap.add_argument("--phrases", type=int, default=4, help="phrases per generated rule")
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument(
        "--vocab-items",
        type=int,
        default=20_000,
        help="the rules' phrases come from the N items that follow the benchmark's items",
    )
    ap.add_argument("--reps", type=int, default=5, help="repetitions of (a), (b), (b0) (median reported)")
    ap.add_argument("--scale-reps", type=int, default=3, help="repetitions of (d)-(g)")
    ap.add_argument("--naive-reps", type=int, default=3, help="repetitions of the naive loop")
    ap.add_argument("--cpu", type=int, default=-1, help="pin to this CPU (-1: do not pin)")
    ap.add_argument("--no-memory", action="store_true", help="skip the traced memory of compiles")
    ap.add_argument(
        "--no-word-screen",
        action="store_true",
        help="generated packs without the native word screen (the Python passes only), to measure what it does",
    )
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--keep-pack", type=Path, help="copy the 1,000-rule YAML pack here (outside the repo)")
    ap.add_argument(
        "--only",
        help="comma list of the runs to do, by key: a,b,b0,c,c0,d,e,f,g (and d0,e0 with --scale-exact); default all",
    )
    args = ap.parse_args(argv)
    only = {k.strip() for k in args.only.split(",") if k.strip()} if args.only else None

    def wanted(key: str) -> bool:
        return only is None or key in only

    pinned = c.pin_to_core(args.cpu)
    console = c.console
    scale = [] if args.no_scale else [int(x) for x in args.scale.split(",") if x]
    scale_keys = ["de"[i] if i < 2 else f"s{k}" for i, k in enumerate(scale)]
    console.print(
        f"[bold]bench_engine[/bold]: {args.items:,} items, {args.rules} + {scale} generated rules, {pinned}, "
        f"engine {c.engine_kind()}{', no word screen' if args.no_word_screen else ''}"
    )

    with console.status("loading and parsing documents (not timed)"):
        docs, vocab_docs = load_documents(args.items, args.vocab_items)
    n = len(docs)
    chars = sum(len(d.text) for d in docs)
    tmp = Path(tempfile.mkdtemp(prefix="watchfloor-bench-"))
    # Only as many rules as the chosen runs use (the first N rules are the same whatever the total).
    sizes = [args.rules] if any(wanted(k) for k in ("b", "b0", "c", "c0", "f")) else []
    sizes += [k for key, k in zip(scale_keys, scale, strict=True) if wanted(key) or wanted(key + "0")]
    if scale and wanted("g"):
        sizes.append(max(scale))
    with console.status("generating the rule packs (not timed)"):
        all_rules = generate_rules(vocab_docs, max(sizes), args.phrases, args.seed) if sizes else []
    runs: list[Run] = []
    if wanted("a"):
        _l, bundled = load_rules(["builtin:dprk_russia"])
        runs.append(Run("a", "(a) bundled pack", Engine(bundled), args.reps))

    def generated(key: str, label: str, k: int, reps: int, **kw: Any) -> Run:
        path = tmp / f"{key}.yaml"
        write_pack(all_rules[:k], path, **kw)
        if key == "b" and args.keep_pack:
            args.keep_pack.write_bytes(path.read_bytes())
        with console.status(f"compiling {label} (timed apart)"):
            engine, info = compile_pack(path, trace_memory=not args.no_memory, screen=not args.no_word_screen)
        return Run(key, label, engine, reps, k, info["cpu"], info["wall"], info["peak_mb"])

    if wanted("b"):
        runs.append(generated("b", f"(b) bundled + {args.rules:,} rules", args.rules, args.reps))
    if wanted("b0"):
        runs.append(generated("b0", "(b0) same, morphology exact", args.rules, args.reps, morphology="exact"))
    naive: dict[str, list[re.Pattern[str]]] = {}
    if wanted("c"):
        runs.append(Run("c", f"(c) naive re loop, {args.rules:,} rules, word forms", None, args.naive_reps, args.rules))
        naive["c"] = naive_regexes(all_rules[: args.rules], forms=True)
    if wanted("c0"):
        runs.append(Run("c0", f"(c0) naive re loop, {args.rules:,} rules, exact", None, args.naive_reps, args.rules))
        naive["c0"] = naive_regexes(all_rules[: args.rules])
    for key, k in zip(scale_keys, scale, strict=True):
        if wanted(key):
            runs.append(generated(key, f"({key}) bundled + {k:,} rules", k, args.scale_reps))
        if args.scale_exact and wanted(f"{key}0"):  # the same rules matching exact words, as the issue measured
            runs.append(generated(f"{key}0", f"({key}0) {k:,} rules, exact", k, args.scale_reps, morphology="exact"))
    if scale and wanted("f"):
        runs.append(generated("f", f"(f) selective, {args.rules:,} rules", args.rules, args.scale_reps, selective=True))
    if scale and wanted("g"):
        runs.append(generated("g", f"(g) selective, {max(scale):,} rules", max(scale), args.scale_reps, selective=True))
    if not runs:
        console.print(f"no run chosen by --only {args.only!r}")
        return 2
    console.print(
        f"{n:,} documents, {chars / n:.0f} characters each on average; {len(all_rules):,} generated rules drawn"
    )

    reps = max(r.reps for r in runs)
    with c.progress() as prog:
        for rep in range(reps):
            for run in runs:
                if rep >= run.reps:
                    continue
                task = prog.add_task(f"rep {rep + 1}/{reps} {run.label}", total=n)
                adv = lambda k, task=task: prog.advance(task, k)  # noqa: E731
                gc.collect()
                if run.engine is None:
                    t, res = c.timed(lambda adv=adv, rx=naive[run.key]: run_naive(rx, docs, adv))
                else:
                    t, res = c.timed(lambda adv=adv, e=run.engine: run_engine(e, docs, adv))
                prog.remove_task(task)
                run.times.append(t)
                run.result = res

    out: dict[str, Any] = {
        "benchmark": "engine",
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": c.machine(),
        "pinning": pinned,
        "items": n,
        "avg_chars": round(chars / n),
        "phrases_per_rule": args.phrases,
        "seed": args.seed,
        "runs": {},
    }
    for run in runs:
        walls = [t.wall for t in run.times]
        cpus = [t.cpu for t in run.times]
        entry: dict[str, Any] = {
            "label": run.label,
            "rules": run.rules,
            "reps": len(walls),
            "wall_s": walls,
            "cpu_s": cpus,
            "median_wall_s": c.median(walls),
            "median_cpu_s": c.median(cpus),
            "articles_per_s": n / c.median(walls),
            "articles_per_cpu_s": n / c.median(cpus),
            "compile_cpu_s": run.compile_cpu_s,
            "compile_wall_s": run.compile_wall_s,
            "compile_peak_mb": run.compile_peak_mb,
        }
        if run.engine is None:
            entry["doc_rule_hits"] = len(run.result)
        else:
            sig, fired, det = run.result
            entry.update(
                signals=sig,
                detections=det,
                generated_doc_rule_hits=len(fired),
                hits_per_article=len(fired) / n,
                generated_rules_that_fired=len({r for _d, r in fired}),
            )
        out["runs"][run.key] = entry
    R = out["runs"]

    def ratio(a: str, b: str) -> float | None:
        if a in R and b in R:
            return float(R[a]["articles_per_cpu_s"] / R[b]["articles_per_cpu_s"])
        return None

    def agreement(engine_key: str, naive_key: str) -> dict[str, int] | None:
        if engine_key not in R or naive_key not in R:
            return None
        engine_hits: set[tuple[str, str]] = next(r for r in runs if r.key == engine_key).result[1]
        naive_hits: set[tuple[str, str]] = next(r for r in runs if r.key == naive_key).result
        return {
            "both": len(engine_hits & naive_hits),
            "engine_only": len(engine_hits - naive_hits),
            "naive_only": len(naive_hits - engine_hits),
        }

    agreements = {"b_vs_c": agreement("b", "c"), "b0_vs_c0": agreement("b0", "c0")}
    out["agreement"] = {k: v for k, v in agreements.items() if v is not None}
    targets: dict[str, Any] = {}
    if "b" in R:
        rb = R["b"]["articles_per_s"]
        targets["b_rate"] = {"target": TARGET_RATE, "got": rb, "met": rb >= TARGET_RATE}
    if "b" in R and "c" in R:
        rv = float(R["b"]["articles_per_s"] / R["c"]["articles_per_s"])
        targets["b_over_naive"] = {
            "target": TARGET_RATIO,
            "got": rv,
            "met": rv >= TARGET_RATIO,
            "cpu": ratio("b", "c"),
        }
    for key, goal in (("d", 0.40), ("e", 0.10)):
        got = ratio(key, "b")
        if got is not None:
            targets[f"{key}_over_b"] = {"target": goal, "got": got, "met": got >= goal}
        got = ratio(key + "0", "b0")
        if got is not None:
            targets[f"{key}0_over_b0"] = {"target": goal, "got": got, "met": got >= goal}
    got = ratio("g", "f")
    if got is not None:
        targets["g_over_f"] = {"target": 0.50, "got": got, "met": got >= 0.50}
    if ratio("b", "b0") is not None:
        out["morphology_cost_b_over_b0"] = ratio("b", "b0")
    out["targets"] = targets

    from rich.table import Table

    table = Table(title=f"engine throughput, {n:,} real 2023 RSS items ({pinned}; median of reps)")
    for col in (
        "run",
        "reps",
        "articles/s",
        "articles/CPU-s",
        "hits/article",
        "signals",
        "detections",
        "compile CPU s",
        "compile peak MB",
    ):
        table.add_column(col, justify="right" if col != "run" else "left")
    for run in runs:
        e = R[run.key]
        table.add_row(
            run.label,
            str(e["reps"]),
            f"{e['articles_per_s']:,.0f}",
            f"{e['articles_per_cpu_s']:,.0f}",
            f"{e.get('hits_per_article', 0):.2f}" if run.engine else "",
            str(e.get("signals", "")),
            str(e.get("detections", e.get("doc_rule_hits", ""))),
            f"{e['compile_cpu_s']:.2f}" if run.rules and run.engine else "",
            f"{e['compile_peak_mb']:.0f}" if run.rules and run.engine and e["compile_peak_mb"] else "",
        )
    show = c.Console(width=160)
    show.print(table)
    for name, t in targets.items():
        show.print(
            f"{name}: {t['got']:,.2f} (target {t['target']}): {'met' if t['met'] else 'NOT met'}", highlight=False
        )
    if "morphology_cost_b_over_b0" in out:
        show.print(f"word forms cost: (b) runs at {out['morphology_cost_b_over_b0']:.2f}x of (b0)", highlight=False)
    if out["agreement"]:
        show.print(f"(document, rule) hits, engine vs naive: {out['agreement']}", highlight=False)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
