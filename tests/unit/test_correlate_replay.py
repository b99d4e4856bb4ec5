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


def test_the_archived_records_replay_as_the_topic_does_and_a_hole_is_a_gap() -> None:
    """`replay-workers --from-store`: each partition's records as `archive` kept them (value and the origin header,
    in a RecordArchive) give what the records themselves give; a run of offsets missing is named, to the offset."""
    from watchfloor.stream_processors.kafka.codec import ORIGIN_HEADER
    from watchfloor.stream_processors.kafka.correlate_replay import GONE, NOT_ARCHIVED, Gap, replay_workers
    from watchfloor.stream_processors.ports import TopicRecord
    from watchfloor.stream_processors.stores.memory import MemoryStore

    eng = engine()
    rng = random.Random(3)
    documents = docs()
    rng.shuffle(documents)
    per_partition = {c: list(interleavings(q, rng, dup_rate=0.2)) for c, q in upstream_queues(eng, documents).items()}
    assert sorted(per_partition) == list(range(N))

    def kept(c: int, ev: Any, origin: Any, offset: int) -> TopicRecord:
        headers = ((ORIGIN_HEADER, ":".join(map(str, origin)).encode()),) if origin is not None else ()
        return TopicRecord(c, offset, encode_event(ev), headers)

    want = WorkersReplay()
    pc = PartitionCorrelator(eng, N)
    store = MemoryStore()
    for c, records in per_partition.items():
        replay_partition(pc, c, [(encode_event(ev), origin, None) for ev, origin in records], want)
        store.record("p.correlate", [kept(c, ev, o, i) for i, (ev, o) in enumerate(records)])
    got = replay_workers(eng, "unused:9092", "p", archive=store, from_store=True)  # (the broker is not asked)
    assert [(e.id, e.payload) for e in got.events] == [(e.id, e.payload) for e in want.events] and want.events
    assert got.exact and not got.gaps and got.sources == dict.fromkeys(range(N), "store")
    assert got.partitions == N and got.records == sum(len(r) for r in per_partition.values())

    holed = MemoryStore()  # partition 1 from offset 3, then 5 on; the archive had seen 2 more at its last look
    for c, records in per_partition.items():
        rows = [kept(c, ev, o, i) for i, (ev, o) in enumerate(records) if c != 1 or (i >= 3 and i != 4)]
        holed.record("p.correlate", rows, {c: len(records) + 2} if c == 1 else None)
    got = replay_workers(eng, "unused:9092", "p", archive=holed, from_store=True)
    n = len(per_partition[1])
    assert got.gaps == [Gap(1, 0, 3, GONE), Gap(1, 4, 5, GONE), Gap(1, n, n + 2, NOT_ARCHIVED)]
    assert not got.exact
    assert (
        str(got.gaps[0])
        == "partition 1 offsets 0-2 (3 records: gone from the broker before `watchfloor archive` read them)"
    )
    assert str(got.gaps[1]).startswith("partition 1 offset 4 (1 record: ")


def _replayed() -> tuple[Any, list[Any]]:
    """The engine, and what one shuffled run of every partition's records raised."""
    eng = engine()
    pc = PartitionCorrelator(eng, N)
    rng = random.Random(5)
    documents = docs()
    rng.shuffle(documents)
    got = WorkersReplay()
    for c, per_source in upstream_queues(eng, documents).items():
        records = list(interleavings(per_source, rng, dup_rate=0.0))
        replay_partition(pc, c, [(encode_event(ev), origin, None) for ev, origin in records], got)
    return eng, got.events


def test_detections_an_older_release_wrote_compare_as_this_release_reads_them() -> None:
    """Outside trial 15, M1: the old workers' detections lack `story` in their evidence items (a field added
    since); read by this release's model it is None, as in the replay's: not "other content"."""
    from watchfloor.schemas.events import Event
    from watchfloor.stream_processors.kafka.correlate_replay import compare

    _eng, replayed = _replayed()
    detections = [e for e in replayed if e.type == "detection"]
    assert detections and all("story" in item for e in detections for item in e.payload["evidence"])

    def as_older(ev: Event) -> Event:
        payload = orjson.loads(orjson.dumps(ev.payload))
        for item in payload.get("evidence", []):
            if item["story"] is None:  # (a release of before the field wrote none; this one writes null)
                del item["story"]
        return ev.model_copy(update={"payload": payload})

    stored = [as_older(e) for e in replayed]
    assert any(a.payload != b.payload for a, b in zip(stored, replayed, strict=True))
    assert compare(replayed, stored) == ([], [], [])
    # A real difference is still one (the field is not dropped: a story the old payload named is compared).
    first = detections[0]
    changed = orjson.loads(orjson.dumps(first.payload))
    changed["evidence"][0]["story"] = "0123456789ab"  # (a story this release would not have found)
    other = [first.model_copy(update={"payload": changed}) if e.id == first.id else e for e in stored]
    assert compare(replayed, other) == ([], [], [first.id])


def test_records_of_another_release_with_the_same_rules_are_told_apart_from_other_rules() -> None:
    """A replay of records routed by the same rules on another release is exact for that alone; by other rules
    it is not (and each is counted by fingerprint)."""
    from watchfloor.stream_processors.fingerprint import legacy_fingerprint, rules_digest
    from watchfloor.stream_processors.kafka.codec import ORIGIN_HEADER
    from watchfloor.stream_processors.kafka.correlate_replay import replay_workers
    from watchfloor.stream_processors.kafka.rules_guard import RULES_HEADER, rules_fingerprint
    from watchfloor.stream_processors.ports import TopicRecord
    from watchfloor.stream_processors.stores.memory import MemoryStore

    eng = engine()
    ours = rules_fingerprint(eng, version="0.2.0")
    older = rules_fingerprint(eng, version="0.1.0")
    assert older.startswith(rules_digest(eng))
    rng = random.Random(3)
    per_partition = {c: list(interleavings(q, rng, dup_rate=0.0)) for c, q in upstream_queues(eng, docs()).items()}

    def store_with(fingerprint: str) -> MemoryStore:
        store = MemoryStore()
        for c, records in per_partition.items():
            rows = []
            for i, (ev, origin) in enumerate(records):
                headers = [(RULES_HEADER, fingerprint.encode())]
                if origin is not None:
                    headers.append((ORIGIN_HEADER, ":".join(map(str, origin)).encode()))
                rows.append(TopicRecord(c, i, encode_event(ev), tuple(headers)))
            store.record("p.correlate", rows)
        return store

    n = sum(1 for records in per_partition.values() for ev, _o in records if ev.type != WATERMARK)
    got = replay_workers(eng, "unused:9092", "p", rules=ours, archive=store_with(older), from_store=True)
    assert got.other_release == {older: got.records} and not got.other_rules and got.exact and n
    got = replay_workers(eng, "unused:9092", "p", rules=ours, archive=store_with("7ee880713762"), from_store=True)
    assert got.other_rules == {"7ee880713762": got.records} and not got.other_release and not got.exact
    # These rules as a release of before the mark fingerprinted them (given as `same`): the same rules.
    legacy = legacy_fingerprint(eng)
    got = replay_workers(
        eng, "unused:9092", "p", rules=ours, archive=store_with(legacy), from_store=True, same={legacy}
    )
    assert got.other_release == {legacy: got.records} and not got.other_rules and got.exact
