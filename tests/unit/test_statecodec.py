"""The per-group layout of a correlate partition's state (statecodec): what is written, what is read back, and
what a crash between a batch's records leaves."""

from __future__ import annotations

import heapq
import random
from typing import Any

import orjson
import pytest

from watchfloor.stream_processors.kafka import statecodec as sc

LIMIT = 1 << 30


def group(t: float, n: int) -> dict[str, Any]:
    items = [[t + i, f"doc-{i}", 0, "sig", 0, "Wire", ["evidence", i], 0] for i in range(n)]
    return {"i": items, "f": [], "lf": None, "ls": -1, "n": 0, "w": [], "q": t + 3600.0}


def state(groups: int = 20, per: int = 5) -> dict[str, Any]:
    g = {f"det-{k}\x1fplace=harbour {k}": group(1_700_000_000.0 + 600 * k, per) for k in range(groups)}
    done = {f"sig-{k}|det-{k % groups}": 1_700_000_000.0 + 900 * k for k in range(groups * per)}
    cs = {"v": 3, "wm": 1_700_000_100.0, "xp": 1_699_999_200.0, "xc": 1_699_395_000.0, "et": {"o": {}}, "g": g}
    cs["q"] = sc.heap_of(g)
    src = {"0": [1_700_000_100.0, False]}
    return {"cs": cs, "src": src, "low": 1_700_000_100.0, "seen": {"0": [4, 0, 0]}, "done": done}


def put(table: dict[bytes, bytes], part: int, w: sc.Write, upto: int | None = None) -> None:
    ops: list[tuple[bytes, bytes | None]] = [(w.key, w.head), *w.puts, *((k, None) for k in w.deletes)]
    if w.pointer is not None:
        ops.append((sc.pointer_key(part), w.pointer))
    for k, v in ops[:upto]:
        if v is None:
            table.pop(k, None)
        else:
            table[k] = v


def read(table: dict[bytes, bytes], part: int) -> tuple[dict[str, Any], sc.Layout]:
    got = sc.read(part, table.items())
    assert got is not None and not got[1].whole
    return got


def records(table: dict[bytes, bytes], part: int) -> dict[bytes, bytes]:
    """The group and hour records (not the heads, not the pointer)."""
    return {k: v for k, v in table.items() if k.startswith(sc.prefix(part)) and not sc.is_head_key(part, k)}


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal states; the heap as the entries it holds (a heap's list order depends on how it was built)."""

    def norm(st: dict[str, Any]) -> Any:
        out = orjson.loads(orjson.dumps(st))
        out["cs"]["q"] = sorted(out["cs"].get("q", []))
        return out

    return bool(norm(a) == norm(b))


def test_a_state_written_whole_reads_back_the_same_and_the_heap_is_rebuilt() -> None:
    st = state()
    got = sc.encode(1, st, sc.Layout(whole=True), None, None, LIMIT)
    assert got is not None
    w, lay = got
    table: dict[bytes, bytes] = {b"0": b"other partition", b"0/g/x": b"not read"}
    put(table, 1, w)
    back, lay2 = read(table, 1)
    assert same(back, st)
    assert sorted(back["cs"]["q"]) == sorted(st["cs"]["q"]) and back["cs"]["q"][0] == min(st["cs"]["q"])
    assert lay2.groups == lay.groups and lay2.hour_ids == lay.hour_ids and lay2.hour_json == lay.hour_json
    assert sum(1 for k in table if k.startswith(b"1/g/")) == 20
    hours = {sc.split_record_key(k)[0] for k in table if k.startswith(b"1/d/")}
    assert {int(k.split(b"/")[-1]) for k in hours} == set(sc.buckets_of(st["done"]))


def test_a_batch_that_changes_one_group_writes_that_group_and_a_small_head() -> None:
    st = state(groups=200, per=20)
    w0, lay = sc.encode(0, st, sc.Layout(whole=True), None, None, LIMIT) or pytest.fail("nothing written")
    whole = len(w0.head) + sum(len(v) for _k, v in w0.puts)
    gkey = "det-7\x1fplace=harbour 7"
    st["cs"]["g"][gkey]["i"].append([1_700_009_000.0, "doc-new", 0, "sig", 0, "Wire", ["evidence", 99], 0])
    st["done"]["sig-new|det-7"] = 1_700_009_000.0
    st["seen"]["0"] = [5, 0, 0]
    # Over-inclusive candidates (groups that did not change) write nothing for them.
    w, _lay = sc.encode(0, st, lay, {gkey, "det-8\x1fplace=harbour 8"}, {sc.bucket_of(1_700_009_000.0)}, LIMIT) or (
        pytest.fail("nothing written")
    )
    assert w.changed == [sc.done_key(0, sc.bucket_of(1_700_009_000.0)), sc.group_key(0, gkey)]
    assert [k for k, _v in w.puts] == [sc.record_key(k, 0) for k in w.changed]  # under the head's position
    assert w.deletes == []  # the versions replaced were at the same position (no input taken in: position 0)
    batch = len(w.head) + sum(len(v) for _k, v in w.puts)
    assert batch * 20 < whole, (batch, whole)


def test_nothing_changed_writes_nothing() -> None:
    st = state()
    _w, lay = sc.encode(0, st, sc.Layout(whole=True), None, None, LIMIT) or pytest.fail("nothing written")
    assert sc.encode(0, st, lay, None, None, LIMIT) is None


def test_a_crash_after_any_prefix_of_a_batchs_records_restores_that_batch_or_the_one_before() -> None:
    """The head goes first and carries what the batch changed: after the head, any prefix restores the batch;
    without it, the one before, whole (a group dropped, one changed, an hour pruned, one added)."""
    st = state()
    _w, lay = sc.encode(2, st, sc.Layout(whole=True), None, None, LIMIT) or pytest.fail("nothing written")
    base: dict[bytes, bytes] = {}
    put(base, 2, _w)
    before = orjson.loads(orjson.dumps(st))
    g = st["cs"]["g"]
    del g["det-3\x1fplace=harbour 3"]
    g["det-4\x1fplace=harbour 4"]["n"] = 7
    g["det-new\x1f"] = group(1_700_100_000.0, 2)
    st["cs"]["q"] = sc.heap_of(g)
    oldest = min(st["done"].values())
    st["done"] = {k: t for k, t in st["done"].items() if t > oldest + 3600} | {"sig-x|det-new": 1_700_100_000.0}
    after = orjson.loads(orjson.dumps(st))
    w, _ = sc.encode(2, st, lay, None, None, LIMIT) or pytest.fail("nothing written")
    assert w.deletes and len(w.puts) >= 2
    n = 1 + len(w.puts) + len(w.deletes)
    for upto in range(n + 1):
        table = dict(base)
        put(table, 2, w, upto)
        back, lay2 = read(table, 2)
        assert same(back, after if upto else before), upto
        if upto:
            assert set(w.changed) <= lay2.rewrite
    # A restore writes the redo's records again at its next write, even unchanged: they may be missing.
    table = dict(base)
    put(table, 2, w, 1)
    back, lay2 = read(table, 2)
    w2, _ = sc.encode(2, back, lay2, set(), set(), LIMIT) or pytest.fail("nothing written")
    put(table, 2, w2)
    assert {k for k in table if k.startswith(b"2/")} == {k for k in table if k.startswith(b"2/")} - set(w.deletes)
    full: dict[bytes, bytes] = dict(base)
    put(full, 2, w)
    assert records(table, 2) == records(full, 2)


def test_due_before_finds_exactly_the_entries_a_sweep_pops() -> None:
    rng = random.Random(5)
    for _ in range(50):
        heap: list[list[Any]] = []
        for k in range(rng.randrange(0, 60)):
            heapq.heappush(heap, [rng.uniform(0, 100), f"g{k}"])
        bound = rng.uniform(0, 100)
        assert sc.due_before(heap, bound) == {g for due, g in heap if due < bound}


def test_a_group_due_at_once_keeps_its_minus_infinity() -> None:
    st = state(groups=2)
    gkey = next(iter(st["cs"]["g"]))
    st["cs"]["g"][gkey]["q"] = float("-inf")
    w, _ = sc.encode(0, st, sc.Layout(whole=True), None, None, LIMIT) or pytest.fail("nothing written")
    table: dict[bytes, bytes] = {}
    put(table, 0, w)
    back, _ = read(table, 0)
    assert back["cs"]["g"][gkey]["q"] == float("-inf") and back["cs"]["q"][0] == [float("-inf"), gkey]


def test_a_record_over_the_limit_is_named_and_nothing_is_returned() -> None:
    # Every record under the limit but the head, which carries every record of a first write.
    with pytest.raises(sc.RecordTooLarge) as e:
        sc.encode(0, state(groups=300, per=1), sc.Layout(whole=True), None, None, 1000)
    assert e.value.what == "0" and e.value.records > 300
    st = state(groups=3, per=400)
    _w, lay = sc.encode(0, st, sc.Layout(whole=True), None, None, LIMIT) or pytest.fail("nothing written")
    big = "det-1\x1fplace=harbour 1"
    rng = random.Random(1)
    st["cs"]["g"][big]["i"] += [[2e9 + i, rng.randbytes(40).hex(), 0, "s", 0, "W", [i], 0] for i in range(3000)]
    with pytest.raises(sc.RecordTooLarge) as e:
        sc.encode(0, st, lay, {big}, set(), 40_000)
    assert e.value.what == f"0/g/{big}"  # the group (the head carries it too, but is checked after)


def test_values_of_no_known_layout_are_refused_with_the_partition() -> None:
    with pytest.raises(sc.StateFormatError, match="correlate partition 4: its table value starts with"):
        sc.decode_head(b"\x00junk", 4)
    with pytest.raises(sc.StateFormatError, match="table key b'4/g/x'"):
        sc.assemble(4, {"n": 1, "st": {"cs": {}}}, [(b"4/g/x", b"{}")])


def test_hours_from_the_ids_applied_since_equal_hours_from_a_scan() -> None:
    """Given the ids a batch applied, an hour is what was written of it, less pruned ids, plus the new ones: the
    same records as a pass over every applied id finds (new ids in a written hour and in a new one, a prune)."""
    st = state(groups=10, per=30)
    _w, lay = sc.encode(0, st, sc.Layout(whole=True), None, None, LIMIT) or pytest.fail("nothing written")
    oldest = min(st["done"].values())
    st["done"] = {k: t for k, t in st["done"].items() if t > oldest + 9000}  # a prune: hours gone, one cut
    new = {"sig-a|det-1": oldest + 20_000.0, "sig-b|det-2": oldest + 900_000.0, "sig-c|det-3": oldest + 1.0}
    st["done"].update(new)  # in a written hour, in a new hour, and one the prune would have taken
    hours = {b for b in lay.hour_ids if b <= sc.bucket_of(oldest + 9000)} | {sc.bucket_of(t) for t in new.values()}
    fast = sc.encode(0, st, lay, set(), hours, LIMIT, set(new))
    scan = sc.encode(0, st, lay, set(), hours, LIMIT)
    assert fast is not None and scan is not None
    assert fast[0].puts == scan[0].puts and fast[0].deletes == scan[0].deletes and fast[0].deletes
    assert fast[1].hour_json == scan[1].hour_json
    table: dict[bytes, bytes] = {}
    put(table, 0, _w)
    put(table, 0, fast[0])
    assert read(table, 0)[0]["done"] == st["done"]


def test_the_head_of_the_highest_position_is_read_and_the_others_are_tombstoned_at_the_next_write() -> None:
    """A zombie's head landing late comes back under its own (lower) position: the restore takes the newer head
    with its records, and the next write tombstones the older one. The head's position is the highest input offset
    taken in, never lower than the head it follows (a new owner re-reading records already taken in)."""
    st = state()
    w1, lay1 = sc.encode(1, st, sc.Layout(), None, None, LIMIT, at=40) or pytest.fail("nothing written")
    assert w1.key == sc.head_key(1, 40) == b"1/h/40" and w1.pointer is not None
    table: dict[bytes, bytes] = {}
    put(table, 1, w1)
    st["cs"]["g"]["det-2\x1fplace=harbour 2"]["n"] = 3
    w2, _lay2 = sc.encode(1, st, lay1, {"det-2\x1fplace=harbour 2"}, set(), LIMIT, at=55) or pytest.fail("nothing")
    assert w2.key == b"1/h/55" and sc.head_key(1, 40) in w2.deletes  # the head it replaces
    put(table, 1, w2)
    after = orjson.loads(orjson.dumps(st))
    table[w1.key] = w1.head  # the zombie's head of position 40, late
    table[sc.pointer_key(1)] = w1.pointer  # and its pointer
    back, lay = read(table, 1)
    assert same(back, after) and lay.pos == 55 and lay.key == w2.key and lay.stale == {w1.key}
    w3, lay3 = sc.encode(1, back, lay, set(), set(), LIMIT, at=50) or pytest.fail("a stale head to tombstone")
    assert w3.key == b"1/h/55" and w1.key in w3.deletes and w3.key not in w3.deletes and lay3.pos == 55
    put(table, 1, w3)
    assert [k for k in table if sc.is_head_key(1, k)] == [b"1/h/55"]
    assert same(read(table, 1)[0], after)


def test_a_head_under_a_position_wins_over_a_value_of_a_layout_before() -> None:
    """An older worker still writing its head (or whole state) under the partition's key is not read once a head
    has a position; and a pointer whose heads are all missing is refused, not read as an empty partition."""
    st = state()
    w, _lay = sc.encode(0, st, sc.Layout(), None, None, LIMIT, at=7) or pytest.fail("nothing written")
    table: dict[bytes, bytes] = {}
    put(table, 0, w)
    table[sc.pointer_key(0)] = orjson.dumps(state(groups=1))  # an older worker's whole state, late
    back, lay = read(table, 0)
    assert same(back, st) and lay.key == w.key
    with pytest.raises(sc.StateFormatError, match="neither a head, JSON nor zlib"):  # as an older worker reads it
        sc.decode_head(w.pointer or b"", 0)
    del table[w.key]
    table[sc.pointer_key(0)] = w.pointer or b""
    with pytest.raises(sc.StateFormatError, match=r"correlate partition 0: its pointer .* no head is"):
        sc.read(0, table.items())


def test_records_without_positions_are_written_out_under_them_and_a_crash_midway_restores_the_batch() -> None:
    """Workers of format 3 wrote group and hour records under their logical keys. A restore of such a table writes
    every record again under its position and tombstones the old keys; a crash after the new head, with old keys
    left in the table, restores the same state, and the next write tombstones them."""
    st = state()
    w0, _ = sc.encode(5, st, sc.Layout(whole=True), None, None, LIMIT) or pytest.fail("nothing written")
    table: dict[bytes, bytes] = {}
    put(table, 5, w0)
    for k in [k for k in records(table, 5)]:  # as a worker of format 3 wrote them
        table[sc.split_record_key(k)[0]] = sc.OLD_PART + table.pop(k)[1:]
    head_key = next(k for k in table if sc.is_head_key(5, k))
    head = sc.unpack(table[head_key], sc.HEAD, head_key)
    table[head_key] = sc.pack(orjson.dumps({**head, "f": 3}), sc.HEAD)
    old_keys = set(records(table, 5))
    back, lay = read(table, 5)
    assert same(back, st) and lay.rewrite == old_keys
    w, _ = sc.encode(5, back, lay, set(), set(), LIMIT) or pytest.fail("nothing written")
    assert {sc.split_record_key(k)[0] for k, _v in w.puts} == old_keys and set(w.deletes) == old_keys
    for upto in range(1, 2 + len(w.puts) + len(w.deletes)):
        crashed = dict(table)
        put(crashed, 5, w, upto)
        back2, lay2 = read(crashed, 5)
        assert same(back2, st), upto
        left = old_keys & set(crashed)
        assert left <= lay2.stale_records
        w2, _ = sc.encode(5, back2, lay2, set(), set(), LIMIT) or pytest.fail("nothing written")
        put(crashed, 5, w2)
        assert not old_keys & set(crashed), upto  # every old key tombstoned
        assert all(sc.AT in k for k in records(crashed, 5))
        assert same(read(crashed, 5)[0], st)


def test_a_group_key_ending_like_a_position_survives_the_write_out_of_format_3() -> None:
    """Review of 3d2dfca: group "a" written under position 7 is the bytes of group "a/@7"'s format-3 key, which the
    write-out tombstoned after the put, losing group "a"; and a crash after the first new head left a "y" record
    under a key that reads as positioned (a StateFormatError at every restore)."""
    st = state(groups=1, per=1)
    plain, tricky = "det\x1fk=a", "det\x1fk=a/@7"
    st["cs"]["g"] = {plain: group(1_700_000_000.0, 1), tricky: group(1_700_000_060.0, 1)}
    st["cs"]["q"] = sc.heap_of(st["cs"]["g"])

    def format3() -> dict[bytes, bytes]:
        table = {sc.group_key(4, g): sc.pack(sc.group_json(gs), sc.OLD_PART) for g, gs in st["cs"]["g"].items()}
        for b, ids in sc.buckets_of(st["done"]).items():
            table[sc.done_key(4, b)] = sc.pack(sc.hour_json(ids), sc.OLD_PART)
        head = {"f": 3, "n": 1, "o": 7, "st": sc.head_of(st), "redo": {}}
        table[sc.head_key(4, 7)] = sc.pack(orjson.dumps(head), sc.HEAD)
        return table

    table = format3()
    back, lay = read(table, 4)
    w, lay = sc.encode(4, back, lay, set(), set(), LIMIT, at=7) or pytest.fail("nothing written")
    assert not {k for k, _v in w.puts} & set(w.deletes)
    put(table, 4, w)
    assert sorted(read(table, 4)[0]["cs"]["g"]) == sorted(st["cs"]["g"])
    back["low"] = 1  # the next batch, from the layout kept in memory
    w, lay = sc.encode(4, back, lay, set(), set(), LIMIT, at=8) or pytest.fail("nothing written")
    put(table, 4, w)
    assert sorted(read(table, 4)[0]["cs"]["g"]) == sorted(st["cs"]["g"])

    crashed = format3()
    back, lay = read(crashed, 4)
    w, _ = sc.encode(4, back, lay, set(), set(), LIMIT, at=7) or pytest.fail("nothing written")
    put(crashed, 4, w, 1)  # the head only
    assert sorted(read(crashed, 4)[0]["cs"]["g"]) == sorted(st["cs"]["g"])
