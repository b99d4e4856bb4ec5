"""Backtest speed over ALL real 2023 RSS items next to the time to just parse them, in the same run;
plus the alerts the bundled pack fires on that year (a false-positive check: 2023 had a Kim-Putin
summit but no DPRK-Russia treaty and no North Korean troops in Russia).

    .venv/bin/python benchmarks/bench_backtest.py                # pinned to CPU 0, 3 repetitions
    .venv/bin/python benchmarks/bench_backtest.py --reps 5 --json results.json

The 171,112 items of ../shared/data/news_rss_2023 are first prepared once into our input JSON Lines
format (one file per feed, cached outside the repo; not timed). Then, each repetition:
  parse-only: read the prepared files line by line and orjson.loads each line;
  backtest:   what `watchfloor backtest FILES` does: watchfloor.backtest.iter_events streams every file
              (read in blocks, check every record against the input contract, dead-letter bad ones;
              the rules' JSON line gate reduces the lines they cannot match to their event time) into
              the event-time ordering (stream_processors.external_sort; at this size one in-memory run),
              then the replay of the ordered stream through a fresh engine of the bundled pack (builds,
              extracts and correlates every document a rule can match, moves event time forward for
              every other one), collecting near misses;
  scored:     the same with `--labels --label-map`: the 1,137 weak labels of 2023 (by URL) join the line
              gate, labelled documents are noted as they stream past, and the run is scored.
Loading and compiling the rule pack is timed separately and not counted. Targets: backtest within 3x
of parse-only (and within 10% of the ratio in BENCHMARKS.md); scoring adds at most 10% to the backtest.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from watchfloor.backtest import (
    ReadReport,
    at_effective_time,
    bulk_load,
    iter_event_blocks,
    run_backtest,
)
from watchfloor.backtest_order import OrderedInputs
from watchfloor.evaluation import Truth, assemble
from watchfloor.producers.jsonl import read_jsonl, read_jsonl_blocks
from watchfloor.schemas.events import DeadLetter, Detection, Document, Signal
from watchfloor.scoring.near_misses import NearMissCollector
from watchfloor.stream_processors.engine import CompiledRules, Engine
from watchfloor.stream_processors.engine.compiler import JsonLineGate
from watchfloor.stream_processors.replay import replay
from watchfloor.stream_processors.rulefile import load_rules

RECEIVED_AT = datetime.now(UTC)  # `watchfloor backtest FILES` stamps its files as received when it runs
TARGET_RATIO = 3.0
SCORING_TARGET = 1.10  # scoring adds at most 10% (issue 13)
SUMMIT = ("2023-09-10", "2023-09-19")  # Kim Jong-un's trip to Russia, 10-18 Sep 2023 (dates, UTC)


def parse_only(paths: list[Path], prog: Any) -> int:
    task = prog.add_task("parse-only (read + orjson.loads)", total=len(paths))
    loads = orjson.loads
    n = 0
    for p in paths:
        with open(p, "rb") as f:
            for line in f:
                loads(line)
                n += 1
        prog.advance(task)
    prog.remove_task(task)
    return n


def backtest(
    paths: list[Path], rules: CompiledRules, gate: JsonLineGate | None, prog: Any, truth: Truth | None = None
) -> tuple[dict[str, float], Any, ReadReport, Any]:
    """What `watchfloor backtest FILES [--labels ... --label-map ...]` does: stream every file (read in
    blocks, check every record, the rules' JSON line gate reduces the lines no rule can match to their
    event time) into the event-time ordering (the external sort; no spill at this size), then replay the
    ordered stream through a fresh engine collecting near misses; with `truth`, label ids join the gate,
    labelled documents are noted as they pass, and the run is scored. Returns the split of the time, the
    replay result, the read report (dead letters, repeats) and the evaluated result (scores) or None."""
    files = [str(p) for p in paths]
    report = ReadReport()
    tap = truth.tap() if truth is not None else None
    # One gate per run, compiled before the first block as `watchfloor backtest` does (a gate compiles at its
    # first scan): the rules' words, plus a word of every label key when scoring (one compile either way).
    words = sorted({*gate.words, *(tap.gate_words if tap is not None else ())}) if gate is not None else None

    def compile_gate() -> JsonLineGate | None:
        if words is None:
            return None
        g = JsonLineGate(words, scanner=gate.scanner)  # type: ignore[union-attr]
        g.hits(b"")
        return g

    t_gate, run_gate = c.timed(compile_gate)
    ordered = OrderedInputs("event-time")
    task = prog.add_task("backtest: read + validate + order", total=sum(p.stat().st_size for p in paths))
    skew = Engine(rules).skew  # the default config's, as the command's engine has it
    t_read, _ = c.timed(
        lambda: ordered.feed(
            at_effective_time(  # as the command: a document dated past its receive time sorts at that time
                iter_event_blocks(
                    files, report=report, gate=run_gate, tap=tap, on_bytes=lambda n: prog.advance(task, n)
                ),
                RECEIVED_AT.timestamp(),
                skew,
            )
        )
    )
    prog.remove_task(task)
    collector = NearMissCollector(rules, limit=4000)
    task = prog.add_task("backtest: replay (engine)", total=ordered.count)
    t_replay, result = c.timed(
        lambda: run_backtest(
            ordered,
            rules,
            order="log",
            on_documents=lambda n: prog.advance(task, n),
            on_outputs=collector.on_outputs,
            received_at=RECEIVED_AT,  # as the command: the files count as received when it runs
        )
    )
    prog.remove_task(task)
    ordered.close()

    def evaluate() -> Any:
        if truth is not None:
            truth.check_seen(tap)
        return assemble(result, report, ["bench"], collector=collector, truth=truth)

    t_eval, evaluated = c.timed(evaluate)
    return (
        {
            "gate_wall": t_gate.wall,
            "gate_cpu": t_gate.cpu,
            "read_validate_wall": t_read.wall,
            "read_validate_cpu": t_read.cpu,
            "replay_wall": t_replay.wall,
            "replay_cpu": t_replay.cpu,
            "evaluate_wall": t_eval.wall,
        },
        result,
        report,
        evaluated,
    )


def list_path(paths: list[Path], rules: CompiledRules, gate: JsonLineGate | None) -> tuple[int, int]:
    """The in-memory path as it was before backtests streamed (the same-run baseline of the streamed one):
    every file's blocks into one list, then replay(order="event-time"), which sorts it by time alone. The
    documents replayed and the dead letters: this path does not leave out the repeats of an id, which the
    streamed one does as the live ingest does (already seen, or a dead letter with other content)."""
    words = sorted(gate.words) if gate is not None else None
    run_gate = JsonLineGate(words, scanner=gate.scanner) if gate is not None and words is not None else None
    docs: list[Any] = []
    dead_letters = 0
    with bulk_load():
        for p in paths:
            for block, dead in read_jsonl_blocks(p, checked=True, gate=run_gate):
                dead_letters += dead
                if dead:
                    docs.extend(x for x in block if not isinstance(x, DeadLetter))
                else:
                    docs.extend(block)
        return replay(docs, Engine(rules), order="event-time").documents, dead_letters


def weak_truth(rules: CompiledRules) -> Truth | None:
    """Labels for the scored run: the 1,137 North Korea items of the weak-label file (by their link, which
    is the prepared items' url), labelled DPRK_MENTION, or DPRK_RUSSIA_MENTION when Russia is mentioned
    too; the label map sends the second to the treaty and troop rules. Weak labels (regex hits), so the
    scores mean little; what is measured is what scoring costs. Written to the cache (not timed)."""
    src = c.rss2023_dir() / "rss2023_dprk_keyword_hits_weaklabels.csv"
    if not src.exists():
        return None
    out = c.cache_dir() / "weaklabels"
    out.mkdir(exist_ok=True)
    labels, lmap = out / "labels.csv", out / "label_map.yaml"
    with open(src, encoding="utf-8") as f, open(labels, "w", encoding="utf-8", newline="") as g:
        w = csv.writer(g)
        w.writerow(["id", "label"])
        for row in csv.DictReader(f):
            both = row["russia_also_mentioned"].strip().lower() == "true"
            w.writerow([row["link"], "DPRK_RUSSIA_MENTION" if both else "DPRK_MENTION"])
    rule_ids = [d.id for d in rules.detections]
    lmap.write_text("DPRK_RUSSIA_MENTION: [" + ", ".join(rule_ids) + "]\n", encoding="utf-8")
    return Truth.load(labels, lmap, None, rules)


def end_to_end(paths: list[Path], spec: str, reps: int, cpu: int) -> dict[str, Any]:
    """`watchfloor backtest FILES --json OUT` as a user runs it (a fresh process: start-up, rules, read,
    replay, outputs), against the same with `--labels --label-map` (the weak labels), alternating, each
    pinned like the rest; CPU time from wait4. Returns both medians and the per-pair ratios."""
    weak = c.cache_dir() / "weaklabels"
    files = [str(p) for p in paths]
    times: dict[str, list[float]] = {"plain": [], "scored": []}
    with tempfile.TemporaryDirectory(prefix="wf-e2e-") as tmp:
        for _rep in range(reps):
            for name in ("plain", "scored"):
                cmd = [
                    sys.executable,
                    "-m",
                    "watchfloor",
                    "backtest",
                    *files,
                    "--rules",
                    spec,
                    "--json",
                    f"{tmp}/o.json",
                ]
                if name == "scored":
                    cmd += ["--labels", str(weak / "labels.csv"), "--label-map", str(weak / "label_map.yaml")]
                with tempfile.TemporaryFile() as sink:
                    proc = subprocess.Popen(cmd, stdout=sink, stderr=sink)
                    if cpu >= 0:
                        os.sched_setaffinity(proc.pid, {cpu})
                    _pid, status, usage = os.wait4(proc.pid, 0)
                if os.waitstatus_to_exitcode(status) != 0:
                    raise SystemExit(f"end-to-end {name} run failed: {' '.join(cmd[:6])} …")
                times[name].append(usage.ru_utime + usage.ru_stime)
    ratios = [s / p for s, p in zip(times["scored"], times["plain"], strict=True)]
    return {
        "plain_cpu": c.median(times["plain"]),
        "scored_cpu": c.median(times["scored"]),
        "ratios": ratios,
        "median_ratio": c.median(ratios),
        "runs": times,
    }


def summit_signals(paths: list[Path], engine: Engine) -> list[dict[str, Any]]:
    """Every signal of the bundled pack in the summit window (whether or not an alert fired)."""
    out = []
    docs = [d for p in paths for d in read_jsonl(p) if isinstance(d, Document)]
    docs.sort(key=lambda d: d.published_at)
    for d in docs:
        if not (SUMMIT[0] <= d.published_at.date().isoformat() < SUMMIT[1]):
            continue
        for o in engine.extract(d):
            if isinstance(o, Signal):
                out.append(
                    {
                        "published_at": o.published_at.isoformat(),
                        "source": o.source,
                        "signal": o.name,
                        "modality": o.modality,
                        "cue": o.cue,
                        "captures": dict(o.captures),
                        "sentence": o.sentence,
                    }
                )
    return out


def weak_label_burst() -> dict[str, Any] | None:
    """Counts (facts only) from the weak-label file: North Korea items per day around the summit."""
    path = c.rss2023_dir() / "rss2023_dprk_keyword_hits_weaklabels.csv"
    if not path.exists():
        return None
    per_day: Counter[str] = Counter()
    total = 0
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            total += 1
            day = row["date_published"][:10]
            if SUMMIT[0] <= day < SUMMIT[1]:
                per_day[day] += 1
    return {"total": total, "summit_window": sum(per_day.values()), "per_day": dict(sorted(per_day.items()))}


def alert_json(d: Detection) -> dict[str, Any]:
    return {
        "rule": d.rule,
        "title": d.title,
        "severity": d.severity,
        "confidence": d.confidence,
        "fired_at": d.fired_at.isoformat(),
        "group": dict(d.group),
        "attributes": dict(d.attributes),
        "evidence": [
            {
                "published_at": e.published_at.isoformat(),
                "source": e.source,
                "signal": e.signal,
                "modality": e.modality,
                "url": e.url,
                "sentence": e.sentence,
            }
            for e in d.evidence
        ],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3, help="repetitions (median reported)")
    ap.add_argument("--rules", default="builtin:dprk_russia", help="rule pack spec (default: the bundled pack)")
    ap.add_argument("--cpu", type=int, default=0, help="pin to this CPU (-1: do not pin)")
    ap.add_argument("--json", type=Path, help="also write the results (with the alert list) as JSON here")
    ap.add_argument(
        "--scanner",
        choices=["auto", "re2", "hyperscan"],
        default="auto",
        help="how the JSON line gate scans (auto: hyperscan when installed, else re2)",
    )
    ap.add_argument("--no-scoring", action="store_true", help="skip the scored variants")
    ap.add_argument("--e2e-reps", type=int, default=5, help="end-to-end CLI pairs (plain, scored); 0: none")
    args = ap.parse_args(argv)

    pinned = c.pin_to_core(args.cpu)
    console = c.console
    console.print(f"[bold]bench_backtest[/bold]: all of news_rss_2023, {args.reps} repetitions, {pinned}")
    paths = c.prepared_rss2023()
    size = sum(p.stat().st_size for p in paths)
    t_rules, (_loaded, compiled) = c.timed(lambda: load_rules([args.rules]))
    gate = compiled.json_gate
    if gate is not None and args.scanner != "auto":
        gate = JsonLineGate(list(gate.words), scanner=args.scanner)
    scanner = gate.scanner if gate is not None else "none (the rules cannot be gated)"

    runs: list[dict[str, float]] = []
    result = None
    evaluated = None
    dead = 0
    n_parsed = 0
    truth_for_run = weak_truth(compiled) if not args.no_scoring else None
    with c.progress() as prog:
        for rep in range(args.reps):
            rep_task = prog.add_task(f"repetition {rep + 1}/{args.reps}", total=3)
            gc.collect()
            t_parse, n_parsed = c.timed(lambda: parse_only(paths, prog))
            prog.advance(rep_task)
            gc.collect()
            t_bt, (split, result, report, _ev) = c.timed(lambda: backtest(paths, compiled, gate, prog))
            dead = report.dead_count
            prog.advance(rep_task)
            row = {
                "parse_wall": t_parse.wall,
                "parse_cpu": t_parse.cpu,
                "backtest_wall": t_bt.wall,
                "backtest_cpu": t_bt.cpu,
                **split,
            }
            if truth_for_run is not None:
                gc.collect()
                truth = weak_truth(compiled)  # fresh: check_seen rewrites it
                t_sc, (split_sc, _res, _dead, evaluated) = c.timed(
                    lambda truth=truth: backtest(paths, compiled, gate, prog, truth)
                )
                row |= {"scored_wall": t_sc.wall, "scored_cpu": t_sc.cpu}
                row |= {f"scored_{k}": v for k, v in split_sc.items()}
            gc.collect()
            t_list, (list_docs, list_dead) = c.timed(lambda: list_path(paths, compiled, gate))
            assert list_docs == result.documents + report.already_seen + (report.dead_count - list_dead)
            row |= {"list_path_wall": t_list.wall, "list_path_cpu": t_list.cpu}
            prog.advance(rep_task)
            prog.remove_task(rep_task)
            runs.append(row)
    assert result is not None
    result_docs = result.documents

    def med(key: str) -> float:
        return c.median([r[key] for r in runs])

    parse_w, bt_w = med("parse_wall"), med("backtest_wall")
    ratio = bt_w / parse_w
    out: dict[str, Any] = {
        "benchmark": "backtest",
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": c.machine(),
        "pinning": pinned,
        "rules": args.rules,
        "gate_scanner": scanner,
        "lines": n_parsed,
        "documents": result_docs,
        "dead_letters": dead,
        "prepared_mb": round(size / 1e6, 1),
        "rules_load_s": t_rules.wall,
        "runs": runs,
        "median": {k: med(k) for k in runs[0]},
        "ratio_backtest_over_parse": ratio,
        "ratio_backtest_over_parse_cpu": med("backtest_cpu") / med("parse_cpu"),
        # As measured before gates compiled at their first scan (the compile was part of loading the rules).
        "ratio_without_gate_compile_cpu": (med("backtest_cpu") - med("gate_cpu")) / med("parse_cpu"),
        "target": {"max_ratio": TARGET_RATIO, "met": ratio <= TARGET_RATIO},
        "signals": result.signals,
        "near_misses": (evaluated.data["stats"].get("near_misses") if evaluated is not None else None),
        "signals_by_name": dict(sorted(result.signals_by_name.items())),
        "late_signals": len(result.late),
        "alerts": [alert_json(d) for d in result.detections],
    }
    with console.status("listing the bundled pack's signals in the summit window (not timed)"):
        out["summit_window"] = {
            "dates": list(SUMMIT),
            "signals": summit_signals(paths, Engine(compiled)),
            "weak_labels": weak_label_burst(),
        }

    from rich.table import Table

    show = c.Console(width=150)
    m = out["median"]
    table = Table(
        title=f"backtest of {result_docs:,} real 2023 RSS items ({pinned}; median of {args.reps}; line gate: {scanner})"
    )
    for col in ("step", "median wall s", "median CPU s", "items/s"):
        table.add_column(col, justify="left" if col == "step" else "right")
    table.add_row(
        "parse-only (baseline): read + orjson.loads",
        f"{m['parse_wall']:.2f}",
        f"{m['parse_cpu']:.2f}",
        f"{n_parsed / m['parse_wall']:,.0f}",
    )
    table.add_row(
        "  backtest: compile the line gate (once per run)",
        f"{m['gate_wall']:.2f}",
        f"{m['gate_cpu']:.2f}",
        "",
    )
    table.add_row(
        "  backtest: read + validate + order (iter_events, external sort in memory)",
        f"{m['read_validate_wall']:.2f}",
        f"{m['read_validate_cpu']:.2f}",
        f"{result_docs / m['read_validate_wall']:,.0f}",
    )
    table.add_row(
        "  backtest: replay (engine, near misses)",
        f"{m['replay_wall']:.2f}",
        f"{m['replay_cpu']:.2f}",
        f"{result_docs / m['replay_wall']:,.0f}",
    )
    table.add_row(
        "backtest total",
        f"{m['backtest_wall']:.2f}",
        f"{m['backtest_cpu']:.2f}",
        f"{result_docs / m['backtest_wall']:,.0f}",
    )
    table.add_row(
        "baseline: the in-memory path of before (blocks into a list, replay sorts)",
        f"{m['list_path_wall']:.2f}",
        f"{m['list_path_cpu']:.2f}",
        f"{result_docs / m['list_path_wall']:,.0f}",
    )
    lp = [r["backtest_cpu"] / r["list_path_cpu"] for r in runs]
    out["streamed_over_list_path_cpu"] = {"median": c.median(lp), "ratios": lp}
    if "scored_wall" in m:
        table.add_row(
            "backtest with scoring (labels in the gate, tap, scores)",
            f"{m['scored_wall']:.2f}",
            f"{m['scored_cpu']:.2f}",
            f"{result_docs / m['scored_wall']:,.0f}",
        )
        sc = [r["scored_wall"] / r["backtest_wall"] for r in runs]
        out["scoring_overhead"] = {
            "median_ratio": c.median(sc),
            "ratios": sc,
            "target_max": SCORING_TARGET,
            "met": c.median(sc) <= SCORING_TARGET,
            "labels": len(truth_for_run.labels.items) if truth_for_run and truth_for_run.labels else 0,
        }
        if evaluated is not None and evaluated.scores is not None:
            out["scores_overall"] = evaluated.scores.overall.to_json()
            out["labelled_items_seen"] = len(evaluated.scores.outcomes)
    show.print(table)
    show.print(
        f"streamed backtest / in-memory path (same repetitions, CPU): [bold]{c.median(lp):.3f}x[/bold] "
        f"({', '.join(f'{r:.3f}' for r in lp)})",
        highlight=False,
    )
    if truth_for_run is not None and args.e2e_reps:
        with console.status(f"end to end: {args.e2e_reps} pairs of `watchfloor backtest` runs, plain and scored"):
            out["scoring_overhead_end_to_end"] = end_to_end(paths, args.rules, args.e2e_reps, args.cpu)
        e2e = out["scoring_overhead_end_to_end"]
        show.print(
            f"end to end (`watchfloor backtest FILES --json`, a process each): plain {e2e['plain_cpu']:.2f} s CPU, "
            f"with --labels {e2e['scored_cpu']:.2f} s: [bold]{e2e['median_ratio']:.3f}x[/bold] median "
            f"({', '.join(f'{r:.3f}' for r in e2e['ratios'])})",
            highlight=False,
        )
    if "scoring_overhead" in out:
        so = out["scoring_overhead"]
        show.print(
            f"scoring / plain backtest (same repetitions): [bold]{so['median_ratio']:.3f}x[/bold] median "
            f"({', '.join(f'{r:.3f}' for r in so['ratios'])}); target <= {SCORING_TARGET:.2f}x: "
            f"{'met' if so['met'] else 'NOT met'}; {so['labels']:,} labels",
            highlight=False,
        )
    show.print(
        f"ratio backtest / parse-only: [bold]{ratio:.1f}x[/bold] wall, {out['ratio_backtest_over_parse_cpu']:.1f}x "
        f"CPU ({out['ratio_without_gate_compile_cpu']:.1f}x without the gate's compile) "
        f"(target <= {TARGET_RATIO:.0f}x: {'met' if out['target']['met'] else 'NOT met'}); "
        f"rules loaded in {t_rules.wall:.2f}s (not counted)",
        highlight=False,
    )
    alerts = Table(
        title=f"{len(result.detections)} alerts on 2023 ({result.signals} signals: "
        f"{', '.join(f'{k} {v}' for k, v in out['signals_by_name'].items())})"
    )
    for col in ("fired at (event time)", "rule", "severity", "source", "evidence (first)"):
        alerts.add_column(col, overflow="fold")
    for a in out["alerts"]:
        ev = a["evidence"][0]
        alerts.add_row(a["fired_at"][:16], a["rule"], a["severity"], ev["source"], ev["sentence"][:160])
    show.print(alerts)
    sw = out["summit_window"]
    treaty = [s for s in sw["signals"] if s["signal"].startswith(("treaty", "ratification"))]
    wl = sw["weak_labels"]
    show.print(
        f"summit window {SUMMIT[0]}..{SUMMIT[1]} (exclusive): "
        + (f"{wl['summit_window']} of the {wl['total']} North Korea items (weak labels); " if wl else "")
        + f"{len(sw['signals'])} signals of the bundled pack, {len(treaty)} of them treaty signals "
        + "("
        + ", ".join(f"{s['signal']} {s['modality']}" for s in treaty)
        + "); treaty alerts in the window: "
        + str(
            sum(
                1
                for a in out["alerts"]
                if a["rule"].startswith(("treaty", "ratification")) and SUMMIT[0] <= a["fired_at"][:10] < SUMMIT[1]
            )
        ),
        highlight=False,
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
