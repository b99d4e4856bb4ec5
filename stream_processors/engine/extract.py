"""Extract: document -> signals. One automaton pass per document, then conditions per sentence."""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from watchfloor.schemas.events import Document, Signal, stable_id
from watchfloor.schemas.fast import trusted_maker
from watchfloor.schemas.inputs import CheckedInput

from .compiler import CUE_PRIORITY, AutomatonEntry, CompiledRules, CompiledSignal, Node
from .text import aligned_word_view, clean_sentence, sentence_spans, split_sentences, strip_html, tokens

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Span = tuple[int, int]  # first and last token index (inclusive), document-wide


class _Sentence:
    __slots__ = ("atoms", "cues", "cues_read", "end", "entities", "index", "mentions", "start", "text", "toks")

    def __init__(self, index: int, text: str, toks: list[str], start: int) -> None:
        self.index = index
        self.text = text
        self.toks = toks  # tokens(text)
        self.start = start  # first token index (document-wide, counting one '|' between sentences)
        self.end = start + len(toks)  # one past the last token index
        self.atoms: dict[str, list[Span]] = {}
        self.cues: list[tuple[str, int, int, str]] = []  # (class, start, end, words); see _read_cues
        self.cues_read = False
        self.mentions: list[tuple[int, int, str]] = []  # resolved entity mentions (start, end, id)
        self.entities: set[str] = set()


class _Scan:
    """The automata's view of one document: `norm` (its words, one space apart, with a space before
    and after), the phrase and entity matches in it, and its sentences: the words of sentence k are
    toks[k], the first of them is word scan_starts[k] of `norm` and word starts[k] document-wide
    (where one '|' counts between sentences). Sentence objects are made when first needed."""

    __slots__ = ("ends", "hits", "norm", "objs", "scan_starts", "spans", "starts", "text", "texts", "toks")

    def __init__(
        self,
        text: str,
        norm: str,
        hits: list[tuple[int, tuple[AutomatonEntry, ...]]],
        toks: list[list[str]],
        scan_starts: list[int],
        spans: list[tuple[int, int]] | None,
        texts: list[str] | None,
    ) -> None:
        self.text = text
        self.norm = norm
        self.hits = hits
        self.toks = toks
        self.scan_starts = scan_starts
        self.spans = spans  # (start, end) in `text` of each sentence, to clean when needed...
        self.texts = texts  # ...or the cleaned texts
        self.starts: list[int] = []
        self.ends: list[int] = []
        pos = 0
        for t in toks:
            self.starts.append(pos)
            self.ends.append(pos + len(t))
            pos += len(t) + 1
        self.objs: list[_Sentence | None] = [None] * len(toks)

    def sentence(self, k: int) -> _Sentence:
        sent = self.objs[k]
        if sent is None:
            if self.texts is not None:
                text = self.texts[k]
            else:
                assert self.spans is not None
                start, end = self.spans[k]
                text = clean_sentence(self.text[start:end])
            sent = self.objs[k] = _Sentence(k, text, self.toks[k], self.starts[k])
        return sent

    def sentences(self, every: bool) -> list[_Sentence]:
        """The sentences made so far (those with a match), or every sentence."""
        if every:
            return [self.sentence(k) for k in range(len(self.objs))]
        return [s for s in self.objs if s is not None]

    def matches(self) -> Iterator[tuple[AutomatonEntry, _Sentence, int, int]]:
        """(entry, sentence, first token, last token) of every whole-word match inside one sentence."""
        norm = self.norm
        scan_starts = self.scan_starts
        starts = self.starts
        ends = self.ends
        for end_char, bucket in self.hits:
            bounded = norm[end_char + 1] == " "
            last = -1
            for entry in bucket:
                if not bounded and not entry.stem:
                    continue
                if last < 0:  # the word holding end_char: one per space before it, minus the lead
                    last = norm.count(" ", 0, end_char) - 1
                first = last - entry.nwords + 1
                k = bisect_right(scan_starts, first) - 1
                shift = starts[k] - scan_starts[k]
                if last + shift >= ends[k]:
                    continue  # runs into the next sentence
                yield entry, self.sentence(k), first + shift, last + shift


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
            if child[0] == "atom":  # inline of the general case below, for the common any-of-phrases
                spans = sent.atoms.get(child[1])
                if not spans:
                    continue
                width = min(e - s for s, e in spans)
                if best is None or width < best_width:
                    best, best_width = [spans], width
                continue
            got = _evaluate(child, sent, lowered)
            if got is None:
                continue
            nonempty = [c for c in got if c]
            win = _smallest_window(nonempty)
            width = (win[1] - win[0]) if win is not None else 1 << 29
            if best is None or width < best_width:
                best, best_width = nonempty, width
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
        self._make_signal = _signal_maker()

    def may_match(self, title: str, body: str = "") -> bool:
        """False only when no signal can match a document with this title and body: a cheap substring
        test on the raw text, to skip building documents that cannot matter (backtests). Title and body
        are tested apart (no concatenation): the gate's keys are single words, which cannot straddle
        the sentence break between them (nor can markup: strip_html turns a tag into a space)."""
        gate = self.rules.raw_gate
        if gate is None:
            return True
        for part in (title, body):
            if "<" in part or "&" in part:  # markup: the words are those of the cleaned text
                part = strip_html(part)
            for _ in gate.iter(part.lower()):
                return True
        return False

    def extract(self, doc: Document | CheckedInput) -> list[Signal]:
        """The document's signals. A checked input (watchfloor.schemas.inputs.CheckedInput) is built into its
        Document only if a signal comes out: most texts that pass the gate still match nothing."""
        rules = self.rules
        text = doc.text
        if "<" in text or "&" in text:
            text = strip_html(text)
        if rules.trigger is None and not rules.always_signals:
            return []  # nothing to match
        # One automaton pass over all the document's words finds its phrases and entity names.
        view, aligned = aligned_word_view(text)
        words = view.split()
        norm = " " + " ".join(words) + " "
        hits = list(rules.trigger.iter(norm)) if rules.trigger is not None else []
        viable: set[str] | None = None
        if not rules.always_signals:
            # Most news can match no signal: drop it before splitting sentences.
            viable = _viable_signals(rules, norm, hits)
            if not viable:
                return []
        scan = _sentences(text, view, norm, hits) if aligned else _sentences_rescanned(rules, text)
        if scan is None:
            return []

        entity_hits: list[tuple[int, int, str, _Sentence]] = []
        any_phrase = False
        for entry, sent, first, last in scan.matches():
            if entry.kind == "phrase":
                sent.atoms.setdefault(entry.key, []).append((first, last))
                any_phrase = True
            else:
                entity_hits.append((first, last, entry.key, sent))
        if not any_phrase and not entity_hits and not rules.always_signals:
            return []

        # Entity mentions: leftmost-longest wins, so "South Korea" is never read as "Korea".
        doc_entities: set[str] = set()
        entity_hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        taken_until = -1
        for s, e, key, sent in entity_hits:
            if s <= taken_until:
                continue
            taken_until = e
            eid = key[1:]
            sent.mentions.append((s, e, eid))
            sent.entities.add(eid)
            sent.atoms.setdefault(key, []).append((s, e))
            doc_entities.add(eid)

        # Regex signals read every sentence; the others only those with a phrase or entity.
        sents = scan.sentences(every=bool(rules.always_signals))
        candidates: set[str] = set(rules.always_signals)
        for sent in sents:
            for atom in sent.atoms:
                for sname in rules.signals_by_atom.get(atom, ()):
                    candidates.add(sname)
        if viable is not None:
            candidates &= viable
        if not candidates:
            return []

        out: list[Signal] = []
        built: Document | None = doc if isinstance(doc, Document) else None
        for sname in sorted(candidates):
            sig = rules.signals[sname]
            if not _context_ok(sig, doc_entities):
                continue
            for sent in sents:
                got = self._match_sentence(sig, sent)
                if got is None:
                    continue
                if not sent.cues_read:  # modality cues: only for sentences with a match
                    _read_cues(rules, sent)
                if built is None:
                    built = doc.build()  # type: ignore[union-attr]
                out.append(self._signal(built, sig, sent, *got))
        return out

    def _match_sentence(self, sig: CompiledSignal, sent: _Sentence) -> tuple[Span, dict[str, str]] | None:
        """The matched window and the captures when `sig` matches `sent`, else None."""
        if not sent.atoms and not sig.uses_regex:
            return None
        ents = sent.entities
        if sig.mention_all and not sig.mention_all <= ents:
            return None
        if sig.mention_any and not (sig.mention_any & ents):
            return None
        if sig.mention_none and (sig.mention_none & ents):
            return None
        atoms = sent.atoms
        for clause in sig.needs:  # a necessary condition, cheaper than evaluating the tree
            if clause.isdisjoint(atoms):
                return None
        lowered: list[str | None] = [None]
        comps = _evaluate(sig.node, sent, lowered)
        if comps is None:
            return None
        comps = [c for c in comps if c]
        window = _smallest_window(comps) or (sent.start, max(sent.start, sent.end - 1))
        if sig.near is not None and window[1] - window[0] + 1 > sig.near:
            return None
        captures: dict[str, str] = {}
        for cname, candidates, kind in sig.captures:
            value = _capture(sent, window, candidates, kind, self.rules.entity_kinds)
            if value is not None:
                captures[cname] = value
        return window, captures

    def _signal(
        self, doc: Document, sig: CompiledSignal, sent: _Sentence, window: Span, captures: dict[str, str]
    ) -> Signal:
        modality, cue = self._modality(sent, window)
        places = tuple(sorted({eid for _s, _e, eid in sent.mentions if self.rules.entity_kinds.get(eid) == "place"}))
        return self._make_signal(
            {  # every field, in the model's order
                "id": stable_id(doc.id, sig.name, str(sent.index)),
                "name": sig.name,
                "document_id": doc.id,
                "source": doc.source.name,
                "url": doc.url,
                "published_at": doc.published_at,
                "sentence": sent.text,
                "sentence_index": sent.index,
                "modality": modality,
                "cue": cue,
                "entities": tuple(sorted(sent.entities)),
                "places": places,
                "captures": captures,
            }
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


def _signal_maker() -> Callable[[dict[str, Any]], Signal]:
    """Signals are built from trusted values without model_construct's per-field loop (a third of
    extraction's cost per signal); see watchfloor.schemas.fast."""
    probe: dict[str, Any] = {
        "id": "i",
        "name": "n",
        "document_id": "d",
        "source": "s",
        "url": None,
        "published_at": _EPOCH,
        "sentence": "t",
        "sentence_index": 0,
        "modality": "asserted",
        "cue": None,
        "entities": ("E",),
        "places": (),
        "captures": {"c": "E"},
    }
    return trusted_maker(Signal, probe)


def _viable_signals(rules: CompiledRules, norm: str, hits: list[tuple[int, tuple[AutomatonEntry, ...]]]) -> set[str]:
    """Signals that can possibly match somewhere in the document, from the phrase and entity
    matches over all its words. Sentence boundaries and overlapping entity names are ignored, so
    this finds every atom the per-sentence reading finds, and maybe more: it never drops a document
    that matches. Empty for most news."""
    present: set[str] = set()
    for end_char, bucket in hits:
        bounded = norm[end_char + 1] == " "
        for entry in bucket:
            if bounded or entry.stem:
                present.add(entry.key)
    viable: set[str] = set()
    if not present:
        return viable
    requirements = rules.requirements
    for atom in present:
        for sname in rules.signals_by_atom.get(atom, ()):
            if sname in viable:
                continue
            for clause in requirements[sname]:
                if clause.isdisjoint(present):
                    break
            else:
                viable.add(sname)
    return viable


def _sentences(text: str, view: str, norm: str, hits: list[tuple[int, tuple[AutomatonEntry, ...]]]) -> _Scan | None:
    """Sentences of a document whose word view is aligned with its text: each sentence's words are a
    slice of the view, and the matches over all the words are reused (those across a boundary drop)."""
    toks: list[list[str]] = []
    spans: list[tuple[int, int]] = []
    scan_starts: list[int] = []
    nwords = 0  # index in `norm`
    for start, end in sentence_spans(text):
        words = view[start + 1 : end + 1].split()
        if words:  # a sentence of punctuation only has no words to match
            toks.append(words)
            spans.append((start, end))
            scan_starts.append(nwords)
            nwords += len(words)
    if not toks:
        return None
    return _Scan(text, norm, hits, toks, scan_starts, spans, None)


def _sentences_rescanned(rules: CompiledRules, text: str) -> _Scan | None:
    """Sentences of any document: tokenised one by one, joined with a '|' token between them (no
    phrase contains one, so none matches across a boundary), and matched again."""
    texts: list[str] = []
    toks: list[list[str]] = []
    for st in split_sentences(text):
        words = tokens(st)
        if words:  # a sentence of punctuation only would break the token arithmetic
            texts.append(st)
            toks.append(words)
    if not toks:
        return None
    norm = " " + " | ".join(" ".join(t) for t in toks) + " "
    hits = list(rules.trigger.iter(norm)) if rules.trigger is not None else []
    scan_starts: list[int] = []
    pos = 0
    for t in toks:
        scan_starts.append(pos)
        pos += len(t) + 1
    return _Scan(text, norm, hits, toks, scan_starts, None, texts)


def _read_cues(rules: CompiledRules, sent: _Sentence) -> None:
    """The modality cues of a sentence, in text order."""
    sent.cues_read = True
    if rules.cue_automaton is None:
        return
    toks = sent.toks
    norm = " " + " ".join(toks) + " "
    for end_char, bucket in rules.cue_automaton.iter(norm):
        bounded = norm[end_char + 1] == " "
        last = -1
        for entry in bucket:
            if not bounded and not entry.stem:
                continue
            if last < 0:
                last = norm.count(" ", 0, end_char) - 1
            # "May 9" is a date, not a hedge: ignore a cue followed by a number.
            if last + 1 < len(toks) and toks[last + 1].isdigit():
                continue
            first = last - entry.nwords + 1
            sent.cues.append((entry.cue_class, sent.start + first, sent.start + last, entry.key))


def _cue_words(sent: _Sentence, s: int, e: int) -> str:
    return " ".join(sent.toks[s - sent.start : e - sent.start + 1])


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
                toks = sent.toks
            first = max(lo, s - 4) - sent.start
            if "by" in toks[first : s - sent.start]:
                return eid
    # 2. The nearest mention before the signal's words (usually the subject).
    before = [m for m in mentions if m[1] < lo or (m[0] <= lo <= m[1])]
    if before:
        return max(before, key=lambda m: m[1])[2]
    # 3. Else the first one after.
    return mentions[0][2]
