"""Why the rules read a document as they did: plain typed data for `watchfloor rules explain` and reports.

Pure: no I/O, no clock. Two builders:

- `explain_extraction(rules, doc)`: per sentence, the phrases, names and cues found; per signal that
  could apply there, whether it matched and why not (context, mentions, a missing or excluded phrase,
  `near`), or its window, modality (the deciding cue, and every cue with why it did or did not apply)
  and captures (with the grammar that chose them).
- `Explainer` (engine/explain_detections.py): runs documents through an Engine in order and adds, for
  each signal made and each detection that uses it, whether the detection fired and why not (modality
  or capture filters, a missing group value, lateness, the realert throttle, a count or corroboration
  not reached within its window, parts of all_of / sequence missing, an absence still open).

Every class has `to_json()`; the fields are the documented contract (docs/rules.md, "Explaining").
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

from watchfloor.schemas.events import Document, Signal, SourceRef

from .captures import rundown
from .compiled import GDELT_ROLE
from .compiler import CompiledRules, CompiledSignal, Node
from .extract import (
    DocumentView,
    Extractor,
    context_ok,
    evaluate,
    headline_sentences,
    rundown_miss,
    smallest_window,
)
from .gdelt import gdelt_captures, gdelt_miss
from .scan import Sentence


@dataclass(frozen=True, slots=True)
class PhraseFound:
    """A phrase (`kind` "phrase") or an entity name (`kind` "entity") found in a sentence."""

    atom: str  # the compiled key ("~ratifi", "@PRK")
    text: str  # as the rule wrote it ("ratified", "@PRK North Korea")
    kind: str
    words: str  # the sentence's words it matched
    start: int  # token offsets within the sentence
    end: int


@dataclass(frozen=True, slots=True)
class CueFound:
    """A modality cue of the sentence and whether it governed the signal's words."""

    cls: str  # negated | conditional | future | hedged
    words: str
    direction: str  # before | after | verb (Russian perfective, English headline)
    applied: bool
    reason: str


@dataclass(frozen=True, slots=True)
class CaptureFound:
    name: str
    value: str | None  # entity id
    value_name: str | None  # the entity's display name
    reason: str


@dataclass(frozen=True, slots=True)
class SignalCheck:
    """One signal on one sentence: made (`matched`), or why not."""

    signal: str
    matched: bool
    reason: str  # "matched", or what failed
    words: str = ""  # the matched window's words
    modality: str | None = None
    cue: str | None = None
    modality_reason: str = ""
    cues: tuple[CueFound, ...] = ()
    captures: tuple[CaptureFound, ...] = ()
    passed_over: str = ""  # the negated match passed over for the asserted one read, or why no other was ("" when none)


@dataclass(frozen=True, slots=True)
class SentenceExplanation:
    index: int
    text: str
    phrases: tuple[PhraseFound, ...]
    entities: tuple[str, ...]
    signals: tuple[SignalCheck, ...]


@dataclass(frozen=True, slots=True)
class DetectionCheck:
    """One detection on one signal (or, over detections, one input alert): fired, or why not. `kind`: fired,
    modality, capture, group, late, realert, count, corroboration, all_of, sequence, absence, input (an input alert
    its reference does not take, or no input alert on the document)."""

    detection: str
    signal: str
    sentence_index: int
    fired: bool
    kind: str
    reason: str
    alert: dict[str, Any] | None = None  # rule, title, severity, confidence, group, id (when fired)


@dataclass
class DocumentExplanation:
    document_id: str
    title: str
    source: str
    published_at: str
    language: str | None
    # "no phrase of any signal", "no signal can match: ...", or "read": whether sentences were read.
    read: str
    sentences: list[SentenceExplanation] = field(default_factory=list)
    signals: list[dict[str, Any]] = field(default_factory=list)  # the signals made (as in the event log)
    detections: list[DetectionCheck] = field(default_factory=list)
    late: list[str] = field(default_factory=list)  # dead-letter reasons for this document's signals
    # Whether the engine's own screen let the document on (the phrases and names some signal needs are in it;
    # with `only`, one of those signals): False, no signal can match it (Explainer.may_match).
    may_match: bool = True

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        return out

    @property
    def made(self) -> list[str]:
        return [s["name"] for s in self.signals]


def explain_extraction(rules: CompiledRules, doc: Document, *, only: set[str] | None = None) -> DocumentExplanation:
    """Read one document as the extractor does, keeping every reason. `only`: signal names to report
    (all the signals that have a phrase or name in a sentence, when None)."""
    extractor = Extractor(rules)
    exp = DocumentExplanation(
        document_id=doc.id,
        title=doc.title,
        source=doc.source.name,
        published_at=doc.published_at.isoformat(),
        language=doc.language,
        read="read",
    )
    scan, viable = extractor.scan(doc, every=True)
    if scan is None:
        exp.read = "no words"
        return exp
    sents = scan.sentences(every=True)
    if not any(s.atoms for s in sents) and not rules.always_signals:
        exp.read = "no phrase or name of any signal"
    doc_entities: set[str] = set()
    for s in sents:
        doc_entities |= s.entities
    whole = DocumentView(scan.text, sents)
    headline = bool(doc.title)
    title_sentences = headline_sentences(doc)
    for sent in sents:
        phrases = tuple(_phrases(rules, sent))
        considered = _considered(rules, sent, only)
        checks = []
        for name in considered:
            sig = rules.signals[name]
            checks.append(
                _check(
                    extractor,
                    rules,
                    sig,
                    sent,
                    doc_entities,
                    whole,
                    viable,
                    headline and sent.index == 0,
                    published=doc.published_at.date(),
                    metadata=doc.metadata,
                    sentences=sents,
                    title_sentences=title_sentences,
                )
            )
        if phrases or checks:
            exp.sentences.append(
                SentenceExplanation(sent.index, sent.text, phrases, tuple(sorted(sent.entities)), tuple(checks))
            )
    return exp


def near_miss(rules: CompiledRules, doc: Document, names: Collection[str]) -> tuple[str, str] | None:
    """Why none of the signals `names` was made of the document, when one condition alone kept one of them from a
    sentence: the document's context (its entities or words) where the sentence holds the signal's words, mentions and
    `near`; the sentence's mentions where it holds the words within `near`; or `near` (or a rundown's parts) where it
    holds all the rest. (The signal's name, the reason as `rules explain` says it: "context words: none of 'grain' in
    the document"), the first such sentence's. None when one of them was made, or none came that close (a backtest's
    missed item then says only that the rules made no signal of it: outside trial 61, L1)."""
    extractor = Extractor(rules)
    scan, viable = extractor.scan(doc, every=True)
    if scan is None:
        return None
    sents = scan.sentences(every=True)
    doc_entities: set[str] = set()
    for s in sents:
        doc_entities |= s.entities
    whole = DocumentView(scan.text, sents)
    only = set(names)
    found: tuple[str, str] | None = None
    for sent in sents:
        for name in _considered(rules, sent, only):
            sig = rules.signals[name]
            check = _check(
                extractor,
                rules,
                sig,
                sent,
                doc_entities,
                whole,
                viable,
                bool(doc.title) and sent.index == 0,
                published=doc.published_at.date(),
            )
            if check.matched:
                return None
            if found is None and _alone(extractor, rules, sig, sent, whole, check.reason):
                found = (name, check.reason)
    return found


def _alone(
    extractor: Extractor, rules: CompiledRules, sig: CompiledSignal, sent: Sentence, whole: DocumentView, reason: str
) -> bool:
    """Whether the condition `_check` names first in `reason` is the only one of the signal that fails on the
    sentence (the conditions it tells after the failed one are read again here)."""
    if reason.startswith(("near:", "words: the sentence is a rundown", "mentions: the sentence is a rundown")):
        return True  # told last: all the rest held
    if reason.startswith("context words:"):
        return extractor.match_sentence(sig, sent) is not None
    if reason.startswith("context:"):
        words_hold = sig.context_words is None or why_not(rules, sig.context_words, whole) is None
        return words_hold and extractor.match_sentence(sig, sent) is not None
    if reason.startswith("mentions:"):
        unnamed = replace(sig, mention_any=frozenset(), mention_all=frozenset(), mention_none=frozenset())
        return extractor.match_sentence(unnamed, sent) is not None
    return False


def _phrases(rules: CompiledRules, sent: Sentence) -> list[PhraseFound]:
    out = []
    for key, spans in sent.atoms.items():
        for a, b in spans:
            if key.startswith("@"):
                text = f"{key} {rules.entity_names.get(key[1:], '')}".strip()
                kind = "entity"
            else:
                text, kind = rules.atom_text.get(key, key), "phrase"
            out.append(PhraseFound(key, text, kind, sent.words(a, b), a - sent.start, b - sent.start))
    return sorted(out, key=lambda p: (p.start, p.end, p.atom))


def _considered(rules: CompiledRules, sent: Sentence, only: set[str] | None) -> list[str]:
    names: set[str] = set(rules.always_signals)
    for atom in sent.atoms:
        names.update(rules.signals_by_atom.get(atom, ()))
    if only is not None:
        names &= only
    return sorted(names)


def _check(
    extractor: Extractor,
    rules: CompiledRules,
    sig: CompiledSignal,
    sent: Sentence,
    doc_entities: set[str],
    whole: DocumentView,
    viable: set[str] | None,
    headline: bool,
    published: date | None = None,
    metadata: dict[str, Any] | None = None,
    sentences: list[Sentence] | None = None,
    title_sentences: int = 0,
) -> SignalCheck:
    """`sentences`: the document's, for a capture that falls back to another (its first `title_sentences` the
    headline's)."""
    name = sig.name
    if sig.gdelt is not None:
        gdelt = gdelt_miss(sig.gdelt, metadata or {})
        if gdelt is not None:
            return SignalCheck(name, False, f"gdelt: {gdelt}")
    if not context_ok(sig, doc_entities):
        return SignalCheck(
            name,
            False,
            "context: " + _entity_need(rules, sig.context_all, sig.context_any, sig.context_none, "the document"),
        )
    if sig.context_words is not None:
        missing = why_not(rules, sig.context_words, whole)
        if missing is not None:
            return SignalCheck(name, False, f"context words: {missing} in the document")
    ents = sent.entities
    parts = rundown(sent)
    if (
        (sig.mention_all and not sig.mention_all <= ents)
        or (sig.mention_any and not (sig.mention_any & ents))
        or (sig.mention_none and parts is None and (sig.mention_none & ents))
    ):
        return SignalCheck(
            name,
            False,
            "mentions: " + _entity_need(rules, sig.mention_all, sig.mention_any, sig.mention_none, "the sentence"),
        )
    missing = why_not(rules, sig.node, sent)
    if missing is not None:
        return SignalCheck(name, False, missing)
    got = extractor.match_sentence(sig, sent, explain=True)
    miss = rundown_miss(sig, sent) if got is None and parts is not None else None
    if miss == "words":
        near = f" within near: {sig.near}" if sig.near is not None else ""
        return SignalCheck(
            name,
            False,
            "words: the sentence is a rundown, each part between ';' a story of its own, and no part holds all the"
            f" signal's words{near} (words of two stories do not make one signal)",
        )
    if miss == "mentions":
        need = _entity_need(rules, sig.mention_all, sig.mention_any, sig.mention_none, "the part")
        return SignalCheck(
            name,
            False,
            "mentions: the sentence is a rundown, each part between ';' a story of its own, and no part holds both"
            f" the signal's words and its mentions ({need}; a name in another part does not count)",
        )
    if got is None:
        comps = [c for c in (evaluate(sig.node, sent, [None]) or []) if c]
        win = smallest_window(comps)
        width = (win[1] - win[0] + 1) if win else 0
        return SignalCheck(name, False, f"near: its words span {width} words, more than near: {sig.near}")
    # A negated match is passed over for an asserted one in a clause of its own, as extract reads the signal.
    other = extractor.passed_over(sig, sent, got, headline=headline, published=published)
    passed = ""
    if other is not None:
        passed = other[1]
        if other[0] is not None:
            got = other[0]
    modality, cue, why = extractor.modality(sent, got, headline=headline, published=published)
    applied = {(c, w) for c, w, _d, a, _r in why.considered if a}
    cues = tuple(
        CueFound(c, w, d, a, r)
        for c, w, d, a, r in why.considered
        if a or (c, w) not in applied  # a cue listed both ways: the direction that applied says it
    )
    # (a `gdelt` capture takes the event's coded field, not an entity of the sentence)
    took = (
        {**got.captures, **gdelt_captures(sig.gdelt_captures, metadata or {})} if sig.gdelt_captures else got.captures
    )
    reasons = got.capture_reasons
    if sig.capture_fallbacks and sentences is not None:
        reasons = dict(reasons)
        took = extractor.fallback_captures(sig, sent, took, reasons, sentences, title_sentences)
    captures = tuple(
        CaptureFound(
            cname,
            took.get(cname),
            rules.entity_names.get(took.get(cname) or "") or None,
            f"the GDELT event's {role.removeprefix(GDELT_ROLE)}"
            if role.startswith(GDELT_ROLE)
            else reasons.get(cname, ""),
        )
        for cname, _c, _k, role in sig.captures
    )
    lo, hi = got.window
    reason = "matched" if viable is None or name in viable else "matched (but the document gate said no)"
    return SignalCheck(name, True, reason, sent.words(lo, hi), modality, cue, why.why, cues, captures, passed)


def capture_miss(rules: CompiledRules, extractor: Extractor, sig: Signal, cname: str) -> str:
    """Why a signal carries no value for its capture `cname`, as a detection that groups by it says: the sentence
    names none of the capture's entities, or it names some and the grammar took none of them, with the capture's
    own reason (read again from the signal's sentence: a signal keeps its sentence, not its reasons)."""
    csig = rules.signals.get(sig.name)
    spec = next((c for c in csig.captures if c[0] == cname), None) if csig is not None else None
    if csig is None or spec is None:
        return f"the sentence names no {cname}"
    _n, candidates, kind, role = spec
    if role.startswith(GDELT_ROLE):
        return f"the GDELT event codes no {role.removeprefix(GDELT_ROLE)} (or the document is no GDELT event)"
    kinds = rules.entity_kinds
    named = [e for e in sig.entities if (kinds.get(e) == kind if kind is not None else e in candidates)]
    fallback = next((where for n, where in csig.capture_fallbacks if n == cname), None)
    if not named:
        if fallback == "headline":
            return f"the sentence names no {cname}, nor does the headline (fallback: headline)"
        if fallback == "document":
            return f"the sentence names no {cname}, nor does another sentence of the document (fallback: document)"
        return f"the sentence names no {cname}"
    names = ", ".join(f"{e} ({rules.entity_names.get(e, e)})" for e in named)
    doc = Document(
        id=sig.document_id, type="news.article", published_at=sig.published_at, source=SourceRef(name=sig.source),
        body=sig.sentence,
    )  # fmt: skip
    scan, _viable = extractor.scan(doc, every=True)
    why = ""
    for sent in scan.sentences(every=True) if scan is not None else ():
        got = extractor.match_sentence(csig, sent, explain=True)
        if got is not None and cname not in got.captures:
            why = ": " + got.capture_reasons.get(cname, "")
            break
    return f"the sentence names {names}, not taken as its {cname}{why}"


def _entity_need(
    rules: CompiledRules, all_: frozenset[str], any_: frozenset[str], none: frozenset[str], where: str
) -> str:
    def names(ids: frozenset[str]) -> str:
        return ", ".join(sorted(f"{i} ({rules.entity_names.get(i, i)})" for i in ids))

    parts = []
    if all_:
        parts.append(f"{where} must name all of {names(all_)}")
    if any_:
        parts.append(f"{where} must name one of {names(any_)}")
    if none:
        parts.append(f"{where} must not name {names(none)}")
    return "; ".join(parts)


def why_not(rules: CompiledRules, node: Node, sent: Any) -> str | None:
    """None when the condition holds in `sent` (a Sentence, or the whole document), else why not."""
    tag = node[0]
    if tag == "atom":
        return None if sent.atoms.get(node[1]) else f"no {_atom(rules, node[1])!r}"
    if tag == "any":
        reasons = []
        for child in node[1]:
            r = why_not(rules, child, sent)
            if r is None:
                return None
            reasons.append(r)
        texts = list(dict.fromkeys(_atom(rules, c[1]) for c in node[1] if c[0] == "atom"))
        if all(c[0] == "atom" for c in node[1]):
            shown = ", ".join(repr(t) for t in texts[:8]) + (", …" if len(texts) > 8 else "")
            return f"none of {shown}"
        # Which alternative lacks what, numbered as the rule lists them: joined by "and" alone, two alternatives that
        # miss the same part read as one condition said twice (outside trial 57, LOW-3).
        said = "; ".join(f"({k}) {r}" for k, r in enumerate(reasons[:3], start=1))
        more = f"; … and {len(reasons) - 3} more" if len(reasons) > 3 else ""
        return f"no alternative holds: {said}{more}"
    if tag == "all":
        for child in node[1]:
            r = why_not(rules, child, sent)
            if r is not None:
                return r
        return None
    if tag == "none":
        for child in node[1]:
            if why_not(rules, child, sent) is None:
                present = _present(rules, child, sent)
                return f"excluded by {present!r}"
        return None
    if tag == "re":
        return None if evaluate(node, sent, [None]) is not None else f"regex /{node[1].pattern}/ does not match"
    return None


def _present(rules: CompiledRules, node: Node, sent: Any) -> str:
    if node[0] == "atom":
        return _atom(rules, node[1])
    for child in node[1] if node[0] in ("any", "all") else ():
        if why_not(rules, child, sent) is None:
            return _present(rules, child, sent)
    return "a condition"


def _atom(rules: CompiledRules, key: str) -> str:
    if key.startswith("@"):
        return f"{key} ({rules.entity_names.get(key[1:], key[1:])})"
    return rules.atom_text.get(key, key)
