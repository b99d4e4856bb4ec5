"""Extract: document -> signals. One automaton pass per document, then conditions per sentence."""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from typing import Any

from schemas.events import Document, Signal, stable_id

from .compiler import CUE_PRIORITY, AutomatonEntry, CompiledRules, CompiledSignal, Node
from .text import split_sentences, strip_html, tokens

Span = tuple[int, int]  # first and last token index (inclusive), document-wide


class _Sentence:
    __slots__ = ("atoms", "cues", "end", "entities", "index", "mentions", "start", "text")

    def __init__(self, index: int, text: str, start: int, end: int) -> None:
        self.index = index
        self.text = text
        self.start = start  # first token index
        self.end = end  # one past the last token index
        self.atoms: dict[str, list[Span]] = {}
        self.cues: list[tuple[str, int, int, str]] = []  # (class, start, end, words)
        self.mentions: list[tuple[int, int, str]] = []  # resolved entity mentions (start, end, id)
        self.entities: set[str] = set()


def _evaluate(node: Node, sent: _Sentence, lowered: list[str | None]) -> list[list[Span]] | None:
    """None when the condition fails; else the components (each a list of spans) it matched."""
    tag = node[0]
    if tag == "atom":
        spans = sent.atoms.get(node[1])
        return [spans] if spans else None
    if tag == "any":
        # Any picks one alternative: the one whose matched words lie closest together, so a nested
        # all-clause keeps its own components (and `near` still applies to them).
        best: list[list[Span]] | None = None
        best_width = 1 << 30
        for child in node[1]:
            got = _evaluate(child, sent, lowered)
            if got is None:
                continue
            comps = [c for c in got if c]
            win = _smallest_window(comps)
            width = (win[1] - win[0]) if win is not None else 1 << 29
            if best is None or width < best_width:
                best, best_width = comps, width
        return best
    if tag == "all":
        comps: list[list[Span]] = []
        for child in node[1]:
            got = _evaluate(child, sent, lowered)
            if got is None:
                return None
            comps.extend(got)
        return comps
    if tag == "none":
        for child in node[1]:
            if _evaluate(child, sent, lowered) is not None:
                return None
        return []
    if tag == "re":
        if lowered[0] is None:
            lowered[0] = sent.text.lower()
        return [] if node[1].search(lowered[0]) else None
    raise AssertionError(tag)


def _smallest_window(components: list[list[Span]]) -> Span | None:
    """The shortest token window holding one span of every component."""
    k = len(components)
    if k == 0:
        return None
    if k == 1:
        best = min(components[0], key=lambda s: s[1] - s[0])
        return best
    tagged = sorted((s[0], s[1], ci) for ci, comp in enumerate(components) for s in comp)
    counts = [0] * k
    covered = 0
    best_span: Span | None = None
    window: deque[tuple[int, int, int]] = deque()
    for item in tagged:
        window.append(item)
        if counts[item[2]] == 0:
            covered += 1
        counts[item[2]] += 1
        while covered == k:
            lo = window[0][0]
            hi = max(x[1] for x in window)
            if best_span is None or hi - lo < best_span[1] - best_span[0]:
                best_span = (lo, hi)
            first = window.popleft()
            counts[first[2]] -= 1
            if counts[first[2]] == 0:
                covered -= 1
    return best_span


class Extractor:
    """Stateless: the same document always gives the same signals."""

    def __init__(self, rules: CompiledRules) -> None:
        self.rules = rules

    def extract(self, doc: Document) -> list[Signal]:
        rules = self.rules
        text = doc.text
        if "<" in text or "&" in text:
            text = strip_html(text)
        if rules.prefilter is not None:
            lowered = text.lower()
            for _ in rules.prefilter.iter(lowered):
                break
            else:
                return []
        sentences_text = []
        sentence_tokens = []
        for st in split_sentences(text):
            toks = tokens(st)
            if toks:  # a sentence of punctuation only would break the token arithmetic below
                sentences_text.append(st)
                sentence_tokens.append(toks)
        if not sentence_tokens:
            return []
        # One normalised string for the whole document; sentences are separated by a '|' token,
        # which no phrase contains, so no phrase can match across a sentence boundary.
        starts: list[int] = []
        sents: list[_Sentence] = []
        pos = 0
        for i, (st, toks) in enumerate(zip(sentences_text, sentence_tokens, strict=True)):
            sents.append(_Sentence(i, st, pos, pos + len(toks)))
            starts.append(pos)
            pos += len(toks) + 1
        norm = " " + " | ".join(" ".join(t) for t in sentence_tokens) + " "

        entity_hits: list[tuple[int, int, str]] = []
        any_phrase = False
        for end_char, bucket in rules.automaton.iter(norm):
            entry: AutomatonEntry
            for entry in bucket:
                if not entry.stem and norm[end_char + 1] != " ":
                    continue
                first_char = _match_start(norm, end_char, entry.nwords)
                first_tok = norm.count(" ", 0, first_char) - 1
                last_tok = first_tok + entry.nwords - 1
                si = bisect_right(starts, first_tok) - 1
                sent = sents[si]
                if entry.kind == "phrase":
                    sent.atoms.setdefault(entry.key, []).append((first_tok, last_tok))
                    any_phrase = True
                elif entry.kind == "entity":
                    entity_hits.append((first_tok, last_tok, entry.key))
                else:
                    nxt = last_tok + 1
                    # "May 9" is a date, not a hedge: ignore a cue followed by a number.
                    toks = sentence_tokens[si]
                    local = nxt - sent.start
                    if 0 <= local < len(toks) and toks[local].isdigit():
                        continue
                    sent.cues.append((entry.cue_class, first_tok, last_tok, entry.key))
        if not any_phrase and not entity_hits and not rules.always_signals:
            return []

        # Entity mentions: leftmost-longest wins, so "South Korea" is never read as "Korea".
        doc_entities: set[str] = set()
        entity_hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        taken_until = -1
        for s, e, key in entity_hits:
            if s <= taken_until:
                continue
            taken_until = e
            si = bisect_right(starts, s) - 1
            sent = sents[si]
            eid = key[1:]
            sent.mentions.append((s, e, eid))
            sent.entities.add(eid)
            sent.atoms.setdefault(key, []).append((s, e))
            doc_entities.add(eid)

        candidates: set[str] = set(rules.always_signals)
        for sent in sents:
            for atom in sent.atoms:
                for sname in rules.signals_by_atom.get(atom, ()):
                    candidates.add(sname)
        if not candidates:
            return []

        out: list[Signal] = []
        for sname in sorted(candidates):
            sig = rules.signals[sname]
            if not _context_ok(sig, doc_entities):
                continue
            for sent in sents:
                got = self._match_sentence(doc, sig, sent)
                if got is not None:
                    out.append(got)
        return out

    def _match_sentence(self, doc: Document, sig: CompiledSignal, sent: _Sentence) -> Signal | None:
        if not sent.atoms and not sig.uses_regex:
            return None
        ents = sent.entities
        if sig.mention_all and not sig.mention_all <= ents:
            return None
        if sig.mention_any and not (sig.mention_any & ents):
            return None
        if sig.mention_none and (sig.mention_none & ents):
            return None
        lowered: list[str | None] = [None]
        comps = _evaluate(sig.node, sent, lowered)
        if comps is None:
            return None
        comps = [c for c in comps if c]
        window = _smallest_window(comps) or (sent.start, max(sent.start, sent.end - 1))
        if sig.near is not None and window[1] - window[0] + 1 > sig.near:
            return None
        modality, cue = self._modality(sent, window)
        captures: dict[str, str] = {}
        for cname, candidates, kind in sig.captures:
            value = _capture(sent, window, candidates, kind, self.rules.entity_kinds)
            if value is not None:
                captures[cname] = value
        places = tuple(
            sorted({eid for _s, _e, eid in sent.mentions if self.rules.entity_kinds.get(eid) == "place"})
        )
        return Signal.model_construct(
            id=stable_id(doc.id, sig.name, str(sent.index)),
            name=sig.name,
            document_id=doc.id,
            source=doc.source.name,
            url=doc.url,
            published_at=doc.published_at,
            sentence=sent.text,
            sentence_index=sent.index,
            modality=modality,
            cue=cue,
            entities=tuple(sorted(sent.entities)),
            places=places,
            captures=captures,
        )

    def _modality(self, sent: _Sentence, window: Span) -> tuple[Any, str | None]:
        """A cue governs the signal's words when it sits inside them or up to `scope` words before."""
        best: tuple[int, int, str, str] | None = None
        lo, hi = window
        scope = self.rules.cue_scope
        for cls, s, e, _key in sent.cues:
            inside = lo <= s <= hi
            # Conditionals ("if", "once", "the treaty stipulates") govern a whole clause: twice the reach.
            reach = scope * 2 if cls == "conditional" else scope
            before = e < lo and lo - e <= reach
            if not (inside or before):
                continue
            # Cues that are part of the signal's own words (e.g. "no" inside a phrase) do not count.
            if inside and any(a <= s and e <= b for spans in sent.atoms.values() for a, b in spans):
                continue
            rank = (CUE_PRIORITY[cls], -e)
            if best is None or rank < (best[0], best[1]):
                best = (rank[0], rank[1], cls, _cue_words(sent, s, e))
        if best is None:
            return "asserted", None
        return best[2], best[3]


def _cue_words(sent: _Sentence, s: int, e: int) -> str:
    toks = tokens(sent.text)
    return " ".join(toks[s - sent.start : e - sent.start + 1])


def _match_start(norm: str, end_char: int, nwords: int) -> int:
    """Index of the first character of a match that ends at end_char and spans nwords words."""
    i = end_char
    seen = 0
    while True:
        i = norm.rfind(" ", 0, i + 1)
        seen += 1
        if seen == nwords:
            return i + 1
        i -= 1


def _context_ok(sig: CompiledSignal, doc_entities: set[str]) -> bool:
    if sig.context_all and not sig.context_all <= doc_entities:
        return False
    if sig.context_any and not (sig.context_any & doc_entities):
        return False
    return not (sig.context_none and (sig.context_none & doc_entities))


def _capture(
    sent: _Sentence, window: Span, candidates: tuple[str, ...], kind: str | None, kinds: dict[str, str]
) -> str | None:
    if kind is not None:
        for _s, _e, eid in sent.mentions:
            if kinds.get(eid) == kind:
                return eid
        return None
    mentions = [m for m in sent.mentions if m[2] in candidates]
    if not mentions:
        return None
    lo, hi = window
    toks = None
    # 1. The agent of a passive: "... ratified by (decree of) the DPRK" -> DPRK: a "by" after the
    #    signal's first word and at most four words before the mention.
    for s, _e, eid in mentions:
        if s > lo and s - hi <= 12:
            if toks is None:
                toks = tokens(sent.text)
            first = max(lo, s - 4) - sent.start
            if "by" in toks[first : s - sent.start]:
                return eid
    # 2. The nearest mention before the signal's words (usually the subject).
    before = [m for m in mentions if m[1] < lo or (m[0] <= lo <= m[1])]
    if before:
        return max(before, key=lambda m: m[1])[2]
    # 3. Else the first one after.
    return mentions[0][2]
