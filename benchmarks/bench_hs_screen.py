"""Whether Hyperscan can be the selective target's document screen: a database of the rules' atoms (each
phrase with its forms, as one expression) and, per signal, a logical combination of its required clauses
(`HS_FLAG_COMBINATION`), so that only signals that can match are reported; all in one run with the engine's
own costs on the same documents and packs as bench_engine.py's (f) and (g).

    .venv/bin/python benchmarks/bench_hs_screen.py --items 2000 --json /tmp/hs_screen.json

Per pack size (1,000 and 100,000 selective rules: each the `all` of two phrases, + the bundled pack):
  engine       Engine.process_document, CPU us per article (as bench_engine.py times (f)/(g));
  view / find  the word view, and scan.find_matches over it (the Python path's automaton pass);
  combination  compile CPU, database size (hs.dumpb), RSS added, and scan us per article over the word view
               of the database whose sub-expressions are quiet and whose combinations report the signals;
               its candidates are checked against extract._viable_signals on every article scanned
               (`superset_violations` must be 0: the expressions are right, only the speed is in question);
  atoms        the same atoms, each reported (no combinations): what a native atom pass costs with the
               Python callback per reported atom, then with extract._viable_signals on the atoms reported
               (`scan_and_viable_us`: what (g) would pay per article before sentences, outside the scan).
The budget for (g) >= 50 % of (f) is 2 x (f)'s engine time per article. Needs the `hyperscan` package
(the `fast` extra, x86_64).
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
import bench_engine as be
import hyperscan as hs

from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiled import PREFIX, AutomatonEntry, CompiledRules, WordTest
from watchfloor.stream_processors.engine.extract import _viable_signals
from watchfloor.stream_processors.engine.scan import find_matches
from watchfloor.stream_processors.engine.text import aligned_word_view
from watchfloor.stream_processors.rulefile import load_rules


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _escape(text: str) -> str:
    return re.escape(text).replace("\\ ", " ")  # words are letters and digits; spaces stay spaces


def _word(test: WordTest) -> str:
    mode, text, forms = test
    if mode == PREFIX:
        return _escape(text) + "[^ ]*"
    if len(forms) == 1:
        return _escape(next(iter(forms)))
    return "(?:" + "|".join(_escape(f) for f in sorted(forms)) + ")"


def _entry(pattern: str, e: AutomatonEntry) -> str:
    """The entry's whole phrase as a regex over the word view: exactly what find_matches finds."""
    if e.verify is None:
        return _escape(pattern)  # the automaton key: " word word " (or an open end after a '*')
    return " " + " ".join(_word(t) for t in e.verify) + ("" if e.verify[-1][0] == PREFIX else " ")


def atom_expressions(compiled: CompiledRules) -> dict[str, str]:
    """Each atom of the trigger automaton as one expression (the alternation of its entries)."""
    per_atom: dict[str, set[str]] = {}
    for key, (plain, indexed, others) in compiled.trigger.items():
        entries = list(plain) + [e for _shape, table in indexed for lst in table.values() for e in lst] + list(others)
        for e in entries:
            per_atom.setdefault(e.key, set()).add(_entry(key, e))
    return {a: (next(iter(r)) if len(r) == 1 else "(?:" + "|".join(sorted(r)) + ")") for a, r in per_atom.items()}


def build(compiled: CompiledRules, combination: bool) -> tuple[Any, list[str], dict[str, float]]:
    """The database, the signal (or atom) name of each reported id, and its compile costs."""
    rss0 = rss_mb()
    t0 = time.process_time()
    atoms = atom_expressions(compiled)
    ids = {a: i for i, a in enumerate(sorted(atoms))}
    exprs = [atoms[a].encode() for a in sorted(atoms)]
    flags = [(hs.HS_FLAG_QUIET if combination else 0) | hs.HS_FLAG_SINGLEMATCH] * len(exprs)
    names = sorted(atoms)
    if combination:
        names = sorted(n for n, clauses in compiled.requirements.items() if clauses)
        for n in names:  # every clause: one of its atoms
            clauses = compiled.requirements[n]
            exprs.append(" & ".join("(" + " | ".join(str(ids[a]) for a in sorted(cl)) + ")" for cl in clauses).encode())
            flags.append(hs.HS_FLAG_COMBINATION | hs.HS_FLAG_SINGLEMATCH)
    first = len(ids) if combination else 0
    report_ids = list(range(len(ids))) + list(range(len(ids), len(exprs)))
    t1 = time.process_time()
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(expressions=exprs, ids=report_ids, elements=len(exprs), flags=flags)
    t2 = time.process_time()
    db.scan(b" warm up the scratch ", match_event_handler=lambda *a: None)
    info = {
        "expressions": len(exprs),
        "build_expressions_cpu_s": round(t1 - t0, 2),
        "hs_compile_cpu_s": round(t2 - t1, 2),
        "db_mb": round(len(hs.dumpb(db)) / 1e6, 1),
        "rss_added_mb": round(rss_mb() - rss0, 1),
    }
    return db, ([""] * first) + names, info


def per_article(fn: Callable[[], Any], n: int, reps: int) -> float:
    times = []
    for _ in range(reps):
        gc.collect()
        t0 = time.process_time()
        fn()
        times.append((time.process_time() - t0) / n * 1e6)
    return round(c.median(times), 2)


def measure(pack: Path, docs: list[Any], reps: int, comb_items: int) -> dict[str, Any]:
    _loaded, compiled = load_rules(["builtin:dprk_russia", str(pack)])
    engine = Engine(compiled)
    views: list[tuple[str, list[str], bytes]] = []
    for d in docs:
        v, _aligned = aligned_word_view(d.text)
        words = v.split()
        norm = " " + " ".join(words) + " "
        views.append((norm, words, norm.encode()))
    n = len(docs)
    out: dict[str, Any] = {"automaton_keys": len(compiled.trigger)}
    out["engine_us"] = per_article(lambda: be.run_engine(engine, docs), n, reps)

    def view() -> None:
        for d in docs:
            v, _a = aligned_word_view(d.text)
            " " + " ".join(v.split()) + " "

    out["view_us"] = per_article(view, n, reps)
    out["find_us"] = per_article(lambda: [find_matches(compiled.trigger, v, w) for v, w, _b in views], n, reps)
    reported: list[int] = []

    def on_match(i: int, _from: int, _to: int, _flags: int, _ctx: Any) -> None:
        reported.append(i)

    for variant in ("combination", "atoms"):
        db, names, info = build(compiled, variant == "combination")
        sample = views[:comb_items] if variant == "combination" else views
        reported.clear()

        def scan(db: Any = db, sample: list[tuple[str, list[str], bytes]] = sample) -> None:
            for _v, _w, data in sample:
                db.scan(data, match_event_handler=on_match)

        info["articles_scanned"] = len(sample)
        info["scan_us"] = per_article(scan, len(sample), reps)
        info["reports_per_article"] = round(len(reported) / reps / len(sample), 2)
        if variant == "atoms":  # the Python viability test on what the atoms database reported
            info["scan_and_viable_us"] = per_article(
                lambda db=db, names=names: _atoms_then_viable(db, names, compiled, views), len(views), reps
            )
        if variant == "combination":
            violations = candidates = viable_docs = 0
            for norm, words, data in sample:
                reported.clear()
                db.scan(data, match_event_handler=on_match)
                got = {names[i] for i in reported}
                found = find_matches(compiled.trigger, norm, words)
                viable = (
                    _viable_signals(compiled, {e.key for e, _f, _l in found}, norm, words, set()) if found else set()
                )
                violations += not viable <= got
                candidates += bool(got)
                viable_docs += bool(viable)
            info.update(superset_violations=violations, candidate_docs=candidates, viable_docs=viable_docs)
        out[variant] = info
        del db
        gc.collect()
    return out


def _atoms_then_viable(db: Any, names: list[str], compiled: CompiledRules, views: list[Any]) -> None:
    present: set[str] = set()
    add = present.add

    def on_atom(i: int, _from: int, _to: int, _flags: int, _ctx: Any) -> None:
        add(names[i])

    for norm, words, data in views:
        present.clear()
        db.scan(data, match_event_handler=on_atom)
        if present:
            _viable_signals(compiled, present, norm, words, set())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--comb-items", type=int, default=300, help="articles the combination database scans")
    ap.add_argument("--rules", default="1000,100000", help="the two pack sizes: (f), (g)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.rules.split(",")]
    with c.console.status("loading documents and generating rules (not timed)"):
        docs, vocab_docs = be.load_documents(args.items, 20_000)
        rules = be.generate_rules(vocab_docs, max(sizes), 4, args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="watchfloor-hs-"))
    results: dict[str, Any] = {"items": len(docs), "engine": c.engine_kind(), "machine": c.machine()}
    for key, k in zip("fg", sizes, strict=True):
        path = tmp / f"{key}.json"
        be.write_pack(rules[:k], path, selective=True)
        with c.console.status(f"({key}) {k:,} selective rules: compiling and measuring"):
            results[key] = {"rules": k, **measure(path, docs, args.reps, args.comb_items)}
        c.console.print(f"({key}) {k:,} rules: {json.dumps(results[key])}")
    f, g = results["f"], results["g"]
    budget = 2 * f["engine_us"]
    results["budget_us"] = round(budget, 2)
    for variant in ("combination", "atoms"):
        floor = g["view_us"] + g[variant].get("scan_and_viable_us", g[variant]["scan_us"])
        results[f"g_{variant}_floor_us"] = round(floor, 2)
        what = "view + scan + viability" if variant == "atoms" else "view + scan"
        c.console.print(
            f"(g) with the {variant} database: {what} = {floor:.1f} us/article against a budget of "
            f"{budget:.1f} ((f)'s engine {f['engine_us']:.1f}, (g)'s {g['engine_us']:.1f}): "
            f"{'over' if floor > budget else 'under'} the budget; compile {g[variant]['hs_compile_cpu_s']} s"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
