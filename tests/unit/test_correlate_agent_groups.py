"""The groups a correlate batch writes are the groups the correlator changed, not the records' keys (no broker).

A record routed by a worker with other rules (a `group_by` edited, then the workers restarted with records of the
old rules still on the correlate topic; rules_guard only logs them) is keyed by a group the correlator here does
not file it under: the agent must write the group the correlator changed, or a restore loses its observation."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.fixtures.correlate_agent import Outputs, Record
from tests.unit.test_correlate_agent import PARTS, batches, engine, run, states_of
from watchfloor.schemas.events import Event
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.kafka import statecodec
from watchfloor.stream_processors.kafka.agents import Correlate
from watchfloor.stream_processors.kafka.codec import decode_event, encode_event
from watchfloor.stream_processors.kafka.partition import PartitionCorrelator


def rekeyed(cut: list[list[Record]]) -> list[list[Record]]:
    """Every routed signal keyed by a group of its detection that the rules loaded here do not make (what a worker
    with another `group_by` routed); same partitions, same origins."""
    out = []
    for batch in cut:
        new = []
        for r in batch:
            if r.headers:
                ev = decode_event(r.value)
                det = (ev.key or "").split("\x1f", 1)[0]
                moved = Event(id=ev.id, type=ev.type, time=ev.time, key=det + "\x1fold_group_by=x", payload=ev.payload)
                r = Record(r.message, encode_event(moved), r.headers)
            new.append(r)
        out.append(new)
    return out


def detections(out: Outputs, names: TopicNames) -> list[bytes]:
    return [v for t, _k, v in out.sent if t == names.detections]


def test_records_keyed_by_another_group_write_the_group_the_correlator_changed() -> None:
    """The review's case (24 of 26 batches left a table that restored another state; 92 detections with the state
    kept in memory, 100 with it restored at every batch): with the groups the correlator changed written, both
    runs raise the detections of correctly keyed records, and the audit (every record compared, and the table read
    back after each batch) finds nothing missed."""
    eng = engine()
    names = TopicNames("t")
    cut = batches(eng, names)
    moved = rekeyed(cut)
    assert sum(1 for b in moved for r in b if r.headers) >= 20

    ref_out = Outputs(names)
    ref_table: dict[bytes, bytes] = {}
    run([Correlate(ref_table, PartitionCorrelator(eng, PARTS), ref_out, batch_within=0.01)], cut)

    kept_out, kept_table = Outputs(names), {}  # type: ignore[var-annotated]
    run([Correlate(kept_table, PartitionCorrelator(eng, PARTS), kept_out, batch_within=0.01, audit=True)], moved)
    turns_out, turns_table = Outputs(names), {}  # type: ignore[var-annotated]
    pc = PartitionCorrelator(eng, PARTS)
    run([Correlate(turns_table, pc, turns_out, batch_within=0.01, audit=True) for _ in range(2)], moved)

    assert len(detections(ref_out, names)) >= 10
    assert detections(kept_out, names) == detections(ref_out, names)
    assert detections(turns_out, names) == detections(ref_out, names)
    assert states_of(eng, kept_table) == states_of(eng, ref_table) == states_of(eng, turns_table)


def test_the_audit_reads_the_table_back_after_each_batch() -> None:
    """A change that reaches the candidates but not the table (here: the writer drops one group record) is caught
    by the audit's read-back, which the candidate check alone passes."""
    eng = engine()
    names = TopicNames("t")
    cut = batches(eng, names)
    encode = statecodec.encode

    def lossy(*args: Any, **kwargs: Any) -> Any:
        got = encode(*args, **kwargs)
        dropped = next((k for k, _v in got[0].puts if b"/g/" in k), None) if got is not None else None
        if got is None or dropped is None:
            return got
        w, lay = got
        head = statecodec.unpack(w.head, statecodec.HEAD, b"")
        del head["redo"][statecodec.split_record_key(dropped)[0].decode()]
        w.head = statecodec.pack(orjson.dumps(head), statecodec.HEAD)
        w.puts = [(k, v) for k, v in w.puts if k != dropped]
        return w, lay

    table: dict[bytes, bytes] = {}
    pc = PartitionCorrelator(eng, PARTS)
    agent = Correlate(table, pc, Outputs(names), batch_within=0.01, audit=True, encode=lossy)
    with pytest.raises(AssertionError, match="the table restores another state than the one in memory"):
        run([agent], cut)
