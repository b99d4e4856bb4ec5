"""Stories: syndicated copies of one wire story under several outlets are one report, not corroboration.

A document's story is a MinHash signature (datasketch) of its word 3-shingles (title and body). Two
documents tell the same story when the signatures' estimated Jaccard similarity is at least
STORY_THRESHOLD. Measured on the 171,112 items of the 2023 RSS corpus (benchmarks/bench_stories.py,
BENCHMARKS.md "Syndicated copies"): outlets that carry the AP wire (ABC, The Washington Post, NBC,
Bloomberg) publish the same item word for word (similarity ~1.0), while a site's daily template
("Russia-Ukraine war: List of key events, day 586" / "day 589") reaches 0.66, so 0.7 sits above it. Lightly edited
copies go lower (BENCHMARKS.md, "The story threshold near 0.7").

A short document (at most SHORT_WORDS words: title and a sentence or two, most RSS items; at least
MIN_CONTENT_WORDS content words) also keeps its content words (stop words out) as 32-bit hashes, and a hash of the
numbers it gives. On such texts a two-word edit takes the 3-shingle similarity to ~0.4, below what a daily template
reaches, so two short documents are also one story when their content-word sets are near (exact Jaccard >=
WORD_THRESHOLD), they still share some phrasing (3-shingle estimate >= SHINGLE_FLOOR: two outlets' own words share
words, rarely 3-word runs) and they give the same numbers (a template's next day differs in its day number and
date). Measured in BENCHMARKS.md, "Short lightly edited copies".

Only the signals of detections that count sources (`corroborate`, `count` with `distinct: source`)
carry a story (Signal.story), so most signals pay nothing.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

# numpy (like datasketch) is imported where it is used: every command imports the engine, few make
# stories, and numpy's import is ~0.1 s of a `rules check`.

NUM_PERM = 64
STORY_THRESHOLD = 0.7
SHINGLE = 3
_SEED = 1
SHORT_WORDS = 60  # at most this many words: a short document (most RSS items: title and one or two sentences)
# ...with at least this many content words: a headline alone (6-8) is one phrase, which two outlets' own words share
# ("North Korean troops killed in Kursk"); such documents are one story only by the 3-shingle threshold.
MIN_CONTENT_WORDS = 10
WORD_THRESHOLD = 0.6  # short documents: exact Jaccard similarity of their content-word sets
SHINGLE_FLOOR = 0.25  # ...and at least this 3-shingle estimate (some phrasing shared)
# Candidate keys of short documents: WORD_BANDS MinHash bands of WORD_ROWS values over the content words. Two
# documents of word similarity 0.6 share no band with probability (1 - 0.6**2)**6 = 0.07 (0.7: 0.018, 0.8: 0.0003;
# 327 of the 328 pairs of the 2023 corpus the rule would join share one). Each key costs every pass over a window
# (a `count` makes one per point), so few: 6 keys beside the 20 of the 3-shingles (BENCHMARKS.md).
WORD_BANDS = 6
WORD_ROWS = 2
_WORD_SEED = 2
_MERSENNE = (1 << 61) - 1
_MAX_HASH = (1 << 32) - 1
# Words that say nothing of a story: two reports in their own words share these whatever they report.
STOP_WORDS = frozenset(
    """a an the and or but of to in on at by for with from as is are was were be been being it its this that these
    those he she they we you i his her their our your my me him them us who whom whose which what when where why
    how than then there here so not no nor if also after before over under into about up down out off more most
    less very just can could would should will shall may might must do does did has have had says said say new
    amid against during between while since until per via all any some such other""".split()
)


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
    signature = base64.b64encode(np.asarray(m.hashvalues, dtype="<u4").tobytes()).decode()
    if n > SHORT_WORDS:
        return signature
    content = sorted({zlib.crc32(w.encode()) for w in words if len(w) > 1 and w not in STOP_WORDS})
    if len(content) < MIN_CONTENT_WORDS:
        return signature
    numbers = zlib.crc32(" ".join(sorted({w for w in words if any(ch.isdigit() for ch in w)})).encode())
    # After a ".", which base64 never writes: the numbers' hash, then the sorted content-word hashes.
    words_part = np.asarray([numbers, *content], dtype="<u4").tobytes()
    return signature + "." + base64.b64encode(words_part).decode()


@lru_cache(maxsize=4096)
def _values(signature: str) -> Any:
    """The 64 MinHash values of the 3-shingles."""
    import numpy as np

    return np.frombuffer(base64.b64decode(signature.partition(".")[0]), dtype="<u4")


@lru_cache(maxsize=4096)
def _words(signature: str) -> tuple[int, frozenset[int]] | None:
    """A short document's numbers hash and content-word hashes; None for a long one (or one without words)."""
    import numpy as np

    _, dot, rest = signature.partition(".")
    if not dot:
        return None
    values = np.frombuffer(base64.b64decode(rest), dtype="<u4").tolist()
    return int(values[0]), frozenset(int(v) for v in values[1:])


@lru_cache(maxsize=1)
def _word_permutations() -> Any:
    from datasketch import MinHash

    return MinHash(num_perm=WORD_BANDS * WORD_ROWS, seed=_WORD_SEED).permutations


@lru_cache(maxsize=4096)  # story_bands keeps its own (the same keys); this serves short_copies' comparisons
def _word_bands(signature: str) -> tuple[bytes, ...]:
    """A short document's candidate keys: MinHash bands of its content words, each led by its numbers' hash
    (documents that give other numbers are never one short story, so they need not meet)."""
    import numpy as np

    words = _words(signature)
    if words is None:
        return ()
    numbers, content = words
    a, b = _word_permutations()
    hv = np.asarray(sorted(content), dtype=np.uint64)
    mins = (np.bitwise_and((np.outer(hv, a) + b) % _MERSENNE, _MAX_HASH)).min(axis=0).astype("<u4")
    head = b"W" + numbers.to_bytes(4, "little")
    return tuple(head + bytes((k,)) + mins[k * WORD_ROWS : (k + 1) * WORD_ROWS].tobytes() for k in range(WORD_BANDS))


def word_similarity(a: str, b: str) -> float | None:
    """Exact Jaccard similarity of two short documents' content-word sets; None unless both are short."""
    wa, wb = _words(a), _words(b)
    if wa is None or wb is None:
        return None
    sa, sb = wa[1], wb[1]
    return len(sa & sb) / len(sa | sb)


def short_copies(a: str, b: str) -> bool:
    """Two short documents that are one lightly edited story (module docstring): the same numbers, content words
    near, some phrasing shared, and (so that grouping by keys finds every such pair) a word band in common."""
    wa, wb = _words(a), _words(b)
    if wa is None or wb is None or wa[0] != wb[0]:
        return False
    sa, sb = wa[1], wb[1]
    if len(sa & sb) < WORD_THRESHOLD * len(sa | sb) or similarity(a, b) < SHINGLE_FLOOR:
        return False
    return not set(_word_bands(a)).isdisjoint(_word_bands(b))


def similarity(a: str, b: str) -> float:
    """Estimated Jaccard similarity of two documents' word shingles."""
    import numpy as np

    va, vb = _values(a), _values(b)
    if va.shape != vb.shape:
        return 0.0
    return float(np.count_nonzero(va == vb)) / len(va)


def same_story(a: str | None, b: str | None) -> bool:
    """One story: the same text, or 3-shingle estimate >= STORY_THRESHOLD, or short lightly edited copies."""
    if a is None or b is None:
        return False
    return a == b or similarity(a, b) >= STORY_THRESHOLD or short_copies(a, b)


# A window slides one report at a time and is grouped anew at each point, so it compares the same candidate pairs
# again and again: remembered (a pair is two strings already hashed; the answer does not depend on the order).
_same_story_pair = lru_cache(maxsize=16384)(same_story)  # (at most ~16 MB of signatures held)


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
    same_story then decides, so grouping by bands gives the very groups that comparing every pair gives. A short
    document adds its word bands (_word_bands), which short_copies requires to meet."""
    raw = base64.b64decode(signature.partition(".")[0])
    n = len(raw) // 4
    if n == 0:
        return (b"\x00" + raw, *_word_bands(signature))
    k = min(n, _max_mismatches(n) + 1)
    cuts = [n * b // k for b in range(k + 1)]
    # The length and band number lead each key: bands of signatures of other lengths never meet.
    head = n.to_bytes(4, "little")
    return (*(head + bytes((b,)) + raw[4 * cuts[b] : 4 * cuts[b + 1]] for b in range(k)), *_word_bands(signature))


class ReportGroups:
    """Independent reports, one (source, story) pair added at a time. Reports whose stories are copies of one
    another are one story (a union-find over the copy links); a story counts for the outlet of its earliest report
    (its originator: the others carried a copy of it), and `count` is the number of distinct outlets that
    originated a story (one source is one outlet; a feed's report and one counted by the name it shows too). So a
    wire story under three outlets counts once, one outlet's own two stories count once, and an outlet that
    carried another's copy still counts for a story it told in its own words (outside trial 64, HIGH-1: the copy
    linked the two outlets and the second no longer confirmed the first). Candidate copies are found through
    story_bands, and a signature seen before joins its first holder's story without a comparison, so a window of
    many copies costs about one comparison per new signature and band neighbour, not one per pair."""

    __slots__ = (
        "_band",
        "_fed",
        "_more",
        "_origin",
        "_origins",
        "_outlet",
        "_rank",
        "_signature",
        "_source",
        "_stories",
        "parent",
    )

    def __init__(self) -> None:
        self.parent: list[int] = []  # the story union-find (copy links), over report indices
        self._outlet: list[int] = []  # the outlet union-find (one source; a feed and its name), over report indices
        self._rank: list[float] = []  # each report's place in time (the earliest of a story is its originator)
        self._origin: dict[int, int] = {}  # story root -> its originating report
        self._origins: dict[int, int] = {}  # outlet root -> how many stories it originated (never 0)
        self._source: dict[str, int] = {}
        # The names shown by reports that count by their feed (identity other than the name): a report counted by
        # its name (no feed: stored before feeds were kept) joins the feed report of its name (see `add`).
        self._fed: dict[str, dict[str, int]] = {}  # name -> feed identity -> its first report
        self._signature: dict[str, int] = {}
        # A band's first holder, and its later ones apart: most bands are one signature's alone, and a pass over a
        # window adds every key of every report (no list made for a band nobody shares).
        self._band: dict[bytes, int] = {}
        self._more: dict[bytes, list[int]] = {}
        self._stories: list[str] = []

    @property
    def count(self) -> int:
        """Independent reports so far: the outlets that originated a story."""
        return len(self._origins)

    def find(self, i: int) -> int:
        """The root of report i's story."""
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def outlet(self, i: int) -> int:
        """The root of report i's outlet."""
        parent = self._outlet
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def group(self, i: int) -> int:
        """The independent report i counts as: the outlet (its root) of its story's originator."""
        return self.outlet(self._origin[self.find(i)])

    def _lose_origin(self, report: int) -> None:
        """`report` no longer originates a story (it joined an earlier one): its outlet counts one story fewer."""
        o = self.outlet(report)
        n = self._origins[o] - 1
        if n:
            self._origins[o] = n
        else:
            del self._origins[o]

    def _union(self, i: int, j: int) -> None:
        """i's and j's stories are one: the later originator loses its story to the earlier."""
        a, b = self.find(i), self.find(j)
        if a == b:
            return
        oa, ob = self._origin.pop(a), self._origin.pop(b)
        rank = self._rank
        first, later = (oa, ob) if (rank[oa], oa) <= (rank[ob], ob) else (ob, oa)
        self.parent[a] = b
        self._origin[b] = first
        self._lose_origin(later)

    def _same_outlet(self, i: int, j: int) -> None:
        a, b = self.outlet(i), self.outlet(j)
        if a == b:
            return
        self._outlet[a] = b
        n = self._origins.pop(a, 0)
        if n:
            self._origins[b] = self._origins.get(b, 0) + n

    def add(self, source: str, story: str | None, name: str | None = None, rank: float | None = None) -> int:
        """Add a report; its index (for group). `name`: the source name it shows, when `source` is its feed's
        identity (Signal.feed); None or `source` itself when it counts by its name. `rank`: its place in time (the
        smallest originates its story; a tie goes to the report added first); None: after every report added so
        far (reports added oldest first).

        A report that counts by its name and one of a feed that shows that name are one source (review 13, F5):
        across the upgrade that began keeping feeds, one feed's report stored before (no feed: its name) and its
        next one (its feed) were two sources, so the feed confirmed itself. Whether the name is that feed's cannot
        be known here, so the link errs on the safe side: at worst two outlets claiming one name, with a report
        of that name without a feed among them, count once (a feed's name is its operator's `source_name` or its
        <title>; reports without a feed are old ones and an aggregator's items)."""
        i = len(self.parent)
        self.parent.append(i)
        self._rank.append(float(i) if rank is None else rank)
        self._origin[i] = i
        origins = self._origins
        j = self._source.setdefault(source, i)
        if j != i:  # a source seen before (most reports of a window): its outlet, without a node of its own
            r = self.outlet(j)
            self._outlet.append(r)
            origins[r] = origins.get(r, 0) + 1  # (none when its reports so far were copies of others' stories)
        else:
            self._outlet.append(i)
            origins[i] = 1
        # The link, either way round (so the count does not depend on the order reports are added): a report of a
        # feed showing name N and a report counted by N. Two feeds showing N stay apart unless one counted by N
        # joins them.
        if name is not None and name != source:  # counts by its feed
            self._fed.setdefault(name, {}).setdefault(source, i)
            by_name = self._source.get(name)
            if by_name is not None:
                self._same_outlet(i, by_name)
        elif self._fed:  # (most windows have no feed report showing a name: nothing to look up)
            fed = self._fed.get(source)
            if fed is not None:
                for k in fed.values():
                    self._same_outlet(i, k)
        if story is None:
            return i
        first = self._signature.setdefault(story, i)
        if first != i:
            # The same signature: the same comparisons as its first holder, whose story it joins.
            self._union(i, first)
            return i
        k = len(self._stories)
        self._stories.append(story)
        checked: set[int] = set()
        band = self._band
        for key in story_bands(story):
            h0 = band.get(key)
            if h0 is None:  # most bands of most signatures: nobody else's
                band[key] = k
                continue
            more = self._more.get(key)
            for h in (h0, *more) if more is not None else (h0,):
                if h in checked:
                    continue
                checked.add(h)
                other = self._signature[self._stories[h]]
                if self.find(i) != self.find(other) and _same_story_pair(story, self._stories[h]):
                    self._union(i, other)
            if more is None:
                self._more[key] = [k]
            else:
                more.append(k)
        return i


def report_groups(reports: Sequence[tuple[str, str | None] | tuple[str, str | None, str | None]]) -> list[int]:
    """For each (source, story[, name]) tuple, oldest first, the independent report it counts as (a group number):
    copies of one story count for the outlet of its first report, and an outlet counts once for every story it
    originated (ReportGroups). `name`: the name shown, when the source is a feed's identity (see `add`)."""
    groups = ReportGroups()
    add = groups.add  # (bound once: this runs per report of every window a count or corroboration looks at)
    for r in reports:
        add(*r)
    return [groups.group(i) for i in range(len(reports))]


def independent(reports: Iterable[tuple[str, str | None]]) -> int:
    """How many independent reports among (source, story) pairs, oldest first (see report_groups)."""
    return len(set(report_groups(list(reports))))
