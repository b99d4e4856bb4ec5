"""The compiled form of rule packs: automaton entries, signals, detections, and the errors found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Protocol

from watchfloor.schemas.rules import DetectionDef, RulePack

from .gate import JsonLineGate
from .text import tokens


class RuleError(ValueError):
    """A rule-pack problem at a path inside a pack (for FILE:LINE:COL reporting). `pack` is the index
    of the pack in the compiled sequence; `warning` problems do not stop compilation; `assumes`: see below."""

    def __init__(
        self,
        path: Sequence[str | int],
        message: str,
        *,
        pack: int = 0,
        warning: bool = False,
        assumes: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(message)
        self.path = tuple(path)
        self.message = message
        self.pack = pack
        self.warning = warning
        # The signals and detections this judgement found not defined, and judged without (by what any signal or
        # detection of the rules could bring): when some part of the rules is left out (`rules check` of a pack the
        # schema refused in part), what the rules could bring is not known, and it is not said (rulefile._the_rest).
        self.assumes = assumes


# Condition nodes, compiled to tuples for fast evaluation:
#   ("atom", key) | ("any", nodes) | ("all", nodes) | ("none", nodes) | ("re", compiled)
Node = tuple[Any, ...]

# How one word of a phrase meets a token: (mode, text, forms) with mode 0 = exact (token == text), 1 =
# prefix (token starts with text), 2 = forms (token is one of `forms`, the inflected forms of the word:
# morphology.word_forms).
WordTest = tuple[int, str, frozenset[str]]
EXACT, PREFIX, FORMS = 0, 1, 2


@dataclass(frozen=True, slots=True)
class AutomatonEntry:
    key: str  # atom key: a phrase ("instruments of ratification", "ratif*", "~ratified#2f1c"), "@PRK", "~negated"
    kind: str  # "phrase" | "entity" | "cue"
    nwords: int
    # The pattern is the whole phrase and its last word is a '*' prefix (no bound at its end); or, anchored,
    # the pattern ends inside word `anchor`: the start all its forms share (automata._stemmed).
    prefix: bool
    cue_class: str = ""
    direction: str = ""  # cues: "before" | "after" | "neutral"
    # When set, the pattern ends in word `anchor` (holds one of its forms or its prefix, or the word before
    # and the start of it): the other words are checked on the tokens.
    verify: tuple[WordTest, ...] | None = None
    anchor: int = 0
    # An entity alias written in capitals ("US", "EU", "КНДР"): per word, how many letters must be capitals in the
    # text (text.alias_capitals), so "US" is not the pronoun "us"; empty for any case (extract._place_matches).
    capitals: tuple[int, ...] = ()


# An automaton pattern's value (compiler._bucket, scan.find_matches): (whole-phrase entries, anchored
# phrases by shape, anchored phrases to check word by word). Shapes: ((anchor index, length, neighbour
# index), {the neighbour's token: entries}) for phrases anchored on this pattern's word.
Shapes = tuple[tuple[tuple[int, int, int], dict[str, list[AutomatonEntry]]], ...]
Bucket = tuple[tuple[AutomatonEntry, ...], Shapes, tuple[AutomatonEntry, ...]]


@dataclass(frozen=True, slots=True)
class Probe:
    """Where an atom can be looked for in a document's words without an automaton (scan.holds):
    `words`, up to two sets of words, each of which must have a word in the document for the atom to
    occur (none known for "ratif*"), and whether that is enough (`exact`: a one-word atom); else the
    padded patterns of its whole-phrase entries (" state media " in " ... ") and its anchored entries
    (their anchor's forms looked up, the other words checked on the tokens)."""

    words: tuple[frozenset[str], ...]
    exact: bool
    needles: tuple[str, ...]
    anchored: tuple[AutomatonEntry, ...]


# A screen pattern's value (automata.screen, scan.screen_atoms): the atoms whose whole phrase it is, and
# the anchored entries to check on the words around a hit (by the neighbouring word, as in a Bucket).
ScreenHit = tuple[tuple[str, ...], Bucket | None]
# Atom -> the signals whose viability test it triggers (automata.viability): those it is enough for;
# (other atom, the signals it is the one other requirement of); (signal, its other requirement clauses).
Viability = dict[
    str,
    tuple[
        tuple[str, ...],
        tuple[tuple[str, tuple[str, ...]], ...],
        tuple[tuple[str, tuple[frozenset[str], ...]], ...],
    ],
]


class NativeScreen(Protocol):
    """The word screen's C type (wordscreen.py, _wordscreen.c). may_match: 0, no signal can be viable in the
    padded word view; 1, one can; 2, only signals that need two clauses in one sentence can (asked again with
    the word indices where the sentences after the first start, it says whether one sentence holds them). held:
    after may_match, the signals whose requirements hold in what it read (a superset of those that match) and the
    sentences where they do (bit k: sentence k, 31: the 32nd and later); None when it stopped at its first hit."""

    def may_match(self, norm: str, starts: Sequence[int] | None = None, /) -> int: ...

    def held(self) -> tuple[set[str], int] | None: ...

    def atoms(self, norm: str, starts: Sequence[int] | None = None, /) -> list[int]: ...


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
    # (name, candidate entities, kind, role): role 'actor' (the acting candidate) or 'any' (the first named); a `kind`
    # capture of the actor lists that kind's entities as its candidates; GDELT_ROLE + a field: that coded field of a
    # GDELT event (no candidates, no kind).
    captures: tuple[tuple[str, tuple[str, ...], str | None, str], ...]
    uses_regex: bool
    # Atoms a sentence must hold for `node` to match it: one atom of each clause (see _node_requirements).
    needs: tuple[frozenset[str], ...] = ()
    context_words: Node | None = None  # a condition over the whole document
    # The atoms of a signal that is just "any of these phrases" (no near, entity requirements, context or
    # captures): it matches wherever one of them is, so the extractor skips evaluating a tree for it.
    simple: tuple[str, ...] | None = None
    languages: tuple[str, ...] = ("en",)
    pack: str = ""
    gdelt: GdeltTest | None = None  # conditions on a GDELT event's coded fields (engine/gdelt.py)
    gdelt_captures: tuple[tuple[str, str], ...] = ()  # (capture name, GDELT coded field) of its `gdelt` captures
    # (capture name, "headline" or "document") of its captures with a `fallback`: where the value is looked for when
    # the signal's sentence names none of the capture's candidates (Extractor.fallback_captures)
    capture_fallbacks: tuple[tuple[str, str], ...] = ()
    # The indices in `captures` of those that take different entities (not `distinct: false`, not `gdelt`, not a `kind`
    # capture of role any unless `distinct: true`: compiler._distinct), in the order they are read: the actor role's
    # first, then the others, each in the pack's order, so an actor is taken by the grammar before a partner of `role:
    # any` takes the first other (outside trial 81, F3: "Russia military ties with Russia"). Empty when fewer than
    # two: each capture is read on its own.
    distinct_captures: tuple[int, ...] = ()


GDELT_ROLE = "gdelt:"
"""A capture whose role starts so takes the GDELT coded field named after it (CompiledSignal.captures)."""


@dataclass(frozen=True, slots=True)
class GdeltTest:
    """A signal's `gdelt:` (schemas.rules.GdeltReq), compiled: an empty tuple or None asks nothing. A country is
    the code as GDELT writes it, "" for `unknown` (the field GDELT left empty); the `not_` tuples are a condition's
    `none:` list."""

    event_codes: tuple[str, ...] = ()
    quad_classes: tuple[int, ...] = ()
    goldstein_at_least: float | None = None
    goldstein_at_most: float | None = None
    min_mentions: int | None = None
    countries: tuple[str, ...] = ()
    actor1_countries: tuple[str, ...] = ()
    actor2_countries: tuple[str, ...] = ()
    action_countries: tuple[str, ...] = ()
    max_event_age_days: int | None = None  # whole days: GDELT dates an event by its day (SQLDATE)
    min_sources: int | None = None
    min_articles: int | None = None
    tone_at_least: float | None = None
    tone_at_most: float | None = None
    not_countries: tuple[str, ...] = ()  # neither actor's country is one of these
    not_actor1_countries: tuple[str, ...] = ()
    not_actor2_countries: tuple[str, ...] = ()
    not_action_countries: tuple[str, ...] = ()
    not_event_codes: tuple[str, ...] = ()  # prefixes, as event_codes' are
    not_quad_classes: tuple[int, ...] = ()
    # Whether any of the conditions after max_event_age_days is asked: a test without them (every pack written
    # before they were) checks them all with this one flag on the hit path.
    more: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        counts = (self.min_sources, self.min_articles, self.tone_at_least, self.tone_at_most)
        excluded = (
            self.not_countries,
            self.not_actor1_countries,
            self.not_actor2_countries,
            self.not_action_countries,
            self.not_event_codes,
            self.not_quad_classes,
        )
        object.__setattr__(self, "more", any(x is not None for x in counts) or any(excluded))


@dataclass(frozen=True, slots=True)
class CompiledRef:
    signal: str  # a signal's name, or ALERT + a detection id (a detection over detections)
    modalities: frozenset[str]
    where: tuple[tuple[str, str], ...]
    detection: str | None = None  # the input detection of an alert reference
    min_rank: int = -1  # least severity rank of its alerts
    confidence: str | None = None
    # the words of its `except_cues` (a trailing "*": a prefix): a reading one of them decided is not taken
    except_cues: tuple[tuple[str, ...], ...] = ()


def cue_excepted(patterns: tuple[tuple[str, ...], ...], cue: str | None) -> bool:
    """Whether the cue words that decided a reading (Signal.cue) hold one of `patterns` (CompiledRef.except_cues) as
    a run of words, each equal, or starting with a pattern word's prefix before its "*"."""
    if cue is None:
        return False
    words = tokens(cue)
    for pattern in patterns:
        n = len(pattern)
        for k in range(len(words) - n + 1):
            if all(
                w == p or (p[-1] == "*" and w.startswith(p[:-1]))
                for w, p in zip(words[k : k + n], pattern, strict=True)
            ):
                return True
    return False


REPORTS = "reports"  # the title placeholder of how many reports an alert rests on (evidence._title_fields)
ALERT = "alert:"  # the key alert references are filed under in detections_by_signal


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
    # The modalities whose reports count toward `corroborate` (Corroboration.modality; asserted by default).
    corroborating: frozenset[str] = frozenset({"asserted"})
    # A signal of it captures a name `place` of the pack's own: that capture is the alert's `place`, and the places
    # its reports' sentences name are not added to it (outside trial 66, HIGH-1: a rundown's other story put
    # "Курская область" in a title whose capture, past the ';', was none).
    own_place: bool = False


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
    cue_scope_after: int = 8
    languages: frozenset[str] = frozenset({"en"})
    # Atom key -> the phrase as a rule wrote it (for explanations).
    atom_text: dict[str, str] = field(default_factory=dict)
    # Atom -> (signal, its other requirement clauses) for the signals this atom triggers the viability test
    # of: a signal with a one-atom clause is listed under one such atom only (its most telling), so a
    # conjunction of two phrases is tested once, when its rarer phrase is there (extract._viable_signals).
    viability: Viability = field(default_factory=dict)
    # The first pass over a document's words, when it is much smaller than `trigger` (automata.screen):
    # only the viability index's trigger atoms, plus a probe for each atom of the signals' other clauses.
    # A document is read with `trigger` only when a signal is viable; the cost follows the signals that
    # can match, not every phrase found.
    screen: Any | None = None
    probes: dict[str, Probe] = field(default_factory=dict)
    # Russian aliases that coordinated adjectives before them can elide into (phrases.elided_aliases): the last
    # word they share -> {a form of another alias's first word: its entity key}; see extract._place_matches.
    elided: dict[str, dict[str, str]] = field(default_factory=dict)
    # Signals of detections that count independent sources (`corroborate` or `count` by source): their
    # signals carry the document's story signature, so syndicated copies count once (stories.py).
    story_signals: frozenset[str] = frozenset()
    # Whether some detection takes other detections' alerts as input (the correlator then feeds them on).
    derived: bool = False
    # Pack name -> the entity names its detections' titles and attributes show, for a pack that names a shared
    # entity otherwise than the first pack that defines it (entity_names); the rest use entity_names.
    title_names: dict[str, dict[str, str]] = field(default_factory=dict)
    # A case some title asks for ("{place:dative}") -> each entity name that takes another form in it (the others
    # stay as written): made when the rules compile, so the engine reads no dictionary (evidence.render_title).
    title_cases: dict[str, dict[str, str]] = field(default_factory=dict)
    # Problems that do not stop the rules from running (`rules check` prints them).
    warnings: tuple[RuleError, ...] = ()
    _json_gate: list[JsonLineGate | None] = field(default_factory=list)
    _word_screen: list[NativeScreen | None] = field(default_factory=list)

    @property
    def word_screen(self) -> NativeScreen | None:
        """The native first pass over a document's words (wordscreen.py), with the native engine; None without
        it. Built on first use, when an engine starts (extract.Extractor): `rules check` never needs it."""
        if not self._word_screen:
            from .wordscreen import build_screen

            self._word_screen.append(build_screen(self))
        return self._word_screen[0]

    def without_word_screen(self) -> CompiledRules:
        """The same rules, read by the Python passes only (benchmarks measure the screen against them)."""
        return replace(self, _word_screen=[None])

    @property
    def json_gate(self) -> JsonLineGate | None:
        """The raw gate's words as one scan over raw JSON lines, many lines at a time (backtests). Built
        on first use: compiling a scanner for tens of thousands of words takes a while, and only
        backtests of files need it."""
        if not self._json_gate:
            gate = self.raw_gate
            self._json_gate.append(JsonLineGate.for_words(list(gate.keys())) if gate is not None else None)
        return self._json_gate[0]


class CompileErrors(ValueError):
    """All the errors found while compiling packs; each has a path and a message."""

    def __init__(self, errors: list[RuleError], warnings: list[RuleError] | None = None) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors))
        self.errors = errors
        self.warnings = warnings or []  # found in the same pass: `rules check` shows them with the errors
