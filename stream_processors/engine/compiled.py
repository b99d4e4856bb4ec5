"""The compiled form of rule packs: automaton entries, signals, detections, and the errors found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from watchfloor.schemas.rules import DetectionDef, RulePack

from .gate import JsonLineGate


class RuleError(ValueError):
    """A rule-pack problem at a path inside a pack (for FILE:LINE:COL reporting). `pack` is the index
    of the pack in the compiled sequence; `warning` problems do not stop compilation."""

    def __init__(self, path: Sequence[str | int], message: str, *, pack: int = 0, warning: bool = False) -> None:
        super().__init__(message)
        self.path = tuple(path)
        self.message = message
        self.pack = pack
        self.warning = warning


# Condition nodes, compiled to tuples for fast evaluation:
#   ("atom", key) | ("any", nodes) | ("all", nodes) | ("none", nodes) | ("re", compiled)
Node = tuple[Any, ...]

# How one word of a phrase meets a token: (mode, text, language, gate, stems) with mode 0 = exact
# (token == text), 1 = prefix (token starts with text), 2 = stem (the token's stem in `language` is one
# of `stems`, the stems of the word's forms: morphology.word_stems; every such token starts with `gate`).
WordTest = tuple[int, str, str, str, frozenset[str]]
_NO_STEMS: frozenset[str] = frozenset()
EXACT, PREFIX, STEM = 0, 1, 2


@dataclass(frozen=True, slots=True)
class AutomatonEntry:
    key: str  # atom key: a phrase ("instruments of ratification", "ratif*", "~ratifi"), "@PRK", or "~negated"
    kind: str  # "phrase" | "entity" | "cue"
    nwords: int
    prefix: bool  # the pattern is the whole phrase and its last word is a '*' prefix (no bound at its end)
    cue_class: str = ""
    direction: str = ""  # cues: "before" | "after" | "neutral"
    # When set, the pattern holds only the gate of word `anchor`: every word is checked on the tokens.
    verify: tuple[WordTest, ...] | None = None
    anchor: int = 0


@dataclass(frozen=True, slots=True)
class CompiledSignal:
    name: str
    node: Node
    near: int | None
    mention_any: frozenset[str]
    mention_all: frozenset[str]
    mention_none: frozenset[str]
    context_any: frozenset[str]
    context_all: frozenset[str]
    context_none: frozenset[str]
    captures: tuple[tuple[str, tuple[str, ...], str | None], ...]  # (name, candidate entities, kind)
    uses_regex: bool
    # Atoms a sentence must hold for `node` to match it: one atom of each clause (see _node_requirements).
    needs: tuple[frozenset[str], ...] = ()
    context_words: Node | None = None  # a condition over the whole document
    languages: tuple[str, ...] = ("en",)
    pack: str = ""


@dataclass(frozen=True, slots=True)
class CompiledRef:
    signal: str
    modalities: frozenset[str]
    where: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class CompiledDetection:
    id: str
    pack: str
    definition: DetectionDef
    kind: str
    refs: tuple[CompiledRef, ...]
    group_by: tuple[str, ...]
    within: timedelta | None
    realert: timedelta


@dataclass
class CompiledRules:
    """Everything the engine needs, built once: the automaton, signals, detections, entity names."""

    # The patterns in two automata: `trigger` holds the phrase and entity patterns (pattern -> its
    # AutomatonEntry tuple), `cue_automaton` the modality cues, read only for sentences that match.
    trigger: Any | None  # None when there are no such patterns
    cue_automaton: Any | None
    # Per signal, the atoms a document must contain for the signal to possibly match in one of its
    # sentences (clauses: one atom of each must be present). The extractor runs `trigger` once over
    # all of a document's words and drops it before splitting sentences when no signal is possible.
    requirements: dict[str, tuple[frozenset[str], ...]]
    # A cheaper, coarser gate on the raw lower-cased text (no tokenising): for every signal, the words
    # of one required clause as plain substrings. A text in which none occurs can match no signal.
    # None when some signal cannot be gated (regex-only signals, or a clause only "not" could meet).
    raw_gate: Any | None
    signals: dict[str, CompiledSignal]
    signals_by_atom: dict[str, tuple[str, ...]]
    always_signals: tuple[str, ...]  # signals that must be tried on every document (regex-only)
    detections: tuple[CompiledDetection, ...]
    detections_by_signal: dict[str, tuple[CompiledDetection, ...]]
    entity_names: dict[str, str]
    entity_kinds: dict[str, str]
    cue_scope: int
    lateness: timedelta
    packs: tuple[RulePack, ...] = field(default_factory=tuple)
    # The raw gate's words as one RE2 scan over raw JSON lines, many lines at a time (backtests).
    json_gate: JsonLineGate | None = None
    cue_scope_after: int = 8
    languages: frozenset[str] = frozenset({"en"})
    # Atom key -> the phrase as a rule wrote it (for explanations).
    atom_text: dict[str, str] = field(default_factory=dict)
    # Problems that do not stop the rules from running (`rules check` prints them).
    warnings: tuple[RuleError, ...] = ()


class CompileErrors(ValueError):
    """All the errors found while compiling packs; each has a path and a message."""

    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors))
        self.errors = errors
