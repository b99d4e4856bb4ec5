"""`count` windows and independent reports: the linear search gives what the search over every window and
every pair gave (kept here as the oracle), on hypothesis-made observations with copies near the story
threshold. What it saves is measured by benchmarks/bench_count_window.py."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from watchfloor.stream_processors.engine import patterns as P
from watchfloor.stream_processors.engine.stories import (
    NUM_PERM,
    ReportGroups,
    report_groups,
    same_story,
    story_bands,
)

# --- the oracle: the code before the linear search, verbatim in behaviour --------------------------------


def oracle_report_groups(reports: list[tuple[str, str | None]]) -> list[int]:
    """Stories by comparing every pair (copies linked transitively); each counts for the source of its first
    report (its originator); a group is that source (its first report's index)."""
    n = len(reports)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if find(i) != find(j) and same_story(reports[i][1], reports[j][1]):
                parent[find(i)] = find(j)
    origin: dict[int, int] = {}
    for i in range(n):
        origin.setdefault(find(i), i)  # the earliest report of each story
    first_of_source: dict[str, int] = {}
    for i, (source, _story) in enumerate(reports):
        first_of_source.setdefault(source, i)
    return [first_of_source[reports[origin[find(i)]][0]] for i in range(n)]


def oracle_independent(items: list[P.Item]) -> list[P.Item]:
    if not any(o[P.EV][P.E_STORY] for o in items):
        return list({o[P.SRC]: o for o in items}.values())
    groups = oracle_report_groups([(o[P.SRC], o[P.EV][P.E_STORY]) for o in items])
    first: dict[int, P.Item] = {}
    for o, g in zip(items, groups, strict=True):
        first.setdefault(g, o)
    return list(first.values())


def oracle_count(items: list[P.Item], end: int, within: float, at_least: int, distinct: str | None) -> list[Any] | None:
    t = items[end - 1][P.T]
    lo = P.first_at_or_after(items, t - within, end)
    window = [o for o in items[lo:end] if not o[P.DUP]]
    best: list[P.Item] = []
    for start in sorted({o[P.T] for o in window}):
        inside = [o for o in window if start <= o[P.T] <= start + within]
        if distinct == "source":
            inside = oracle_independent(sorted(inside, key=lambda o: o[P.T]))
        elif distinct == "document":
            inside = list({o[P.DOC]: o for o in sorted(inside, key=lambda o: o[P.T])}.values())
        if len(inside) > len(best):
            best = inside
    if len(best) >= at_least:
        return [o[P.EV] for o in sorted(best, key=lambda o: o[P.T])]
    return None


# --- observations ---------------------------------------------------------------------------------------


def signature(values: list[int]) -> str:
    return base64.b64encode(np.asarray(values, dtype="<u4").tobytes()).decode()


BASES = [[1000 * b + k for k in range(NUM_PERM)] for b in range(3)]


@st.composite
def stories(draw: st.DrawFn) -> str | None:
    """None, or a base signature with a few positions changed: around the 0.7 threshold (19 of 64 may
    differ), so copies, near misses and chains of copies that are not copies of each other all occur."""
    if draw(st.integers(0, 5)) == 0:
        return None
    values = list(BASES[draw(st.integers(0, len(BASES) - 1))])
    for pos in draw(st.lists(st.integers(0, NUM_PERM - 1), max_size=24)):
        values[pos] = 7_000_000 + pos * 31 + draw(st.integers(0, 2))
    return signature(values)


def evidence(doc: str, source: str, story: str | None) -> tuple[Any, ...]:
    return (doc, "sig", source, "", "", 0, "asserted", (), (), None, story)


@st.composite
def observations(draw: st.DrawFn) -> list[P.Item]:
    n = draw(st.integers(1, 18))
    items = []
    for k in range(n):
        t = float(draw(st.integers(0, 40)))
        doc = f"d{draw(st.integers(0, 8))}"
        source = f"s{draw(st.integers(0, 4))}"
        story = draw(stories())
        dup = 1 if draw(st.integers(0, 4)) == 0 else 0
        items.append((t, doc, k, "sig", 0, source, evidence(doc, source, story), dup))
    items.sort(key=lambda o: o[: P.KEY_LEN])
    return items


def partition(groups: list[int]) -> set[frozenset[int]]:
    by: dict[int, set[int]] = {}
    for i, g in enumerate(groups):
        by.setdefault(g, set()).add(i)
    return {frozenset(v) for v in by.values()}


@settings(max_examples=400, deadline=None)
@given(observations(), st.sampled_from([None, "document", "source"]), st.integers(1, 20), st.integers(1, 5))
def test_count_window_is_the_oracles(items: list[P.Item], distinct: str | None, within: int, at_least: int) -> None:
    for end in range(1, len(items) + 1):
        assert P.count_evidence(items, end, float(within), at_least, distinct) == oracle_count(
            items, end, float(within), at_least, distinct
        )


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]), stories()), max_size=24))
def test_report_groups_are_the_oracles(reports: list[tuple[str, str | None]]) -> None:
    assert partition(report_groups(reports)) == partition(oracle_report_groups(reports))
    groups = ReportGroups()
    for source, story in reports:
        groups.add(source, story)
    assert groups.count == len(partition(oracle_report_groups(reports)))
    # Added newest first with their places in time (as a window is searched backwards): the same count.
    backwards = ReportGroups()
    for i in reversed(range(len(reports))):
        backwards.add(*reports[i], None, i)
    assert backwards.count == groups.count


def test_copies_always_share_a_band() -> None:
    """The pigeonhole the bands rest on: one story's signatures may differ in 19 of 64 positions; put each
    difference in another band, where it breaks most, and a band is still left whole. One difference more
    is not one story."""
    base = BASES[0]
    a = signature(base)
    sizes = [(len(key) - 5) // 4 for key in story_bands(a)]  # key: length (4 bytes), band number, values
    starts = [sum(sizes[:b]) for b in range(len(sizes))]
    assert sum(sizes) == NUM_PERM
    most = 19
    assert (NUM_PERM - most) / NUM_PERM >= 0.7 > (NUM_PERM - most - 1) / NUM_PERM
    worst = list(base)
    spread = starts[:most] + [p for p in range(NUM_PERM) if p not in starts][: max(0, most - len(starts))]
    for pos in spread:
        worst[pos] += 1
    b = signature(worst)
    assert same_story(a, b)
    assert set(story_bands(a)) & set(story_bands(b))
    worse = list(worst)
    worse[next(p for p in range(NUM_PERM) if p not in spread)] += 1
    assert not same_story(a, signature(worse))
