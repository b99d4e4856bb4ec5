"""The engine's state over a long corpus in event-time order: its size every N documents, to see it level off.

    WATCHFLOOR_DATA=/work/shared/data .venv/bin/python benchmarks/bench_state_growth.py CORPUS.jsonl \
        --rules builtin:dprk_russia --rules noisy.yaml --every 10000 --json /tmp/growth.json

CORPUS is JSON Lines in the input contract, read in file order (sort it by published_at first for an
event-time-ordered run: the backtest's canonical order). Each document goes through `Engine.process_document`
with no origin (an in-order stream: W is the newest time seen), as a backtest replays it. Every `--every`
documents: the correlator's groups, observations, detection records kept, withdrawn ids, sweep heap entries,
dormant groups (and their JSON with their eviction heap's) and origins tracked; the state as a checkpoint (JSON
bytes) and in memory (tracemalloc of a fresh copy); the memory tracemalloc counts as allocated since the engine was
compiled (`--trace`: every allocation traced, ~2x slower); and the process's RSS (VmRSS, VmHWM). What the state
must hold is bounded by the longest window + lateness of event time, so after that much of the corpus the state's
numbers should stop growing.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.rulefile import load_rules


def proc_status() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in bytes (Linux)."""
    out: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0]) * 1024
    return out


def state_numbers(state: dict[str, Any]) -> dict[str, int]:
    """What the engine's state holds, counted by structure."""
    groups: dict[str, Any] = state["g"]
    raw = orjson.dumps(state)
    was = tracemalloc.is_tracing()
    if not was:
        tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    copy = orjson.loads(raw)
    after, _ = tracemalloc.get_traced_memory()
    del copy
    if not was:
        tracemalloc.stop()
    return {
        "groups": len(groups),
        "observations": sum(len(g["i"]) for g in groups.values()),
        "detections_kept": sum(len(g["f"]) for g in groups.values()),
        "withdrawn_ids": sum(len(g["w"]) for g in groups.values()),
        "heap_entries": len(state.get("q", ())),
        "dormant_groups": int(state.get("dn", 0)),  # groups kept for their throttle state alone (sweep.py)
        "dormant_json_bytes": sum(
            len(orjson.dumps({k: g})) - 2 for k, g in groups.items() if g["q"] is None and not g["i"] and not g["f"]
        )
        + len(orjson.dumps(state.get("dq", []))),
        "origins": len(state.get("et", {}).get("o", {})),
        "state_json_bytes": len(raw),
        "state_memory_bytes": after - before,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--rules", action="append", default=None, help="rule pack (repeatable; default the bundled)")
    ap.add_argument("--every", type=int, default=10_000)
    ap.add_argument("--limit", type=int, default=0, help="stop after this many documents (0: all)")
    ap.add_argument("--trace", action="store_true", help="trace every allocation (tracemalloc) from the start")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    _packs, compiled = load_rules(args.rules or ["builtin:dprk_russia"])
    engine = Engine(compiled)
    horizon = max((p.horizon for p in engine.correlator.plans.values()), default=0.0) + engine.lateness
    c.console.print(f"bench_state_growth: {args.rules}, longest window + lateness = {horizon / 86400:.1f} days")
    if args.trace:
        tracemalloc.start()
    base_traced = tracemalloc.get_traced_memory()[0] if args.trace else 0
    state = engine.initial_state()
    rows: list[dict[str, Any]] = []
    n = alerts = 0
    first_at: float | None = None
    started = time.process_time()

    last: list[tracemalloc.Snapshot] = []  # the previous sample's (--trace): what grew since

    def sample() -> None:
        row: dict[str, Any] = {"documents": n, "alerts": alerts, **state_numbers(state), **proc_status()}
        wm = state["wm"]
        row["event_days"] = round((wm - first_at) / 86400, 1) if wm is not None and first_at is not None else 0.0
        if args.trace:
            row["traced_bytes"] = tracemalloc.get_traced_memory()[0] - base_traced
            snap = tracemalloc.take_snapshot()
            if last:
                row["grew_most"] = [
                    f"{s.size_diff:+,} B {s.traceback[0]}" for s in snap.compare_to(last[0], "lineno")[:3]
                ]
            last[:] = [snap]
        row["cpu_s"] = round(time.process_time() - started, 1)
        rows.append(row)
        c.console.print(" ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in row.items()))

    with args.corpus.open("rb") as f:
        for line in f:
            if not line.strip():
                continue
            doc = parse_document(orjson.loads(line))
            if first_at is None:
                first_at = doc.published_at.timestamp()
            state, outs = engine.process_document(state, doc)
            alerts += sum(1 for o in outs if o.__class__.__name__ == "Detection")
            n += 1
            if n % args.every == 0:
                sample()
            if args.limit and n >= args.limit:
                break
    if not rows or rows[-1]["documents"] != n:
        sample()
    if args.json:
        args.json.write_bytes(orjson.dumps({"rules": args.rules, "horizon_days": horizon / 86400, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
