"""A backfill through the embedded engine: how many of its late documents are dead-lettered and how many passed over
(no detection reads them: Engine.late_reports, outside trial 67 MED-4), and what the late path costs next to the same
documents taken on time, in the same run. Then the same through the embedded runner on a SQLite store, as `run` takes
it, next to the behaviour before (an engine whose late_reports keeps every late report: one dead letter per late
document), in the same run.

    WATCHFLOOR_DATA=/work/shared/data .venv/bin/python benchmarks/bench_late_backfill.py --rules builtin:dprk_russia \
        --live-from 2023-10-01 --backfill 30000 --json /tmp/late.json

The 2023 world-news corpus (171k real RSS items), in event-time order: the items from `--live-from` on are read
first (the live desk's stream: W reaches the end of 2023), then the first `--backfill` items of the year are read
(a source's archive added later: every one is beyond the lateness). Before this change each of them was a dead
letter; now only those a detection reads are. The baseline is the same backfill read on time, from a fresh state
(an in-order stream: nothing late), so the ratio is the late path's cost against the usual one, on this machine now.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from watchfloor.schemas.events import DeadLetter, Document, PassedOver
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.rulefile import load_rules


def documents(limit_live_from: str) -> tuple[list[Document], list[Document]]:
    """(the backfill candidates: before `limit_live_from`, the live stream: from it), each in event-time order."""
    docs = []
    with c.progress() as prog:
        task = prog.add_task("reading the 2023 corpus", total=None)
        for line in c.iter_prepared_lines(c.prepared_rss2023()):
            docs.append(parse_document(orjson.loads(line)))
            prog.advance(task)
    docs.sort(key=lambda d: (d.published_at, d.id))
    cut = next(i for i, d in enumerate(docs) if d.published_at.isoformat() >= limit_live_from)
    return docs[:cut], docs[cut:]


def run(engine: Engine, state: dict[str, Any], docs: list[Document], what: str) -> tuple[int, int, int, float]:
    """(late dead letters, passed over, signals, CPU seconds) of `docs` through `engine` from `state` (which the
    engine changes in place)."""
    letters = passed = signals = 0

    def go() -> None:
        nonlocal letters, passed, signals, state
        with c.progress() as prog:
            task = prog.add_task(what, total=len(docs))
            for i, d in enumerate(docs):
                state, outs = engine.process_document(state, d)
                for o in outs:
                    if isinstance(o, DeadLetter) and o.reason.startswith("late: "):
                        letters += 1
                    elif isinstance(o, PassedOver):
                        passed += 1
                    elif o.__class__.__name__ == "Signal":
                        signals += 1
                if i % 1000 == 0:
                    prog.update(task, completed=i)

    timing, _ = c.timed(go)
    return letters, passed, signals, timing.cpu


class EveryLateReport(Engine):
    """The engine as it was before: every late document's report kept (the baseline of the runner's numbers)."""

    def late_reports(self, reports: list[Any], doc_id: str, sigs: Any, *, observed: bool, origin: Any = None) -> Any:
        return reports


def backfill_pass(runner: Any, n: int, name: str) -> tuple[c.Timing, Any]:
    """The runner's pass over the backfill, timed, with a progress bar."""
    with c.progress() as prog:
        task = prog.add_task(f"runner, {name}: the backfill", total=n + 1)
        return c.timed(lambda: runner.run_once(on_batch=lambda k: prog.advance(task, k)))


def through_the_runner(compiled: Any, live: list[Document], backfill: list[Document]) -> dict[str, Any]:
    """The live stream then the backfill (origins, caught-up marks) through EmbeddedRunner on a fresh SQLite store each,
    now and as before: the backfill pass's CPU seconds and the dead letters it wrote."""
    import tempfile
    from datetime import UTC, datetime

    from watchfloor.schemas.events import CaughtUp, caught_up_event, document_event
    from watchfloor.stream_processors.runner import EmbeddedRunner
    from watchfloor.stream_processors.stores import open_store

    at = datetime(2024, 1, 2, tzinfo=UTC)
    out: dict[str, Any] = {}
    for name, engine in (("before", EveryLateReport(compiled)), ("now", Engine(compiled))):
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(f"sqlite:///{tmp}/late.db")
            try:
                store.append([document_event(d, origin="live.jsonl", received_at=at) for d in live])
                store.append([caught_up_event(CaughtUp(at=at, origins=("live.jsonl",)))])
                EmbeddedRunner(store, engine).run_once()
                store.append([document_event(d, origin="archive.jsonl", received_at=at) for d in backfill])
                store.append([caught_up_event(CaughtUp(at=at, origins=("live.jsonl", "archive.jsonl")))])
                timing, tally = backfill_pass(EmbeddedRunner(store, engine), len(backfill), name)
                out[f"runner_{name}_cpu_s"] = round(timing.cpu, 3)
                out[f"runner_{name}_wall_s"] = round(timing.wall, 3)
                out[f"runner_{name}_dead_letters"] = store.count(types={"dead_letter"})
                out[f"runner_{name}_passed_over"] = tally.late_passed_over
            finally:
                store.close()
    out["runner_now_over_before_cpu"] = round(out["runner_now_cpu_s"] / out["runner_before_cpu_s"], 3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rules", action="append", default=None)
    ap.add_argument("--live-from", default="2023-10-01")
    ap.add_argument("--backfill", type=int, default=30_000)
    ap.add_argument("--backfill-from", default="2023-01-01", help="the backfill's first day (before --live-from)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    c.require(c.rss2023_dir(), "the 2023 RSS corpus")
    _loaded, compiled = load_rules(args.rules or ["builtin:dprk_russia"])
    old, live = documents(args.live_from)
    backfill = [d for d in old if d.published_at.isoformat() >= args.backfill_from][: args.backfill]
    engine = Engine(compiled)
    # Baseline first, from a fresh state: the backfill on time (nothing late, nothing passed over).
    b_letters, b_passed, _b_signals, b_cpu = run(engine, engine.initial_state(), backfill, "baseline: backfill on time")
    assert b_letters == b_passed == 0
    state = engine.initial_state()
    _l, _p, _s, _live_cpu = run(engine, state, live, "the live stream (Oct-Dec 2023)")
    letters, passed, signals, late_cpu = run(engine, state, backfill, "the backfill, late")
    result = {
        "machine": c.machine(),
        "rules": args.rules or ["builtin:dprk_russia"],
        "backfill_documents": len(backfill),
        "live_documents": len(live),
        "late_documents": letters + passed,
        "dead_letters_before_this_change": letters + passed,  # every late document had one
        "dead_letters_now": letters,
        "passed_over": passed,
        "signals_of_the_backfill": signals,
        "cpu_backfill_on_time_s": round(b_cpu, 3),
        "cpu_backfill_late_s": round(late_cpu, 3),
        "late_over_on_time": round(late_cpu / b_cpu, 3) if b_cpu else None,
    }
    result.update(through_the_runner(compiled, live, backfill))
    c.console.print_json(orjson.dumps(result).decode())
    if args.json:
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
