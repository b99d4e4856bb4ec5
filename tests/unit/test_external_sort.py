"""The backtest's bounded-memory ordering: canonical (published_at, id) order whatever the input order, an
external sort that never holds more than its run size while fed and one chunk per run while merging, a
seeded shuffle, an arrival-order spool; and a streamed replay gives the same alerts as the in-memory one."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from watchfloor.schemas.inputs import CheckedInput, check_json_line
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.external_sort import (
    Input,
    Shuffler,
    arrival_spool,
    event_order_key,
    event_time,
    event_time_sorter,
    input_id,
    sort_by_event_time,
)
from watchfloor.stream_processors.replay import replay
from watchfloor.stream_processors.rulefile import load_rules

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def checked(doc_id: str, minutes: int, title: str = "a quiet day") -> CheckedInput:
    line = orjson.dumps(
        {
            "type": "news.article",
            "id": doc_id,
            "published_at": (T0 + timedelta(minutes=minutes)).isoformat(),
            "source": "Desk",
            "title": title,
        }
    )
    got = check_json_line(line, 10_000)
    assert isinstance(got, CheckedInput)
    return got


def gated(minutes: int) -> float:
    return (T0 + timedelta(minutes=minutes)).timestamp()


item_st = st.one_of(
    st.builds(lambda k, m: checked(f"d{k}", m), st.integers(0, 40), st.integers(0, 5)),
    st.builds(lambda k, m: checked(f"d{k}", m).build(), st.integers(0, 40), st.integers(0, 5)),
    st.builds(gated, st.integers(0, 5)),
)


def canonical(items: list[Input]) -> tuple[list[tuple[float, str]], list[float]]:
    """What the order must fix: documents by (time, id); gated times only as a sorted multiset (where they
    sit among the documents of their instant changes nothing in the engine)."""
    docs = sorted(event_order_key(x) for x in items if x.__class__ is not float)
    times = sorted(x for x in items if x.__class__ is float)
    return docs, times


def assert_in_event_time_order(items: list[Input]) -> None:
    times = [event_time(x) for x in items]
    assert times == sorted(times)
    docs = [event_order_key(x) for x in items if x.__class__ is not float]
    assert docs == sorted(docs)


@settings(max_examples=200, deadline=None)
@given(st.lists(item_st, max_size=40))
def test_sort_by_event_time_is_time_then_id_never_input_order(items: list[Input]) -> None:
    forward, backward = list(items), list(reversed(items))
    sort_by_event_time(forward)
    sort_by_event_time(backward)
    assert_in_event_time_order(forward)
    assert [event_order_key(x) for x in forward if x.__class__ is not float] == [
        event_order_key(x) for x in backward if x.__class__ is not float
    ]


@settings(max_examples=100, deadline=None)
@given(st.lists(item_st, max_size=60), st.integers(1, 9), st.integers(1, 4))
def test_external_sort_equals_the_in_memory_sort(items: list[Input], run_size: int, chunk: int) -> None:
    with event_time_sorter(run_size=run_size, chunk_size=chunk) as sorter:
        sorter.extend(items)
        assert sorter.peak_buffered <= run_size
        assert len(sorter.runs) == len(items) // run_size
        out = list(sorter)
        assert_in_event_time_order(out)
        assert canonical(out) == canonical(items)
        again = list(sorter)  # a second pass (a baseline) sees the same order
        assert [event_order_key(x) for x in again] == [event_order_key(x) for x in out]


def test_external_sort_holds_its_run_size_while_fed_and_one_chunk_per_run_while_merging(tmp_path: Path) -> None:
    n, run_size, chunk = 10_000, 1_000, 100
    items: list[Input] = [gated((k * 7919) % 3000) if k % 10 else checked(f"d{k}", (k * 31) % 3000) for k in range(n)]
    sorter = event_time_sorter(run_size=run_size, chunk_size=chunk, spill_dir=str(tmp_path))
    for x in items:
        sorter.add(x)
        assert sorter.loaded <= run_size
    runs = len(sorter.runs)
    assert runs == n // run_size
    spill = Path(sorter.runs[0]).parent
    assert spill.parent == tmp_path and len(os.listdir(spill)) == runs
    peak = 0
    out = []
    for x in sorter:
        out.append(x)
        peak = max(peak, sorter.loaded)
    # The merge holds one chunk of every run plus the unspilled tail: never the whole input.
    assert peak <= runs * chunk + (n - runs * run_size)
    assert peak < n // 3
    assert_in_event_time_order(out)
    assert canonical(out) == canonical(items)
    sorter.close()
    assert not spill.exists()


def test_ties_are_put_in_id_order_across_runs() -> None:
    # Same instant, ids in reverse input order, split over runs of one: the merge alone would keep input order.
    items: list[Input] = [checked(f"d{k}", 0) for k in (5, 3, 9, 1)]
    with event_time_sorter(run_size=1) as sorter:
        sorter.extend(items)
        assert [input_id(x) for x in sorter] == ["d1", "d3", "d5", "d9"]


def test_shuffle_is_a_seeded_permutation() -> None:
    items: list[Input] = [gated(k) for k in range(50)]
    one, two, other = Shuffler(7, run_size=8), Shuffler(7, run_size=8), Shuffler(8, run_size=8)
    for s in (one, two, other):
        s.extend(items)
    a, b, c = list(one), list(two), list(other)
    assert a == b and a != c and a != items
    assert sorted(a) == sorted(items)
    assert one.sorter.peak_buffered <= 8
    for s in (one, two, other):
        s.close()


def test_arrival_spool_keeps_input_order_and_replays_twice() -> None:
    items: list[Input] = [gated((k * 13) % 17) for k in range(40)]
    with arrival_spool(run_size=6, chunk_size=4) as spool:
        spool.extend(items)
        assert spool.spilled and spool.peak_buffered <= 6
        assert list(spool) == items
        assert list(spool) == items


STORY = [
    ("s1", 0, "Alphaland closed the border with Betaland"),
    ("s2", 30, "Quiet markets"),
    ("s3", 60 * 24 * 3, "Alphaland closed the border again"),
    ("s4", 60 * 24 * 3 + 5, "Weather report"),
]
PACK = """\
version: 1
name: mini
entities:
  ALPHA: {name: Alphaland, kind: country, aliases: [Alphaland]}
signals:
  closure:
    match: {all: [closed, border]}
    mentions: {any: [ALPHA]}
detections:
  - id: border-closed
    title: border closed
    pattern: {any: closure}
"""


def test_streamed_replay_over_the_external_sort_equals_the_in_memory_replay(tmp_path: Path) -> None:
    p = tmp_path / "pack.yaml"
    p.write_text(PACK, encoding="utf-8")
    _loaded, rules = load_rules([str(p)])
    items: list[Input] = []
    for k in range(2000):  # many gated times around the story, in no order
        items.append(gated((k * 7919) % (60 * 24 * 5)))
    items += [checked(i, m, t) for i, m, t in STORY]
    items.reverse()
    expected = replay(list(items), Engine(rules), order="event-time").detections
    with event_time_sorter(run_size=300, chunk_size=50) as sorter:
        sorter.extend(items)
        assert sorter.spilled
        got = replay(iter(sorter), Engine(rules), order="log")
    assert [d.id for d in got.detections] == [d.id for d in expected]
    assert len(expected) == 2 and got.documents == len(items)
