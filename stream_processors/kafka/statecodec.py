"""A correlate partition's state as Faust table records: one per group, one per hour of applied ids, and a head.

The partition's state (``PartitionCorrelator``: {"cs": correlator state, "src", "low", "seen", "done"}) is
written as many table values so that a batch writes what it changed, not the whole partition:

* ``b"<part>/g/<group key>/@<position>"``: one detection group's state (``cs["g"][group key]``): its
  observations, detections raised, throttle state. Groups are independent of each other (the correlator reads one
  group per signal, and a sweep visits each group on its own), so each is a value of its own.
* ``b"<part>/d/<hour>/@<position>"``: the applied-signal ids (``done``: id -> effective time) of one hour of
  effective time. New ids fall in recent hours, and pruning drops the oldest hours whole.

A group or hour record is written under the position of the head of its batch, and the one it replaces is
tombstoned after it (below: why). Its key without the position (``b"<part>/g/<group key>"``) is its logical key:
the head's ``redo`` and the layout's bookkeeping use it.
* ``b"<part>/h/<position>"``: the head: everything partition-wide (watermarks ``src``/``low``, ``seen``, the
  correlator's ``wm``/``xp``/``xc``/``et``/``v``), a sequence number, the position (the highest correlate offset
  of the partition its state has taken in), and ``redo``: the new value of every group and hour the batch changed
  (null: deleted). Each write puts the head under its position's key and tombstones the head it replaces.
* ``b"<part>"``: a pointer (``MOVED`` + the newest head's position and sequence number). An older worker refuses
  it (not a state it knows) instead of starting the partition over; this agent reads it only to tell whether the
  table still holds what it wrote last.

The sweep heap ``cs["q"]`` is not written: each group holds the due time of its live heap entry (``q``), and the
heap is rebuilt from those (``heap_of``): the sweep skips every other entry, so the rebuilt heap pops the same
groups in the same order. So are the dormant groups' eviction heap ``cs["dq"]`` and their count ``cs["dn"]``
(``sweep.index_dormant``): a dormant group is a group record like any other (no items, no heap due), and the heap,
up to two entries per dormant group, would otherwise be in every head.

Faust writes each key's changelog record on its own, so a worker that dies mid-batch leaves a prefix of the
batch's records in the changelog (one producer, one changelog partition: in order). The head goes FIRST and
carries the batch's changes (``redo``): whatever prefix survived, the head restores the partition as of the
batch, and the group and hour records after it only repeat it. So a partition's state is always one batch's,
as when it was one record. A restore marks the head's redo keys for writing again (their records may be
missing). The cost is the changed records written twice (in the head and under their own keys).

Why a head per position (review13 F7): a worker that lost the partition but still writes (a zombie: no Kafka
transactions fence it) may land its head AFTER the new owner's later head. Under one key it replaced the newer
head, and the restore mixed the zombie's batch with the new owner's later records that the older head's redo does
not cover. Under position keys the late head only brings back an older key: the restore takes the head of the
highest position (``read``), whose redo covers the records of its own batch, and tombstones the others at the
next write. The group and hour records are under their batch's position for the same reason: a zombie's record of
batch j for a key the new owner changed in batch j+1 only, landing after the new owner's head of j+2 (which no
longer redoes that key: the owner keeps its state in memory and writes what each batch changed), replaced the
owner's record under one key; under position keys it lands beside it, and the restore takes, per logical key, the
record of the highest position not above the head's (records above it: a zombie ahead, tombstoned with the
others). A group the owner deleted can come back as the zombie wrote it before: it was deleted because
everything in it had expired, which it had then too (as a deleted record brought back by a store,
tests/unit/test_correlate_agent_leftovers.py). Positions grow with the input, not with the writer: the new owner
re-reading records already taken in keeps the restored position, and a zombie's head of a batch the new owner took
too is of a lower position than the new owner's later heads (of the same one, with the same batch cut: the same
head). A zombie AHEAD of the new owner is not fenced (its head covers more input: docs/architecture.md).

The layouts before are still read (``read``): group and hour records under their logical keys (format 3, their
values behind ``b"y"``: all written again under positions at the next write, the old keys tombstoned), a head
under ``b"<part>"`` (no position yet: 0), or the whole state in that key (plain JSON starting with ``{``, or
``b"z"`` + zlib); the agent writes it out in this layout at its next write (the pointer replaces it). A head under a
position key wins over either (an older worker still writing). Records of this layout start with ``b"q"``, so a
worker of format 3 refuses them (StateFormatError: its batch fails) rather than reading a group per position.

Pure: no Faust, no Kafka (import-linter), tests/unit/test_statecodec.py.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..engine.sweep import index_dormant

HEAD = b"h"  # a head record: zlib-compressed JSON
MOVED = b"m"  # the pointer under b"<part>": JSON {"o": position, "n": sequence} (not compressed)
PART = b"q"  # a group or hour record under its position (format 4): zlib-compressed JSON
OLD_PART = b"y"  # a group or hour record under its logical key (format 3)
OLD_ZLIB = b"z"  # the whole state, zlib-compressed (workers before this layout)
ZLIB_LEVEL = 1  # ~3x smaller on news rules' state; level 6 is ~14 % smaller for 2.5-3x the CPU (BENCHMARKS.md)
DONE_BUCKET_S = 3600  # the applied ids of one hour of effective time per record
FORMAT = 4  # 4: group and hour records under their position too (3: heads only; 2: head under b"<part>")
AT = b"/@"  # between a record's logical key and its position
NEG_INF = float("-inf")


def head_key(part: int, pos: int) -> bytes:
    """Where the head of the state at input position `pos` is written."""
    return f"{part}/h/{pos}".encode()


def pointer_key(part: int) -> bytes:
    """The partition's own key: the pointer, or (layouts before) its head or whole state."""
    return str(part).encode()


def pointer(pos: int, seq: int) -> bytes:
    return MOVED + orjson.dumps({"o": pos, "n": seq})


def is_head_key(part: int, key: bytes) -> bool:
    return key.startswith(f"{part}/h/".encode())


def prefix(part: int) -> bytes:
    return f"{part}/".encode()


def group_key(part: int, gkey: str) -> bytes:
    return f"{part}/g/{gkey}".encode()


def done_key(part: int, bucket: int) -> bytes:
    return f"{part}/d/{bucket}".encode()


def record_key(logical: bytes, pos: int) -> bytes:
    """Where a group or hour record written by the batch whose head is at `pos` goes."""
    return logical + AT + str(pos).encode()


def split_record_key(key: bytes) -> tuple[bytes, int]:
    """A record key's logical key and position (StateFormatError for a key without one)."""
    logical, sep, at = key.rpartition(AT)
    if not sep or not at.isdigit():
        raise StateFormatError(f"table key {key!r}: a group or hour record without its position")
    return logical, int(at)


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
    """The partition-wide part of a state: all but the groups, the sweep heap, the dormant groups' heap and count
    (rebuilt from the groups: ``assemble``) and the applied ids."""
    cs = {k: v for k, v in st["cs"].items() if k not in ("g", "q", "dq", "dn")}
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
    pos: int = 0  # the input position of the head (the highest offset taken in; 0 before any, or unknown)
    key: bytes | None = None  # where the head was read or written (None: no head)
    stale: set[bytes] = field(default_factory=set)  # heads of lower positions found by a restore: tombstoned
    groups: dict[str, bytes] = field(default_factory=dict)
    hour_ids: dict[int, dict[str, float]] = field(default_factory=dict)  # hour -> its applied ids
    hour_json: dict[int, bytes] = field(default_factory=dict)
    rewrite: set[bytes] = field(default_factory=set)
    head_json: bytes = b""  # the partition-wide part as last written
    whole: bool = False  # read from the old layout: every record is written at the next write
    at: dict[bytes, bytes] = field(default_factory=dict)  # logical key -> its record's key in the table
    stale_records: set[bytes] = field(default_factory=set)  # other versions a restore found: tombstoned


@dataclass
class Write:
    """One batch's records for a partition, in the order they go to the table: the head (under `key`) first, the
    records put, the tombstones (of records and of the heads replaced), then the `pointer` (under b"<part>");
    `changed`: the logical keys of the records the batch changed."""

    head: bytes
    puts: list[tuple[bytes, bytes]]
    deletes: list[bytes]
    key: bytes = b""
    pointer: bytes | None = None
    changed: list[bytes] = field(default_factory=list)


def decode_head(raw: bytes, part: int) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(head, None) for a head; (None, whole state) for the oldest layout (the whole state under b"<part>")."""
    key = pointer_key(part)
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


def read(part: int, items: Iterable[tuple[bytes, bytes | None]]) -> tuple[dict[str, Any], Layout] | None:
    """A partition's state from its records (key, value: any order, other partitions' keys ignored): the head of
    the highest position with the other records (``assemble``), the heads of lower positions marked stale (a
    zombie's late head, or one a crash kept from its tombstone); else the head or whole state of the layouts
    before under b"<part>"; None when there is no head."""
    own, h_pre, pre = pointer_key(part), f"{part}/h/".encode(), prefix(part)
    heads: dict[int, tuple[bytes, bytes]] = {}
    old: bytes | None = None
    rest: list[tuple[bytes, bytes]] = []
    for k, v in items:
        if v is None:
            continue
        if k == own:
            old = v
        elif k.startswith(h_pre):
            try:
                heads[int(k[len(h_pre) :])] = (k, v)
            except ValueError:
                raise StateFormatError(f"table key {k!r}: a head key whose position is not a number") from None
        elif k.startswith(pre):
            rest.append((k, v))
    if heads:
        pos = max(heads)
        key, raw = heads[pos]
        st, lay = assemble(part, unpack(raw, HEAD, key), rest, upto=pos)
        lay.pos, lay.key, lay.stale = pos, key, {k for p, (k, _v) in heads.items() if p != pos}
        return st, lay
    if old is None:
        return None
    if old[:1] == MOVED:
        raise StateFormatError(f"correlate partition {part}: its pointer {old!r} is in the table but no head is")
    head, whole = decode_head(old, part)
    if whole is not None:
        return whole, Layout(whole=True, key=own)
    assert head is not None
    st, lay = assemble(part, head, rest)
    lay.key = own
    return st, lay


def assemble(
    part: int, head: dict[str, Any], records: Iterable[tuple[bytes, bytes]], upto: int | None = None
) -> tuple[dict[str, Any], Layout]:
    """A partition's state from its head and its other records (key, value: any order, other partitions' keys
    ignored), the head's redo applied over them; and the layout read (the redo's keys to write again). Records of
    format 4: per logical key, the one of the highest position not above `upto` (the head's), the others stale;
    of format 3 (a head before): under their logical keys, all to be written again."""
    pre = prefix(part)
    positioned = int(head.get("f", 2)) >= 4
    values: dict[bytes, Any] = {}
    found: dict[bytes, tuple[int, bytes, bytes]] = {}  # logical key -> (position, key, value) of the one taken
    stale: set[bytes] = set()
    h_pre = pre + b"h/"
    for k, v in records:
        if not k.startswith(pre) or v is None or k.startswith(h_pre):
            continue
        if not positioned:
            values[k] = unpack(v, OLD_PART, k)
            found[k] = (0, k, v)
            continue
        logical, sep, digits = k.rpartition(AT)
        if v[:1] != PART or not sep or not digits.isdigit():
            # A record of format 3 the write that put this layout's first head out did not tombstone yet (it
            # crashed): that head's redo holds every record (a format-3 restore rewrites them all).
            stale.add(k)
            continue
        at = int(digits)
        if upto is not None and at > upto:
            stale.add(k)  # a zombie ahead of the head (module docstring)
            continue
        taken = found.get(logical)
        if taken is not None and taken[0] >= at:
            stale.add(k)
            continue
        if taken is not None:
            stale.add(taken[1])
        found[logical] = (at, k, v)
    if positioned:
        values = {logical: unpack(v, PART, k) for logical, (_at, k, v) in found.items()}
    for k_str, v in head.get("redo", {}).items():
        k = k_str.encode()
        if v is None:
            values.pop(k, None)
        else:
            values[k] = v
    lay = Layout(seq=int(head["n"]), rewrite={k.encode() for k in head.get("redo", {})})
    lay.at = {logical: k for logical, (_at, k, _v) in found.items()}
    lay.stale_records = stale
    if not positioned:  # format 3: every record written again under its position, the old keys tombstoned
        lay.rewrite |= set(values)
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
    index_dormant(st["cs"])
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
    at: int | None = None,
) -> tuple[Write, Layout] | None:
    """The records of `st` that changed against `lay`: among `groups` and `hours` (the candidates the batch
    may have changed; None: all), those whose JSON differs, plus the head. `new_ids`: every applied id added
    since `lay` (an hour is then what `lay` holds of it, less the ids pruned since, plus these; without them
    the applied ids are scanned). `at`: the highest input offset the batch took in (the head's position is the
    highest of it and `lay`'s). None when nothing changed and there is nothing to write again. Raises
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
    if not changed and head_json == lay.head_json and not lay.whole and not lay.stale and not lay.stale_records:
        return None
    seq = lay.seq + 1
    pos = lay.pos if at is None else max(lay.pos, at)
    key = head_key(part, pos)
    puts: list[tuple[bytes, bytes]] = []
    deletes: list[bytes] = []
    new_at = dict(lay.at)
    for k, v in sorted(changed.items()):
        old = new_at.pop(k, None)
        if v is None:
            if old is not None:
                deletes.append(old)
            continue
        rec = pack(v, PART)
        if len(rec) > limit:
            raise RecordTooLarge(k.decode(errors="replace"), len(rec), len(v), 1)
        new_at[k] = record_key(k, pos)
        puts.append((new_at[k], rec))
        if old is not None and old != new_at[k]:
            deletes.append(old)  # the version it replaces, after it (a prefix leaves both: the higher one wins)
    deletes += sorted(lay.stale_records - set(new_at.values()))
    # Never a key this write puts: a format-3 key of a group whose own key ends in "/@<digits>" can be the bytes of
    # another group's record under its position (review of 3d2dfca); tombstoned after the put, it would lose it.
    put_keys = {k for k, _v in puts}
    deletes = [k for k in deletes if k not in put_keys]
    redo = {k.decode(): (None if v is None else orjson.Fragment(v)) for k, v in sorted(changed.items())}
    head_plain = orjson.dumps({"f": FORMAT, "n": seq, "o": pos, "st": orjson.Fragment(head_json), "redo": redo})
    head = pack(head_plain, HEAD)
    if len(head) > limit:
        raise RecordTooLarge(str(part), len(head), len(head_plain), len(changed))
    # The heads replaced are tombstoned after the records (a prefix that ends before them leaves two heads: the
    # higher position wins). The key b"<part>" of a layout before is not tombstoned: the pointer replaces its value.
    replaced = lay.stale | ({lay.key} if lay.key is not None and is_head_key(part, lay.key) else set())
    deletes += sorted(replaced - {key})
    new_lay = Layout(
        seq=seq,
        pos=pos,
        key=key,
        groups=new_groups,
        hour_ids=new_hours,
        hour_json=new_hour_json,
        head_json=head_json,
        at=new_at,
    )
    return Write(head, puts, deletes, key, pointer(pos, seq), sorted(changed)), new_lay


class RecordTooLarge(ValueError):
    """One record of a partition's state over the limit: `what` (the partition's head, or a record's key)."""

    def __init__(self, what: str, packed: int, raw: int, records: int) -> None:
        super().__init__(what)
        self.what, self.packed, self.raw, self.records = what, packed, raw, records
