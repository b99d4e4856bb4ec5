"""`watchfloor rules check` on big packs: 5,000 and 20,000 signals x 20 phrases, as YAML and as JSON.

    .venv/bin/python benchmarks/bench_rules_check.py --json /tmp/rules_check.json

Each pack has one signal per rule (`any` of 20 phrases drawn from the vocabulary of real 2023 news, as
benchmarks/bench_engine.py draws them) and one `any` detection per signal, `version: 2` (phrases match
their inflected forms). Every measurement is a fresh process, timed from outside (its whole CPU time,
user + system, and peak RSS, from wait4), in the same run:
  - parse only, the baseline: a process that reads the file into Python data with the stock fast
    reader, PyYAML's libyaml loader (CSafeLoader) for YAML, orjson for JSON, the cyclic garbage
    collector paused as the check pauses it (with it running, libyaml's 740,000 nodes of the 20,000
    pack cost 3x more: that is what the parse-only baseline of 2026-11-29, 9.48 s, measured);
  - check: `watchfloor rules check PACK` as a user runs it (interpreter, command line, parse, place
    checks, validate, compile every phrase's forms into the automata, the warnings). Target: <= 10 s
    (CPU) for 20,000 x 20;
  - with --in-process, also `load_rules` timed inside its process from before its import (the
    measurement of 2026-11-29, without the interpreter's start and the command line).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import subprocess
import sys
import tempfile
import time
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


_PARSE = """
import gc, sys
gc.disable()
text = open(sys.argv[1], encoding="utf-8").read()
if sys.argv[1].endswith(".json"):
    import orjson
    orjson.loads(text)
else:
    import yaml
    yaml.load(text, Loader=yaml.CSafeLoader)
"""

_IN_PROCESS = """
import json, sys, time
c = time.process_time()
from watchfloor.stream_processors.rulefile import load_rules, warning_problems
loaded, compiled = load_rules([sys.argv[1]])
warning_problems(loaded, compiled)
print(json.dumps({"cpu": time.process_time() - c}))
"""


def _command(mode: str, path: Path) -> list[str]:
    if mode == "parse":
        return [sys.executable, "-c", _PARSE, str(path)]
    if mode == "check":
        return [sys.executable, "-m", "watchfloor", "rules", "check", str(path)]
    return [sys.executable, "-c", _IN_PROCESS, str(path)]


def run_child(mode: str, path: Path, cpu: int) -> dict[str, float]:
    """A fresh process per measurement, as `watchfloor rules check` runs (nothing cached): its wall time,
    and its own CPU time (user + system) and peak RSS as the kernel counted them (wait4)."""
    cmd = _command(mode, path)
    if cpu >= 0:
        cmd = ["taskset", "-c", str(cpu), *cmd]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        w = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - w
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0 or (mode == "check" and "ok:" not in stdout):
        raise SystemExit(f"{mode} {path} failed ({proc.returncode}):\n{stdout}\n{stderr}")
    result = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "maxrss_mb": usage.ru_maxrss / 1024}
    if mode == "in_process":
        result["cpu_in_process"] = json.loads(stdout.strip().splitlines()[-1])["cpu"]
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="5000,20000", help="signals per pack")
    ap.add_argument("--formats", default="yaml,json")
    ap.add_argument("--phrases", type=int, default=20)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument("--cpu", type=int, default=0, help="pin the measured processes to this CPU (-1: do not)")
    ap.add_argument("--in-process", action="store_true", help="also time load_rules inside its process")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    formats = args.formats.split(",")
    modes = ["parse", "check", *(["in_process"] if args.in_process else [])]
    with c.console.status("drawing the vocabulary (not timed)"):
        _docs, vocab = be.load_documents(1000, 40_000)
    tmp = Path(tempfile.mkdtemp(prefix="watchfloor-check-"))
    results: list[dict[str, Any]] = []
    load = [os.getloadavg()[0]]
    with c.progress() as prog:
        task = prog.add_task("packs", total=len(sizes) * len(formats) * args.reps)
        for n in sizes:
            rules = be.generate_rules(vocab, n, args.phrases, args.seed)
            paths = {"yaml": tmp / f"p{n}.yaml", "json": tmp / f"p{n}.json"}
            write_yaml(rules, paths["yaml"])
            be.write_pack(rules, paths["json"])
            for fmt in formats:
                path = paths[fmt]
                runs: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
                for _ in range(args.reps):
                    gc.collect()
                    for mode in modes:  # alternating: a load change hits baseline and check alike
                        runs[mode].append(run_child(mode, path, args.cpu))
                    prog.advance(task)
                    load.append(os.getloadavg()[0])
                row: dict[str, Any] = {
                    "signals": n,
                    "phrases": n * args.phrases,
                    "format": fmt,
                    "bytes": path.stat().st_size,
                    "runs": runs,
                }
                for mode in modes:
                    row[f"{mode}_wall_s"] = c.median([r["wall"] for r in runs[mode]])
                    row[f"{mode}_cpu_s"] = c.median([r["cpu"] for r in runs[mode]])
                if args.in_process:
                    row["in_process_load_rules_cpu_s"] = c.median([r["cpu_in_process"] for r in runs["in_process"]])
                row["check_maxrss_mb"] = max(r["maxrss_mb"] for r in runs["check"])
                row["ratio_check_over_parse_cpu"] = row["check_cpu_s"] / max(row["parse_cpu_s"], 1e-9)
                row["target_met"] = row["check_cpu_s"] <= TARGET_SECONDS if n >= 20000 else None
                results.append(row)
    from rich.table import Table

    table = Table(
        title=f"rules check on generated packs (median of {args.reps}; fresh process each; "
        f"load average {min(load):.1f}-{max(load):.1f})"
    )
    cols = ["signals x phrases", "format", "MB", "parse CPU s", "check CPU s", "check / parse", "check wall s"]
    if args.in_process:
        cols.append("load_rules CPU s")
    cols += ["peak RSS MB", "<= 10 s CPU"]
    for col in cols:
        table.add_column(col, justify="right")
    for r in results:
        cells = [
            f"{r['signals']:,} x {args.phrases}",
            r["format"],
            f"{r['bytes'] / 1e6:.1f}",
            f"{r['parse_cpu_s']:.2f}",
            f"{r['check_cpu_s']:.2f}",
            f"{r['ratio_check_over_parse_cpu']:.1f}x",
            f"{r['check_wall_s']:.2f}",
        ]
        if args.in_process:
            cells.append(f"{r['in_process_load_rules_cpu_s']:.2f}")
        cells += [
            f"{r['check_maxrss_mb']:.0f}",
            "" if r["target_met"] is None else ("yes" if r["target_met"] else "NO"),
        ]
        table.add_row(*cells)
    c.Console(width=160).print(table)
    if args.json:
        args.json.write_text(
            orjson.dumps(
                {"benchmark": "rules_check", "machine": c.machine(), "load_average": load, "results": results},
                option=orjson.OPT_INDENT_2,
            ).decode()
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
