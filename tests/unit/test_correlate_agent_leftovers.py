"""Group and hour records no head wrote coming back into a correlate partition's table (no broker; review13 F7).

* A deleted record comes back: a worker's memory store keeps the keys it wrote itself when the partition moves
  away (Faust drops only those it read from the changelog), and a RocksDB store restores from its own offset, so a
  deletion whose tombstone was compacted away meanwhile is missed. The records come back as of before their
  deletion: a group is deleted once all it holds has expired, and applied ids once their hour is past keeping, so
  what comes back has expired too. Brought back before every batch, they change no detection.
* A worker that lost the partition and still writes its batch (a zombie): its group and hour records, landing after
  the new owner's, are what the new owner wrote for that batch (the same records, the same state before them), or
  are redone by the newer head, or (the owner changed them since) land under their batch's position beside the
  owner's newer ones, which the restore takes. Its head lands under its position too, beside the owner's newer one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from tests.fixtures.correlate_agent import Outputs, Record
from tests.unit.test_correlate_agent import PARTS, batches, engine
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.kafka.agents import Correlate
from watchfloor.stream_processors.kafka.partition import PartitionCorrelator
from watchfloor.stream_processors.rulefile import load_rules


def short_windows(tmp: Path) -> Engine:
    """Groups that expire and are deleted within the run (the bundled pack's windows outlast it): per-source `any`
    with a realert, `all_of`, `count` and `absence` over hours to days, lateness 1 h."""
    pack = {
        "version": 2,
        "name": "short-windows",
        "description": "Test pack: groups that expire within days.",
        "settings": {"lateness": "1h"},
        "signals": {
            "troops": {"match": {"any": ["soldiers"]}},
            "treaty": {"match": {"any": ["ratifies"]}},
            "budget": {"match": {"any": ["budget"]}},
        },
        "detections": [
            {"id": "troops", "title": "t", "severity": "low", "pattern": {"any": ["troops"]}, "group_by": ["source"],
             "realert": "3d"},
            {"id": "both", "title": "b", "severity": "low", "pattern": {"all_of": ["troops", "treaty"]},
             "group_by": ["source"], "within": "5d"},
            {"id": "count", "title": "c", "severity": "low", "pattern": {"count": {"signal": "budget", "at_least": 2}},
             "within": "7d"},
            {"id": "quiet", "title": "q", "severity": "low",
             "pattern": {"absence": {"first": "treaty", "then_not": "troops"}}, "group_by": ["source"], "within": "3d"},
        ],
    }  # fmt: skip
    path = tmp / "short.json"
    path.write_bytes(orjson.dumps(pack))
    _packs, compiled = load_rules([str(path)])
    return Engine(compiled)


def detections(out: Outputs, names: TopicNames) -> list[bytes]:
    return [v for t, _k, v in out.sent if t == names.detections]


def reference(eng: Engine, cut: list[list[Record]], names: TopicNames) -> list[bytes]:
    out = Outputs(names)
    agent = Correlate({}, PartitionCorrelator(eng, PARTS), out, batch_within=0.01)

    async def go() -> None:
        for b in cut:
            await agent.process(b)

    asyncio.run(go())
    return detections(out, names)


@pytest.mark.parametrize("pack", ["short windows", "dprk_russia"])
def test_deleted_records_that_come_back_change_no_detection(pack: str, tmp_path: Path) -> None:
    eng = short_windows(tmp_path) if pack == "short windows" else engine()
    names = TopicNames("t")
    cut = batches(eng, names)
    want = reference(eng, cut, names)
    table: dict[bytes, bytes] = {}
    out = Outputs(names)
    pc = PartitionCorrelator(eng, PARTS)
    agents = [Correlate(table, pc, out, batch_within=0.01) for _ in range(2)]  # one restores at every batch
    last: dict[bytes, bytes] = {}  # every group and hour record as last written
    back: dict[str, int] = {"g": 0, "d": 0}

    async def go() -> None:
        for i, b in enumerate(cut):
            last.update((k, v) for k, v in table.items() if b"/" in k)
            for k, v in last.items():
                if k not in table:  # deleted since: its tombstone compacted away, its old value still local
                    table[k] = v
                    back["g" if b"/g/" in k else "d"] += 1
            await agents[i % 2].process(b)

    asyncio.run(go())
    assert back["d"] > 0 and (back["g"] > 0 or pack == "dprk_russia"), back  # the short windows delete groups
    assert detections(out, names) == want


def is_record(k: bytes) -> bool:
    """A group or hour record ("<part>/g/..." or "<part>/d/..."; not a head, not a partition's pointer)."""
    return k.split(b"/", 2)[1:2] in ([b"g"], [b"d"])


def heads_in(table: dict[bytes, bytes]) -> int:
    """The most head records any partition has in the table (a late head under its own key makes two)."""
    return max(sum(1 for k in table if k.startswith(f"{p}/h/".encode())) for p in range(PARTS))


def with_zombie(
    eng: Engine,
    cut: list[list[Record]],
    names: TopicNames,
    j: int,
    lag: int,
    head: bool = False,
    heads: list[int] | None = None,
    kept: bool = False,
) -> list[bytes]:
    """The detections when an old owner takes batch j from the same table as the new owner and writes its group and
    hour records (and tombstones; with `head`, its head, its pointer and the tombstone of the head it replaced too)
    `lag` batches later, over what the new owner wrote since. `heads` gets the most heads a partition has in the
    table once they landed. The new owner restores at every batch; with `kept`, it keeps its state in memory as the
    agent does, and restarts (restores) just after the late records landed."""
    table: dict[bytes, bytes] = {}
    out = Outputs(names)
    pc = PartitionCorrelator(eng, PARTS)

    async def go() -> None:
        late: dict[bytes, bytes | None] = {}
        agent = Correlate(table, pc, out, batch_within=0.01)
        for i, b in enumerate(cut):
            if i == j:
                theirs = dict(table)
                await Correlate(theirs, PartitionCorrelator(eng, PARTS), Outputs(names), batch_within=0.01).process(b)
                late = {k: v for k, v in theirs.items() if (head or is_record(k)) and table.get(k) != v}
                late |= {k: None for k in table if (head or is_record(k)) and k not in theirs}
            if i == j + lag:
                for k, v in late.items():
                    if v is None:
                        table.pop(k, None)
                    else:
                        table[k] = v
                if heads is not None:
                    heads.append(heads_in(table))
            if not kept or i == j + lag:
                agent = Correlate(table, pc, out, batch_within=0.01)  # restores
            await agent.process(b)

    asyncio.run(go())
    return detections(out, names)


@pytest.mark.parametrize("kept", [False, True])
@pytest.mark.parametrize("lag", [1, 2])
def test_a_zombie_writers_group_and_hour_records_landing_late_change_no_detection(
    lag: int, kept: bool, tmp_path: Path
) -> None:
    eng = short_windows(tmp_path)
    names = TopicNames("t")
    cut = batches(eng, names)
    want = reference(eng, cut, names)
    for j in range(2, len(cut) - lag - 1, 3):
        assert with_zombie(eng, cut, names, j, lag, kept=kept) == want, f"zombie batch {j}"


@pytest.mark.parametrize("lag", [1, 2, 3])
def test_a_zombie_writers_head_landing_after_a_later_head_changes_no_detection(lag: int, tmp_path: Path) -> None:
    """Heads are written under their input position (statecodec): the zombie's head of batch j lands under its
    own key, next to the new owner's later head, and the restore takes the head of the highest position (whose redo
    covers its batch's records), the other tombstoned. Under one key (the head under b"<part>", before) it replaced
    the newer head, and the restore mixed batch j with the new owner's records of batch j+1, committed and never
    read again (at a lag of 2 batches, 14 of the 16 batches j tried gave other detections)."""
    eng = short_windows(tmp_path)
    names = TopicNames("t")
    cut = batches(eng, names)
    want = reference(eng, cut, names)
    heads: list[int] = []
    for j in range(2, len(cut) - lag - 1, 2):
        assert with_zombie(eng, cut, names, j, lag, head=True, heads=heads) == want, f"zombie batch {j}"
    assert lag == 1 or max(heads) == 2  # the late head is in the table beside the newer one (lag 1: the same head)


@pytest.mark.parametrize("lag", [3, 4])
def test_a_zombie_writers_records_landing_after_the_owners_second_head_since_change_no_detection(
    lag: int, tmp_path: Path
) -> None:
    """The new owner keeps its state in memory, so its heads redo only what each batch changed. A record of the
    zombie's batch j whose key the new owner changed in batch j+1 only, landing after the owner's head of j+2, was
    read back by a restore as the zombie wrote it when records were under their logical keys alone (at a lag of 3
    batches, 2 of the 15 batches j tried gave other detections: a strict xfail until records had positions). Under
    its batch's position it lands beside the owner's newer record, and the restore takes the higher (statecodec)."""
    eng = short_windows(tmp_path)
    names = TopicNames("t")
    cut = batches(eng, names)
    want = reference(eng, cut, names)
    for j in range(2, len(cut) - lag - 2, 2):
        assert with_zombie(eng, cut, names, j, lag, kept=True) == want, f"zombie batch {j}"
