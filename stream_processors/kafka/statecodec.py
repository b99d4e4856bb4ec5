"""A correlate partition's state as Faust table records: one per group, one per hour of applied ids, and a head.

The partition's state (``PartitionCorrelator``: {"cs": correlator state, "src", "low", "seen", "done"}) is
written as many table values so that a batch writes what it changed, not the whole partition:

* ``b"<part>/g/<group key>"``: one detection group's state (``cs["g"][group key]``): its observations,
  detections raised, throttle state. Groups are independent of each other (the correlator reads one group per
  signal, and a sweep visits each group on its own), so each is a value of its own.
* ``b"<part>/d/<hour>"``: the applied-signal ids (``done``: id -> effective time) of one hour of effective
  time. New ids fall in recent hours, and pruning drops the oldest hours whole.
* ``b"<part>"``: the head: everything partition-wide (watermarks ``src``/``low``, ``seen``, the correlator's
  ``wm``/``xp``/``xc``/``et``/``v``), a sequence number, and ``redo``: the new value of every group and hour
  the batch changed (null: deleted). The sweep heap ``cs["q"]`` is not written: each group holds the due time
  of its live heap entry (``q``), and the heap is rebuilt from those (``heap_of``): the sweep skips every other
  entry, so the rebuilt heap pops the same groups in the same order.

Faust writes each key's changelog record on its own, so a worker that dies mid-batch leaves a prefix of the
batch's records in the changelog (one producer, one changelog partition: in order). The head goes FIRST and
carries the batch's changes (``redo``): whatever prefix survived, the head restores the partition as of the
batch, and the group and hour records after it only repeat it. So a partition's state is always one batch's,
as when it was one record. A restore marks the head's redo keys for writing again (their records may be
missing). The cost is the changed records written twice (in the head and under their own keys).

The old layout (the whole state in the head's key: plain JSON starting with ``{``, or ``b"z"`` + zlib) is
still read (``decode_head`` returns it whole); the agent writes it out in this layout at its next write.

Pure: no Faust, no Kafka (import-linter), tests/unit/test_statecodec.py.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

HEAD = b"h"  # a head record: zlib-compressed JSON
PART = b"y"  # a group or hour record: zlib-compressed JSON
OLD_ZLIB = b"z"  # the whole state, zlib-compressed (workers before this layout)
ZLIB_LEVEL = 1  # ~3x smaller on news rules' state; level 6 is ~14 % smaller for 2.5-3x the CPU (BENCHMARKS.md)
DONE_BUCKET_S = 3600  # the applied ids of one hour of effective time per record
FORMAT = 2
NEG_INF = float("-inf")


def head_key(part: int) -> bytes:
    return str(part).encode()


def prefix(part: int) -> bytes:
    return f"{part}/".encode()


def group_key(part: int, gkey: str) -> bytes:
    return f"{part}/g/{gkey}".encode()


def done_key(part: int, bucket: int) -> bytes:
    return f"{part}/d/{bucket}".encode()


def bucket_of(t: float) -> int:
    return int(t // DONE_BUCKET_S)


class StateFormatError(ValueError):
    """A table value that is none of the layouts (names the key and its first bytes)."""


def pack(plain: bytes, marker: bytes) -> bytes:
    return marker + zlib.compress(plain, ZLIB_LEVEL)


def unpack(raw: bytes, marker: bytes, key: bytes) -> Any:
    if raw[:1] != marker:
        raise StateFormatError(f"table key {key!r}: value starts with {raw[:8]!r}, not {marker!r}")
    return orjson.loads(zlib.decompress(raw[1:]))


def group_json(gs: dict[str, Any]) -> bytes:
    """A group's state as JSON. Its heap due ``q`` may be -inf (due at once), which JSON cannot hold: kept as
    a flag."""
    if gs.get("q") == NEG_INF:
        return orjson.dumps({**gs, "q": None, "qi": 1})
    return orjson.dumps(gs)


def group_from_json(obj: dict[str, Any]) -> dict[str, Any]:
    if obj.pop("qi", None):
        obj["q"] = NEG_INF
    return obj


def head_of(st: dict[str, Any]) -> dict[str, Any]:
    """The partition-wide part of a state: all but the groups, the sweep heap and the applied ids."""
    cs = {k: v for k, v in st["cs"].items() if k not in ("g", "q")}
    return {**{k: v for k, v in st.items() if k not in ("cs", "done")}, "cs": cs}


def buckets_of(done: Mapping[str, float]) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for k, t in done.items():
        out.setdefault(bucket_of(t), {})[k] = t
    return out


def hour_json(ids: Mapping[str, float]) -> bytes:
    """An hour's applied ids as JSON, in key order: the same ids give the same record however they were built."""
    return orjson.dumps(ids, option=orjson.OPT_SORT_KEYS)


def heap_of(groups: Mapping[str, dict[str, Any]]) -> list[list[Any]]:
    """The sweep heap of a state read back: one live entry [due, group key] per group that has one."""
    heap = [[gs["q"], gkey] for gkey, gs in groups.items() if gs.get("q") is not None]
    heapq.heapify(heap)
    return heap


def due_before(heap: list[list[Any]], bound: float) -> set[str]:
    """The group keys of the entries of a heap (a list in heap order) due before `bound`: what a sweep to
    `bound` visits. Only the entries under `bound` are looked at (a heap's subtree is no smaller than its root)."""
    out: set[str] = set()
    todo = [0] if heap else []
    n = len(heap)
    while todo:
        i = todo.pop()
        due, gkey = heap[i]
        if due is None or due < bound:
            out.add(gkey)
            todo.extend(j for j in (2 * i + 1, 2 * i + 2) if j < n)
    return out


@dataclass
class Layout:
    """What a partition's records hold, as last written or read: the JSON of each group and hour (to tell
    what a batch changed), the head's sequence number, and the keys to write again (a restore's redo)."""

    seq: int = 0
    groups: dict[str, bytes] = field(default_factory=dict)
    hour_ids: dict[int, dict[str, float]] = field(default_factory=dict)  # hour -> its applied ids
    hour_json: dict[int, bytes] = field(default_factory=dict)
    rewrite: set[bytes] = field(default_factory=set)
    head_json: bytes = b""  # the partition-wide part as last written
    whole: bool = False  # read from the old layout: every record is written at the next write


@dataclass
class Write:
    """One batch's records for a partition, in the order they go to the table: the head first."""

    head: bytes
    puts: list[tuple[bytes, bytes]]
    deletes: list[bytes]


def decode_head(raw: bytes, part: int) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(head, None) for this layout's head; (None, whole state) for the old layout."""
    key = head_key(part)
    if raw[:1] == HEAD:
        head: dict[str, Any] = unpack(raw, HEAD, key)
        return head, None
    if raw[:1] == b"{":
        return None, orjson.loads(raw)
    if raw[:1] == OLD_ZLIB:
        return None, orjson.loads(zlib.decompress(raw[1:]))
    raise StateFormatError(
        f"correlate partition {part}: its table value starts with {raw[:8]!r}, neither a head, JSON nor zlib"
    )


def assemble(part: int, head: dict[str, Any], records: Iterable[tuple[bytes, bytes]]) -> tuple[dict[str, Any], Layout]:
    """A partition's state from its head and its other records (key, value: any order, other partitions' keys
    ignored), the head's redo applied over them; and the layout read (the redo's keys to write again)."""
    pre = prefix(part)
    values: dict[bytes, Any] = {}
    for k, v in records:
        if k.startswith(pre) and v is not None:
            values[k] = unpack(v, PART, k)
    for k_str, v in head.get("redo", {}).items():
        k = k_str.encode()
        if v is None:
            values.pop(k, None)
        else:
            values[k] = v
    lay = Layout(seq=int(head["n"]), rewrite={k.encode() for k in head.get("redo", {})})
    lay.head_json = orjson.dumps(head["st"])
    groups: dict[str, dict[str, Any]] = {}
    done: dict[str, float] = {}
    g_pre, d_pre = pre + b"g/", pre + b"d/"
    for k, v in values.items():
        if k.startswith(g_pre):
            gkey = k[len(g_pre) :].decode()
            groups[gkey] = group_from_json(v)
            lay.groups[gkey] = group_json(groups[gkey])
        elif k.startswith(d_pre):
            b = int(k[len(d_pre) :])
            done.update(v)
            lay.hour_ids[b] = v
            lay.hour_json[b] = hour_json(v)
    st = head["st"]
    st["cs"]["g"] = groups
    st["cs"]["q"] = heap_of(groups)
    st["done"] = done
    return st, lay


def encode(
    part: int,
    st: dict[str, Any],
    lay: Layout,
    groups: Iterable[str] | None,
    hours: Iterable[int] | None,
    limit: int,
    new_ids: Iterable[str] | None = None,
) -> tuple[Write, Layout] | None:
    """The records of `st` that changed against `lay`: among `groups` and `hours` (the candidates the batch
    may have changed; None: all), those whose JSON differs, plus the head. `new_ids`: every applied id added
    since `lay` (an hour is then what `lay` holds of it, less the ids pruned since, plus these; without them
    the applied ids are scanned). None when nothing changed and there is nothing to write again. Raises
    RecordTooLarge for a record over `limit` bytes (nothing is written)."""
    cs_groups: dict[str, dict[str, Any]] = st["cs"]["g"]
    if lay.whole:
        groups = hours = None
    cand_g = set(cs_groups) | set(lay.groups) if groups is None else set(groups)
    new_groups = dict(lay.groups)
    changed: dict[bytes, bytes | None] = {}  # key -> JSON, None: deleted
    for gkey in cand_g:
        gs = cs_groups.get(gkey)
        k = group_key(part, gkey)
        if gs is None:
            if gkey in new_groups or k in lay.rewrite:
                new_groups.pop(gkey, None)
                changed[k] = None
            continue
        j = group_json(gs)
        if new_groups.get(gkey) != j or k in lay.rewrite:
            new_groups[gkey] = changed[k] = j
    done: dict[str, float] = st["done"]
    new_hours, new_hour_json = dict(lay.hour_ids), dict(lay.hour_json)
    by_hour: dict[int, dict[str, float]]
    if hours is None:
        by_hour = buckets_of(done)
        cand_h = set(by_hour) | set(lay.hour_ids)
    elif new_ids is not None:
        # An hour as last written, less the ids pruned since, plus the ids applied since: no pass over all ids.
        cand_h = set(hours)
        by_hour = {b: {kd: t for kd, t in lay.hour_ids.get(b, {}).items() if kd in done} for b in cand_h}
        for kd in new_ids:
            t = done.get(kd)
            if t is not None and bucket_of(t) in by_hour:
                by_hour[bucket_of(t)][kd] = t
    else:
        cand_h = set(hours)
        by_hour = {}
        for kd, t in done.items():
            if bucket_of(t) in cand_h:
                by_hour.setdefault(bucket_of(t), {})[kd] = t
    for b in cand_h:
        ids = by_hour.get(b)
        k = done_key(part, b)
        if not ids:
            if b in new_hours or k in lay.rewrite:
                new_hours.pop(b, None)
                new_hour_json.pop(b, None)
                changed[k] = None
            continue
        j = hour_json(ids)
        if new_hour_json.get(b) != j or k in lay.rewrite:
            new_hours[b], new_hour_json[b] = ids, j
            changed[k] = j
    for k in lay.rewrite:  # a restore's redo keys not among the candidates: written again as they are
        if k in changed:
            continue
        rest = k[len(prefix(part)) :]
        if rest.startswith(b"g/"):
            gkey = rest[2:].decode()
            gs = cs_groups.get(gkey)
            changed[k] = None if gs is None else group_json(gs)
            if gs is not None:
                new_groups[gkey] = changed[k]  # type: ignore[assignment]
        elif rest.startswith(b"d/"):
            b = int(rest[2:])
            ids = {kd: t for kd, t in done.items() if bucket_of(t) == b}
            changed[k] = hour_json(ids) if ids else None
            if ids:
                new_hours[b], new_hour_json[b] = ids, hour_json(ids)
    head_json = orjson.dumps(head_of(st))
    if not changed and head_json == lay.head_json and not lay.whole:
        return None
    puts: list[tuple[bytes, bytes]] = []
    deletes: list[bytes] = []
    for k, v in sorted(changed.items()):
        if v is None:
            deletes.append(k)
            continue
        rec = pack(v, PART)
        if len(rec) > limit:
            raise RecordTooLarge(k.decode(errors="replace"), len(rec), len(v), 1)
        puts.append((k, rec))
    seq = lay.seq + 1
    redo = {k.decode(): (None if v is None else orjson.Fragment(v)) for k, v in sorted(changed.items())}
    head_plain = orjson.dumps({"f": FORMAT, "n": seq, "st": orjson.Fragment(head_json), "redo": redo})
    head = pack(head_plain, HEAD)
    if len(head) > limit:
        raise RecordTooLarge(str(part), len(head), len(head_plain), len(changed))
    return Write(head, puts, deletes), Layout(seq, new_groups, new_hours, new_hour_json, head_json=head_json)


class RecordTooLarge(ValueError):
    """One record of a partition's state over the limit: `what` (the partition's head, or a record's key)."""

    def __init__(self, what: str, packed: int, raw: int, records: int) -> None:
        super().__init__(what)
        self.what, self.packed, self.raw, self.records = what, packed, raw, records
