"""Pattern evaluation over a group's observations in canonical order: what fires at one point, given only the
observations before it (the prefix), so the answer never depends on what arrived later.

An observation ("item") is a tuple (a JSON array in a checkpoint): (effective time, document id, sentence
index, signal name, ref index, source, evidence, duplicate). Tuples, and evidence holding only strings,
numbers and tuples, so that the garbage collector stops tracking them once it has seen them: the state
holds hundreds of thousands, and a full collection walked every one (docs/architecture.md §8).

Items are kept sorted by their first five fields (the canonical key). A duplicate is a second sentence of one
document matching the same ref: it is a point where the detection is evaluated, but not a second observation
(it never counts twice, nor becomes evidence in place of the first).
"""

from __future__ import annotations

from bisect import bisect_left
from operator import itemgetter
from typing import Any

from .stories import ReportGroups, report_groups

T, DOC, SIDX, NAME, RI, SRC, EV, DUP = range(8)
KEY_LEN = 5

Item = tuple[Any, ...]
Firing = tuple[Any, ...]
"""A detection raised at a point: the point's key, the detection id, the throttle state after it (sweep.F_*)."""

# An observation's evidence, by position: a tuple of strings, numbers and flat tuples of strings, never a dict
# or a list. CPython's collector stops tracking a tuple only when nothing in it can hold a reference cycle, and
# it counts any dict as one: observations holding dicts stayed tracked, and the full collections that walked
# them were a sixth of the time at 10,000 rules (docs/architecture.md §8). Flat, because a tuple is let go of
# only after the tuples in it, a level per collection at worst. `captures` is (name, value, name, value, ...)
# in the signal's order; `places` the signal's place ids; `at` the receive time when the report was processed
# at it, else None; `story` the signal's story key (stories.py) or None.
E_ID, E_SIGNAL, E_SOURCE, E_URL, E_PUBLISHED, E_SENTENCE, E_MODALITY, E_CAPTURES, E_PLACES, E_AT, E_STORY = range(11)
E_FIRST_SEEN = 11  # True when its document had no date (Signal.first_seen), else None; absent in older states
EvidenceRecord = tuple[Any, ...]


def flat_pairs(mapping: dict[str, str]) -> tuple[str, ...]:
    """A mapping as evidence keeps it (E_CAPTURES): (name, value, name, value, ...), in its order."""
    return tuple([x for pair in mapping.items() for x in pair]) if mapping else ()


_time = itemgetter(T)


def first_at_or_after(items: list[Item], t: float, hi: int) -> int:
    """Index of the first item in items[:hi] with time >= t."""
    return bisect_left(items, t, 0, hi, key=_time)


def count_evidence(
    items: list[Item], end: int, within: float, at_least: int, distinct: str | None
) -> list[EvidenceRecord] | None:
    """`count`: the fullest window of length `within` that holds the point items[end - 1], the earliest
    such window on a tie.

    Every window that holds the point and starts at or after t - within ends at or after t, so it holds the
    prefix's items from its start on: the candidates are the suffixes of the items within `within` before
    the point. Without stories a longer suffix never counts fewer (reports, documents or sources), so the
    whole window is the fullest; stories can make it count fewer (an older report of a story makes its outlet the
    story's originator in place of an outlet that originated nothing else), so then every suffix is counted, in one
    pass from the point backwards."""
    t = items[end - 1][T]
    lo = first_at_or_after(items, t - within, end)
    window = [o for o in items[lo:end] if not o[DUP]]  # canonical order: by time first
    if distinct == "source":
        best = independent_reports(window)
        if len(best) < len({o[SRC] for o in window}):
            # A source counted only through another's story: an older report may have taken a story's origin
            # that a shorter window leaves to an outlet of its own. (Else every suffix counts at most its
            # sources, no more than the whole window.)
            best = independent_reports(window[_fullest_suffix(window) :])
    elif distinct == "document":
        best = list({o[DOC]: o for o in window}.values())
    else:
        best = window
    if len(best) >= at_least:
        return [o[EV] for o in sorted(best, key=_time)]  # by document, a document's last item stands
    return None


def _fullest_suffix(window: list[Item]) -> int:
    """The start of the suffix of `window` (at a change of time) with the most independent reports, the
    longest on a tie."""
    groups = ReportGroups()
    best, best_at = -1, len(window)
    i = len(window)
    while i > 0:
        start_t = window[i - 1][T]
        while i > 0 and window[i - 1][T] == start_t:
            i -= 1
            # (newest first, so each gives its place in time: the earliest of a story originates it)
            groups.add(window[i][SRC], window[i][EV][E_STORY], window[i][EV][E_SOURCE], i)
        if groups.count >= best:
            best, best_at = groups.count, i
    return best_at


def all_of_evidence(items: list[Item], end: int, nrefs: int, within: float) -> list[EvidenceRecord] | None:
    """`all_of`: every other ref's observation closest in time to the point, all within `within`."""
    point = items[end - 1]
    t, ri = point[T], point[RI]
    lo = first_at_or_after(items, t - within, end)  # a closer one outside the window could not pass anyway
    chosen: dict[int, tuple[float, EvidenceRecord]] = {ri: (t, point[EV])}
    for k in range(nrefs):
        if k == ri:
            continue
        cands = [o for o in items[lo:end] if o[RI] == k]
        if not cands:
            return None
        o = min(cands, key=lambda o: abs(o[T] - t))
        chosen[k] = (o[T], o[EV])
    times = [c[0] for c in chosen.values()]
    if max(times) - min(times) > within:
        return None
    return [chosen[k][1] for k in sorted(chosen)]


def sequence_evidence(items: list[Item], end: int, nrefs: int, within: float) -> list[EvidenceRecord] | None:
    """`sequence`: fires at its last ref, with the latest possible predecessors in order within `within`.

    Reports of one time count in either order (outside trial 35, M1: a feed that dates every item 12:00 of its day,
    or one report that tells both steps, could never complete a sequence): a step may be as late as the one after it,
    when none is earlier. So a step of the last ref's very time that comes after it in canonical order can complete
    the sequence too: at it, when the last ref had no chain before it. Successors at a later time lie after the point
    in canonical order, so no other point completes one."""
    point = items[end - 1]
    t, ri = point[T], point[RI]
    lo = first_at_or_after(items, t - within, end)
    if ri == nrefs - 1:
        return _sequence_chain(items, lo, end, end - 1, within)
    at = first_at_or_after(items, t, end)
    for j in range(at, end - 1):  # a last step of this very time, before the point
        if items[j][RI] == nrefs - 1:
            chain = _sequence_chain(items, lo, end, j, within)
            if chain is not None and _sequence_chain(items, lo, end - 1, j, within) is None:
                return chain
    return None


def _sequence_chain(items: list[Item], lo: int, end: int, last: int, within: float) -> list[EvidenceRecord] | None:
    """The predecessors of items[last] (of the last ref) in items[lo:end]: for each ref the latest report before
    the step after it, else (none before) the first of that step's very time that is another signal; all within
    `within`. None when one is missing."""
    top = items[last]
    chain: dict[int, tuple[float, EvidenceRecord]] = {top[RI]: (top[T], top[EV])}
    used = {top[:RI]}  # a signal of one sentence is one report, whichever refs it matches
    bound = top[T]
    for k in range(top[RI] - 1, -1, -1):
        cands = [o for o in items[lo:end] if o[RI] == k and o[T] < bound]
        if cands:
            o = max(cands, key=_time)
        else:
            tied = [o for o in items[lo:end] if o[RI] == k and o[T] == bound and o[:RI] not in used]
            if not tied:
                return None
            o = tied[0]
        chain[k] = (o[T], o[EV])
        used.add(o[:RI])
        bound = o[T]
    times = [c[0] for c in chain.values()]
    if max(times) - min(times) > within:
        return None
    return [chain[k][1] for k in sorted(chain)]


def corroborating(
    items: list[Item], end: int, t: float, within: float, field: int, modalities: frozenset[str]
) -> dict[str, Item]:
    """Distinct sources (or documents) that reported the group within `within` of t, before the point, in one of
    `modalities` (the corroboration's: asserted by default). By source, syndicated copies of one story under several
    outlets are one report (stories.py)."""
    best: dict[str, Item] = {}
    lo = first_at_or_after(items, t - within, end)
    for a, b in ((t - within, t), (t, t + within)):
        inside = [o for o in items[lo:end] if a <= o[T] <= b and not o[DUP] and o[EV][E_MODALITY] in modalities]
        if field == SRC:
            distinct = {o[SRC]: o for o in independent_reports(inside)}
        else:
            distinct = {o[field]: o for o in inside}
        if len(distinct) > len(best):
            best = distinct
    return best


def independent_reports(items: list[Item]) -> list[Item]:
    """One item per independent report, the earliest, of `items` in canonical order: an outlet counts once for
    the stories it originated, and a copy counts with its story's first report (stories.ReportGroups)."""
    if not any(o[EV][E_STORY] for o in items) and not _feeds_and_names(items):
        return list({o[SRC]: o for o in items}.values())  # no stories: sources alone (the first of each)
    # (the name shown, for the link of a feed's report to one counted by that name: stories.ReportGroups.add)
    groups = report_groups([(o[SRC], o[EV][E_STORY], o[EV][E_SOURCE]) for o in items])
    first: dict[int, Item] = {}
    for o, g in zip(items, groups, strict=True):
        first.setdefault(g, o)
    return list(first.values())


def _feeds_and_names(items: list[Item]) -> bool:
    """Whether some of `items` count by their feed and some by their name (a report stored before feeds were
    kept, beside the same feed's later ones): then sources are grouped with the link between them."""
    fed = named = False
    for o in items:
        if o[SRC] == o[EV][E_SOURCE]:
            named = True
        else:
            fed = True
        if fed and named:
            return True
    return False


def absence_cancelled(items: list[Item], i: int, within: float) -> bool:
    """Whether the `first` at items[i] was followed, within `within`, by a `then_not` (ref 1) after it."""
    end = items[i][T] + within
    for o in items[i + 1 :]:
        if o[T] > end:
            return False
        if o[RI] == 1:
            return True
    return False


def group_key(detection_id: str, group: dict[str, str]) -> str:
    return detection_id + "\x1f" + "\x1f".join(f"{k}={v}" for k, v in group.items())


def group_from_key(gkey: str) -> dict[str, str]:
    parts = gkey.split("\x1f")[1:]
    return dict(p.split("=", 1) for p in parts if p)


def remove_observations(items: list[Item], places: list[int]) -> list[Item]:
    """Delete the observations at `places` (ascending) and return them; where one of them counted for its document,
    another sentence of that document may now be the one that counts (mark_duplicates)."""
    removed = [items[k] for k in places]
    for k in reversed(places):
        del items[k]
    for o in removed:
        at = bisect_left(items, (o[T], o[DOC]), key=itemgetter(T, DOC))
        if at < len(items) and items[at][T] == o[T] and items[at][DOC] == o[DOC]:
            mark_duplicates(items, at)
    return removed


def mark_duplicates(items: list[Item], pos: int) -> None:
    """Within the run of one document's observations around `pos`, only the first per ref counts."""
    t, doc = items[pos][T], items[pos][DOC]
    a = pos
    while a > 0 and items[a - 1][T] == t and items[a - 1][DOC] == doc:
        a -= 1
    b = pos + 1
    while b < len(items) and items[b][T] == t and items[b][DOC] == doc:
        b += 1
    seen: set[int] = set()
    for j in range(a, b):
        item = items[j]
        ri = item[RI]
        dup = 1 if ri in seen else 0
        if item[DUP] != dup:  # an observation is a tuple: replaced, in the rare case its mark changes
            items[j] = (*item[:DUP], dup)
        seen.add(ri)
