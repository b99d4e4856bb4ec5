"""replay_partition (stream_processors.kafka.correlate_replay) against the live correlate step, without a broker.

A correlate partition's records in one random interleaving of its upstream partitions, with re-sent stretches
(an agent restarted from its committed offset) and the state round-tripped through JSON after every record (the
Faust table): the live history, every detection, revision and retraction in the order raised. The replay of the
same records, as the topic holds them (bytes and a wf-origin header), raises the same history, event for event.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from tests.unit.test_partition_correlator import N, docs, engine, interleavings, upstream_queues
from watchfloor.schemas.events import Detection, Retraction, detection_event, retraction_event
from watchfloor.stream_processors.kafka.codec import WATERMARK, encode_event
from watchfloor.stream_processors.kafka.correlate_replay import WorkersReplay, replay_partition
from watchfloor.stream_processors.kafka.partition import PartitionCorrelator


@pytest.mark.parametrize("seed", range(6))
def test_a_partitions_records_replayed_give_its_live_history(seed: int) -> None:
    eng = engine()
    pc = PartitionCorrelator(eng, N)
    rng = random.Random(seed)
    documents = docs()
    rng.shuffle(documents)  # later-dated reports first, as the trial saw them: revisions on the way
    revised = 0
    for c, per_source in upstream_queues(eng, documents).items():
        records = list(interleavings(per_source, rng, dup_rate=0.2))
        raw = orjson.dumps(pc.new_state())
        live: list[Any] = []
        for ev, origin in records:
            st: dict[str, Any] = pc.restore(orjson.loads(raw))
            outs = pc.on_watermark(st, ev, c) if ev.type == WATERMARK else pc.on_signal(st, ev, origin)
            raw = orjson.dumps(st)
            for o in outs:
                if isinstance(o, Detection):
                    live.append(detection_event(o))
                elif isinstance(o, Retraction):
                    live.append(retraction_event(o))
        got = WorkersReplay()
        replay_partition(pc, c, [(encode_event(ev), origin, None) for ev, origin in records], got)
        assert [(e.id, e.payload) for e in got.events] == [(e.id, e.payload) for e in live]
        assert got.records == len(records) and got.rejected == got.failed == 0
        revised += sum(1 for e in live if e.payload.get("revision"))
    assert revised, "the shuffled order revises nothing: the test would not show the history replayed"
