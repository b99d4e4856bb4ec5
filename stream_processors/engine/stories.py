"""Stories: syndicated copies of one wire story under several outlets are one report, not corroboration.

A document's story is a MinHash signature (datasketch) of its word 3-shingles (title and body). Two
documents tell the same story when the signatures' estimated Jaccard similarity is at least
STORY_THRESHOLD. Measured on the 171,112 items of the 2023 RSS corpus (benchmarks/bench_stories.py,
BENCHMARKS.md "Syndicated copies"): outlets that carry the AP wire (ABC, The Washington Post, NBC,
Bloomberg) publish the same item word for word (similarity ~1.0), while a site's daily template
("Russia-Ukraine war: List of key events, day 586" / "day 589") reaches 0.66, so 0.7 sits above it. Lightly edited
copies go lower (BENCHMARKS.md, "The story threshold near 0.7"): those the threshold misses count as independent.

Only the signals of detections that count sources (`corroborate`, `count` with `distinct: source`)
carry a story (Signal.story), so most signals pay nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

# numpy (like datasketch) is imported where it is used: every command imports the engine, few make
# stories, and numpy's import is ~0.1 s of a `rules check`.

NUM_PERM = 64
STORY_THRESHOLD = 0.7
SHINGLE = 3
_SEED = 1


@lru_cache(maxsize=1)
def _permutations() -> Any:
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=_SEED).permutations


def story_signature(words: Sequence[str]) -> str:
    """The MinHash signature of a document's words (its tokens), as base64 text (for the event log)."""
    import numpy as np
    from datasketch import MinHash

    n = len(words)
    if n >= SHINGLE:
        shingles = {" ".join(words[i : i + SHINGLE]).encode() for i in range(n - SHINGLE + 1)}
    else:
        shingles = {" ".join(words).encode()}
    m = MinHash(num_perm=NUM_PERM, seed=_SEED, permutations=_permutations(), scheme="affine32")
    m.update_batch(list(shingles))
    return base64.b64encode(np.asarray(m.hashvalues, dtype="<u4").tobytes()).decode()


@lru_cache(maxsize=4096)
def _values(signature: str) -> Any:
    import numpy as np

    return np.frombuffer(base64.b64decode(signature), dtype="<u4")


def similarity(a: str, b: str) -> float:
    """Estimated Jaccard similarity of two documents' word shingles."""
    import numpy as np

    va, vb = _values(a), _values(b)
    if va.shape != vb.shape:
        return 0.0
    return float(np.count_nonzero(va == vb)) / len(va)


def same_story(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and (a == b or similarity(a, b) >= STORY_THRESHOLD)


def _max_mismatches(n: int) -> int:
    """The most positions two signatures of n values may differ in and still be one story (same_story)."""
    m = 0
    while m < n and (n - (m + 1)) / n >= STORY_THRESHOLD:
        m += 1
    return m


@lru_cache(maxsize=65536)
def story_bands(signature: str) -> tuple[bytes, ...]:
    """Keys under which two signatures of one story always meet: the values cut into more bands than the
    positions in which one story's signatures may differ, so two of them share at least one band whole
    (pigeonhole). Exact, unlike LSH's probabilistic bands: a shared band only makes a candidate pair, which
    same_story then decides, so grouping by bands gives the very groups that comparing every pair gives."""
    raw = base64.b64decode(signature)
    n = len(raw) // 4
    if n == 0:
        return (b"\x00" + raw,)
    k = min(n, _max_mismatches(n) + 1)
    cuts = [n * b // k for b in range(k + 1)]
    # The length and band number lead each key: bands of signatures of other lengths never meet.
    head = n.to_bytes(4, "little")
    return tuple(head + bytes((b,)) + raw[4 * cuts[b] : 4 * cuts[b + 1]] for b in range(k))


class ReportGroups:
    """Independent reports, one (source, story) pair added at a time: a union-find over both links (one
    source is one report; sources whose stories are copies are one report together). `count` is the number
    of independent reports so far. Candidate copies are found through story_bands, and a signature seen
    before joins its first holder's report without a comparison, so a window of many copies costs about
    one comparison per new signature and band neighbour, not one per pair."""

    __slots__ = ("_band", "_signature", "_source", "_stories", "count", "parent")

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.count = 0
        self._source: dict[str, int] = {}
        self._signature: dict[str, int] = {}
        self._band: dict[bytes, list[int]] = {}
        self._stories: list[str] = []

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def _union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[a] = b
            self.count -= 1

    def add(self, source: str, story: str | None) -> int:
        """Add a report; its index (for find)."""
        i = len(self.parent)
        self.parent.append(i)
        self.count += 1
        j = self._source.setdefault(source, i)
        if j != i:
            self._union(i, j)
        if story is None:
            return i
        first = self._signature.setdefault(story, i)
        if first != i:
            # The same signature: the same comparisons as its first holder, whose report links them all.
            self._union(i, first)
            return i
        k = len(self._stories)
        self._stories.append(story)
        checked: set[int] = set()
        band = self._band
        for key in story_bands(story):
            holders = band.get(key)
            if holders is None:  # most bands of most signatures: nobody else's
                band[key] = [k]
                continue
            # With one report left there is nothing to join (a common case: copies of one story that have
            # already joined every source in the window); the bands are still kept for later sources.
            if self.count > 1:
                for h in holders:
                    if h in checked:
                        continue
                    checked.add(h)
                    other = self._signature[self._stories[h]]
                    if self.find(i) != self.find(other) and same_story(story, self._stories[h]):
                        self._union(i, other)
            holders.append(k)
        return i


def report_groups(reports: Sequence[tuple[str, str | None]]) -> list[int]:
    """For each (source, story) pair, the independent report it belongs to (a group number): one source is
    one report, and sources whose stories are copies of each other are one report together (union-find
    over both links; ReportGroups)."""
    groups = ReportGroups()
    for source, story in reports:
        groups.add(source, story)
    return [groups.find(i) for i in range(len(reports))]


def independent(reports: Iterable[tuple[str, str | None]]) -> int:
    """How many independent reports among (source, story) pairs (see report_groups)."""
    return len(set(report_groups(list(reports))))
