"""What the look `notify --broker` makes at the broker while it cannot read the workers' lag costs (WorkersLag.answers:
a connection to a bootstrap server, every 2 s; outside trial 75, F6), next to the baseline of a whole lag read
(WorkersLag.lag(), what the look replaces meanwhile), against a broker up and a port that refuses (a broker away).

    WATCHFLOOR_KAFKA_PORT=19340 scripts/kafka-local start
    .venv/bin/python benchmarks/bench_lag_probe.py --broker 127.0.0.1:19340 --away 127.0.0.1:8879 --reps 30

Interleaved, milliseconds: the median and p90 of --reps of each.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from watchfloor.stream_processors.kafka.status import WorkersLag


def timed(call: Callable[[], object]) -> float:
    t = time.perf_counter()
    call()
    return (time.perf_counter() - t) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--broker", default="127.0.0.1:19340")
    ap.add_argument("--away", default="127.0.0.1:8879", help="a port nothing listens on")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    up, away = WorkersLag(args.broker, prefix), WorkersLag(args.away, prefix, timeout_s=5)
    up.lag()  # (clients made once: a live notify keeps them open)
    got: dict[str, list[float]] = {"up: lag()": [], "up: answers()": [], "away: lag()": [], "away: answers()": []}
    for _ in range(args.reps):
        got["up: lag()"].append(timed(up.lag))
        got["up: answers()"].append(timed(up.answers))
        got["away: lag()"].append(timed(away.lag))
        got["away: answers()"].append(timed(away.answers))
    up.close()
    away.close()
    out = {k: {"median_ms": statistics.median(v), "p90_ms": sorted(v)[int(0.9 * (len(v) - 1))]} for k, v in got.items()}
    for k, v in out.items():
        print(f"{k:18} median {v['median_ms']:8.2f} ms   p90 {v['p90_ms']:8.2f} ms")
    ratio = out["away: lag()"]["median_ms"] / max(out["away: answers()"]["median_ms"], 1e-6)
    print(f"away: a lag read costs {ratio:,.0f}x the look at the broker")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
