"""Detections over detections in distributed mode, without a broker (stream_processors.kafka.partition).

The topology of test_partition_correlator, with the alert changes of input detections sent back to the correlate
topic keyed by each derived detection's group (`PartitionCorrelator.alert_routes`), where the partition of that
group feeds them on (`on_alert`), and each correlate partition's forwarded watermark (`to_forward`) told to all.
Partitions take their input in random interleavings, with re-sent records and a JSON round trip of the state after
every record; the alerts that stand must equal the embedded runner's, derived ones included (an `all_of` over two
detections, a `sequence` of an alert then a signal, one over confirmed alerts). A detection over an absence's alerts
or over another detection over detections needs a state per level (`levels`, test_partition_levels): such an input
alert can come after the derived partition's one low passed it.
"""

from __future__ import annotations

import random
import zlib
from collections import deque
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from watchfloor.schemas.events import (
    Detection,
    Document,
    Event,
    Retraction,
    detection_event,
    document_event,
    retraction_event,
    signal_event,
    watermark_event,
)
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.kafka.codec import WATERMARK
from watchfloor.stream_processors.kafka.partition import PartitionCorrelator, forwarded_watermark
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.runner import EmbeddedRunner
from watchfloor.stream_processors.stores.memory import MemoryStore

from .engine_helpers import DATA, T0, doc

N = 3
COMPOSED = DATA / "rules" / "composed_workers.yaml"  # composed.yaml less its detection over an absence
# A sequence that mixes an input detection's alerts and a signal of the same group.
MIXED = """
version: 2
name: mixed
settings: {lateness: 2d}
detections:
  - id: reopened-after-closure
    title: "{country} reopened after a closure"
    pattern: {sequence: [{detection: plain-closure}, reopened]}
    group_by: [country]
    within: 3d
"""
WORDS = (
    "trucks tanks soldiers farmers traders buses lorries queues guards barriers fences drones crowds reporters "
    "ministers families tourists pilgrims smugglers convoys ambulances tractors cyclists students"
).split()
Upstream = tuple[str, int]  # ("d", documents partition) or ("c", correlate partition)
Record = tuple[Event, list[int] | None]


def part(s: str) -> int:
    return zlib.crc32(s.encode()) % N


def engine(specs: list[str]) -> Engine:
    return Engine(load_rules(specs)[1])


def documents(seed: int, n: int = 60) -> list[Document]:
    """Reports of closures and reopenings of two borders over ten days, a few hours out of order."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        country = rng.choice(["Alphaland", "Betastan"])
        verb = rng.choice(["closed", "closed", "reopened"])
        at = i * 4.0 + rng.uniform(-6, 6)
        source = rng.choice(["Wire A", "Wire B", "Wire C"])
        # words of their own, so that two sources' reports are two stories (a copy of one story counts once)
        own = " ".join(rng.sample(WORDS, 6))
        text = f"{country} {verb} the border, officials said. Witnesses saw {own}."
        out.append(doc(text, at=at, source=source, doc_id=f"d{seed}-{i}"))
    return out


def key(d: Detection) -> tuple[Any, ...]:
    return (d.id, d.rule, tuple(sorted(d.group.items())), d.severity, d.fired_at, tuple(e.event_id for e in d.evidence))


def embedded(specs: list[str], docs: list[Document]) -> list[Detection]:
    store = MemoryStore()
    store.append([document_event(d) for d in docs])
    runner = EmbeddedRunner(store, engine(specs))
    runner.run_once()
    return list(current_alerts(se.event for se in store.read(limit=100_000)).values())


def documents_queues(eng: Engine, docs: list[Document]) -> dict[int, dict[Upstream, deque[Record]]]:
    """inbox[c][("d", p)]: what correlate partition c receives from documents partition p, in order."""
    inbox: dict[int, dict[Upstream, deque[Record]]] = {
        c: {**{("d", p): deque() for p in range(N)}, **{("c", q): deque() for q in range(N)}} for c in range(N)
    }
    newest: dict[int, float] = {}
    offsets = dict.fromkeys(range(N), 0)
    for d in docs:
        p = part(d.id)
        offset = offsets[p]
        offsets[p] += 1
        for i, sig in enumerate(eng.extract(d)):
            sev = signal_event(sig)
            for j, (_det, gkey) in enumerate(eng.correlator.routes(sig)):
                routed = Event(id=sev.id, type=sev.type, time=sev.time, key=gkey, payload=sev.payload)
                inbox[part(gkey)][("d", p)].append((routed, [p, offset, i, j]))
        newest[p] = max(newest.get(p, d.published_at.timestamp()), d.published_at.timestamp())
        for c in range(N):
            inbox[c][("d", p)].append((watermark_event(p, newest[p], idle=False), None))
    for p in range(N):
        for c in range(N):
            inbox[c][("d", p)].append((watermark_event(p, newest.get(p), idle=True), None))
    return inbox


def run_distributed(specs: list[str], docs: list[Document], seed: int, dup_rate: float = 0.15) -> list[Detection]:
    eng = engine(specs)
    rng = random.Random(seed)
    pc = PartitionCorrelator(eng, N, correlate_partitions=N)
    inbox = documents_queues(eng, docs)
    raw = {c: orjson.dumps(pc.new_state()) for c in range(N)}
    history: dict[int, list[Detection | Retraction]] = {c: [] for c in range(N)}
    offset = dict.fromkeys(range(N), 0)  # each correlate partition's next input offset
    while True:
        ready = [(c, u) for c in range(N) for u, q in inbox[c].items() if q]
        if not ready:
            break
        c, u = rng.choice(ready)
        ev, origin = inbox[c][u].popleft()
        if rng.random() < dup_rate:
            inbox[c][u].appendleft((ev, origin))  # delivered again (at least once): the state must drop it
        at = offset[c]
        offset[c] += 1
        st: dict[str, Any] = pc.restore(orjson.loads(raw[c]))
        if ev.type == WATERMARK:
            outs = pc.on_watermark(st, ev, c)
        elif u[0] == "c":
            outs = pc.on_alert(st, ev, origin)
        else:
            outs = pc.on_signal(st, ev, origin)
        for k, o in enumerate(outs):
            if not isinstance(o, Detection | Retraction):
                continue
            history[c].append(o)
            dev = detection_event(o) if isinstance(o, Detection) else retraction_event(o)
            for j, (_det, gkey) in enumerate(pc.alert_routes(o)):
                routed = Event(id=dev.id, type=dev.type, time=dev.time, key=gkey, payload=dev.payload)
                inbox[part(gkey)][("c", c)].append((routed, [c, at, k, j]))
        told = pc.to_forward(st, c)
        if told is not None:
            for target in range(N):
                inbox[target][("c", c)].append((forwarded_watermark(c, told), None))
        raw[c] = orjson.dumps(st)
    standing: list[Detection] = []
    for c in range(N):
        standing += current_alerts(history[c]).values()
    return standing


@pytest.mark.parametrize("seed", range(6))
def test_any_arrival_order_gives_the_embedded_alerts_over_detections(seed: int, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text(MIXED, encoding="utf-8")
    specs = [str(COMPOSED), str(mixed)]
    docs = documents(seed)
    want = sorted(map(key, embedded(specs, docs)))
    rules = {k[1] for k in want}
    assert {"closure-confirmed", "both-closed", "reopened-after-closure"} <= rules, rules
    for run in range(3):
        got = sorted(map(key, run_distributed(specs, docs, seed * 10 + run)))
        assert got == want


def test_a_worker_without_partitions_to_compose_over_refuses_the_pack() -> None:
    with pytest.raises(ValueError, match="over detections"):
        PartitionCorrelator(engine([str(COMPOSED)]), N)


def test_a_detection_over_an_absence_needs_a_state_per_level() -> None:
    """Its input alert is raised when its partition's watermark passes: with one low for every level the derived
    partition may be past it then (a `sequence` and an `all_of` over one gave other alerts than the embedded runner in
    45 of 45 random interleavings of this simulation). test_partition_levels runs it with a state per level."""
    composed = engine([str(DATA / "rules" / "composed.yaml")])
    with pytest.raises(ValueError, match=r"detection 'still-closed-alert' needs one correlator state per level"):
        PartitionCorrelator(composed, N, correlate_partitions=N, levels=False)
    assert PartitionCorrelator(composed, N, correlate_partitions=N).levels
    assert not PartitionCorrelator(engine([str(COMPOSED)]), N, correlate_partitions=N).levels


def test_a_pack_without_derived_detections_routes_no_alert_and_forwards_nothing() -> None:
    pc = PartitionCorrelator(engine(["builtin:dprk_russia"]), N, correlate_partitions=N)
    st = pc.new_state()
    for p in range(N):
        pc.on_watermark(st, watermark_event(p, (T0 + timedelta(days=1)).timestamp()), 0)
    assert st["low"] is not None and pc.to_forward(st, 0) is None


def test_an_alert_change_the_rules_cannot_take_is_rejected_naming_why() -> None:
    from watchfloor.stream_processors.kafka.codec import Rejected

    composed = PartitionCorrelator(engine([str(COMPOSED)]), N, correlate_partitions=N)
    plain = PartitionCorrelator(engine(["builtin:dprk_russia"]), N, correlate_partitions=N)
    bad = Event(id="x", type="detection", time=T0, key="both-closed\x1f", payload={"rule": "plain-closure"})
    with pytest.raises(Rejected) as invalid:
        composed.on_alert(composed.new_state(), bad, [0, 1, 0, 0])
    assert invalid.value.reason.startswith("invalid detection payload") and invalid.value.field, invalid.value.reason
    alert = run_distributed([str(COMPOSED)], documents(0, 12), 0)[0]
    dev = detection_event(alert)
    stray = Event(id=dev.id, type=dev.type, time=dev.time, key="still-closed\x1fcountry=A", payload=dev.payload)
    with pytest.raises(Rejected, match="no detection over it of these rules"):
        composed.on_alert(composed.new_state(), stray, [0, 1, 0, 0])
    with pytest.raises(Rejected, match="these rules have no detection over detections"):
        plain.on_alert(plain.new_state(), stray, [0, 1, 0, 0])
