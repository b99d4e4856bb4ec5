"""A backfill beyond the lateness after a long live stream, through the engine: the alerts it raises live against
the alerts a backtest of everything raises for the same days, its CPU and the state it leaves (outside trial 77, F1:
a backfill's report within the `realert` of the backfill's own alert alerted too once its group had dropped alerts).

    WATCHFLOOR_DATA=/work/shared/data .venv/bin/python benchmarks/bench_backfill_realert.py SORTED.jsonl \
        --rules builtin:dprk_russia --rules noisy.yaml --live-from 2023-10-01 --backfill 20000 --json /tmp/bf.json

SORTED is the 2023 corpus merged and sorted by published_at (what bench_state_growth reads). The items from
`--live-from` on are read first, in order (W reaches the end of 2023), then the first `--backfill` items of the
year (every one beyond the lateness), in order. The backtest is the same items in event time from a fresh state;
the ratio that counts is live / backtest alerts of the backfill's days, and the CPU of the backfill pass next to
the backtest's of the same items, in the same run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from watchfloor.schemas.events import Detection, Retraction
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.rulefile import load_rules


def standing(outs: list[Any], alerts: dict[str, float]) -> None:
    """Keep `alerts` (id -> fired time) as the outputs leave them standing."""
    for o in outs:
        if isinstance(o, Retraction):
            alerts.pop(o.alert_id, None)
        elif isinstance(o, Detection):
            if o.revises is not None:
                alerts.pop(o.revises, None)
            alerts[o.id] = o.fired_at.timestamp()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--rules", action="append", default=None)
    ap.add_argument("--live-from", default="2023-10-01")
    ap.add_argument("--backfill", type=int, default=20_000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    docs = [parse_document(orjson.loads(line)) for line in args.corpus.read_bytes().splitlines() if line.strip()]
    live = [d for d in docs if d.published_at.isoformat() >= args.live_from]
    backfill = docs[: args.backfill]
    end = backfill[-1].published_at.timestamp()
    _packs, compiled = load_rules(args.rules or ["builtin:dprk_russia"])

    def feed(engine: Engine, state: dict[str, Any], items: list[Any], alerts: dict[str, float], name: str) -> Any:
        with c.progress() as prog:
            task = prog.add_task(name, total=len(items))
            for i, d in enumerate(items, 1):
                state, outs = engine.process_document(state, d)
                standing(outs, alerts)
                if i % 1000 == 0:
                    prog.update(task, completed=i)
        return state

    eng = Engine(compiled)
    live_alerts: dict[str, float] = {}
    state = feed(eng, eng.initial_state(), live, live_alerts, "live stream")
    state_before = len(orjson.dumps(state))
    timing, state = c.timed(lambda: feed(eng, state, backfill, live_alerts, "backfill (late)"))
    bt = Engine(compiled)
    bt_alerts: dict[str, float] = {}
    bt_timing, _s = c.timed(lambda: feed(bt, bt.initial_state(), backfill, bt_alerts, "backtest of the backfill"))
    got = {a for a, t in live_alerts.items() if t <= end}
    want = set(bt_alerts)
    out = {
        "engine": c.engine_kind(),
        "backfill": len(backfill),
        "live": len(live),
        "backfill_alerts_live": len(got),
        "backfill_alerts_backtest": len(want),
        "live_not_backtest": len(got - want),
        "backtest_not_live": len(want - got),
        "backfill_cpu_s": round(timing.cpu, 3),
        "backtest_cpu_s": round(bt_timing.cpu, 3),
        "late_over_backtest_cpu": round(timing.cpu / bt_timing.cpu, 3),
        "state_json_before": state_before,
        "state_json_after": len(orjson.dumps(state)),
        "gates": sum(len(gs.get("z", ())) for gs in state["g"].values()),
    }
    print(" ".join(f"{k}={v}" for k, v in out.items()))
    if args.json:
        args.json.write_text(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
