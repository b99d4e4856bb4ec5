"""What `notify --broker` adds to a cycle: one read of the workers' lag (WorkersLag.lag(), clients kept open) next
to the cycle it precedes (AlertDispatcher.cycle() on an idle SQLite store, the baseline of a live notify's look),
and next to the broker's own floor (one end_offsets round trip of a raw kafka-python consumer).

    scripts/kafka-local start
    .venv/bin/python benchmarks/bench_notify_hold.py --broker 127.0.0.1:19092 --reps 200

Creates a pipeline's topics under a fresh prefix (3 partitions), writes --records documents that no worker group
has read (a backlog), and times each of the three, interleaved; milliseconds, the median and p90 of --reps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.kafka.status import WorkersLag
from watchfloor.stream_processors.kafka.topics import delete_pipeline, ensure_topics
from watchfloor.stream_processors.stores import open_store


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--broker", default="127.0.0.1:19092")
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import kafka

    prefix = f"wf-bench-hold-{uuid.uuid4().hex[:8]}"
    ensure_topics(args.broker, prefix, 3)
    names = TopicNames(prefix)
    producer = kafka.KafkaProducer(bootstrap_servers=args.broker)
    for i in range(args.records):
        producer.send(names.documents, key=str(i).encode(), value=b"{}")
    producer.flush(60)
    producer.close()
    raw = kafka.KafkaConsumer(bootstrap_servers=args.broker, enable_auto_commit=False)
    tps = [kafka.TopicPartition(names.documents, p) for p in sorted(raw.partitions_for_topic(names.documents) or ())]
    lag = WorkersLag(args.broker, prefix)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'wf.db'}")
        dispatcher = AlertDispatcher(store, {}, [Subscription(channel="none")])
        timings: dict[str, list[float]] = {"cycle": [], "lag": [], "end_offsets": []}
        assert lag.lag() == args.records  # (warm: the clients made, the coordinator found)
        for _ in range(args.reps):
            for name, fn in (
                ("cycle", dispatcher.cycle),
                ("lag", lag.lag),
                ("end_offsets", lambda: raw.end_offsets(tps)),
            ):
                started = time.perf_counter()
                fn()
                timings[name].append((time.perf_counter() - started) * 1000)
        store.close()
    lag.close()
    raw.close()
    delete_pipeline(args.broker, prefix, f"{prefix}-worker", timeout_s=30)
    out = {
        name: {"median_ms": statistics.median(xs), "p90_ms": sorted(xs)[int(0.9 * len(xs))]}
        for name, xs in timings.items()
    }
    out["ratio_lag_to_cycle"] = out["lag"]["median_ms"] / out["cycle"]["median_ms"]
    out["ratio_lag_to_end_offsets"] = out["lag"]["median_ms"] / out["end_offsets"]["median_ms"]
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
