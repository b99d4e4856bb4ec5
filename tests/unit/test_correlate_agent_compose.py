"""The correlate agent with detections over detections (no broker): its own code over a simulated correlate topic.

Each correlate partition is a log the extract side appends to (routed signals, watermarks) and the agent appends to
as well (input alerts' changes keyed by their derived groups, its forwarded watermarks: agents.Correlate). Batches of
random size are taken from random partitions by agents with the audit on (every state record compared, the table
read back after each batch); some batches fail after their outputs were sent and before their state was written
(the `encode` seam raises: a worker stopped there), and are read again by a new agent from the table, so every
output of theirs is sent twice. The alerts that stand (the detections topic, each event once, as the store keeps
it) must be the embedded runner's.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.correlate_agent import Message, Record
from tests.unit.test_partition_compose import COMPOSED, MIXED, documents, embedded, engine, key, part
from watchfloor.schemas.events import Detection, Event, Retraction, signal_event, watermark_event
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.kafka import statecodec
from watchfloor.stream_processors.kafka.agents import Correlate
from watchfloor.stream_processors.kafka.codec import decode_event, encode_event, origin_header
from watchfloor.stream_processors.kafka.partition import PartitionCorrelator

N = 3


class Topic:
    """The correlate topic's partitions and the detections topic, as the agents' producer appends to them."""

    def __init__(self, names: TopicNames) -> None:
        self.names = names
        self.logs: dict[int, list[Record]] = {c: [] for c in range(N)}
        self.detections: list[bytes] = []

    def append(self, c: int, value: bytes, headers: dict[str, bytes] | None) -> None:
        self.logs[c].append(Record(Message(self.names.correlate, c, len(self.logs[c])), value, headers))

    async def start(self) -> None:
        pass

    async def send(
        self, topic: str, key: bytes | None, value: bytes, partition: int | None = None, headers: Any = None
    ) -> Any:
        if topic == self.names.correlate:
            self.append(partition if partition is not None else part((key or b"").decode()), value, headers)
        elif topic == self.names.detections:
            self.detections.append(value)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def dead_letter(self, dl: Any, at: Any) -> Any:
        raise AssertionError(f"a dead letter: {dl}")


def extracted(eng: Any, topic: Topic, docs: list[Any]) -> list[list[tuple[int, bytes, dict[str, bytes] | None]]]:
    """Per document, the correlate records the extract agent writes for it (routed signals, then watermarks)."""
    out = []
    newest: dict[int, float] = {}
    for n, d in enumerate(docs):
        p = part(d.id)
        recs: list[tuple[int, bytes, dict[str, bytes] | None]] = []
        for i, sig in enumerate(eng.extract(d)):
            sev = signal_event(sig)
            for j, (_det, gkey) in enumerate(eng.correlator.routes(sig)):
                routed = Event(id=sev.id, type=sev.type, time=sev.time, key=gkey, payload=sev.payload)
                recs.append((part(gkey), encode_event(routed), origin_header(p, n, i, j)))
        newest[p] = max(newest.get(p, d.published_at.timestamp()), d.published_at.timestamp())
        wm = encode_event(watermark_event(p, newest[p]))
        recs += [(c, wm, None) for c in range(N)]
        out.append(recs)
    idle = [encode_event(watermark_event(p, newest.get(p), idle=True)) for p in range(N)]
    out.append([(c, v, None) for v in idle for c in range(N)])
    return out


def run_agents(specs: list[str], docs: list[Any], seed: int) -> list[Detection]:
    eng = engine(specs)
    rng = random.Random(seed)
    names = TopicNames("t")
    topic = Topic(names)
    table: dict[bytes, bytes] = {}
    failing = {"now": False}

    def encode(*args: Any, **kwargs: Any) -> Any:
        if failing["now"]:
            raise RuntimeError("stopped before the state was written")
        return statecodec.encode(*args, **kwargs)

    def agent() -> Correlate:
        pc = PartitionCorrelator(eng, N, correlate_partitions=N)
        return Correlate(table, pc, topic, batch_within=0.01, audit=True, encode=encode)  # type: ignore[arg-type]

    current = agent()
    pending = extracted(eng, topic, docs)
    read = dict.fromkeys(range(N), 0)  # each partition's committed offset

    async def go() -> None:
        nonlocal current
        while pending or any(read[c] < len(topic.logs[c]) for c in range(N)):
            ready = [c for c in range(N) if read[c] < len(topic.logs[c])]
            if pending and (not ready or rng.random() < 0.4):
                for c, value, headers in pending.pop(0):
                    topic.append(c, value, headers)
                continue
            c = rng.choice(ready)
            batch = topic.logs[c][read[c] : read[c] + rng.randint(1, 12)]
            failing["now"] = rng.random() < 0.1
            try:
                await current.process(batch)
            except RuntimeError:
                current = agent()  # a new worker reads the table and the batch again
                continue
            read[c] += len(batch)

    asyncio.run(go())
    history: dict[str, Detection | Retraction] = {}
    for raw in topic.detections:  # the store keeps each event once, by its id
        ev = decode_event(raw)
        if ev.id not in history:
            history[ev.id] = Detection.model_validate(ev.payload) if ev.type == "detection" else (
                Retraction.model_validate(ev.payload))  # fmt: skip
    return list(current_alerts(list(history.values())).values())


@pytest.mark.parametrize("seed", range(3))
def test_the_agent_raises_the_embedded_alerts_with_batches_read_twice(seed: int, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text(MIXED, encoding="utf-8")
    specs = [str(COMPOSED), str(mixed)]
    docs = documents(seed + 20)
    want = sorted(map(key, embedded(specs, docs)))
    assert {"closure-confirmed", "both-closed", "reopened-after-closure", "still-closed-alert"} <= {k[1] for k in want}
    assert sorted(map(key, run_agents(specs, docs, seed))) == want
