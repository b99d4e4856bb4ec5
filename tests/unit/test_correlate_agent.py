"""The correlate agent's batches (no broker): keeping a partition's state in memory between batches gives what
decoding it from the table at every batch gives, and a table value changed behind the agent's back wins."""

from __future__ import annotations

import asyncio
import os
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from tests.fixtures.correlate_agent import Message, Outputs, Record, correlate_agent, correlate_record
from watchfloor.schemas.events import Event, signal_event, watermark_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.kafka import agents, statecodec
from watchfloor.stream_processors.kafka.agents import Correlate, StateTooLarge, decode_state
from watchfloor.stream_processors.kafka.codec import origin_header, parse_origin
from watchfloor.stream_processors.kafka.partition import PartitionCorrelator
from watchfloor.stream_processors.rulefile import load_rules

PARTS = 3
TITLES = [
    "North Korean soldiers have been sent to Russia's Kursk region, NATO says",
    "Russia's lower house ratifies the partnership treaty with North Korea",
    "North Korea ratifies its treaty with Russia",
    "The city council approved a new budget plan",
]


def engine() -> Engine:
    _packs, compiled = load_rules(["builtin:dprk_russia"])
    return Engine(compiled)


def batches(eng: Engine, names: TopicNames) -> list[list[Record]]:
    """Correlate records as the extract agent writes them: routed signals (origin headers) of 120 documents two
    days apart over three documents partitions, each partition's watermark after every ten documents, cut
    into uneven batches."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    offsets = [0] * PARTS
    records: list[Record] = []
    seen: dict[int, float] = {}
    for i in range(120):
        doc = parse_document(
            {
                "id": f"doc-{i:04d}",
                "type": "news.article",
                "published_at": (start + timedelta(days=2 * i)).isoformat(),
                "source": f"Wire {i % 5}",
                "title": TITLES[(i * 7) % len(TITLES)],
                "body": "Officials commented later in the day.",
            }
        )
        p = i % PARTS
        for k, sig in enumerate(eng.extract(doc)):
            sev = signal_event(sig)
            for j, (_det, gkey) in enumerate(eng.correlator.routes(sig)):
                routed = Event(id=sev.id, type=sev.type, time=doc.published_at, key=gkey, payload=sev.payload)
                c = zlib.crc32(gkey.encode()) % PARTS
                records.append(correlate_record(names, offsets, c, routed, origin_header(p, i, k, j)))
        seen[p] = doc.published_at.timestamp()
        if i % 10 == 9:
            for up, t in sorted(seen.items()):
                for c in range(PARTS):
                    records.append(correlate_record(names, offsets, c, watermark_event(up, t), None))
    out: list[list[Record]] = []
    k = 0
    for n in [1, 5, 2, 17, 3, 40, 9, 1, 1, 25] * 20:
        if k >= len(records):
            break
        out.append(records[k : k + n])
        k += n
    assert k >= len(records), "the batch sizes cover every record"
    return out


def states_of(eng: Engine, table: dict[bytes, bytes]) -> dict[int, Any]:
    """Each partition's state as a fresh agent reads it from the table (its records, whatever their layout)."""
    reader = correlate_agent(table, PartitionCorrelator(eng, PARTS), Outputs(TopicNames("t")))
    return {p: orjson.loads(orjson.dumps(reader._load(p)[0])) for p in range(PARTS)}


def parts_of(table: dict[bytes, bytes]) -> dict[bytes, bytes]:
    """The group and hour records (the heads differ by what they carry again after a reload)."""
    return {k: v for k, v in table.items() if b"/" in k and not statecodec.is_head_key(int(k.split(b"/")[0]), k)}


def run(agents: list[Correlate], cut: list[list[Record]], between: Any = None) -> None:
    """Each batch to the next agent of `agents` (round robin); `between(i)` after batch i."""

    async def go() -> None:
        for i, batch in enumerate(cut):
            await agents[i % len(agents)].process(batch)
            if between is not None:
                between(i)

    asyncio.run(go())


def test_state_kept_in_memory_between_batches_equals_state_decoded_at_every_batch() -> None:
    eng = engine()
    names = TopicNames("t")
    cut = batches(eng, names)
    kept_table: dict[bytes, bytes] = {}
    kept_out = Outputs(names)
    kept = correlate_agent(kept_table, PartitionCorrelator(eng, PARTS), kept_out)
    run([kept], cut)

    # Two agents taking turns on one table: each batch finds a value the other wrote, so every batch decodes.
    fresh_table: dict[bytes, bytes] = {}
    fresh_out = Outputs(names)
    pc = PartitionCorrelator(eng, PARTS)
    turns = [correlate_agent(fresh_table, pc, fresh_out) for _ in range(2)]
    run(turns, cut)

    detections = kept_out.detections
    assert len(detections) >= 10, "the records raise alerts (and the test sees them)"
    assert kept_out.sent == fresh_out.sent
    assert states_of(eng, kept_table) == states_of(eng, fresh_table)
    assert parts_of(kept_table) == parts_of(fresh_table)


def test_a_table_value_changed_behind_the_agents_back_is_the_state_it_takes() -> None:
    """After a rebalance another worker may have written the partition: the agent must not keep its own copy."""
    eng = engine()
    names = TopicNames("t")
    cut = batches(eng, names)
    empty = orjson.dumps(PartitionCorrelator.new_state())

    def reset(table: dict[bytes, bytes]) -> Any:
        def after(i: int) -> None:
            if i == len(cut) // 2:  # another worker's empty state, in the old layout
                table.clear()
                for p in range(PARTS):
                    table[str(p).encode()] = empty

        return after

    kept_table: dict[bytes, bytes] = {}
    kept_out = Outputs(names)
    kept = correlate_agent(kept_table, PartitionCorrelator(eng, PARTS), kept_out)
    run([kept], cut, reset(kept_table))

    fresh_table: dict[bytes, bytes] = {}
    fresh_out = Outputs(names)
    pc = PartitionCorrelator(eng, PARTS)
    turns = [correlate_agent(fresh_table, pc, fresh_out) for _ in range(2)]
    run(turns, cut, reset(fresh_table))

    assert kept_out.sent == fresh_out.sent
    assert states_of(eng, kept_table) == states_of(eng, fresh_table)


def to_format3(table: dict[bytes, bytes]) -> None:
    """`table` as workers before records had positions wrote it: heads under their position (format 3), the group
    and hour records under their logical keys, their values behind the old marker."""
    for p in range(PARTS):
        for k in [k for k in table if k.startswith(f"{p}/g/".encode()) or k.startswith(f"{p}/d/".encode())]:
            table[statecodec.split_record_key(k)[0]] = statecodec.OLD_PART + table.pop(k)[1:]
        for k in [k for k in table if statecodec.is_head_key(p, k)]:
            head = statecodec.unpack(table[k], statecodec.HEAD, k)
            table[k] = statecodec.pack(orjson.dumps({**head, "f": 3}), statecodec.HEAD)


def to_unfenced(table: dict[bytes, bytes]) -> None:
    """`table` as workers before heads had positions wrote it: each partition's head (format 2: no position) under
    the partition's key, the group and hour records under their logical keys (no position either)."""
    to_format3(table)
    for p in range(PARTS):
        heads = sorted((int(k.split(b"/")[2]), k) for k in table if statecodec.is_head_key(p, k))
        head = statecodec.unpack(table[heads[-1][1]], statecodec.HEAD, heads[-1][1])
        del head["o"]
        table[str(p).encode()] = statecodec.pack(orjson.dumps({**head, "f": 2}), statecodec.HEAD)
        for _pos, k in heads:
            del table[k]


@pytest.mark.parametrize("old", ["plain", "zlib", "head", "records"])
def test_a_partition_in_the_old_layout_is_read_and_written_out_per_group(old: str) -> None:
    """Workers before the per-group layout kept a partition's whole state in one value under the partition's key
    (plain JSON, first byte "{", or "z" + zlib), workers before heads had positions kept the head there ("head"), and
    workers before records had positions kept each under its group or hour alone ("records"):
    read as it is, the run goes on as if nothing had changed, and the next write puts it in the new layout (a head
    under its position, the old value replaced by a pointer)."""
    eng = engine()
    names = TopicNames("t")
    cut = batches(eng, names)

    ref_table: dict[bytes, bytes] = {}
    ref_out = Outputs(names)
    run([correlate_agent(ref_table, PartitionCorrelator(eng, PARTS), ref_out)], cut)
    assert all(v[:1] in (statecodec.HEAD, statecodec.PART) for k, v in ref_table.items() if b"/" in k)
    assert all(ref_table[str(p).encode()][:1] == statecodec.MOVED for p in range(PARTS))  # the pointers
    assert any(b"/g/" in k for k in ref_table) and any(b"/d/" in k for k in ref_table)

    def to_old(table: dict[bytes, bytes]) -> Any:
        def after(i: int) -> None:
            if i == len(cut) // 2 and old == "head":
                to_unfenced(table)
            elif i == len(cut) // 2 and old == "records":
                to_format3(table)
            elif i == len(cut) // 2:  # the upgrade: the values so far are an older worker's
                states = states_of(eng, table)
                table.clear()
                for p, st in states.items():
                    table[str(p).encode()] = orjson.dumps(st) if old == "plain" else agents.encode_state(st, p)

        return after

    table: dict[bytes, bytes] = {}
    out = Outputs(names)
    pc = PartitionCorrelator(eng, PARTS)
    run([correlate_agent(table, pc, out, audit=True) for _ in range(2)], cut, to_old(table))
    assert out.sent == ref_out.sent
    assert states_of(eng, table) == states_of(eng, ref_table)
    assert all(v[:1] in (statecodec.HEAD, statecodec.PART) for k, v in table.items() if b"/" in k)
    assert all(table[str(p).encode()][:1] == statecodec.MOVED for p in range(PARTS))  # the old values replaced
    # Every record under its position now, the old keys tombstoned.
    assert all(statecodec.AT in k for k in table if b"/g/" in k or b"/d/" in k)


def test_the_records_a_batch_may_have_changed_are_all_written() -> None:
    """The agent compares only the groups and hours a batch may have changed (its signals' groups, the groups
    its sweeps visit, the hours of the ids it applied or pruned): with `audit`, every record is compared too and
    a change outside those raises. Run with the state kept in memory, and decoded at every batch."""
    eng = engine()
    names = TopicNames("t")
    cut = batches(eng, names)
    table: dict[bytes, bytes] = {}
    run([correlate_agent(table, PartitionCorrelator(eng, PARTS), Outputs(names), audit=True)], cut)
    turns: dict[bytes, bytes] = {}
    pc = PartitionCorrelator(eng, PARTS)
    run([correlate_agent(turns, pc, Outputs(names), audit=True) for _ in range(2)], cut)
    assert states_of(eng, table) == states_of(eng, turns)


def test_a_state_over_the_limit_stops_the_agent_with_the_partition_and_what_to_do() -> None:
    """Never a silent loss: the state is not written, the batch fails (its offsets are not committed) and the
    message names the partition, the size and the ways out."""
    eng = engine()
    names = TopicNames("t")
    cut = batches(eng, names)
    table: dict[bytes, bytes] = {}
    agent = correlate_agent(table, PartitionCorrelator(eng, PARTS), Outputs(names), state_max_bytes=300)
    with pytest.raises(StateTooLarge, match=r"correlate partition \d: .* is [\d,]+ bytes compressed") as e:
        run([agent], cut)
    assert "more --partitions" in str(e.value) and "fewer or narrower rules" in str(e.value)
    with pytest.raises(ValueError, match="correlate partition 2: its table value starts with"):
        decode_state(b"\x00garbage", 2)


def test_the_running_agent_exits_before_its_batch_is_acked_when_a_state_is_too_large(monkeypatch: Any) -> None:
    """A state over the limit exits the process with nothing of its batch acked, even under a take_batches that
    acked whatever way the body ended (as compat.take_batches did before it acked only finished bodies)."""
    eng = engine()
    names = TopicNames("t")
    cut = batches(eng, names)
    acked: list[Any] = []
    at_exit: list[tuple[int, int]] = []

    async def take_batches(stream: Any, max_: int, within: float) -> Any:
        for batch in stream:
            try:
                yield batch
            finally:
                acked.extend(batch)  # as compat.take_batches: after the body, whatever way it ended

    class Exited(BaseException):
        pass

    def exit_(status: int) -> None:
        at_exit.append((status, len(acked)))
        raise Exited

    monkeypatch.setattr(os, "_exit", exit_)  # (os._exit: the process is not ended under pytest)
    table: dict[bytes, bytes] = {}
    agent = correlate_agent(
        table, PartitionCorrelator(eng, PARTS), Outputs(names), batches=take_batches, state_max_bytes=300
    )
    with pytest.raises(Exited):
        asyncio.run(agent.run(cut))
    assert at_exit == [(agents.STATE_TOO_LARGE_EXIT, 0)]  # the first batch already passes 300 bytes: none acked
    assert table == {}


def test_a_correlator_bug_leaves_no_trace_of_its_record_in_the_records_written() -> None:
    """A record on which the correlator raises is dead-lettered, and the partition's state is rebuilt from the
    table (the state before the batch) plus the batch's other records: what is written equals a run without it,
    though the failing call had changed a group, added one and applied an id before raising."""
    eng = engine()
    names = TopicNames("t")
    cut = batches(eng, names)
    victim = next(r for b in cut[len(cut) // 2 :] for r in b if r.headers)  # a signal, mid-run, mid-batch

    poison = parse_origin(victim.headers)

    class Buggy(PartitionCorrelator):
        def on_signal(self, st: dict[str, Any], ev: Event, origin: Any = None, groups: Any = None) -> Any:
            if origin == poison:
                for gs in st["cs"]["g"].values():
                    gs["n"] += 100
                st["cs"]["g"]["bogus\x1f"] = {"i": [], "f": [], "lf": None, "ls": -1, "n": 0, "w": [], "q": None}
                st["done"]["bogus|x"] = 1.0
                raise RuntimeError("a correlator bug")
            return super().on_signal(st, ev, origin, groups)

    table: dict[bytes, bytes] = {}
    out = Outputs(names)
    run([correlate_agent(table, Buggy(eng, PARTS), out, audit=True)], cut)
    ref_table: dict[bytes, bytes] = {}
    ref_out = Outputs(names)
    without = [[r for r in b if r is not victim] for b in cut]
    run([correlate_agent(ref_table, PartitionCorrelator(eng, PARTS), ref_out)], without)
    assert [s for s in out.sent if s[0] == names.dead_letters]  # the record went to the dead letters
    assert [s for s in out.sent if s[0] == names.detections] == [s for s in ref_out.sent if s[0] == names.detections]
    assert states_of(eng, table) == states_of(eng, ref_table)
    assert parts_of(table) == parts_of(ref_table)


def test_an_agent_whose_head_came_back_after_another_writer_reads_the_table_again() -> None:
    """Two agents taking turns: each finds its own last head back in the table (the tombstone the other wrote for
    it missed: compacted away while a memory store kept the key), but not its pointer, so it reads the table
    rather than going on from the state it kept."""
    eng = engine()
    names = TopicNames("t")
    cut = batches(eng, names)
    ref_out, ref_table = Outputs(names), {}  # type: ignore[var-annotated]
    run([correlate_agent(ref_table, PartitionCorrelator(eng, PARTS), ref_out)], cut)

    table: dict[bytes, bytes] = {}
    written: dict[bytes, bytes] = {}

    def heads_back(i: int) -> None:
        written.update((k, v) for k, v in table.items() if b"/h/" in k)
        table.update(written)

    out = Outputs(names)
    pc = PartitionCorrelator(eng, PARTS)
    run([correlate_agent(table, pc, out) for _ in range(2)], cut, heads_back)
    assert out.sent == ref_out.sent
    assert states_of(eng, table) == states_of(eng, ref_table)


def test_a_record_that_does_not_belong_on_the_correlate_topic_is_dead_lettered_and_said(caplog: Any) -> None:
    """Garbage on the correlate topic is dead-lettered under its partition and offset, and said in the log as the
    extract agent says a refused document (outside trial 60, LOW-1: the worker kept silent)."""
    names = TopicNames("t")
    out = Outputs(names)
    agent = correlate_agent({}, PartitionCorrelator(engine(), PARTS), out)
    bad = [Record(Message(names.correlate, 1, 5), b"not json at all", None)]
    caplog.set_level("WARNING")
    run([agent], [bad])
    letters = [orjson.loads(v) for t, _k, v in out.sent if t == names.dead_letters]
    assert [(d["origin"], d["stage"]) for d in letters] == [("kafka:t.correlate[1]@5", "correlate")]
    assert "correlate: kafka:t.correlate[1]@5 rejected:" in caplog.text
