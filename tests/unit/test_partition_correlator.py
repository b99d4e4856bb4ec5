"""The correlate step of distributed mode without a broker (stream_processors.kafka.partition), under every
arrival order.

Kafka keeps order per partition only. This simulates the topology (documents spread over 3 partitions by id,
signals re-keyed by group onto 3 correlate partitions, watermarks broadcast) and delivers each correlate
partition's input in random interleavings of its upstream partitions, with re-sent (duplicate) records and a
JSON round trip of the state after every record (as the Faust table does). Signals are applied on arrival;
the alerts that stand (detections minus those revised or retracted) must always equal the embedded runner's.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from watchfloor.schemas.events import (
    DeadLetter,
    Detection,
    Document,
    Event,
    Retraction,
    document_event,
    signal_event,
    watermark_event,
)
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.kafka.codec import WATERMARK
from watchfloor.stream_processors.kafka.partition import PartitionCorrelator
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.runner import EmbeddedRunner
from watchfloor.stream_processors.stores.memory import MemoryStore

DATA = Path(__file__).resolve().parents[1] / "data" / "distributed" / "dprk_russia.jsonl"
N = 3
ABSENCES = {d.id for d in load_rules(["builtin:dprk_russia"])[1].detections if d.kind == "absence"}


def key(d: Detection) -> tuple[Any, ...]:
    return (
        d.id,
        d.rule,
        tuple(sorted(d.group.items())),
        d.severity,
        d.confidence,
        d.fired_at,
        tuple(e.event_id for e in d.evidence),
    )


def part(s: str) -> int:
    return zlib.crc32(s.encode()) % N


def docs() -> list[Document]:
    return [parse_document(orjson.loads(line)) for line in DATA.read_text().splitlines() if line.strip()]


def engine() -> Engine:
    return Engine(load_rules(["builtin:dprk_russia"])[1])


Record = tuple[Event, list[int] | None]  # a correlate-topic record and its wf-origin header


def upstream_queues(eng: Engine, documents: list[Document]) -> dict[int, dict[int, list[Record]]]:
    """queues[c][p]: what correlate partition c receives from upstream partition p, in order."""
    queues: dict[int, dict[int, list[Record]]] = {c: {p: [] for p in range(N)} for c in range(N)}
    newest: dict[int, float] = {}
    offsets = dict.fromkeys(range(N), 0)
    for doc in documents:
        p = part(doc.id)
        offset = offsets[p]
        offsets[p] += 1
        for i, sig in enumerate(eng.extract(doc)):
            sev = signal_event(sig)
            for j, (_det, gkey) in enumerate(eng.correlator.routes(sig)):
                routed = Event(id=sev.id, type=sev.type, time=sev.time, key=gkey, payload=sev.payload)
                queues[part(gkey)][p].append((routed, [p, offset, i, j]))
        newest[p] = max(newest.get(p, doc.published_at.timestamp()), doc.published_at.timestamp())
        for c in range(N):
            queues[c][p].append((watermark_event(p, newest[p], idle=False), None))
    for p in range(N):
        for c in range(N):
            queues[c][p].append((watermark_event(p, newest.get(p), idle=True), None))
    return queues


def interleavings(queues: dict[int, list[Record]], rng: random.Random, dup_rate: float) -> Iterator[Record]:
    """Each upstream partition in order, partitions interleaved at random; with `dup_rate`, an upstream
    partition replays its last few records (what an agent restarted from its committed offset does)."""
    pos = dict.fromkeys(queues, 0)
    while any(pos[p] < len(q) for p, q in queues.items()):
        p = rng.choice([p for p, q in queues.items() if pos[p] < len(q)])
        yield queues[p][pos[p]]
        pos[p] += 1
        if rng.random() < dup_rate:
            back = rng.randint(1, min(pos[p], 8))
            pos[p] -= back


def run_distributed(
    seed: int, dup_rate: float = 0.2, documents: list[Document] | None = None, watermarks: bool = True
) -> tuple[list[Detection], list[DeadLetter]]:
    """The alerts that stand after every correlate partition took all its input, and the dead letters."""
    eng = engine()
    rng = random.Random(seed)
    pc = PartitionCorrelator(eng, N)
    standing: list[Detection] = []
    dead: list[DeadLetter] = []
    for per_source in upstream_queues(eng, documents or docs()).values():
        raw = orjson.dumps(pc.new_state())
        history: list[Detection | Retraction] = []
        for ev, origin in interleavings(per_source, rng, dup_rate):
            if ev.type == WATERMARK and not watermarks:
                continue
            st: dict[str, Any] = pc.restore(orjson.loads(raw))  # the table holds bytes: every record starts from them
            outs = pc.on_watermark(st, ev) if ev.type == WATERMARK else pc.on_signal(st, ev, origin)
            raw = orjson.dumps(st)
            history += [o for o in outs if isinstance(o, Detection | Retraction)]
            dead += [o for o in outs if isinstance(o, DeadLetter)]
        standing += current_alerts(history).values()
    return standing, dead


def embedded() -> list[Detection]:
    store = MemoryStore()
    store.append([document_event(d) for d in docs()])
    EmbeddedRunner(store, engine()).run_once()
    return list(current_alerts(se.event for se in store.read(limit=100_000)).values())


@pytest.mark.parametrize("seed", range(12))
def test_any_arrival_order_gives_the_embedded_alerts(seed: int) -> None:
    got, dead = run_distributed(seed)
    assert dead == []
    assert sorted(map(key, got)) == sorted(map(key, embedded()))


def test_a_document_published_twice_counts_once() -> None:
    """Kafka does not deduplicate: the same document at a later offset must not fire or count again."""
    d = docs()
    # Re-sent soon after (a producer retrying): a throttled and a fired signing, a corroborating pair.
    mixed = [*d[:3], d[1], d[2], *d[3:19], d[16], d[17], *d[19:]]
    got, dead = run_distributed(7, documents=mixed)
    assert dead == []
    assert sorted(map(key, got)) == sorted(map(key, embedded()))


def test_a_repeat_older_than_the_lateness_changes_no_alert() -> None:
    """Beyond allowed lateness + a day the applied-id set has forgotten it: applied again, it raises the
    detection it raised the first time (same id: the store keeps one), and no alert changes."""
    d = docs()
    got, dead = run_distributed(3, dup_rate=0.0, documents=[*d, d[1]])
    assert dead == []
    assert sorted(map(key, got)) == sorted(map(key, embedded()))


def test_no_signal_waits_for_a_watermark() -> None:
    """Applied on arrival: without a single watermark record every alert is raised (absences aside, which
    close only when event time passes their window), in any interleaving."""
    expected = sorted(map(key, (d for d in embedded() if d.rule not in ABSENCES)))
    for seed in range(4):
        got, _dead = run_distributed(seed, dup_rate=0.0, watermarks=False)
        assert sorted(map(key, got)) == expected


def test_low_watermark_waits_for_every_source_then_skips_idle_ones() -> None:
    pc = PartitionCorrelator(engine(), 3)
    st = pc.new_state()
    pc.on_watermark(st, watermark_event(0, 100.0, idle=False))
    pc.on_watermark(st, watermark_event(1, 50.0, idle=False))
    assert st["low"] is None  # partition 2 not heard from
    pc.on_watermark(st, watermark_event(2, None, idle=True))  # empty partition
    assert st["low"] == 50.0
    pc.on_watermark(st, watermark_event(1, 40.0, idle=False))  # a source never goes back
    assert st["src"]["1"] == [50.0, False] and st["low"] == 50.0
    pc.on_watermark(st, watermark_event(1, 50.0, idle=True))
    assert st["low"] == 100.0  # only partition 0 is active
    pc.on_watermark(st, watermark_event(2, 70.0, idle=False))  # partition 2 wakes up behind
    assert st["low"] == 100.0  # the low watermark never goes back either


def test_idle_marks_expire_without_heartbeats() -> None:
    """A dead worker stops renewing its partitions' idle marks: they hold the watermark back again."""
    now = [0.0]
    pc = PartitionCorrelator(engine(), 2, lease=3.0, clock=lambda: now[0])
    st = pc.new_state()
    pc.on_watermark(st, watermark_event(0, 100.0, idle=False), partition=1)
    pc.on_watermark(st, watermark_event(1, 50.0, idle=True), partition=1)
    assert st["low"] == 100.0  # partition 1 is idle: only partition 0 counts
    pc.on_watermark(st, watermark_event(0, 200.0, idle=False), partition=1)
    assert st["low"] == 200.0
    now[0] = 10.0  # no heartbeat from partition 1 for longer than the lease
    pc.on_watermark(st, watermark_event(0, 300.0, idle=False), partition=1)
    assert st["low"] == 200.0  # waits for partition 1 (its last watermark, 50, is behind: low stays)
    pc.on_watermark(st, watermark_event(1, 50.0, idle=True), partition=1)  # heartbeat again
    assert st["low"] == 300.0
    assert pc.low_watermark(st, partition=0) == 300.0  # leases are per receiving partition; low never goes back
    fresh = PartitionCorrelator(engine(), 2, lease=3.0, clock=lambda: now[0])  # a restarted worker
    st2 = orjson.loads(orjson.dumps({**st, "low": None}))
    assert fresh.low_watermark(st2, partition=1) == 50.0  # trusts no idle mark it has not seen: waits for 1


def test_a_resent_signal_applied_before_is_dropped_and_a_state_without_one_takes_it() -> None:
    """`produce --resend` (outside trial 40, M1): every document sent again, its signals marked re-sent. A partition
    that applied them drops those older than the applied ids it still holds (counted), so no alert is raised or
    revised again. Unmarked, the same records raised and revised alerts again (what the trial saw); now the throttle
    states of the alerts the sweeps dropped hold them back too (outside trial 72, HIGH-1), and the mark is left for
    what those bounded gates forget. A partition that lost its state takes them as new."""
    eng = engine()
    queues = upstream_queues(eng, docs())
    signals = [r for per_source in queues.values() for q in per_source.values() for r in q if r[0].type != WATERMARK]

    def outputs(resent: bool, *, state: bool = True) -> tuple[list[Any], int]:
        pc = PartitionCorrelator(eng, N)
        out: list[Any] = []
        for c, per_source in queues.items():
            st = pc.new_state()
            for q in per_source.values() if state else ():
                for ev, origin in q:
                    _ = pc.on_watermark(st, ev) if ev.type == WATERMARK else pc.on_signal(st, ev, origin)
            for ev, origin in (r for r in signals if part(r[0].key or "") == c):
                moved = [origin[0], origin[1] + 1000, *origin[2:]] if origin else None  # new offsets
                out += pc.on_signal(st, ev, moved, resent=resent)
        return out, pc.resent_dropped

    unmarked, _ = outputs(False)
    assert unmarked == []  # (the trial saw alerts raised and revised again: before the dropped alerts' gates)
    marked, dropped = outputs(True)
    assert marked == [] and dropped > 0
    fresh, dropped = outputs(True, state=False)
    assert dropped == 0
    assert sorted(
        map(key, current_alerts(o for o in fresh if isinstance(o, Detection | Retraction)).values())
    ) == sorted(map(key, (d for d in embedded() if d.rule not in ABSENCES)))
