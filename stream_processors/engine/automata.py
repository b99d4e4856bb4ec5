"""The automata a document's words are read with, and what a document must hold for each signal to match."""

from __future__ import annotations

from typing import Any

import ahocorasick

from .compiled import PREFIX, AutomatonEntry, Bucket, CompiledSignal, Node, Probe, ScreenHit, Viability


def _bucket(entries: list[AutomatonEntry]) -> Bucket:
    """What a pattern stands for, split by how a hit is checked (see scan.find_matches):
    - whole-phrase patterns: the hit is the match;
    - phrases anchored on this pattern's word (one of its forms), by shape (anchor index, length) and
      the token of a neighbouring word, so a hit on a word many phrases share ("states" in "united
      states", "state media", ...) looks at only the phrases whose neighbour is there too;
    - phrases anchored on a prefix, or whose neighbour is a prefix: checked word by word."""
    plain = tuple(e for e in entries if e.verify is None)
    shapes: dict[tuple[int, int, int], dict[str, list[AutomatonEntry]]] = {}
    others: list[AutomatonEntry] = []
    for e in entries:
        tests = e.verify
        if tests is None:
            continue
        if e.prefix or tests[e.anchor][0] == PREFIX:  # a hit ends inside the anchored word
            others.append(e)
            continue
        nb = e.anchor + 1 if e.anchor + 1 < e.nwords else e.anchor - 1
        if tests[nb][0] == PREFIX:
            others.append(e)
            continue
        table = shapes.setdefault((e.anchor, e.nwords, nb), {})
        for form in tests[nb][2]:
            table.setdefault(form, []).append(e)
    indexed = tuple(shapes.items())  # the lists are only read from here on
    return plain, indexed, tuple(others)


def _all_plain(bucket: list[AutomatonEntry]) -> bool:
    for e in bucket:
        if e.verify is not None:
            return False
    return True


def unbounded(entry: AutomatonEntry) -> bool:
    """Whether a hit of the entry's pattern may end inside a word: its last word is a '*' prefix
    (whole phrases), or the anchored word is (anchored phrases)."""
    tests = entry.verify
    return entry.prefix or (tests is not None and tests[entry.anchor][0] == PREFIX)


def bounded_key(pattern: str, entry: AutomatonEntry) -> str:
    """The automaton key of an entry's pattern: padded with the space that ends its last word, unless a
    hit may end inside a word, so the automaton reports only hits that end where a word does."""
    return pattern if unbounded(entry) else pattern + " "


def build_automaton(entries: dict[str, list[AutomatonEntry]]) -> Any | None:
    """An automaton of the patterns that have entries (each key -> its Bucket), or None if none has
    (pyahocorasick cannot search with an empty automaton). Keys end on a word boundary where the
    entry needs one (bounded_key): "state" is not reported inside "statement", nor checked in Python.
    A phrase anchored on one word is put as one word's forms followed by the start of the next (_stemmed):
    a hit on "president" alone is then no longer checked against every phrase that holds it."""
    keyed: dict[str, list[AutomatonEntry]] = {}
    paired: dict[int, tuple[AutomatonEntry, list[str]] | None] = {}
    for pattern, bucket in entries.items():
        for entry in bucket:
            if entry.verify is not None:
                if id(entry) not in paired:
                    paired[id(entry)] = got = _stemmed(entry)
                    if got is not None:
                        for key in got[1]:
                            keyed.setdefault(bounded_key(key, got[0]), []).append(got[0])
                if paired[id(entry)] is not None:
                    continue
            keyed.setdefault(bounded_key(pattern, entry), []).append(entry)
    if not keyed:
        return None
    automaton = ahocorasick.Automaton()
    for key, bucket in keyed.items():
        # Most patterns stand for whole phrases only: nothing to sort.
        automaton.add_word(key, (tuple(bucket), (), ()) if _all_plain(bucket) else _bucket(bucket))
    automaton.make_automaton()
    return automaton


# A screen is worth its own automaton only when the triggers are a small share of the patterns. Where
# (nearly) every atom is some signal's trigger ("any of these phrases", or conjunctions so many that each
# phrase is the rarer one of some rule), it would find what the full automaton finds, the full automaton
# would then read every document that matches again, and it would cost memory for nothing.
SCREEN_SHARE = 0.6


def screen(entries: dict[str, list[AutomatonEntry]], index: Viability) -> tuple[Any | None, dict[str, Probe]]:
    """The first pass over a document's words (CompiledRules.screen): an automaton of only the atoms
    that trigger a signal's viability test (one required clause per signal, its rarest atom), and a
    probe for each atom of the signals' other required clauses, looked up only in documents where a
    trigger was found. None (and no probes) when it would not pay (SCREEN_SHARE)."""
    # Whether it pays, first: where it does not (most big packs), pairing every anchored phrase below was
    # a tenth of `rules check` on 20,000 signals x 20 phrases, for nothing.
    total = sum(len(bucket) for bucket in entries.values())
    chosen = sum(1 for bucket in entries.values() for e in bucket if e.key in index)
    if chosen > SCREEN_SHARE * total:
        return None, {}
    plain: dict[str, list[str]] = {}  # key -> atoms whose whole phrase it is
    anchored: dict[str, list[AutomatonEntry]] = {}  # key -> entries to check around a hit
    seen: set[int] = set()
    for pattern, bucket in entries.items():
        for e in bucket:
            if e.key not in index:
                continue
            if e.verify is None:
                got = plain.setdefault(bounded_key(pattern, e), [])
                if e.key not in got:
                    got.append(e.key)
            elif id(e) not in seen:
                seen.add(id(e))
                paired = _stemmed(e)
                if paired is None:  # no two words to pair: its anchor's patterns, as in the full automaton
                    for key in _anchor_patterns(e):
                        anchored.setdefault(bounded_key(key, e), []).append(e)
                else:
                    for key in paired[1]:
                        anchored.setdefault(bounded_key(key, paired[0]), []).append(paired[0])
    automaton = ahocorasick.Automaton()
    for key in plain.keys() | anchored.keys():
        around = anchored.get(key)
        hit: ScreenHit = (tuple(plain.get(key, ())), _bucket(around) if around else None)
        automaton.add_word(key, hit)
    if len(automaton) == 0:
        return None, {}
    automaton.make_automaton()
    return automaton, _probes(entries, index)


def _probes(entries: dict[str, list[AutomatonEntry]], index: Viability) -> dict[str, Probe]:
    """A probe for every atom of the signals' clauses other than their trigger (scan.holds)."""
    wanted = {partner for _names, pairs, _general in index.values() for partner, _n in pairs}
    wanted |= {
        atom for _names, _pairs, general in index.values() for _s, clauses in general for c in clauses for atom in c
    }
    needs: dict[str, list[list[frozenset[str]]]] = {}  # atom -> per entry, up to two words it needs whole
    exact: dict[str, bool] = {}
    needles: dict[str, list[str]] = {}
    anchored: dict[str, list[AutomatonEntry]] = {}
    for pattern, bucket in entries.items():
        for e in bucket:
            atom = e.key
            if atom not in wanted:
                continue
            if e.verify is None:
                needles.setdefault(atom, []).append(bounded_key(pattern, e))
                exact[atom] = exact.get(atom, True) and e.nwords == 1 and not e.prefix
                parts = pattern.split()
                whole = parts if not e.prefix else parts[:-1]  # the last word may be a prefix
                need = [frozenset((w,)) for w in sorted(whole, key=len, reverse=True)[:2]]
            else:
                if any(x is e for x in anchored.get(atom, ())):
                    continue
                anchored.setdefault(atom, []).append(e)
                exact[atom] = False
                tests = sorted((t for t in e.verify if t[0] != PREFIX), key=lambda t: -min(map(len, t[2])))
                need = [t[2] for t in tests[:2]]
            needs.setdefault(atom, []).append(need)
    out: dict[str, Probe] = {}
    for atom, per_entry in needs.items():
        # A gate holds for the atom when it holds for each of its entries: the union of theirs.
        gates = []
        for j in range(2):
            if all(len(n) > j for n in per_entry):
                gates.append(per_entry[0][j] if len(per_entry) == 1 else frozenset().union(*(n[j] for n in per_entry)))
        out[atom] = Probe(
            words=tuple(gates),
            exact=exact[atom] and len(gates) == 1,
            needles=tuple(needles.get(atom, ())),
            anchored=tuple(anchored.get(atom, ())),
        )
    return out


def _anchor_patterns(entry: AutomatonEntry) -> list[str]:
    assert entry.verify is not None
    mode, text, forms = entry.verify[entry.anchor]
    return [" " + text] if mode == PREFIX else [" " + f for f in sorted(forms)]


def _stemmed(entry: AutomatonEntry) -> tuple[AutomatonEntry, list[str]] | None:
    """An anchored phrase as patterns of one word's forms followed by the start every form of the next
    word shares (" missile launch" for "missile(s) launch(es|ed|ing)"), the pair whose shortest form and
    shared start are the longest (the start at least 3 letters), and the entry anchored on the second
    word, checked word by word where a hit ends inside it; None when no pair qualifies."""
    tests = entry.verify
    assert tests is not None
    best: tuple[int, int, list[str], str] | None = None
    for i in range(entry.nwords - 1):
        (mode_a, _t, forms_a), (mode_b, text_b, forms_b) = tests[i], tests[i + 1]
        if mode_a == PREFIX:
            continue
        stem = text_b if mode_b == PREFIX else _shared_start(forms_b)
        if len(stem) < 3:
            continue
        score = min(map(len, forms_a)) + len(stem)
        if best is None or score > best[0]:
            best = (score, i, sorted(forms_a), stem)
    if best is None:
        return None
    _score, i, first, stem = best
    pair = AutomatonEntry(
        entry.key, entry.kind, entry.nwords, True, entry.cue_class, entry.direction, tests, i + 1, entry.capitals
    )
    return pair, [" " + a + " " + stem for a in first]


def _shared_start(words: frozenset[str]) -> str:
    """The longest start every word shares (that of the first and last in sorted order)."""
    lo, hi = min(words), max(words)
    n = 0
    while n < len(lo) and lo[n] == hi[n]:
        n += 1
    return lo[:n]


def node_requirements(node: Node) -> list[frozenset[str]]:
    """Atoms a document must contain for `node` to hold in one of its sentences, as clauses (one atom
    of each clause present). A necessary condition only: an empty list requires nothing."""
    tag = node[0]
    if tag == "atom":
        return [frozenset((node[1],))]
    if tag == "all":
        return [c for child in node[1] for c in node_requirements(child)]
    if tag == "any":
        # One alternative holds, so one clause of it holds: the union of one clause per alternative.
        union: set[str] = set()
        for child in node[1]:
            clauses = node_requirements(child)
            if not clauses:
                return []  # an alternative that requires nothing: neither does the whole
            union |= min(clauses, key=len)
        return [frozenset(union)] if union else []
    return []  # none, regex: no atom is required


def requirements(sig: CompiledSignal) -> tuple[frozenset[str], ...]:
    """What a document must contain for `sig` to possibly match one of its sentences."""
    clauses = list(sig.needs)
    # Entities the sentence (mentions) or the document (context) must name.
    for eid in sorted(sig.mention_all | sig.context_all):
        clauses.append(frozenset(("@" + eid,)))
    for group in (sig.mention_any, sig.context_any):
        if group:
            clauses.append(frozenset("@" + eid for eid in group))
    if sig.context_words is not None:
        clauses.extend(node_requirements(sig.context_words))
    return tuple(dict.fromkeys(clauses))


def viability(required: dict[str, tuple[frozenset[str], ...]], atom_text: dict[str, str]) -> Viability:
    """Each signal under the atoms that trigger its viability test (CompiledRules.viability): under its
    most telling required atom when a clause has just one (more words, then longer, is rarer in news),
    else under every atom of its smallest clause."""

    def rarity(atom: str) -> tuple[int, int]:
        text = atom_text.get(atom, atom)
        return (len(text.split()), len(text))

    index: dict[str, list[tuple[str, tuple[frozenset[str], ...]]]] = {}
    for name, clauses in required.items():
        if not clauses:
            continue
        single = [next(iter(c)) for c in clauses if len(c) == 1]
        if single:
            trigger = max(single, key=rarity)
            others = tuple(c for c in clauses if c != frozenset((trigger,)))
            index.setdefault(trigger, []).append((name, others))
        else:
            smallest = min(clauses, key=len)
            others = tuple(c for c in clauses if c is not smallest)
            for atom in smallest:
                index.setdefault(atom, []).append((name, others))
    out: Viability = {}
    for atom, listed in index.items():
        # By shape, so the common cases take one lookup: no other clause; one other clause of one atom
        # (a conjunction of two phrases), by that atom; any other.
        alone = tuple(name for name, others in listed if not others)
        by_partner: dict[str, list[str]] = {}
        general = []
        for name, others in listed:
            if len(others) == 1 and len(others[0]) == 1:
                by_partner.setdefault(next(iter(others[0])), []).append(name)
            elif others:
                general.append((name, others))
        out[atom] = (alone, tuple((p, tuple(n)) for p, n in by_partner.items()), tuple(general))
    return out
