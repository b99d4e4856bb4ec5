"""Phrases into automaton patterns: each word exact, a '*' prefix, or any of its inflected forms."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Set
from itertools import product
from math import prod
from typing import Any

import re2

from watchfloor.schemas.rules import Clause, Condition

from .compiled import EXACT, FORMS, PREFIX, AutomatonEntry, Node, RuleError, WordTest
from .morphology import is_adjective_ru, name_forms, word_forms, word_language
from .text import alias_capitals, phrase_words

# A phrase whose words have at most this many combinations of forms becomes one whole pattern per
# combination ("north korea", "north koreas"); a one-word phrase always does; others are anchored on one
# word (see _add): fewer patterns to compile, a table lookup more per hit.
_MISPLACED_STAR = re.compile(r"(?<!\w)\*|\*(?=\w)")  # a '*' that does not end a word: "*truce", "tru*ce"
PLAIN_LIMIT = 4


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def compile_regex(pattern: str) -> Any:
    """Compile with RE2 (linear time) or refuse: backreferences and lookaround are not allowed."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except Exception as e:  # re2 raises its own error type
        detail = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise ValueError(f"regex {pattern!r} is not a linear-time (RE2) expression: {detail}") from None


# An alias word and the abbreviation Russian news writes for it, read as one of its forms (outside trial 66, LOW-5).
_ABBREVIATED_RU = {"область": frozenset({"обл"})}

# The word mode of an entity's alias words under `morphology: forms`: each is a name in its dictionary
# form and takes that lemma's forms (morphology.name_forms).
NAMES = "names"
_FORMS_MODES = frozenset({"forms", NAMES})

Langs = tuple[str, ...]
# A word of a phrase as the builder uses it: its test, its part of an atom key, what its patterns spell
# (its forms sorted, or its prefix), those as patterns (" " + each), and its shortest spelling's length.
WordInfo = tuple[WordTest, str, tuple[str, ...], tuple[str, ...], int]
EntityAliases = dict[str, tuple[str, list[tuple[str, Langs, str]]]]  # id -> (kind, [(alias, languages, morphology)])


def unknown_entity(eid: str, known: Iterable[str]) -> str:
    """How an unknown entity id is told, with the closest defined id when one is near (in any case): "(did you mean
    'RUS'? else define it under 'entities')", as other unknown names are (outside trial 41, L3)."""
    from difflib import get_close_matches

    by_upper = {k.upper(): k for k in sorted(known)}
    close = get_close_matches(eid.upper(), list(by_upper), n=1, cutoff=0.75)
    if close:
        return f"(did you mean {by_upper[close[0]]!r}? else define it under 'entities')"
    return "(define it under 'entities')"


class PhraseBuilder:
    """Collects the automaton's patterns for phrases, names and cues, and the errors in them."""

    def __init__(self, entities: EntityAliases) -> None:
        self.entities = entities
        self.entries: dict[str, list[AutomatonEntry]] = {}
        self.errors: list[RuleError] = []
        self.pack = 0  # index of the pack being compiled, for error reports
        # Atom key -> the substrings one of which the raw text must hold where the atom matches, or
        # None when no such substring is known (see gate.raw_gate).
        self.gate_words: dict[str, Set[str] | None] = {}
        self.atom_text: dict[str, str] = {}
        self.word_memo: dict[tuple[str, Langs, str], WordInfo] = {}
        self.phrase_memo: dict[
            tuple[str, str, Langs, str, str | None, str, str, frozenset[str], tuple[int, ...]], str
        ] = {}
        self.entry_pool: dict[tuple[Any, ...], AutomatonEntry] = {}
        self.phrase_keys: dict[tuple[Langs, str], dict[str, str]] = {}  # see _conditions

    def error(self, path: Any, message: str, *, assumes: frozenset[str] = frozenset()) -> None:
        """`path`: a list of keys, or (parent path, key, index) as `_conditions` passes it. `assumes`: RuleError's."""
        if isinstance(path, tuple) and len(path) == 3 and isinstance(path[0], list):
            path = [*path[0], path[1], path[2]]
        self.errors.append(RuleError(path, message, pack=self.pack, assumes=assumes))

    def _word(self, word: str, language: Langs, morphology: str) -> WordTest:
        return self._word_info(word, language, morphology)[0]

    def _word_info(self, word: str, language: Langs, morphology: str) -> WordInfo:
        """The word as the builder uses it (WordInfo), memoised: a big pack repeats its words many times."""
        memo_key = (word, language, morphology)
        got = self.word_memo.get(memo_key)
        if got is not None:
            return got
        if word.startswith("="):
            test: WordTest = (EXACT, word[1:], frozenset({word[1:]}))
        elif word.endswith("*"):
            test = (PREFIX, word[:-1], frozenset())
        else:
            lang = word_language(word, language) if morphology in _FORMS_MODES and word.isalpha() else None
            if lang is None:
                forms = frozenset({word})
            else:
                forms = name_forms(lang, word) if morphology == NAMES else word_forms(lang, word)
                if morphology == NAMES and lang == "ru" and word in _ABBREVIATED_RU:
                    forms |= _ABBREVIATED_RU[word]  # «Курской обл.»: as news abbreviates it
            test = (FORMS if len(forms) > 1 else EXACT, word, forms)
        spelled = (test[1],) if test[0] == PREFIX else tuple(sorted(test[2]))
        info = (test, word_key(test), spelled, tuple(" " + s for s in spelled), min(map(len, spelled)))
        self.word_memo[memo_key] = info
        return info

    def add(
        self,
        phrase: str,
        kind: str,
        path: Any,
        *,
        language: Langs = ("en",),
        morphology: str = "exact",
        key: str | None = None,
        cue_class: str = "",
        direction: str = "",
        names: frozenset[str] = frozenset(),
        capitals: tuple[int, ...] = (),
    ) -> str | None:
        """Add a phrase's pattern; returns its atom key (`key` when given), or None on an error. `names`:
        words of the phrase that come from an entity's alias (read as names, like an alias's own words).
        `capitals`: an alias in capitals, matched only where the text has them (AutomatonEntry.capitals)."""
        memo_key = (phrase, kind, language, morphology, key, cue_class, direction, names, capitals)
        if memo_key in self.phrase_memo:
            return self.phrase_memo[memo_key]
        atom = self._add(phrase, kind, path, language, morphology, key, cue_class, direction, names, capitals)
        if atom is not None:
            self.phrase_memo[memo_key] = atom
        return atom

    def _add(
        self,
        phrase: str,
        kind: str,
        path: Any,
        language: Langs,
        morphology: str,
        key: str | None,
        cue_class: str,
        direction: str,
        names: frozenset[str] = frozenset(),
        capitals: tuple[int, ...] = (),
    ) -> str | None:
        if "*" in phrase and _MISPLACED_STAR.search(phrase):
            # The word reading drops a '*' that ends no word, so "*truce" matched "truce" alone, silently.
            self.error(path, f"phrase {phrase!r}: '*' may only end a word ('ratif*': the words starting with ratif)")
            return None
        words = phrase_words(phrase)
        if not words:
            self.error(path, f"phrase {phrase!r} has no words")
            return None
        memo, infos = self.word_memo, []
        for w in words:
            if w[-1] == "*" and len(w.lstrip("=")) < 4:
                self.error(path, f"phrase {phrase!r}: a '*' prefix needs at least 3 letters before '*'")
                return None
            mode = NAMES if morphology == "forms" and (kind == "entity" or w in names) else morphology
            info = memo.get((w, language, mode))
            infos.append(info if info is not None else self._word_info(w, language, mode))
        nwords = len(infos)
        if len(capitals) != nwords:
            capitals = ()  # (words the reading dropped: no word-for-word case to ask)
        atom = key if key is not None else infos[0][1] if nwords == 1 else " ".join([i[1] for i in infos])
        if atom not in self.atom_text:
            self.atom_text[atom] = phrase
        gates: Set[str]
        if nwords == 1:
            # One pattern per form (or the prefix): a hit is a match, as in version 1.
            test, _k, _s, patterns, _n = infos[0]
            entry, fresh = self._entry((atom, kind, 1, test[0] == PREFIX, cue_class, direction, None, 0, capitals))
            if not fresh and key is None:
                return atom  # another phrase of the same forms ("ratified", "ratifies") put these patterns
            self._put(patterns, entry, fresh)
            gates = test[2] if test[0] != PREFIX else {test[1]}
        elif all(i[0][0] != PREFIX for i in infos[:-1]) and prod(len(i[2]) for i in infos) <= PLAIN_LIMIT:
            # One whole pattern per combination of forms.
            entry, fresh = self._entry(
                (atom, kind, nwords, infos[-1][0][0] == PREFIX, cue_class, direction, None, 0, capitals)
            )
            if not fresh and key is None:
                return atom
            combos = list(product(*[i[2] for i in infos]))
            self._put([" ".join(("", *combo)) for combo in combos], entry, fresh)
            gates = {max(reversed(combo), key=len) for combo in combos}
        else:
            # Anchored on its most telling word (its shortest form the longest): one pattern per form of
            # it (or its prefix); the other words are checked on the tokens (scan.find_matches).
            anchor = max(range(nwords), key=lambda i: (infos[i][4], i))
            tests = tuple(i[0] for i in infos)
            entry, fresh = self._entry((atom, kind, nwords, False, cue_class, direction, tests, anchor, capitals))
            if not fresh and key is None:
                return atom
            self._put(infos[anchor][3], entry, fresh)
            gates = set(infos[anchor][2])
        if kind != "cue":
            known = self.gate_words.get(atom)
            if atom not in self.gate_words:
                self.gate_words[atom] = gates
            elif known is not None:
                self.gate_words[atom] = known | gates
        return atom

    def _entry(self, fields: tuple[Any, ...]) -> tuple[AutomatonEntry, bool]:
        """One entry object per distinct entry, and whether it is new: phrases with one key and the same
        forms share it, so their patterns are put once."""
        got = self.entry_pool.get(fields)
        if got is not None:
            return got, False
        got = self.entry_pool[fields] = AutomatonEntry(*fields)
        return got, True

    def _put(self, patterns: Iterable[str], entry: AutomatonEntry, fresh: bool) -> None:
        """List the entry under each pattern, once: a new entry cannot be listed yet and its patterns are
        distinct (distinct forms, or combinations of them), so only an entry met before is looked for."""
        entries = self.entries
        for pattern in patterns:
            bucket = entries.get(pattern)
            if bucket is None:
                entries[pattern] = [entry]
            elif fresh or not any(e is entry for e in bucket):
                bucket.append(entry)

    def condition(
        self, cond: Condition, path: list[str | int], atoms: set[str], language: Langs, morphology: str
    ) -> Node:
        if isinstance(cond, str):
            text = cond.strip()
            if text.startswith("@") and " " not in text:
                eid = text[1:]
                if eid not in self.entities:
                    self.error(path, f"unknown entity {text!r} {unknown_entity(eid, self.entities)}")
                    return ("any", ())
                atoms.add(text)
                return ("atom", text)
            if "@" in text:
                return self._phrase_with_entities(text, path, atoms, language, morphology)
            key = self.add(text, "phrase", path, language=language, morphology=morphology)
            if key is None:
                return ("any", ())
            atoms.add(key)
            return ("atom", key)
        if isinstance(cond, Clause):
            parts: list[Node] = []
            if cond.any is not None:
                parts.append(("any", self._conditions(cond.any, path, "any", atoms, language, morphology)))
            if cond.all is not None:
                parts.extend(self._conditions(cond.all, path, "all", atoms, language, morphology))
            if cond.none is not None:
                parts.append(
                    (
                        "none",
                        tuple(
                            self.condition(c, [*path, "none", i], atoms, language, morphology)
                            for i, c in enumerate(cond.none)
                        ),
                    )
                )
            if cond.regex is not None:
                try:
                    parts.append(("re", compile_regex(cond.regex)))
                except ValueError as e:
                    self.error([*path, "regex"], str(e))
                    parts.append(("re", None))  # placeholder: compilation fails anyway, once, with this error
            return parts[0] if len(parts) == 1 else ("all", tuple(parts))
        raise AssertionError(f"unknown condition {cond!r}")

    def _conditions(
        self,
        conds: list[Condition],
        path: list[str | int],
        part: str,
        atoms: set[str],
        language: Langs,
        morphology: str,
    ) -> tuple[Node, ...]:
        """The conditions of a list. Plain phrases (most of a big pack) go straight to `add`; their place
        in the file is only spelled out when one has an error."""
        out: list[Node] = []
        add = self._add
        # The atom keys of the plain phrases met before in this language and morphology (add()'s memo,
        # with a shorter key): most phrases of a big pack were met before. _add is safe to call again.
        known = self.phrase_keys.setdefault((language, morphology), {})
        for i, c in enumerate(conds):
            if isinstance(c, str) and "@" not in c:
                text = c.strip()
                key = known.get(text)
                if key is None:
                    key = add(text, "phrase", (path, part, i), language, morphology, None, "", "")
                    if key is not None:
                        known[text] = key
                if key is None:
                    out.append(("any", ()))
                else:
                    atoms.add(key)
                    out.append(("atom", key))
            else:
                out.append(self.condition(c, [*path, part, i], atoms, language, morphology))
        return tuple(out)

    def _phrase_with_entities(
        self, text: str, path: list[str | int], atoms: set[str], language: Langs, morphology: str
    ) -> Node:
        """A phrase naming entities ("troops from @PRK"): one pattern per alias, under one atom key."""
        parts = text.split()
        refs = [p for p in parts if p.startswith("@")]
        for r in refs:
            if r[1:] not in self.entities:
                self.error(path, f"unknown entity {r!r} in phrase {text!r} {unknown_entity(r[1:], self.entities)}")
                return ("any", ())
        # Each variant with the words its aliases brought (read as names, as in the alias itself), and the capitals
        # each word needs (an alias in capitals keeps them: text.alias_capitals; 0 for any case).
        variants: list[tuple[str, frozenset[str], tuple[int, ...]]] = [("", frozenset(), ())]
        for p in parts:
            if p.startswith("@"):
                aliases = [a for a, _l, _m in self.entities[p[1:]][1]]
                variants = [
                    (f"{v} {a}".strip(), n | frozenset(phrase_words(a)), c + _capitals_of(a))
                    for v, n, c in variants
                    for a in aliases
                ]
                if len(variants) > 2000:
                    self.error(path, f"phrase {text!r} names entities with too many aliases (over 2,000 combinations)")
                    return ("any", ())
            else:
                variants = [(f"{v} {p}".strip(), n, c + (0,) * len(phrase_words(p))) for v, n, c in variants]
        key = "phrase:" + " ".join(parts).lower()
        for v, names, capitals in variants:
            capitals = capitals if any(capitals) else ()
            got = self.add(
                v, "phrase", path, language=language, morphology=morphology, key=key, names=names, capitals=capitals
            )
            if got is None:
                return ("any", ())
        self.atom_text[key] = text
        atoms.add(key)
        return ("atom", key)


def word_key(t: WordTest) -> str:
    mode, text, forms = t
    if mode == PREFIX:
        return text + "*"
    if mode == FORMS:  # one key for every word with the same forms ("ratified", "ratifies")
        return "~" + min(forms) + "#" + hashlib.blake2b(" ".join(sorted(forms)).encode(), digest_size=3).hexdigest()
    return text


def _capitals_of(alias: str) -> tuple[int, ...]:
    """The capitals each word of an alias needs in a phrase that names its entity: alias_capitals, or 0 per word."""
    return alias_capitals(alias) or (0,) * len(phrase_words(alias))


# Words that join coordinated adjectives before a shared noun ("Брянской, Курской и Белгородской областями"):
# the commas are not tokens, so only these are stepped over.
_COORDINATORS_RU = frozenset({"и", "или"})
_ELIDED_MAX = 8  # adjectives read back from the coordinator: a list of regions, not a sentence
# Elided aliases (extract._place_matches): an alias's last word -> {a form of another alias's first word: its entity}.
ElidedAliases = dict[str, dict[str, str]]


def elided_aliases(entries: dict[str, list[AutomatonEntry]]) -> ElidedAliases:
    """The Russian two-word entity aliases that share their last word with another entity's ("Брянская область",
    "Курская область"), keyed by that word: each first word's forms -> its entity's key. With it, the adjectives
    coordinated before a named one ("над Брянской, Курской и Белгородской областями") name their own entities."""
    by_noun: dict[str, dict[str, str]] = {}
    for bucket in entries.values():
        for e in bucket:
            if e.kind != "entity" or e.nwords != 2 or e.verify is None:
                continue
            (adj_mode, adj, adj_forms), (noun_mode, noun, _f) = e.verify
            if adj_mode != FORMS or noun_mode != FORMS or not _is_cyrillic(adj + noun):
                continue
            table = by_noun.setdefault(noun, {})
            for form in adj_forms:
                table.setdefault(form, e.key)
    # A last word only one entity's aliases end in ("Владимир Путин") coordinates nothing.
    return {noun: table for noun, table in by_noun.items() if len(set(table.values())) > 1}


def elided_before(toks: list[str], first: int, own: str, noun: str, table: ElidedAliases) -> list[tuple[int, str]]:
    """The entities named by adjectives coordinated before the alias that starts at toks[first] (entity key `own`,
    last word `noun`): "брянской курской и [белгородской областями]" -> [(i of брянской, @BRY), (…, @KUR)], in
    text order. Only where a coordinator joins the last of them to the alias, so "Курской Белгородской" is one. An
    adjective no alias starts with is stepped over, naming nothing ("Курской, Астраханской и Белгородской": @KUR),
    up to _ELIDED_MAX words back."""
    forms = table.get(noun)
    if forms is None or first < 2 or toks[first - 1] not in _COORDINATORS_RU:
        return []
    out: list[tuple[int, str]] = []
    for i in range(first - 2, max(first - 2 - _ELIDED_MAX, -1), -1):
        key = forms.get(toks[i])
        if key is None:
            if toks[i] in _COORDINATORS_RU or not is_adjective_ru(toks[i]):
                break
        elif key == own:
            break
        else:
            out.append((i, key))
    out.reverse()
    return out


def _is_cyrillic(text: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in text)
