"""The word screen: one native pass over a document's words that says whether any signal can be viable in it."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from itertools import accumulate, chain, product
from math import prod
from typing import Any

from .compiled import PREFIX, AutomatonEntry, CompiledRules, CompiledSignal, NativeScreen, WordTest

# With many rules nearly every common word is some rule's phrase, and the Python passes (scan.find_matches,
# extract._viable_signals) spend a dictionary lookup or more per hit: at 100,000 selective rules that is most
# of an article's time, for signals that almost never hold (BENCHMARKS.md, "the selective floor"). The screen
# asks the same question first, in C (_wordscreen.c), with no Python object per word or hit: each atom a
# viability test needs (automata.viability) gets a *presence key* its every match must contain,
#   - three adjacent words of the phrase, each one of its forms ("triple"), where it has three such words
#     ("north korean troops": a pair would mark every "north korean ..." phrase of a big pack),
#   - else two adjacent words ("pair"),
#   - else one word and its forms ("word"),
#   - else a '*' prefix some word must start with ("prefix"),
# and a document goes on to the exact passes only when the atoms whose keys it holds make some signal's
# requirements hold. A key is necessary for its atom, so the screen keeps every document the exact passes
# would keep (a superset: tests/functional/test_word_screen.py); the outputs are the same with it or without it.

# A run of words whose forms make more combinations than this is not a key (a shorter run, or one word, is): the
# tables would grow by the product for what fewer words already say.
PAIR_LIMIT = 64
# Prefixes are looked up by their length in bytes, as a bit of a 64-bit mask; a longer one is cut (a shorter
# prefix is a weaker key, so the screen stays a superset).
MAX_PREFIX_BYTES = 63

# ("triple", forms, forms, forms) | ("pair", forms, forms, ()) | ("word", forms, (), ()) | ("prefix", (text,), (), ())
Key = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _shortest(test: WordTest) -> int:
    return min(map(len, test[2]))


def presence_key(tests: tuple[WordTest, ...]) -> Key:
    """What every match of a phrase with these word tests contains, as selective as is cheap (see above): the
    adjacent triple, else pair, of whole words with the longest shortest forms (their combinations of forms
    at most PAIR_LIMIT), else the whole word with the longest shortest form, else the longest prefix."""
    for n in (3, 2):
        best: tuple[int, int] | None = None
        for i in range(len(tests) - n + 1):
            run = tests[i : i + n]
            if any(t[0] == PREFIX for t in run) or prod(len(t[2]) for t in run) > PAIR_LIMIT:
                continue
            score = sum(map(_shortest, run))
            if best is None or score > best[0]:
                best = (score, i)
        if best is not None:
            i = best[1]
            forms = [tuple(t[2]) for t in tests[i : i + n]]
            return ("triple" if n == 3 else "pair", forms[0], forms[1], forms[2] if n == 3 else ())
    whole = [t for t in tests if t[0] != PREFIX]
    if whole:
        return ("word", tuple(max(whole, key=_shortest)[2]), (), ())
    return _prefix_key(max((t[1] for t in tests), key=len))


def _prefix_key(text: str) -> Key:
    while len(text.encode()) > MAX_PREFIX_BYTES:
        text = text[:-1]
    return ("prefix", (text,), (), ())


def plain_key(pattern: str, prefix: bool) -> Key:
    """presence_key of a whole phrase's pattern (its words exact, the last a prefix when `prefix`), without
    making word tests: most entries of a big pack are whole phrases."""
    words = pattern.split()
    whole = words[:-1] if prefix else words
    if len(whole) >= 3:
        k = max(range(len(whole) - 2), key=lambda i: len(whole[i]) + len(whole[i + 1]) + len(whole[i + 2]))
        return ("triple", (whole[k],), (whole[k + 1],), (whole[k + 2],))
    if len(whole) == 2:
        return ("pair", (whole[0],), (whole[1],), ())
    if whole:
        return ("word", (whole[0],), (), ())
    return _prefix_key(words[-1])  # one word, a '*' prefix


def _entries(trigger: Any) -> Iterable[tuple[str, AutomatonEntry]]:
    """Every (pattern, entry) of the trigger automaton (automata.build_automaton's buckets)."""
    for pattern, (plain, indexed, others) in trigger.items():
        for e in plain:
            yield pattern, e
        for _shape, table in indexed:
            for listed in table.values():
                for e in listed:
                    yield pattern, e
        for e in others:
            yield pattern, e


def _csr(rows: list[list[int]] | list[tuple[int, ...]]) -> tuple[bytes, bytes]:
    """Rows of ints as (start, items): row k is items[start[k]:start[k + 1]]."""
    start = array("i", accumulate(map(len, rows), initial=0))
    items = array("i", chain.from_iterable(rows))
    return start.tobytes(), items.tobytes()


def _strings(values: Iterable[str]) -> tuple[bytes, bytes]:
    blob = bytearray()
    offsets = array("i", [0])
    for v in values:
        blob += v.encode()
        offsets.append(len(blob))
    return bytes(blob), offsets.tobytes()


def sentence_clauses(sig: CompiledSignal) -> set[frozenset[str]]:
    """The clauses of a signal's requirements (automata.requirements) that one sentence must hold: its
    phrases' (needs) and its mentions'."""
    own = set(sig.needs)
    own.update(frozenset(("@" + eid,)) for eid in sig.mention_all)
    if sig.mention_any:
        own.add(frozenset("@" + eid for eid in sig.mention_any))
    return own


def tables(rules: CompiledRules) -> tuple[dict[str, Any], list[str]]:
    """The screen's tables (_wordscreen.c's WordScreen arguments) and the atom of each atom id. A list may
    name an atom twice (marking it twice is harmless): sets would cost more than the duplicates, at 100,000
    rules."""
    trigger, index, signals, required = rules.trigger, rules.viability, rules.signals, rules.requirements
    atoms: dict[str, int] = {}
    for atom, (alone, by_partner, general) in index.items():
        atoms.setdefault(atom, len(atoms))
        names = [*alone, *(n for _p, listed in by_partner for n in listed), *(n for n, _o in general)]
        for name in names:
            for clause in required[name]:
                for other in sorted(clause):
                    atoms.setdefault(other, len(atoms))
    words: dict[str, int] = {}
    by_word: dict[int, list[int]] = {}
    by_pair: dict[tuple[int, int], list[int]] = {}
    by_triple: dict[tuple[int, int, int], list[int]] = {}
    by_prefix: dict[str, list[int]] = {}
    seen: set[Any] = set()
    for pattern, entry in _entries(trigger):
        a = atoms.get(entry.key)
        if a is None:
            continue
        if entry.verify is None:  # a whole phrase's entry stands for each of its patterns
            mark: Any = (pattern, a)
            if mark in seen:
                continue
            seen.add(mark)
            kind, first, second, third = plain_key(pattern, entry.prefix)
        else:  # an anchored one's tests say everything, whichever pattern it is under
            if id(entry) in seen:
                continue
            seen.add(id(entry))
            kind, first, second, third = presence_key(entry.verify)
        if kind == "triple":
            for x, y, z in product(first, second, third):
                triple = (
                    words.setdefault(x, len(words)),
                    words.setdefault(y, len(words)),
                    words.setdefault(z, len(words)),
                )
                by_triple.setdefault(triple, []).append(a)
        elif kind == "pair":
            for x in first:
                wx = words.setdefault(x, len(words))
                for y in second:
                    pair = (wx, words.setdefault(y, len(words)))
                    got = by_pair.get(pair)
                    if got is None:
                        by_pair[pair] = [a]
                    else:
                        got.append(a)
        elif kind == "word":
            for x in first:
                by_word.setdefault(words.setdefault(x, len(words)), []).append(a)
        else:
            by_prefix.setdefault(first[0], []).append(a)
    # Requirements: what makes a signal viable once its trigger atom is there (extract._viable_signals), with
    # the clauses one sentence must hold together (its phrases and mentions: kind 1) told from those of the
    # whole document (context: kind 0), which extract reads per sentence and per document. Each atom's are
    # written in a row that viable() in _wordscreen.c reads in one sweep: (number of clauses, its group, then per
    # clause its size << 1 | its kind, and its atoms), the same requirement once per atom. The group is the
    # signals of that requirement (signals with one requirement share a row): held() names them to the extractor.
    of_signal: dict[str, tuple[int, ...]] = {}
    group_of: dict[tuple[int, ...], int] = {}
    groups: list[list[str]] = []

    def requirement(name: str) -> tuple[int, ...]:
        got = of_signal.get(name)
        if got is None:
            own = sentence_clauses(signals[name])
            clauses: list[int] = []
            for c in required[name]:
                ids = sorted({atoms[x] for x in c})
                clauses.append(len(ids) << 1 | int(c in own))
                clauses.extend(ids)
            key = (len(required[name]), *clauses)
            group = group_of.get(key)
            if group is None:
                group = group_of[key] = len(groups)
                groups.append([])
            groups[group].append(name)
            got = of_signal[name] = (len(required[name]), group, *clauses)
        return got

    trig: list[list[int]] = [[] for _ in atoms]
    for atom, (alone, by_partner, general) in index.items():
        rows = dict.fromkeys(
            requirement(name)
            for name in (*alone, *(n for _p, listed in by_partner for n in listed), *(n for n, _o in general))
        )
        trig[atoms[atom]] = list(chain.from_iterable(rows))
    word_blob, word_offsets = _strings(words)
    prefix_blob, prefix_offsets = _strings(by_prefix)
    empty: list[int] = []
    uni_start, uni_atoms = _csr([by_word.get(w, empty) for w in range(len(words))])
    bi_start, bi_atoms = _csr(list(by_pair.values()))
    tri_start, tri_atoms = _csr(list(by_triple.values()))
    pre_start, pre_atoms = _csr(list(by_prefix.values()))
    trig_start, trig_items = _csr(trig)
    args: dict[str, Any] = {
        "words": word_blob,
        "word_offsets": word_offsets,
        "uni_start": uni_start,
        "uni_atoms": uni_atoms,
        "bi_pairs": array("i", [w for p in by_pair for w in p]).tobytes(),
        "bi_start": bi_start,
        "bi_atoms": bi_atoms,
        "tri_words": array("i", [w for t in by_triple for w in t]).tobytes(),
        "tri_start": tri_start,
        "tri_atoms": tri_atoms,
        "prefixes": prefix_blob,
        "prefix_offsets": prefix_offsets,
        "pre_start": pre_start,
        "pre_atoms": pre_atoms,
        "natoms": len(atoms),
        "trig_start": trig_start,
        "trig": trig_items,
        "groups": tuple(tuple(g) for g in groups),
    }
    return args, list(atoms)


def native_class() -> Callable[..., NativeScreen] | None:
    """The screen's C type, when the native engine is in use (scripts/build-native); else None."""
    try:
        from ._wordscreen import WordScreen
    except ImportError:
        return None
    return WordScreen


def build_screen(rules: CompiledRules, factory: Callable[..., NativeScreen] | None = None) -> NativeScreen | None:
    """The word screen of compiled rules (CompiledRules.word_screen), or None without the native engine, or
    when it cannot apply (no trigger automaton; regex signals, which every document must be read for).
    `factory` is the C type (native_class() by default; tests build their own)."""
    make = factory if factory is not None else native_class()
    if make is None or rules.trigger is None or rules.always_signals:
        return None
    args, _atoms = tables(rules)
    try:
        return make(**args)
    except ValueError as e:
        if "share a hash" in str(e):  # two of the pack's words on one 64-bit hash: read by the Python passes
            return None
        raise
