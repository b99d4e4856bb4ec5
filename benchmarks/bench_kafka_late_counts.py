"""What counting a backfill's late documents in the store costs the Kafka extract agent: the agent's own code
(`Extract._batch`, no broker: its producer keeps what is sent) over a backfill of real 2023 world-news items, every
one beyond the lateness, in batches of 1000 over three documents partitions, with the counts in a SQLite store's row
(`kafka.late.StoreLateLog`: one compare-and-set save per batch) against the baseline in the same run, alternated:
the same agent counting in memory (`MemoryLateLog`, what a worker's log line had before).

    WATCHFLOOR_DATA=/work/shared/data .venv/bin/python benchmarks/bench_kafka_late_counts.py --backfill 20000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

from tests.fixtures.correlate_agent import Message, Outputs, Record  # noqa: E402
from watchfloor.schemas.events import document_event, watermark_event  # noqa: E402
from watchfloor.schemas.inputs import parse_document  # noqa: E402
from watchfloor.schemas.topics import TopicNames  # noqa: E402
from watchfloor.stream_processors.engine import Engine  # noqa: E402
from watchfloor.stream_processors.kafka.agents import BATCH_MAX, Extract  # noqa: E402
from watchfloor.stream_processors.kafka.codec import encode_event  # noqa: E402
from watchfloor.stream_processors.kafka.late import LateLog, MemoryLateLog, StoreLateLog  # noqa: E402
from watchfloor.stream_processors.rulefile import load_rules  # noqa: E402
from watchfloor.stream_processors.stores.sql import SqlStore  # noqa: E402

PARTS = 3
W = datetime(2024, 1, 1, tzinfo=UTC).timestamp()  # every partition's watermark: past the whole of 2023


def batches(n: int, names: TopicNames) -> list[list[Record]]:
    """The year's first `n` items as documents records (origin: their feed), each partition's watermark W first."""
    docs = []
    with c.progress() as prog:
        task = prog.add_task("reading the 2023 corpus", total=n)
        for line in c.iter_prepared_lines(c.prepared_rss2023()):
            docs.append(parse_document(orjson.loads(line)))
            prog.advance(task)
            if len(docs) >= 4 * n:
                break
    docs.sort(key=lambda d: (d.published_at, d.id))
    offsets = [0] * PARTS
    records = []
    for p in range(PARTS):
        records.append(Record(Message(names.documents, p, 0), encode_event(watermark_event(p, W)), None))
        offsets[p] = 1
    for i, d in enumerate(docs[:n]):
        p = i % PARTS
        ev = document_event(d).model_copy(update={"origin": f"feeds/{d.source.name}.xml"})
        records.append(Record(Message(names.documents, p, offsets[p]), encode_event(ev), None))
        offsets[p] += 1
    return [records[i : i + BATCH_MAX] for i in range(0, len(records), BATCH_MAX)]


def once(engine: Engine, names: TopicNames, cut: list[list[Record]], late_log: LateLog) -> tuple[c.Timing, Any]:
    agent = Extract(None, engine, Outputs(names), partitions=PARTS, batch_within=0.01, late_log=late_log)  # type: ignore[arg-type]

    async def go() -> None:
        for b in cut:
            await agent._batch(b)

    timing, _ = c.timed(lambda: asyncio.run(go()))
    return timing, late_log.totals()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backfill", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rules", default="builtin:dprk_russia")
    args = ap.parse_args()
    _packs, compiled = load_rules([args.rules])
    engine = Engine(compiled)
    names = TopicNames("bench")
    cut = batches(args.backfill, names)
    rows: dict[str, list[c.Timing]] = {"memory": [], "sqlite": []}
    seen: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for kind in ("memory", "sqlite") if r % 2 == 0 else ("sqlite", "memory"):
                if kind == "memory":
                    log: LateLog = MemoryLateLog()
                else:
                    url = f"sqlite:///{Path(tmp) / f'r{r}.db'}"
                    log = StoreLateLog(lambda url=url: SqlStore(url), "bench-worker")  # type: ignore[misc]
                timing, totals = once(engine, names, cut, log)
                rows[kind].append(timing)
                seen[kind] = totals
    assert seen["memory"] == seen["sqlite"], "the two logs count alike"
    passed = sum(t["passed_over"] for t in seen["memory"].values())
    lettered = sum(t["dead_lettered"] for t in seen["memory"].values())
    wall = {k: statistics.median(t.wall for t in v) for k, v in rows.items()}
    cpu = {k: statistics.median(t.cpu for t in v) for k, v in rows.items()}
    print(c.machine())
    print(f"{args.backfill:,} late documents in {len(cut)} batches: {passed:,} passed over, {lettered:,} dead-lettered")
    print(f"{len(seen['memory']):,} sources")
    for k in rows:
        print(f"{k}: wall {wall[k]:.3f} s, CPU {cpu[k]:.3f} s (median of {len(rows[k])})")
    print(f"sqlite / memory: wall x{wall['sqlite'] / wall['memory']:.3f}, CPU x{cpu['sqlite'] / cpu['memory']:.3f}")


if __name__ == "__main__":
    main()
