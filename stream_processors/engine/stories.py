"""Stories: syndicated copies of one wire story under several outlets are one report, not corroboration.

A document's story is a MinHash signature (datasketch) of its word 3-shingles (title and body). Two
documents tell the same story when the signatures' estimated Jaccard similarity is at least
STORY_THRESHOLD. Measured on the 171,112 items of the 2023 RSS corpus (benchmarks/bench_stories.py,
BENCHMARKS.md "Syndicated copies"): outlets that carry the AP wire (ABC, The Washington Post, NBC,
Bloomberg) publish the same item word for word (similarity ~1.0), while a site's daily template
("Russia-Ukraine war: List of key events, day 586" / "day 589") stays near 0.5, so 0.7 sits between them.

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


def report_groups(reports: Sequence[tuple[str, str | None]]) -> list[int]:
    """For each (source, story) pair, the independent report it belongs to (a group number): one source is
    one report, and sources whose stories are copies of each other are one report together (union-find
    over both links)."""
    n = len(reports)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_of_source: dict[str, int] = {}
    for i, (source, _story) in enumerate(reports):
        j = first_of_source.setdefault(source, i)
        if j != i:
            parent[find(i)] = find(j)
    for i in range(n):
        for j in range(i + 1, n):
            if find(i) != find(j) and same_story(reports[i][1], reports[j][1]):
                parent[find(i)] = find(j)
    return [find(i) for i in range(n)]


def independent(reports: Iterable[tuple[str, str | None]]) -> int:
    """How many independent reports among (source, story) pairs (see report_groups)."""
    return len(set(report_groups(list(reports))))
