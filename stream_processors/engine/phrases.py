"""Phrases into automaton patterns: each word exact, a '*' prefix, or a stem with its forms' stems."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import re2

from watchfloor.schemas.rules import Clause, Condition

from .compiled import EXACT, PREFIX, STEM, AutomatonEntry, Node, RuleError, WordTest
from .morphology import stem, word_language, word_stems
from .text import phrase_words

_NO_STEMS: frozenset[str] = frozenset()


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def compile_regex(pattern: str) -> Any:
    """Compile with RE2 (linear time) or refuse: backreferences and lookaround are not allowed."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except Exception as e:  # re2 raises its own error type
        detail = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise ValueError(f"regex {pattern!r} is not a linear-time (RE2) expression: {detail}") from None


Langs = tuple[str, ...]
EntityAliases = dict[str, tuple[str, list[tuple[str, Langs, str]]]]  # id -> (kind, [(alias, languages, morphology)])


class PhraseBuilder:
    """Collects the automaton's patterns for phrases, names and cues, and the errors in them."""

    def __init__(self, entities: EntityAliases) -> None:
        self.entities = entities
        self.entries: dict[str, list[AutomatonEntry]] = {}
        self.errors: list[RuleError] = []
        self.pack = 0  # index of the pack being compiled, for error reports
        # Atom key -> the substrings one of which the raw text must hold where the atom matches, or
        # None when no such substring is known (see gate.raw_gate).
        self.gate_words: dict[str, set[str] | None] = {}
        self.atom_text: dict[str, str] = {}
        self.word_memo: dict[tuple[str, Langs, str], WordTest] = {}
        self.phrase_memo: dict[tuple[str, str, Langs, str, str | None, str, str], str] = {}

    def error(self, path: Sequence[str | int], message: str) -> None:
        self.errors.append(RuleError(path, message, pack=self.pack))

    def _word(self, word: str, language: Langs, morphology: str) -> WordTest:
        memo_key = (word, language, morphology)
        got = self.word_memo.get(memo_key)
        if got is not None:
            return got
        if word.startswith("="):
            test: WordTest = (EXACT, word[1:], "", word[1:], _NO_STEMS)
        elif word.endswith("*"):
            test = (PREFIX, word[:-1], "", word[:-1], _NO_STEMS)
        else:
            lang = word_language(word, language) if morphology == "stem" and word.isalpha() else None
            if lang is None:
                test = (EXACT, word, "", word, _NO_STEMS)
            else:
                stems, gate = word_stems(lang, word)
                test = (STEM, stem(lang, word), lang, gate, stems)
        self.word_memo[memo_key] = test
        return test

    def add(
        self,
        phrase: str,
        kind: str,
        path: Sequence[str | int],
        *,
        language: Langs = ("en",),
        morphology: str = "exact",
        key: str | None = None,
        cue_class: str = "",
        direction: str = "",
    ) -> str | None:
        """Add a phrase's pattern; returns its atom key (`key` when given), or None on an error."""
        memo_key = (phrase, kind, language, morphology, key, cue_class, direction)
        if memo_key in self.phrase_memo:
            return self.phrase_memo[memo_key]
        atom = self._add(phrase, kind, path, language, morphology, key, cue_class, direction)
        if atom is not None:
            self.phrase_memo[memo_key] = atom
        return atom

    def _add(
        self,
        phrase: str,
        kind: str,
        path: Sequence[str | int],
        language: Langs,
        morphology: str,
        key: str | None,
        cue_class: str,
        direction: str,
    ) -> str | None:
        words = phrase_words(phrase)
        if not words:
            self.error(path, f"phrase {phrase!r} has no words")
            return None
        tests: list[WordTest] = []
        for w in words:
            if w.endswith("*") and len(w.lstrip("=")) < 4:
                self.error(path, f"phrase {phrase!r}: a '*' prefix needs at least 3 letters before '*'")
                return None
            tests.append(self._word(w, language, morphology))
        atom = key if key is not None else " ".join(word_key(t) for t in tests)
        self.atom_text.setdefault(atom, phrase)
        simple = all(t[0] == EXACT for t in tests[:-1]) and tests[-1][0] != STEM
        if simple:
            pattern = " " + " ".join(t[1] for t in tests)
            entry = AutomatonEntry(atom, kind, len(tests), tests[-1][0] == PREFIX, cue_class, direction)
            gate = max(reversed([t[1] for t in tests]), key=len)
        else:
            anchor = max(range(len(tests)), key=lambda i: (len(tests[i][3]), i))
            if not tests[anchor][3]:  # cannot happen for stemmed languages (GATED); kept as a guard
                self.error(path, f"phrase {phrase!r}: its words cannot be found by their stems in this language")
                return None
            pattern = " " + tests[anchor][3]
            entry = AutomatonEntry(atom, kind, len(tests), False, cue_class, direction, tuple(tests), anchor)
            gate = tests[anchor][3]
        bucket = self.entries.setdefault(pattern, [])
        if entry not in bucket:
            bucket.append(entry)
        if kind != "cue":
            gates = self.gate_words.get(atom, set())
            if gates is not None:
                gates.add(gate)
                self.gate_words[atom] = gates
        return atom

    def condition(
        self, cond: Condition, path: list[str | int], atoms: set[str], language: Langs, morphology: str
    ) -> Node:
        if isinstance(cond, str):
            text = cond.strip()
            if text.startswith("@") and " " not in text:
                eid = text[1:]
                if eid not in self.entities:
                    self.error(path, f"unknown entity {text!r} (define it under 'entities')")
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
                parts.append(
                    (
                        "any",
                        tuple(
                            self.condition(c, [*path, "any", i], atoms, language, morphology)
                            for i, c in enumerate(cond.any)
                        ),
                    )
                )
            if cond.all is not None:
                parts.extend(
                    self.condition(c, [*path, "all", i], atoms, language, morphology) for i, c in enumerate(cond.all)
                )
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

    def _phrase_with_entities(
        self, text: str, path: list[str | int], atoms: set[str], language: Langs, morphology: str
    ) -> Node:
        """A phrase naming entities ("troops from @PRK"): one pattern per alias, under one atom key."""
        parts = text.split()
        refs = [p for p in parts if p.startswith("@")]
        for r in refs:
            if r[1:] not in self.entities:
                self.error(path, f"unknown entity {r!r} in phrase {text!r} (define it under 'entities')")
                return ("any", ())
        variants = [""]
        for p in parts:
            if p.startswith("@"):
                aliases = [a for a, _l, _m in self.entities[p[1:]][1]]
                variants = [f"{v} {a}".strip() for v in variants for a in aliases]
                if len(variants) > 2000:
                    self.error(path, f"phrase {text!r} names entities with too many aliases (over 2,000 combinations)")
                    return ("any", ())
            else:
                variants = [f"{v} {p}".strip() for v in variants]
        key = "phrase:" + " ".join(parts).lower()
        for v in variants:
            if self.add(v, "phrase", path, language=language, morphology=morphology, key=key) is None:
                return ("any", ())
        self.atom_text[key] = text
        atoms.add(key)
        return ("atom", key)


def word_key(t: WordTest) -> str:
    mode, text = t[0], t[1]
    if mode == PREFIX:
        return text + "*"
    if mode == STEM:
        return "~" + text
    return text
