"""Compile rule packs into one multi-pattern automaton plus condition trees: the engine's read-only half."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from html.entities import html5
from typing import Any

import ahocorasick
import re2

from watchfloor.schemas.rules import Clause, Condition, DetectionDef, RulePack, SignalDef, SignalRef

from .text import phrase_words

DEFAULT_CUES: dict[str, list[str]] = {
    "negated": [
        "not",
        "no",
        "never",
        "deny",
        "denies",
        "denied",
        "denying",
        "denial",
        "refused to confirm",
        "declined to confirm",
        "refuses to confirm",
        "rejected",
        "dismissed",
        "without",
        "neither",
        "nor",
        "no evidence",
        "false",
        "ruled out",
        "rules out",
        "debunk*",
    ],
    "conditional": [
        "if",
        "once",
        "unless",
        "in case",
        "provided that",
        "whether",
        "would",
        "stipulat*",
        "in the event",
    ],
    "future": [
        "will",
        "shall",
        "set to",
        "ready to",
        "poised to",
        "about to",
        "preparing to",
        "prepares to",
        "expected to",
        "plan to",
        "plans to",
        "planned to",
        "planning to",
        "intend*",
        "aims to",
        "aim to",
        "going to",
        "must",
        "need to",
        "needs to",
        "has to",
        "have to",
        "should",
        "could soon",
        "upcoming",
    ],
    "hedged": [
        "could",
        "might",
        "may",
        "appear",
        "appears",
        "appeared",
        "appearing",
        "seem*",
        "possibl*",
        "likely",
        "probably",
        "perhaps",
        "believed to",
        "suspected",
        "unconfirmed",
        "allegedly",
        "speculat*",
        "rumor*",
        "rumour*",
        "unverified",
        "potential*",
        "reportedly preparing",
    ],
}
CUE_PRIORITY = {"negated": 0, "conditional": 1, "future": 2, "hedged": 3}


class RuleError(ValueError):
    """A rule-pack error at a path inside the pack (for FILE:LINE:COL reporting)."""

    def __init__(self, path: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.path = tuple(path)
        self.message = message


# Condition nodes, compiled to tuples for fast evaluation:
#   ("atom", key) | ("any", nodes) | ("all", nodes) | ("none", nodes) | ("re", compiled)
Node = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class AutomatonEntry:
    key: str  # phrase key ("ratif*", "instruments of ratification") or entity key ("@PRK") or cue
    kind: str  # "phrase" | "entity" | "cue"
    nwords: int
    stem: bool
    cue_class: str = ""


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
    # Atoms a sentence must hold for `node` to match it: one atom of each clause (see _requirements).
    needs: tuple[frozenset[str], ...] = ()


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

    automaton: Any  # every pattern: phrases, entity names and modality cues
    # The same split in two, which is what the extractor runs: `trigger` holds the phrase and entity
    # patterns (pattern -> its AutomatonEntry tuple), `cue_automaton` the modality cues, read only
    # for sentences that match.
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


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def compile_regex(pattern: str) -> Any:
    """Compile with RE2 (linear time) or refuse: backreferences and lookaround are not allowed."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except Exception as e:  # re2 raises its own error type
        detail = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise ValueError(f"regex {pattern!r} is not a linear-time (RE2) expression: {detail}") from None


class _Builder:
    def __init__(self, entities: dict[str, tuple[str, list[str]]]) -> None:
        self.entities = entities  # id -> (kind, aliases)
        self.entries: dict[str, list[AutomatonEntry]] = {}
        self.errors: list[RuleError] = []

    def add(self, phrase: str, kind: str, key: str, path: Sequence[str | int], cue_class: str = "") -> bool:
        words = phrase_words(phrase)
        if not words:
            self.errors.append(RuleError(path, f"phrase {phrase!r} has no words"))
            return False
        if any(w.endswith("*") for w in words[:-1]):
            self.errors.append(RuleError(path, f"phrase {phrase!r}: a '*' stem may only end the phrase's last word"))
            return False
        stem = words[-1].endswith("*")
        if stem:
            words[-1] = words[-1][:-1]
            if len(words[-1]) < 3:
                self.errors.append(RuleError(path, f"phrase {phrase!r}: a stem needs at least 3 letters before '*'"))
                return False
        pattern = " " + " ".join(words)
        entry = AutomatonEntry(key=key, kind=kind, nwords=len(words), stem=stem, cue_class=cue_class)
        bucket = self.entries.setdefault(pattern, [])
        if entry not in bucket:
            bucket.append(entry)
        return True

    def phrase_key(self, phrase: str) -> str:
        words = phrase_words(phrase)
        return " ".join(words)

    def condition(self, cond: Condition, path: list[str | int], atoms: set[str]) -> Node:
        if isinstance(cond, str):
            text = cond.strip()
            if text.startswith("@"):
                eid = text[1:]
                if eid not in self.entities:
                    self.errors.append(RuleError(path, f"unknown entity {text!r} (define it under 'entities')"))
                    return ("any", ())
                atoms.add(text)
                return ("atom", text)
            key = self.phrase_key(text)
            self.add(text, "phrase", key, path)
            atoms.add(key)
            return ("atom", key)
        if isinstance(cond, Clause):
            parts: list[Node] = []
            if cond.any is not None:
                parts.append(
                    ("any", tuple(self.condition(c, [*path, "any", i], atoms) for i, c in enumerate(cond.any)))
                )
            if cond.all is not None:
                parts.extend(self.condition(c, [*path, "all", i], atoms) for i, c in enumerate(cond.all))
            if cond.none is not None:
                parts.append(
                    ("none", tuple(self.condition(c, [*path, "none", i], atoms) for i, c in enumerate(cond.none)))
                )
            if cond.regex is not None:
                try:
                    parts.append(("re", compile_regex(cond.regex)))
                except ValueError as e:
                    self.errors.append(RuleError([*path, "regex"], str(e)))
                    parts.append(("re", None))  # placeholder: compilation fails anyway, once, with this error
            return parts[0] if len(parts) == 1 else ("all", tuple(parts))
        raise AssertionError(f"unknown condition {cond!r}")


def _has_positive_atom(node: Node) -> bool:
    tag = node[0]
    if tag == "atom":
        return True
    if tag == "any":
        return bool(node[1]) and all(_has_positive_atom(n) for n in node[1])
    if tag == "all":
        return any(_has_positive_atom(n) for n in node[1])
    return False


def _check_entities(ids: list[str], known: dict[str, Any], path: list[str | int], errors: list[RuleError]) -> None:
    for i, eid in enumerate(ids):
        if eid not in known:
            errors.append(RuleError([*path, i], f"unknown entity {eid!r} (define it under 'entities')"))


def compile_packs(packs: Sequence[RulePack]) -> CompiledRules:
    """Compile packs together. Raises ExceptionGroup-like RuleErrors (first error) via CompileErrors."""
    errors: list[RuleError] = []
    entities: dict[str, tuple[str, list[str]]] = {}
    names: dict[str, str] = {}
    for pack in packs:
        for eid, ent in pack.entities.items():
            if eid in entities:
                kind, aliases = entities[eid]
                entities[eid] = (kind, aliases + [a for a in ent.aliases if a not in aliases])
            else:
                entities[eid] = (ent.kind, list(ent.aliases))
                names[eid] = ent.name
    b = _Builder(entities)
    for eid, (_kind, aliases) in entities.items():
        for alias in aliases:
            b.add(alias, "entity", "@" + eid, ["entities", eid, "aliases"])

    scope = 1
    cues: dict[str, list[str]] = {k: list(v) for k, v in DEFAULT_CUES.items()}
    for pack in packs:
        scope = max(scope, pack.modality.scope)
        for cls in CUE_PRIORITY:
            extra = getattr(pack.modality, cls)
            if extra:
                cues[cls].extend(extra)
    for cls, phrases in cues.items():
        for phrase in phrases:
            b.add(phrase, "cue", "~" + cls, ["modality", cls], cue_class=cls)

    signals: dict[str, CompiledSignal] = {}
    by_atom: dict[str, list[str]] = {}
    always: list[str] = []
    for pack in packs:
        for sname, sdef in pack.signals.items():
            spath: list[str | int] = ["signals", sname]
            if sname in signals:
                errors.append(RuleError(spath, f"signal {sname!r} is defined in more than one pack"))
                continue
            signals[sname] = _compile_signal(b, sname, sdef, spath, entities, errors, by_atom, always)

    detections: list[CompiledDetection] = []
    by_signal: dict[str, list[CompiledDetection]] = {}
    seen_ids: set[str] = set()
    for pack in packs:
        for di, d in enumerate(pack.detections):
            dpath: list[str | int] = ["detections", di]
            if d.id in seen_ids:
                errors.append(RuleError([*dpath, "id"], f"detection id {d.id!r} is used twice"))
                continue
            seen_ids.add(d.id)
            refs: list[CompiledRef] = []
            ok = True
            for ri, ref in enumerate(d.pattern.refs()):
                cref = _compile_ref(ref, [*dpath, "pattern", d.pattern.kind, ri], signals, pack, errors)
                if cref is None:
                    ok = False
                else:
                    refs.append(cref)
            for gi, g in enumerate(d.group_by):
                if g == "source":
                    continue
                for cref in refs:
                    sig = signals.get(cref.signal)
                    if sig is not None and g not in {c[0] for c in sig.captures}:
                        errors.append(
                            RuleError(
                                [*dpath, "group_by", gi],
                                f"group_by {g!r}: signal {cref.signal!r} captures no {g!r} "
                                f"(add it under the signal's 'capture', or group by 'source')",
                            )
                        )
                        ok = False
                        break
            if not ok:
                continue
            cd = CompiledDetection(
                id=d.id,
                pack=pack.name,
                definition=d,
                kind=d.pattern.kind,
                refs=tuple(refs),
                group_by=tuple(d.group_by),
                within=d.within,
                realert=d.realert,
            )
            detections.append(cd)
            for sname in {r.signal for r in refs}:
                by_signal.setdefault(sname, []).append(cd)

    if b.errors or errors:
        raise CompileErrors(b.errors + errors)

    automaton = ahocorasick.Automaton()
    for pattern, bucket in b.entries.items():
        automaton.add_word(pattern, tuple(bucket))
    automaton.make_automaton()
    trigger = _automaton({p: tuple(e for e in bucket if e.kind != "cue") for p, bucket in b.entries.items()})
    requirements = {name: _requirements(sig) for name, sig in signals.items()}
    cue_automaton = _automaton({p: tuple(e for e in bucket if e.kind == "cue") for p, bucket in b.entries.items()})
    return CompiledRules(
        automaton=automaton,
        trigger=trigger,
        cue_automaton=cue_automaton,
        requirements=requirements,
        raw_gate=(raw_gate := _raw_gate(requirements, entities, always)),
        json_gate=JsonLineGate.for_words(list(raw_gate.keys())) if raw_gate is not None else None,
        signals=signals,
        signals_by_atom={k: tuple(v) for k, v in by_atom.items()},
        always_signals=tuple(always),
        detections=tuple(detections),
        detections_by_signal={k: tuple(v) for k, v in by_signal.items()},
        entity_names=names,
        entity_kinds={eid: kind for eid, (kind, _a) in entities.items()},
        cue_scope=scope,
        lateness=max((p.settings.lateness for p in packs), default=timedelta(days=2)),
        packs=tuple(packs),
    )


class CompileErrors(ValueError):
    """All the errors found while compiling packs; each has a path and a message."""

    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors))
        self.errors = errors


def _compile_signal(
    b: _Builder,
    sname: str,
    sdef: SignalDef,
    spath: list[str | int],
    entities: dict[str, tuple[str, list[str]]],
    errors: list[RuleError],
    by_atom: dict[str, list[str]],
    always: list[str],
) -> CompiledSignal:
    atoms: set[str] = set()
    node = b.condition(sdef.match, [*spath, "match"], atoms)
    m = sdef.mentions
    c = sdef.context
    for label, req in (("mentions", m), ("context", c)):
        if req is not None:
            for part in ("any", "all", "none"):
                _check_entities(getattr(req, part), entities, [*spath, label, part], errors)
    captures: list[tuple[str, tuple[str, ...], str | None]] = []
    for cname, cdef in sdef.capture.items():
        _check_entities(cdef.entities, entities, [*spath, "capture", cname, "entities"], errors)
        captures.append((cname, tuple(cdef.entities), cdef.kind))
    uses_regex = _uses_regex(node)
    if _has_positive_atom(node):
        for a in atoms:
            by_atom.setdefault(a, []).append(sname)
    elif uses_regex:
        always.append(sname)
    else:
        errors.append(RuleError([*spath, "match"], "a signal needs at least one phrase, entity or regex to match"))
    return CompiledSignal(
        name=sname,
        node=node,
        near=sdef.near,
        mention_any=frozenset(m.any) if m else frozenset(),
        mention_all=frozenset(m.all) if m else frozenset(),
        mention_none=frozenset(m.none) if m else frozenset(),
        context_any=frozenset(c.any) if c else frozenset(),
        context_all=frozenset(c.all) if c else frozenset(),
        context_none=frozenset(c.none) if c else frozenset(),
        captures=tuple(captures),
        uses_regex=uses_regex,
        needs=tuple(dict.fromkeys(_node_requirements(node))),
    )


def _automaton(entries: dict[str, tuple[AutomatonEntry, ...]]) -> Any | None:
    """An automaton of the patterns that have entries, or None if none has (pyahocorasick cannot
    search with an empty automaton)."""
    automaton = ahocorasick.Automaton()
    for pattern, bucket in entries.items():
        if bucket:
            automaton.add_word(pattern, bucket)
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


def _node_requirements(node: Node) -> list[frozenset[str]]:
    """Atoms a document must contain for `node` to hold in one of its sentences, as clauses (one atom
    of each clause present). A necessary condition only: an empty list requires nothing."""
    tag = node[0]
    if tag == "atom":
        return [frozenset((node[1],))]
    if tag == "all":
        return [c for child in node[1] for c in _node_requirements(child)]
    if tag == "any":
        # One alternative holds, so one clause of it holds: the union of one clause per alternative.
        union: set[str] = set()
        for child in node[1]:
            clauses = _node_requirements(child)
            if not clauses:
                return []  # an alternative that requires nothing: neither does the whole
            union |= min(clauses, key=len)
        return [frozenset(union)] if union else []
    return []  # none, regex: no atom is required


def _raw_gate(
    requirements: dict[str, tuple[frozenset[str], ...]],
    entities: dict[str, tuple[str, list[str]]],
    always: Sequence[str],
) -> Any | None:
    """One clause per signal, as raw substrings: the longest word of each of its atoms (every word of a
    matched phrase is a substring of the lower-cased text; "n't" -> "not" is the one exception, so a
    clause that needs "not" is never chosen). Entity clauses are preferred: names are rarer than words."""
    if always:
        return None
    keys: set[str] = set()
    for clauses in requirements.values():
        best: tuple[tuple[bool, int], set[str]] | None = None
        for clause in clauses:
            words: set[str] = set()
            for atom in clause:
                if atom.startswith("@"):
                    phrases = entities.get(atom[1:], ("", []))[1]
                else:
                    phrases = [atom]
                for phrase in phrases:
                    ws = [w.rstrip("*") for w in phrase_words(phrase)]
                    if ws:
                        # The longest word; on a tie the last ("north korea" -> "korea"), as names
                        # end in their head word.
                        words.add(max(reversed(ws), key=len))
            if not words or "not" in words:
                continue
            score = (all(a.startswith("@") for a in clause), min(len(w) for w in words))
            if best is None or score > best[0]:
                best = (score, words)
        if best is None:
            return None  # this signal cannot be gated: no gate at all
        keys |= best[1]
    gate = ahocorasick.Automaton()
    for k in keys:
        gate.add_word(k, k)
    if len(gate) == 0:
        return None
    gate.make_automaton()
    return gate


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
        word_patterns = [re2.escape(w.encode()) for w in self.words]
        hs = _hyperscan() if scanner in ("auto", "hyperscan") else None
        if scanner == "hyperscan" and hs is None:
            raise ImportError("the hyperscan scanner needs the hyperscan package: pip install 'watchfloor[fast]'")
        if hs is not None:
            patterns = [*word_patterns, *_JSON_HAZARDS]
            flags = [hs.HS_FLAG_CASELESS] * len(word_patterns) + [0] * len(_JSON_HAZARDS)
            db = hs.Database(mode=hs.HS_MODE_BLOCK)
            db.compile(expressions=patterns, ids=list(range(len(patterns))), elements=len(patterns), flags=flags)
            self._db: Any = db
            self.scanner = "hyperscan"
        else:
            options = re2.Options()
            options.encoding = re2.Options.Encoding.LATIN1  # bytes as bytes: case folding of ASCII only
            options.log_errors = False
            alternatives = [b"(?i:" + b"|".join(word_patterns) + b")", *_JSON_HAZARDS]
            self._search = re2.compile(b"|".join(alternatives), options).search
            self.scanner = "re2"

    @classmethod
    def for_words(cls, words: list[str]) -> JsonLineGate | None:
        """None unless every word is ASCII letters and digits: other words can change their bytes with
        their letter case (Cyrillic, accents), which a byte scan cannot follow."""
        if not words or not all(w.isascii() and w.isalnum() for w in words):
            return None
        return cls(words)

    def hits(self, block: bytes) -> list[int]:
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


def _requirements(sig: CompiledSignal) -> tuple[frozenset[str], ...]:
    """What a document must contain for `sig` to possibly match one of its sentences."""
    clauses = list(sig.needs)
    # Entities the sentence (mentions) or the document (context) must name.
    for eid in sorted(sig.mention_all | sig.context_all):
        clauses.append(frozenset(("@" + eid,)))
    for group in (sig.mention_any, sig.context_any):
        if group:
            clauses.append(frozenset("@" + eid for eid in group))
    return tuple(dict.fromkeys(clauses))


def _uses_regex(node: Node) -> bool:
    if node[0] == "re":
        return True
    if node[0] in ("any", "all", "none"):
        return any(_uses_regex(n) for n in node[1])
    return False


def _compile_ref(
    ref: SignalRef, path: list[str | int], signals: dict[str, CompiledSignal], pack: RulePack, errors: list[RuleError]
) -> CompiledRef | None:
    if ref.signal not in signals:
        errors.append(RuleError([*path, "signal"], f"unknown signal {ref.signal!r} (define it under 'signals')"))
        return None
    mod = ref.modality
    if mod == "any":
        modalities = frozenset({"asserted", "hedged", "future", "conditional", "negated"})
    elif isinstance(mod, list):
        modalities = frozenset(mod)
    else:
        modalities = frozenset({mod})
    sig = signals[ref.signal]
    capture_names = {c[0] for c in sig.captures}
    for k in ref.where:
        if k not in capture_names:
            errors.append(RuleError([*path, "where", k], f"signal {ref.signal!r} captures no {k!r}"))
            return None
    return CompiledRef(signal=ref.signal, modalities=modalities, where=tuple(sorted(ref.where.items())))
