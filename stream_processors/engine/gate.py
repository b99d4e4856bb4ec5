"""The rules' gate on raw JSON lines: one linear-time scan of a block finds the lines that may matter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from html.entities import html5
from typing import Any

import ahocorasick
import re2

# Where a JSON line can hide a gate word from a byte scan, so a line with any of these counts as a hit:
# - an ASCII character written as a \u escape;
# - the two characters whose lower case holds an ASCII letter (U+0130 -> "i̇", KELVIN SIGN -> "k"),
#   escaped or not (tested against every code point);
# - HTML character references that can spell a letter or digit once strip_html unescapes them: any
#   numeric one, and the named ones whose text holds one (html5: "&fjlig;", "&Idot;").
_SPELLING_ENTITIES = sorted(
    name for name, text in html5.items() if any(c.isascii() and c.isalnum() for c in text.lower())
)
# Regex text both scanners read alike (bytes as bytes: RE2 in Latin-1 mode, Hyperscan without UTF-8).
_JSON_HAZARDS = (
    rb"\\u00[2-7][0-9a-fA-F]",
    rb"\\u0130",
    rb"\\u212[aA]",
    rb"\xc4\xb0",  # U+0130 in UTF-8
    rb"\xe2\x84\xaa",  # U+212A in UTF-8
    rb"&#",
    *(b"&" + re2.escape(name.encode()) for name in _SPELLING_ENTITIES),
)


# With gate words beyond ASCII (Cyrillic names), two more places can hide one: any \\u escape of a
# non-ASCII character, and a named HTML reference that spells a non-ASCII letter ("&Kcy;").
_NON_ASCII_HAZARDS = (
    rb"\\u(?:00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})",
    *(
        b"&" + re2.escape(name.encode())
        for name, text in sorted(html5.items())
        if any(c.isalnum() and not c.isascii() for c in text)
    ),
)


def _word_pattern(word: str) -> tuple[bytes, bool]:
    """A gate word as a byte pattern, and whether it is matched caselessly (ASCII words). A word with
    other letters spells each of them out in every case it can be written in UTF-8 ("к" -> к|К; "е"
    also ё|Ё, which tokens read as "е"), so both scanners can read bytes as bytes."""
    if word.isascii():
        return re2.escape(word.encode()), True
    parts: list[bytes] = []
    for ch in word:
        if ch.isascii():
            forms = {ch.lower(), ch.upper()}
        else:
            forms = {ch, ch.lower(), ch.upper()} | ({"ё", "Ё"} if ch == "е" else set())
        alts = sorted(re2.escape(f.encode()) for f in forms if len(f) == 1)
        parts.append(b"(?:" + b"|".join(alts) + b")")
    return b"".join(parts), False


def _hyperscan() -> Any | None:
    try:
        import hyperscan  # optional (the "fast" extra): SIMD multi-literal search, ~2x RE2's DFA here
    except ImportError:
        return None
    return hyperscan


class JsonLineGate:
    """The raw gate for JSON lines (watchfloor.schemas.inputs.LineGate): one linear-time scan of a block of lines
    finds the lines where a gate word occurs in any letter case (or something that could hide one,
    _JSON_HAZARDS). A line without a hit has no gate word in its decoded, markup-stripped, lower-cased
    title or body, so no signal can match its document: only its event time matters.

    The scan is Hyperscan's when the optional `hyperscan` package is installed, else RE2's; both read
    the same patterns and give the same lines (tested). Not for concurrent use from several threads
    (Hyperscan's scratch space is per database)."""

    def __init__(self, words: list[str], *, scanner: str = "auto") -> None:
        self.words = tuple(sorted(words))
        hs = _hyperscan() if scanner in ("auto", "hyperscan") else None
        if scanner == "hyperscan" and hs is None:
            raise ImportError("the hyperscan scanner needs the hyperscan package: pip install 'watchfloor[fast]'")
        self.scanner = "hyperscan" if hs is not None else "re2"
        # Compiled at the first scan, not here: loading rules for anything but a backtest never scans, and a
        # backtest that scores builds its own gate from these words plus its labels' (one compile, not two).
        self._db: Any = None
        self._search: Any = None

    def _compile(self) -> None:
        compiled = [_word_pattern(w) for w in self.words]
        hazards = _JSON_HAZARDS + (_NON_ASCII_HAZARDS if not all(w.isascii() for w in self.words) else ())
        if self.scanner == "hyperscan":
            hs = _hyperscan()
            assert hs is not None
            patterns = [p for p, _c in compiled] + list(hazards)
            flags = [hs.HS_FLAG_CASELESS if c else 0 for _p, c in compiled] + [0] * len(hazards)
            db = hs.Database(mode=hs.HS_MODE_BLOCK)
            db.compile(expressions=patterns, ids=list(range(len(patterns))), elements=len(patterns), flags=flags)
            self._db = db
        else:
            options = re2.Options()
            options.encoding = re2.Options.Encoding.LATIN1  # bytes as bytes: case folding of ASCII only
            options.log_errors = False
            caseless = [p for p, c in compiled if c]
            spelled = [p for p, c in compiled if not c]
            alternatives = ([b"(?i:" + b"|".join(caseless) + b")"] if caseless else []) + spelled + list(hazards)
            self._search = re2.compile(b"|".join(alternatives), options).search

    @classmethod
    def for_words(cls, words: list[str]) -> JsonLineGate | None:
        """None unless every word is letters and digits (and there is one)."""
        if not words or not all(w.isalnum() for w in words):
            return None
        return cls(words)

    def hits(self, block: bytes) -> list[int]:
        if self._db is None and self._search is None:
            self._compile()
        return self._hits_hyperscan(block) if self.scanner == "hyperscan" else self._hits_re2(block)

    def _hits_re2(self, block: bytes) -> list[int]:
        out: list[int] = []
        search = self._search
        find = block.find
        pos = 0
        while True:
            m = search(block, pos)
            if m is None:
                return out
            start: int = m.start()
            out.append(start)
            nl = find(b"\n", start)
            if nl < 0:
                return out
            pos = nl + 1  # one hit per line is enough

    def _hits_hyperscan(self, block: bytes) -> list[int]:
        ends: list[int] = []
        add = ends.append

        def on_match(_id: int, _from: int, to: int, _flags: int, _ctx: Any) -> None:
            add(to)

        self._db.scan(block, match_event_handler=on_match)
        ends.sort()  # reported by end offset already; sorting a sorted list is one pass
        out: list[int] = []
        line_end = -1
        find = block.find
        for to in ends:
            at = to - 1  # the match's last byte: inside its line
            if at > line_end:
                out.append(at)
                nl = find(b"\n", at)
                line_end = nl if nl >= 0 else len(block)
        return out


def raw_gate(
    requirements: dict[str, tuple[frozenset[str], ...]],
    gate_words: Mapping[str, AbstractSet[str] | None],
    always: Sequence[str],
) -> Any | None:
    """One clause per signal, as raw substrings of the lower-cased text: for each atom of the clause,
    the gate of one of its words (the longest; for a stemmed word a prefix every form of it starts with,
    morphology.gate_prefix). A document whose text holds none of a signal's clause substrings cannot
    match it. "n't" -> "not" is the one place where a token is not a substring of the text, so a clause
    that needs "not" is never chosen. Entity clauses are preferred: names are rarer than words."""
    if always:
        return None
    keys: set[str] = set()
    # Most signals need one clause (any of their phrases): nothing to choose, its atoms' words are the
    # gate's. Their atoms are gathered first and checked once each (a big pack shares many).
    single: set[str] = set()
    for clauses in requirements.values():
        if len(clauses) == 1:
            if not clauses[0]:
                return None
            single |= clauses[0]
            continue
        best: tuple[tuple[bool, int], set[str]] | None = None
        for clause in clauses:
            words: set[str] = set()
            usable = True
            for atom in clause:
                got = gate_words.get(atom)
                if not got:
                    usable = False
                    break
                words |= got
            if not usable or not words or "not" in words or "" in words:
                continue
            score = (all(a.startswith("@") for a in clause), min(len(w) for w in words))
            if best is None or score > best[0]:
                best = (score, words)
        if best is None:
            return None  # this signal cannot be gated: no gate at all
        keys |= best[1]
    for atom in single:
        got = gate_words.get(atom)
        if not got or "not" in got or "" in got:
            return None
        keys |= got
    gate = ahocorasick.Automaton()
    for k in keys:
        gate.add_word(k, k)
    if len(gate) == 0:
        return None
    gate.make_automaton()
    return gate
