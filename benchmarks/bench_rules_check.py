"""`watchfloor rules check` on big packs: 5,000 and 20,000 signals x 20 phrases, as YAML and as JSON.

    .venv/bin/python benchmarks/bench_rules_check.py --json /tmp/rules_check.json

Each pack has one signal per rule (`any` of 20 phrases drawn from the vocabulary of real 2023 news, as
benchmarks/bench_engine.py draws them) and one `any` detection per signal, `version: 2` (phrases match
their inflected forms). Timed, per pack and format, in the same run:
  - parse only: reading the file's data (ruamel's C parser for YAML, orjson for JSON): the baseline;
  - check: `load_rules` = what `watchfloor rules check` does (parse, validate, compile every phrase's forms
    into the automata, the warnings) — target: <= 10 s for 20,000 x 20.
Compile time includes loading the English lemma dictionary once (lemminflect).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
import bench_engine as be

TARGET_SECONDS = 10.0


def write_yaml(rules: list[list[str]], path: Path) -> None:
    """The same pack as bench_engine.write_pack, in block-style YAML as a person writes it."""
    out = io.StringIO()
    out.write("version: 2\nname: generated\nsignals:\n")
    for i, phrases in enumerate(rules):
        out.write(f"  {be.GEN_PREFIX}{i:06d}:\n    match:\n      any: [{', '.join(json.dumps(p) for p in phrases)}]\n")
    out.write("detections:\n")
    for i in range(len(rules)):
        out.write(
            f"  - id: gen-{i:06d}\n    title: generated rule {i}\n    severity: low\n"
            f"    pattern: {{any: {be.GEN_PREFIX}{i:06d}}}\n"
        )
    path.write_text(out.getvalue(), encoding="utf-8")


_CHILD = """
import json, sys, time, resource
mode, path = sys.argv[1], sys.argv[2]
w, c = time.perf_counter(), time.process_time()
if mode == "parse":
    text = open(path, encoding="utf-8").read()
    from watchfloor.stream_processors.rulefile import _load_data
    _load_data(text)
else:
    from watchfloor.stream_processors.rulefile import load_rules, warning_problems
    loaded, compiled = load_rules([path])
    warning_problems(loaded, compiled)
print(json.dumps({"wall": time.perf_counter() - w, "cpu": time.process_time() - c,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(mode: str, path: Path, cpu: int) -> dict[str, float]:
    """A fresh process per measurement, as `watchfloor rules check` runs (nothing cached)."""
    cmd = [sys.executable, "-c", _CHILD, mode, str(path)]
    if cpu >= 0:
        cmd = ["taskset", "-c", str(cpu), *cmd]
    got = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(got.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="5000,20000", help="signals per pack")
    ap.add_argument("--phrases", type=int, default=20)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument("--cpu", type=int, default=0, help="pin the measured processes to this CPU (-1: do not)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    with c.console.status("drawing the vocabulary (not timed)"):
        _docs, vocab = be.load_documents(1000, 40_000)
    tmp = Path(tempfile.mkdtemp(prefix="watchfloor-check-"))
    results: list[dict[str, Any]] = []
    with c.progress() as prog:
        task = prog.add_task("packs", total=len(sizes) * 2 * args.reps)
        for n in sizes:
            rules = be.generate_rules(vocab, n, args.phrases, args.seed)
            paths = {"yaml": tmp / f"p{n}.yaml", "json": tmp / f"p{n}.json"}
            write_yaml(rules, paths["yaml"])
            be.write_pack(rules, paths["json"])
            for fmt, path in paths.items():
                runs: dict[str, list[dict[str, float]]] = {"parse": [], "check": []}
                for _ in range(args.reps):
                    gc.collect()
                    for mode in ("parse", "check"):
                        runs[mode].append(run_child(mode, path, args.cpu))
                    prog.advance(task)
                row: dict[str, Any] = {
                    "signals": n,
                    "phrases": n * args.phrases,
                    "format": fmt,
                    "bytes": path.stat().st_size,
                    "runs": runs,
                }
                for mode in ("parse", "check"):
                    row[f"{mode}_wall_s"] = c.median([r["wall"] for r in runs[mode]])
                    row[f"{mode}_cpu_s"] = c.median([r["cpu"] for r in runs[mode]])
                row["check_maxrss_mb"] = max(r["maxrss_mb"] for r in runs["check"])
                row["ratio_check_over_parse"] = row["check_wall_s"] / max(row["parse_wall_s"], 1e-9)
                row["target_met"] = row["check_wall_s"] <= TARGET_SECONDS if n >= 20000 else None
                results.append(row)
    from rich.table import Table

    table = Table(title=f"rules check on generated packs (median of {args.reps}; fresh process each)")
    for col in (
        "signals x phrases",
        "format",
        "MB",
        "parse s",
        "check s (wall)",
        "check CPU s",
        "check / parse",
        "peak RSS MB",
        "<= 10 s",
    ):
        table.add_column(col, justify="right")
    for r in results:
        table.add_row(
            f"{r['signals']:,} x {args.phrases}",
            r["format"],
            f"{r['bytes'] / 1e6:.1f}",
            f"{r['parse_wall_s']:.2f}",
            f"{r['check_wall_s']:.2f}",
            f"{r['check_cpu_s']:.2f}",
            f"{r['ratio_check_over_parse']:.1f}x",
            f"{r['check_maxrss_mb']:.0f}",
            "" if r["target_met"] is None else ("yes" if r["target_met"] else "NO"),
        )
    c.Console(width=150).print(table)
    if args.json:
        args.json.write_text(
            orjson.dumps(
                {"benchmark": "rules_check", "machine": c.machine(), "results": results}, option=orjson.OPT_INDENT_2
            ).decode()
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
