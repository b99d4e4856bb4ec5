"""What `produce` relays per second while its broker is away (outside trial 72, LOW-2), against the way before.

The real GDELT 1.0 daily sample (WATCHFLOOR_DATA/gdelt/gdelt1_daily_sample_20160728_reed9999.tsv) as documents,
repeated to `--documents`, published in the relay's batches of 500 to a port nothing listens on (a stopped broker:
connections refused), with `--timeout` as kafka.publish_timeout. Two cases in the same run, on the same publisher
class and the same fsync'd spool:

* `try each batch` (the baseline, the code before this branch): every batch tries the broker for the whole timeout
  before it is spooled (a probe due at every publish that lets the try go on);
* `spool after a miss` (now): the first batch's try misses, the others go to the spool without one, a probe every
  5 s (a refused connection: no wait).

Documents per second and tries per case; the ratio is what counts (this machine is shared and noisy).

    PYTHONPATH=$PWD WATCHFLOOR_DATA=/work/shared/data .venv/bin/python benchmarks/bench_broker_away.py
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import console, data_dir, progress, require  # the benchmarks' own helpers, beside this file

from watchfloor.producers.gdelt import read_gdelt
from watchfloor.schemas.events import Document, document_event
from watchfloor.stream_processors.kafka.publisher import PROBE_EVERY_S, KafkaPublisher

BATCH = 500  # the relay's


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gdelt_events(n: int) -> list[Any]:
    path = data_dir() / "gdelt" / "gdelt1_daily_sample_20160728_reed9999.tsv"
    require(path, "the GDELT 1.0 daily sample")
    docs = [d for _, d in read_gdelt(path) if isinstance(d, Document)]
    out = []
    for i in range(n):
        doc = docs[i % len(docs)]
        out.append(document_event(doc.model_copy(update={"id": f"{doc.id}-{i // len(docs)}"}), "bench"))
    return out


def relay(events: list[Any], spool: Path, timeout_s: float, every_batch: bool) -> tuple[float, int, int]:
    """Seconds (wall) to publish `events` in batches while the broker is away, after the first batch (whose try
    misses in both cases); tries and probes made in all."""
    probe: Callable[[], None] | None = (lambda: None) if every_batch else None  # (before: nothing kept a try back)
    pub = KafkaPublisher(
        f"127.0.0.1:{closed_port()}",
        "bench-away",
        spool_path=spool,
        timeout_s=timeout_s,
        probe_every_s=0.0 if every_batch else PROBE_EVERY_S,
        probe=probe,
    )
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    try:
        with progress() as bar:
            task = bar.add_task("try each batch" if every_batch else "spool after a miss", total=len(batches))
            pub.publish(batches[0])  # (the first: a try that misses, in both cases)
            bar.advance(task)
            t0 = time.perf_counter()
            for b in batches[1:]:
                pub.publish(b)
                bar.advance(task)
            took = time.perf_counter() - t0
        assert pub.spooled() == len(events)
        return took, pub.tries, pub.probes
    finally:
        pub.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--documents", type=int, default=5000)
    ap.add_argument("--timeout", type=float, default=2.0, help="kafka.publish_timeout (15 s by default in a config)")
    args = ap.parse_args()
    events = gdelt_events(args.documents)
    with tempfile.TemporaryDirectory() as work:
        rows = []
        for every_batch in (True, False):
            spool = Path(work) / f"spool-{every_batch}.jsonl"
            took, tries, probes = relay(events, spool, args.timeout, every_batch)
            rows.append((every_batch, took, tries, probes))
    base = rows[0][1]
    after = args.documents - BATCH
    console.print(f"{args.documents:,} GDELT documents, batches of {BATCH}, publish_timeout {args.timeout:g} s")
    for every_batch, took, tries, probes in rows:
        name = "try each batch (before)" if every_batch else "spool after a miss (now)"
        console.print(
            f"{name:25} after the first batch: {after / took:9,.0f} documents/s · {tries} tries, {probes} probes in "
            f"all · {base / took:7.1f}x",
            soft_wrap=True,
        )


if __name__ == "__main__":
    main()
