"""Morphology for rule phrases, measured: Snowball stems (PyStemmer) against dictionary forms (lemminflect for
English, pymorphy3 for Russian), on the words of real news: the 2023 English RSS corpus and the 2024 Russian
Channel One items.

    .venv/bin/python benchmarks/bench_morphology.py --json /tmp/morphology.json

For each corpus, over its distinct alphabetic words (those seen at least --min-count times):
  - inflection pairs: two distinct corpus words that the dictionary gives as forms of one lemma
    ("ratify"/"ratified", "России"/"Россией"). Recall of a method: the share of these pairs it puts together
    (Snowball: the same stem; forms: one word among the other's forms);
  - conflations: two distinct corpus words a method puts together that the dictionary does not give as forms
    of one lemma (Snowball: "presidency"/"president", "nationals"/"nation"). Reported per method, with
    examples, as a share of the pairs it puts together;
  - speed: Snowball stems per second over the corpus's tokens (what matching by stems pays per document),
    and the forms' cost at compile time per distinct word (matching by forms pays nothing per document).
The dictionary is the reference for what an inflected form is; where it does not know a word (names),
neither method is scored on it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
import Stemmer

from watchfloor.stream_processors.engine.morphology import _analyzer, word_forms
from watchfloor.stream_processors.engine.text import tokens


def corpus_words(paths: list[Path], fields: tuple[str, ...]) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    n_tokens = 0
    for p in paths:
        with gzip.open(p, "rt", encoding="utf-8") as f:
            for line in f:
                obj = json.loads(line)
                for k in fields:
                    toks = tokens(str(obj.get(k) or ""))
                    n_tokens += len(toks)
                    counts.update(t for t in toks if t.isalpha())
    return counts, n_tokens


def lemmas_en(word: str) -> set[str]:
    from watchfloor.stream_processors.engine.morphology import _en_tables

    ld, lo, _i, _io, _t = _en_tables()
    got = {**ld.get(word, {}), **lo.get(word, {})}
    return {lemma.lower() for pos, ls in got.items() if pos != "AUX" for lemma in ls}


def lemmas_ru(word: str) -> set[str]:
    return {p.normal_form.replace("ё", "е") for p in _analyzer().parse(word) if p.is_known}


def measure(language: str, counts: Counter[str], n_tokens: int, min_count: int) -> dict[str, Any]:
    words = sorted(w for w, n in counts.items() if n >= min_count)
    stemmer = Stemmer.Stemmer("english" if language == "en" else "russian")
    lemma_of = lemmas_en if language == "en" else lemmas_ru
    lemmas = {w: lemma_of(w) for w in words}
    known = [w for w in words if lemmas[w]]
    # Truth: pairs of distinct known words sharing a lemma.
    by_lemma: dict[str, list[str]] = defaultdict(list)
    for w in known:
        for lemma in lemmas[w]:
            by_lemma[lemma].append(w)
    truth: set[tuple[str, str]] = set()
    for group in by_lemma.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                truth.add((min(a, b), max(a, b)))
    # Snowball: pairs of known words with one stem.
    t0 = time.process_time()
    stems = {w: stemmer.stemWord(w) for w in known}
    by_stem: dict[str, list[str]] = defaultdict(list)
    for w in known:
        by_stem[stems[w]].append(w)
    snowball: set[tuple[str, str]] = set()
    for group in by_stem.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                snowball.add((min(a, b), max(a, b)))
    # Forms: pairs where one word is among the other's forms.
    t1 = time.process_time()
    forms = {w: word_forms(language, w) for w in known}
    forms_seconds = time.process_time() - t1
    known_set = set(known)
    by_forms: set[tuple[str, str]] = set()
    for w in known:
        for f in forms[w] & known_set:
            if f != w:
                by_forms.add((min(w, f), max(w, f)))
    # Stemming speed over the corpus's tokens, as matching by stems would pay per document.
    sample = [w for w, n in counts.most_common() for _ in range(min(n, 50))][:500_000]
    fresh = Stemmer.Stemmer("english" if language == "en" else "russian")
    fresh.maxCacheSize = 0
    t2 = time.process_time()
    fresh.stemWords(sample)
    stem_rate = len(sample) / max(time.process_time() - t2, 1e-9)
    del t0

    def score(pairs: set[tuple[str, str]]) -> dict[str, Any]:
        right = pairs & truth
        wrong = sorted(pairs - truth, key=lambda p: -(counts[p[0]] + counts[p[1]]))
        return {
            "pairs": len(pairs),
            "recall": len(right) / len(truth) if truth else 0.0,
            "conflations": len(wrong),
            "conflation_share": len(wrong) / len(pairs) if pairs else 0.0,
            "examples": [f"{a} ~ {b}" for a, b in wrong[:12]],
        }

    return {
        "language": language,
        "tokens": n_tokens,
        "distinct_words": len(words),
        "known_words": len(known),
        "inflection_pairs": len(truth),
        "snowball": score(snowball),
        "forms": score(by_forms),
        "snowball_stems_per_cpu_s": stem_rate,
        "forms_compile_us_per_word": forms_seconds / max(len(known), 1) * 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--min-count", type=int, default=3, help="words seen at least this often")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--cpu", type=int, default=0)
    args = ap.parse_args(argv)
    pinned = c.pin_to_core(args.cpu)
    ru_path = c.data_dir() / "ru_1tv_2024" / "1tv_2024.jsonl.gz"
    c.require(ru_path, "the Russian corpus (ru_1tv_2024/1tv_2024.jsonl.gz)")
    results = []
    with c.console.status("reading corpora (not timed)"):
        en_counts, en_tokens = corpus_words(c.rss2023_files(), ("title", "description"))
        ru_counts, ru_tokens = corpus_words([ru_path], ("title", "body"))
    for lang, counts, n in (("en", en_counts, en_tokens), ("ru", ru_counts, ru_tokens)):
        with c.console.status(f"measuring {lang}"):
            results.append(measure(lang, counts, n, args.min_count))
    from rich.table import Table

    table = Table(title=f"phrase morphology on real news ({pinned}); truth: the dictionary's inflections")
    for col in ("corpus", "words", "inflection pairs", "method", "recall", "conflations", "share wrong"):
        table.add_column(col, justify="left" if col in ("corpus", "method") else "right")
    for r in results:
        for method in ("snowball", "forms"):
            s = r[method]
            table.add_row(
                "English 2023 RSS" if r["language"] == "en" else "Russian 1tv 2024",
                f"{r['known_words']:,}",
                f"{r['inflection_pairs']:,}",
                method,
                f"{s['recall']:.1%}",
                f"{s['conflations']:,}",
                f"{s['conflation_share']:.1%}",
            )
    show = c.Console(width=150)
    show.print(table)
    for r in results:
        show.print(
            f"{r['language']}: Snowball stems {r['snowball_stems_per_cpu_s']:,.0f} tokens/CPU-s (paid per document); "
            f"forms {r['forms_compile_us_per_word']:.0f} µs per distinct word (paid once, at compile). "
            f"Snowball conflations, most frequent: {'; '.join(r['snowball']['examples'][:8])}",
            highlight=False,
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"benchmark": "morphology", "machine": c.machine(), "results": results}, indent=2, ensure_ascii=False
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
