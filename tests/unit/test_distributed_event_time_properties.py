"""Distributed mode under generated arrival orders, without a broker: the alerts that stand are the canonical
backtest's.

The live logs of tests/unit/test_event_time_properties.py (three origins with skewed clocks, polls reading each
origin's new items in any order, CaughtUp marks, items dated 2099) go through the distributed path's pure
parts as `watchfloor produce` and `watchfloor worker` run them: the outbox relay (`KafkaRelay`, in batches of
any size, its per-origin watermark after each batch) hands each batch to the publisher, which spreads the
documents over 3 documents partitions by id and appends the watermark to every partition; the extract step
(`Engine.arrival` against its partition's watermark, as `kafka.agents.Extract` does) routes each signal by
(detection, group) to one of 3 correlate partitions; each correlate partition (`PartitionCorrelator`, its
state through JSON as in the Faust table) takes its upstream partitions in a random interleaving, with
replays of recent records (an agent restarted from its committed offset). The standing alerts of all correlate
partitions equal the canonical backtest's, and the extract step reports exactly the future-dated items.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchfloor.producers.relay import KafkaRelay
from watchfloor.schemas.events import (
    DOCUMENT_TYPES,
    DeadLetter,
    Detection,
    Document,
    Event,
    EventType,
    Retraction,
    signal_event,
    watermark_event,
)
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.kafka.codec import WATERMARK
from watchfloor.stream_processors.kafka.partition import PartitionCorrelator
from watchfloor.stream_processors.stores.memory import MemoryStore

from .test_event_time_properties import ENGINE, canonical, logs, norm
from .test_partition_correlator import interleavings

N = 3  # documents partitions, and correlate partitions
Record = tuple[Event, list[int] | None]  # a record and its wf-origin header


def part(key: str) -> int:
    return zlib.crc32(key.encode()) % N


class Published:
    """What the publisher writes to the documents topic: each batch's documents by id, then its watermark (if
    the relay gives one) behind them in every partition."""

    def __init__(self) -> None:
        self.partitions: dict[int, list[Event]] = {p: [] for p in range(N)}

    def append(self, events: Sequence[Event]) -> int:
        mark: float | None = None
        for ev in events:
            if ev.type == EventType.WATERMARK.value:
                mark = ev.payload["time"]
            else:
                self.partitions[part(ev.id)].append(ev)
        if mark is not None:
            for p in range(N):
                self.partitions[p].append(watermark_event(p, mark))
        return len(events)


def extract(published: Published) -> tuple[dict[int, dict[int, list[Record]]], list[DeadLetter]]:
    """queues[c][p]: what correlate partition c receives from documents partition p, in order; and the reports."""
    queues: dict[int, dict[int, list[Record]]] = {c: {p: [] for p in range(N)} for c in range(N)}
    reports: list[DeadLetter] = []
    for p, records in published.partitions.items():
        watermark: float | None = None
        for offset, ev in enumerate(records):
            if ev.type == EventType.WATERMARK.value:
                t_mark = ev.payload["time"]
                if watermark is None or t_mark > watermark:
                    watermark = t_mark
                    for c in range(N):
                        queues[c][p].append((watermark_event(p, watermark), None))
                continue
            doc = Document.model_validate(ev.payload)
            t, _on_time, got = ENGINE.arrival(doc, ev.origin, ev.received_at, watermark)
            reports += [r for r in got if isinstance(r, DeadLetter)]
            when = datetime.fromtimestamp(t, UTC)
            for i, sig in enumerate(ENGINE.extract(doc)):
                sev = signal_event(sig)
                for j, (_det, gkey) in enumerate(ENGINE.correlator.routes(sig)):
                    routed = Event(id=sev.id, type=sev.type, time=when, key=gkey, payload=sev.payload)
                    queues[part(gkey)][p].append((routed, [p, offset, i, j]))
    return queues, reports


def correlate(queues: dict[int, list[Record]], rng: random.Random, dup_rate: float, checkpoints: float) -> list[Any]:
    """One correlate partition: its upstream partitions interleaved, records replayed now and then, the state
    read back from JSON (a restart from the table) with probability `checkpoints` before each record."""
    pc = PartitionCorrelator(ENGINE, N)
    state = pc.new_state()
    history: list[Detection | Retraction] = []
    for ev, origin in interleavings(queues, rng, dup_rate):
        if rng.random() < checkpoints:
            state = pc.restore(orjson.loads(orjson.dumps(state)))
        outs = pc.on_watermark(state, ev) if ev.type == WATERMARK else pc.on_signal(state, ev, origin)
        history += [o for o in outs if isinstance(o, Detection | Retraction)]
    return list(current_alerts(history).values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), st.integers(1, 25), st.randoms(use_true_random=False), st.sampled_from([0.0, 0.2]))
def test_any_arrival_order_through_relay_and_partitions_gives_the_canonical_alerts(
    events: list[Event], relay_batch: int, rng: random.Random, dup_rate: float
) -> None:
    store = MemoryStore()
    store.append(events)
    published = Published()
    KafkaRelay(store, published, batch_size=relay_batch).run_once()
    queues, reports = extract(published)
    standing = [d for c in range(N) for d in correlate(queues[c], rng, dup_rate, checkpoints=0.3)]
    assert norm(standing) == canonical(events)
    future = {
        e.payload["id"]
        for e in events
        if e.type in DOCUMENT_TYPES and e.received_at is not None and e.time > e.received_at + timedelta(hours=1)
    }
    assert sorted(r.reason.split()[5] for r in reports) == sorted(future)  # each item dated in the future, once
    assert not [r for r in reports if r.reason.startswith("late")]  # nothing here is beyond the lateness
