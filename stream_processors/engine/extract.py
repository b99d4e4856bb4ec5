"""Extract: document -> signals. One automaton pass per document, then conditions per sentence."""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from hashlib import sha256 as _sha256
from typing import Any

from watchfloor.schemas.events import FIRST_SEEN, Document, Signal, title_stop_added
from watchfloor.schemas.fast import trusted_maker
from watchfloor.schemas.inputs import CheckedInput

from .captures import capture, fallback_capture, rundown
from .compiled import GDELT_ROLE, NativeScreen, Probe
from .compiler import CompiledRules, CompiledSignal, Node
from .gdelt import gdelt_captures, gdelt_facts, gdelt_miss
from .modality import ModalityReason, clause_apart, is_plain, may_be_not_yet, read_cues, resolve, resolve_at
from .phrases import ElidedAliases, elided_before
from .scan import (
    Match,
    Scan,
    Sentence,
    Sentences,
    Span,
    aligned_scan,
    aligned_sentences,
    find_matches,
    holds,
    rescanned,
    screen_atoms,
    tokenised_sentences,
)
from .stories import story_signature
from .text import aligned_word_view, cased_tokens, clean_sentence, split_sentences, strip_html, tokens

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

__all__ = ["Extractor", "Sentence", "Span", "evaluate", "smallest_window"]


def evaluate(node: Node, sent: Any, lowered: list[str | None]) -> list[list[Span]] | None:
    """None when the condition fails; else the components (each a list of spans) it matched. `sent`
    is a Sentence, or anything with `atoms` and `text` (the whole document, for context words)."""
    tag = node[0]
    if tag == "atom":
        spans = sent.atoms.get(node[1])
        return [spans] if spans else None
    if tag == "any":
        # Any is one part: when every alternative that matched is one part itself (a phrase, or an any of
        # phrases), their spans together are that part, so the window is the shortest with a phrase of each part
        # whichever alternative that is, and an unrelated alternative later in the sentence cannot move it (outside
        # trial 44, H2: "orders ambassador to leave within 48 hours" matched "48 hours"). Otherwise it picks one
        # alternative: the one whose matched words lie closest together, so a nested all-clause keeps its own
        # components (and `near` still applies to them).
        found: list[list[list[Span]]] = []
        for child in node[1]:
            if child[0] == "atom":  # inline of the general case below, for the common any-of-phrases
                spans = sent.atoms.get(child[1])
                if spans:
                    found.append([spans])
                continue
            got = evaluate(child, sent, lowered)
            if got is not None:
                found.append([c for c in got if c])
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        if all(len(g) == 1 for g in found):
            return [[sp for g in found for sp in g[0]]]
        best: list[list[Span]] | None = None
        best_width = 1 << 30
        for nonempty in found:
            win = smallest_window(nonempty)
            width = (win[1] - win[0]) if win is not None else 1 << 29
            if best is None or width < best_width:
                best, best_width = nonempty, width
        return best
    if tag == "all":
        comps: list[list[Span]] = []
        for child in node[1]:
            got = evaluate(child, sent, lowered)
            if got is None:
                return None
            comps.extend(got)
        return comps
    if tag == "none":
        for child in node[1]:
            if evaluate(child, sent, lowered) is not None:
                return None
        return []
    if tag == "re":
        if lowered[0] is None:
            lowered[0] = sent.text.lower()
        return [] if node[1].search(lowered[0]) else None
    raise AssertionError(tag)


def smallest_window(components: list[list[Span]]) -> Span | None:
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


class DocumentView:
    """The whole document as one 'sentence' for context words: every atom found in any sentence."""

    __slots__ = ("atoms", "text")

    def __init__(self, text: str, sentences: list[Sentence]) -> None:
        self.text = text
        self.atoms: dict[str, list[Span]] = {}
        for s in sentences:
            for k, spans in s.atoms.items():
                self.atoms.setdefault(k, []).extend(spans)


class SentenceMatch:
    """A signal matched in a sentence: the window of its words, its own phrases' spans, captures."""

    __slots__ = ("capture_reasons", "captures", "others", "own", "window")

    def __init__(
        self,
        window: Span,
        own: list[Span],
        captures: dict[str, str],
        reasons: dict[str, str],
        others: tuple[Span, ...] = (),
    ) -> None:
        self.window = window
        self.own = own
        self.captures = captures
        self.capture_reasons = reasons
        self.others = others  # the signal's other matches in the sentence, in text order (_other_matches)


class Extractor:
    """Stateless: the same document always gives the same signals."""

    def __init__(self, rules: CompiledRules) -> None:
        self.rules = rules
        # The native first pass (wordscreen.py), built here (as the engine starts) rather than at compile: `rules
        # check` never needs it. None without the native engine.
        self.word_screen = rules.word_screen
        self._make_signal = signal_maker()
        self._story_of: tuple[str, str] = ("\0", "")  # (document text, story signature): the last one made

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
            low = part.lower()
            if "ё" in low:  # tokens read "ё" as "е" (and so do the stems the gate words come from)
                low = low.replace("ё", "е")
            for _ in gate.iter(low):
                return True
        return False

    def scan(
        self, doc: Document | CheckedInput, *, every: bool = False, screen: bool = True, native_screen: bool = True
    ) -> tuple[Scan | None, set[str] | None]:
        """The document's sentences with their phrase and entity matches, and the signals that may match
        (None: any). With `every`, no shortcut: sentences are made even when no signal is possible. Without
        `screen`, no first pass of trigger atoms (a document that passed `may_match` holds a trigger word
        already: the screen's probes would cost more than they save; backtests, BENCHMARKS.md). Without
        `native_screen`, not the native word screen either: it also knows which words share a sentence, so it
        lets on fewer documents than the passes here; what a document may match is then the same in every
        build (rules explain shows the documents a signal may match, near misses included)."""
        rules = self.rules
        text = doc.text
        if "<" in text or "&" in text:
            text = strip_html(text)
        if rules.trigger is None and not rules.always_signals and not every:
            return None, set()  # nothing to match
        # One automaton pass over all the document's words finds its phrases and entity names.
        view, aligned = aligned_word_view(text)
        words = view.split()
        norm = " " + " ".join(words) + " "
        trigger = rules.trigger
        viable: set[str] | None = None
        language = getattr(doc, "language", None)
        sentences: Sentences | None = None
        native = self.word_screen if native_screen and not every and not rules.always_signals else None
        if native is not None:
            # One pass in C over the words says whether any signal can be viable (wordscreen.py): most
            # news stops here, and the cost follows the words, not the rules' phrases found in them. Where
            # it may be, a second pass that knows the sentences asks whether the phrases and mentions a
            # signal needs are in one of them, before the full automaton pass (its cost follows the phrases).
            got = native.may_match(norm)
            if not got:
                return None, set()
            if not aligned:  # (markup, or characters the view reads apart): its sentences are tokenised apart
                return self._scan_apart(native, text, language)
            if got == 2:  # only signals that need two clauses in one sentence: which sentences?
                sentences = aligned_sentences(text, view, words, language)
                if sentences is None:
                    return None, set()
                if len(sentences[2]) > 1 and not native.may_match(norm, sentences[2][1:]):
                    return None, set()
            toks, starts = (sentences[0], sentences[2]) if sentences is not None else (None, None)
            found, viable = self._screened(native, norm, words, toks, starts)
            if not found:
                return None, set()
        elif screen and rules.screen is not None and not rules.always_signals:
            # A first pass finds only the signals' trigger atoms (and looks up their other clauses):
            # with many selective rules, most documents stop here, before the full pass.
            present = screen_atoms(rules.screen, norm, words)
            viable = _viable_signals(rules, present, norm, words, set(words)) if present else set()
            if not viable and not every:
                return None, viable
        if native is None:
            found = find_matches(trigger, norm, words) if trigger is not None else []
        if viable is None and not rules.always_signals:
            # Most news can match no signal: drop it before splitting sentences.
            viable = (
                _viable_signals(rules, {entry.key for entry, _f, _l in found}, norm, words, set()) if found else set()
            )
            if not viable and not every:
                return None, viable
        if aligned:
            scan = aligned_scan(text, view, words, found, language, sentences)
        else:
            scan = rescanned(trigger, text, language)
        if scan is None:
            return None, viable
        _place_matches(scan, self.rules.elided)
        return scan, viable

    def _screened(
        self, native: NativeScreen, norm: str, words: list[str], toks: list[list[str]] | None, starts: list[int] | None
    ) -> tuple[list[Match], set[str] | None]:
        """The matches of a document the word screen let on, and the signals whose requirements it found held (a
        superset of those that match; None when it stopped at its first hit and does not know them). With 100,000
        rules the automaton finds dozens of phrases in an article, and a viability test of each (_viable_signals)
        costs more than the whole screen: these signals are all the extractor needs to ask for. Where the screen
        read the sentences (`toks`, the first word of each at `starts`), it also says which ones can hold a match:
        only those are read by the automaton, unless a signal has conditions on the whole document."""
        rules = self.rules
        held = native.held()
        if held is None:
            return find_matches(rules.trigger, norm, words), None
        viable, where = held
        if toks is not None and starts is not None and len(toks) > 1 and where != _EVERY:
            if not any(_reads_document(rules.signals[name]) for name in viable):
                return _found_in(rules.trigger, toks, starts, where), viable
        return find_matches(rules.trigger, norm, words), viable

    def _scan_apart(self, native: NativeScreen, text: str, language: str | None) -> tuple[Scan | None, set[str] | None]:
        """scan() of a document the word screen let on whose word view is not aligned with its text: its sentences
        are tokenised apart (scan.rescanned) and asked of the screen again, with their starts, before any automaton
        pass; then read as scan() reads an aligned one."""
        rules = self.rules
        got = tokenised_sentences(text, language)
        if got is None:
            return None, set()
        toks, texts, starts, words = got
        norm = " " + " ".join(words) + " "
        if len(toks) > 1 and not native.may_match(norm, starts[1:]):
            return None, set()
        found, viable = self._screened(native, norm, words, toks, starts)
        if not found:
            return None, set()
        if viable is None:
            viable = _viable_signals(rules, {entry.key for entry, _f, _l in found}, norm, words, set())
            if not viable:
                return None, viable
        scan = Scan(text, found, toks, starts, None, texts)
        _place_matches(scan, self.rules.elided)
        return scan, viable

    def extract(self, doc: Document | CheckedInput, *, screen: bool = True) -> list[Signal]:
        """The document's signals. A checked input (watchfloor.schemas.inputs.CheckedInput) is built into its
        Document only if a signal comes out: most texts that pass the gate still match nothing."""
        scan, viable = self.scan(doc, screen=screen)
        if scan is None:
            return []
        return self.signals(doc, scan, viable)

    def signals(self, doc: Document | CheckedInput, scan: Scan, viable: set[str] | None) -> list[Signal]:
        """The signals of a document whose scan found something (`scan`'s results, once: it notes cues
        and facts on the sentences), in canonical order: by sentence, then signal name (the order the
        correlator keeps observations in, so a document's own signals always arrive in order)."""
        rules = self.rules
        always = rules.always_signals
        # Regex signals read every sentence; the others only the sentences holding one of their atoms.
        sents = scan.sentences(every=bool(always))
        by_atom = rules.signals_by_atom
        todo: list[tuple[Sentence, list[str]]] = []
        # A few viable signals (the word screen's, or _viable_signals'): each sentence is asked for theirs, by
        # their requirements, rather than for every signal of each of its phrases (at 100,000 rules, a common
        # phrase is in hundreds). The same sentences and signals either way: a signal's requirements name its
        # atoms, and those it does not meet it cannot match (match_sentence tests them first).
        narrow: list[tuple[str, tuple[frozenset[str], ...]]] | None = None
        if viable is not None and not always and len(viable) <= _NARROW:
            narrow = [(name, rules.signals[name].needs) for name in sorted(viable)]
            if not all(needs for _n, needs in narrow):
                narrow = None
        for sent in sents:
            if narrow is not None:
                atoms = sent.atoms
                mine = [name for name, needs in narrow if all(not c.isdisjoint(atoms) for c in needs)]
                if mine:
                    todo.append((sent, mine))
                continue
            names: set[str] = set(always)
            for atom in sent.atoms:
                got = by_atom.get(atom)
                if got is not None:
                    names.update(got)
            if viable is not None:
                names &= viable
            if names:
                todo.append((sent, sorted(names) if len(names) > 1 else list(names)))
        if not todo:
            return []
        made: list[Signal] = []
        built: Document | None = doc if isinstance(doc, Document) else None
        headline = bool(doc.title)
        signals = rules.signals
        story_signals = rules.story_signals
        make = self._make_signal
        context: dict[str, bool] = {}  # per signal with conditions on the whole document: whether they hold
        doc_id = source = feed = url = published_at = None
        first_seen = False
        coded: dict[str, str] | None = None  # a GDELT event's facts (gdelt_facts)
        title_end: tuple[int, str] | None = None  # the title's sentences and last words, when its full stop is ours
        title_sentences: int | None = None  # how many of the first sentences are the title's, once a capture asks
        for sent, in_order in todo:
            index = sent.index
            first = headline and index == 0
            plain: bool | None = None
            facts: tuple[tuple[str, ...], tuple[str, ...]] | None = None
            # Per (window[, own spans]): the modality, cue and the negation's tokens (when negated). Signals that match
            # the same words of the sentence (rules sharing a phrase, or its forms) read the same cues: resolved once.
            modalities: dict[tuple[Any, ...], tuple[str, str | None, Span | None]] = {}
            for sname in in_order:
                sig = signals[sname]
                simple = sig.simple
                match: SentenceMatch | None = None
                if simple is None:
                    ok = context.get(sname)
                    if ok is None:
                        if sig.gdelt is not None and built is None:
                            built = doc.build()  # type: ignore[union-attr]
                        ok = context[sname] = self._context_holds(sig, scan, sents, built)
                    if not ok:
                        continue
                    match = self.match_sentence(sig, sent)
                    if match is None:
                        continue
                if plain is None:  # the sentence's first signal: what all of its signals share
                    if not sent.cues_read:  # modality cues: only for sentences with a match
                        read_cues(rules, sent)
                    # Most sentences: no cue, no verb form (the window is moot).
                    # (a plain sentence that holds a lead of an event not yet is read per signal: resolve reads
                    # only that there)
                    plain = is_plain(rules, sent, first) and not may_be_not_yet(rules, sent)
                    facts = sent.facts
                    if facts is None:
                        facts = sent.facts = self._facts(sent)
                    if built is None:
                        built = doc.build()  # type: ignore[union-attr]
                    if doc_id is None:
                        doc_id, source, url, published_at = built.id, built.source.name, built.url, built.published_at
                        feed = built.source.feed
                        # An undated feed entry, dated when first seen: its evidence is shown so (events.dated_text).
                        first_seen = built.metadata.get("date") == FIRST_SEEN
                        coded = gdelt_facts(built.metadata) if "gdelt" in built.metadata else None
                        if title_stop_added(built.title, built.body):
                            title_end = _title_end(built.title, built.language)
                if plain:
                    modality: str = "asserted"
                    cue: str | None = None
                else:
                    if match is None:
                        assert simple is not None
                        window = _simple_window(simple, sent.atoms)
                        own = [window]
                        key: tuple[Any, ...] = window
                    else:
                        window, own = match.window, match.own
                        key = (window, *own)
                    known = modalities.get(key)
                    if known is None:
                        assert built is not None
                        m, c, _why, at = resolve_at(
                            rules, sent, window, own, headline=first, published=built.published_at.date()
                        )
                        known = modalities[key] = (m, c, at)
                    modality, cue, negation = known
                    if negation is not None:
                        # A negated match: another match of the signal in a clause of its own may be asserted
                        # («ранены трое, погибших нет»; outside trial 66, MED-4).
                        others = (
                            match.others
                            if match is not None
                            else _other_matches([[sp for a in simple or () for sp in sent.atoms.get(a, ())]], window)
                        )
                        assert built is not None
                        apart = self.asserted_apart(
                            sent, window, negation, others, headline=first, published=built.published_at.date()
                        )
                        if apart is not None:
                            modality, cue = "asserted", None
                            if match is not None:
                                match = self.rematch(sig, sent, apart[0])
                assert facts is not None and built is not None
                captures = match.captures if match is not None else {}
                if sig.capture_fallbacks:
                    if title_sentences is None:
                        title_sentences = headline_sentences(built)
                    captures = self.fallback_captures(sig, sent, captures, None, sents, title_sentences)
                if sig.gdelt_captures:
                    captures = {**captures, **gdelt_captures(sig.gdelt_captures, built.metadata)}
                if coded:  # a GDELT event's facts, for its alert to show (a capture of the signal's own name wins)
                    captures = {**captures, **{k: v for k, v in coded.items() if k not in captures}}
                made.append(
                    make(
                        {  # every field, in the model's order
                            "id": _sha256(f"{doc_id}\x1f{sname}\x1f{index}".encode()).hexdigest()[:24],
                            "name": sname,
                            "document_id": doc_id,
                            "source": source,
                            "feed": feed,
                            "url": url,
                            "published_at": published_at,
                            "sentence": sent.text if title_end is None else quoted(sent.text, index, title_end),
                            "sentence_index": index,
                            "modality": modality,
                            "cue": cue,
                            "entities": facts[0],
                            "places": facts[1],
                            "captures": captures,
                            "story": self._story(built, sent) if sname in story_signals else None,
                            "first_seen": first_seen,
                        }
                    )
                )
        return made

    def _context_holds(self, sig: CompiledSignal, scan: Scan, sents: list[Sentence], doc: Document | None) -> bool:
        """Whether a signal's conditions on the whole document (its GDELT event's coded fields, context entities and
        words) hold."""
        if sig.gdelt is not None and (doc is None or gdelt_miss(sig.gdelt, doc.metadata) is not None):
            return False
        doc_entities: set[str] = set()
        for sent in sents:
            doc_entities |= sent.entities
        if not context_ok(sig, doc_entities):
            return False
        words = sig.context_words
        return words is None or evaluate(words, DocumentView(scan.text, sents), [None]) is not None

    def match_sentence(self, sig: CompiledSignal, sent: Sentence, *, explain: bool = False) -> SentenceMatch | None:
        """The matched window, own spans and captures when `sig` matches `sent`, else None."""
        if not sent.atoms and not sig.uses_regex:
            return None
        ents = sent.entities
        if sig.mention_all and not sig.mention_all <= ents:
            return None
        if sig.mention_any and not (sig.mention_any & ents):
            return None
        # In a rundown (its stories between ";"), the signal's words stand in one part, and `mentions` reads that part
        # only, as captures do: another story's words do not complete the signal (outside trial 47, H2), and its
        # names neither satisfy `mentions` nor exclude (outside trial 41, H1).
        parts = rundown(sent)
        if sig.mention_none and parts is None and (sig.mention_none & ents):
            return None
        atoms = sent.atoms
        for clause in sig.needs:  # a necessary condition, cheaper than evaluating the tree
            if clause.isdisjoint(atoms):
                return None
        lowered: list[str | None] = [None]
        comps = evaluate(sig.node, sent, lowered)
        if comps is None:
            return None
        comps = [c for c in comps if c]
        window = smallest_window(comps) or (sent.start, max(sent.start, sent.end - 1))
        if parts is not None:
            found = _in_part(sig, sent, parts, comps, window)
            if found is None:
                return None
            comps, window = found
        if sig.near is not None and window[1] - window[0] + 1 > sig.near:
            return None
        lo, hi = window
        own = [sp for comp in comps for sp in comp if lo <= sp[0] and sp[1] <= hi]
        captures, reasons = self._captures(sig, sent, window, own, explain)
        # The other matches of a signal of one part (an `any` of phrases), read when this one is negated; not in a
        # rundown, whose other matches may be other stories.
        others = _other_matches(comps, window, sig.near) if parts is None and len(comps) == 1 else ()
        return SentenceMatch(window, own, captures, reasons, others)

    def _captures(
        self, sig: CompiledSignal, sent: Sentence, window: Span, own: list[Span], explain: bool
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The signal's captures read around its words, and why (when `explain`). Those that take different entities
        (CompiledSignal.distinct_captures) are read in their order, each without the entities the ones before took;
        the values keep the pack's order."""
        captures: dict[str, str] = {}
        reasons: dict[str, str] = {}
        kinds = self.rules.entity_kinds
        order = sig.distinct_captures
        values: dict[int, str] = {}  # of the captures in `order`
        if order:
            taken: dict[str, str] = {}  # entity -> the capture that took it
            for i in order:
                cname, candidates, kind, role = sig.captures[i]
                value, why = capture(sent, window, own, candidates, kind, kinds, role, explain=explain, taken=taken)
                if value is not None:
                    values[i] = value
                    taken[value] = cname
                if explain:
                    reasons[cname] = why
        for i, (cname, candidates, kind, role) in enumerate(sig.captures):
            if role.startswith(GDELT_ROLE):
                continue  # the document's coded field, not the sentence's: taken in signals()
            if i in order:
                if i in values:
                    captures[cname] = values[i]
                continue
            value, why = capture(sent, window, own, candidates, kind, kinds, role, explain=explain)
            if value is not None:
                captures[cname] = value
            if explain:
                reasons[cname] = why
        if explain and order:
            reasons = {c[0]: reasons[c[0]] for c in sig.captures if c[0] in reasons}
        return captures, reasons

    def fallback_captures(
        self,
        sig: CompiledSignal,
        sent: Sentence,
        captures: dict[str, str],
        reasons: dict[str, str] | None,
        sentences: list[Sentence],
        headline: int,
    ) -> dict[str, str]:
        """`captures` with each capture of the signal that has a `fallback` and that its sentence names no candidate
        of filled from the document's headline (its first `headline` of `sentences`) or other sentences
        (captures.fallback_capture); a new dict when one is. Its reason goes in `reasons` (when explaining)."""
        filled = captures
        kinds = self.rules.entity_kinds
        # Of the captures that take different entities, in the order they are read: a fallback takes none that one
        # read before it took, as the sentence's reading did (what one read after took was no candidate's then).
        distinct = [sig.captures[i][0] for i in sig.distinct_captures]
        for cname, fallback in sig.capture_fallbacks:
            if cname in captures:
                continue
            before = distinct[: distinct.index(cname)] if cname in distinct else []
            taken = {filled[k]: k for k in before if k in filled}
            for name, candidates, kind, _role in sig.captures:
                if name != cname:
                    continue
                value, why = fallback_capture(sent, sentences, headline, candidates, kind, kinds, fallback, taken)
                if value is not None:
                    if filled is captures:
                        filled = dict(captures)
                    filled[cname] = value
                    if reasons is not None:
                        reasons[cname] = why
                elif reasons is not None and why:
                    said = reasons.get(cname, "")
                    reasons[cname] = f"{said}; {why}" if said else why
        return filled

    def rematch(self, sig: CompiledSignal, sent: Sentence, span: Span, *, explain: bool = False) -> SentenceMatch:
        """The signal read on another of its matches (`span`, one phrase): its captures read around it."""
        captures, reasons = self._captures(sig, sent, span, [span], explain)
        return SentenceMatch(span, [span], captures, reasons)

    def asserted_apart(
        self,
        sent: Sentence,
        window: Span,
        negation: Span,
        others: tuple[Span, ...],
        *,
        headline: bool,
        published: date | None,
    ) -> tuple[Span, str] | None:
        """The first of a signal's other matches (`others`, in text order) that is asserted and stands in a clause of
        its own (modality.clause_apart) apart from each of its negated matches with its negation (the match read,
        `window`, negated by the cue at `negation`), with why; else None. "Ранены трое, погибших нет" is read on
        «ранены»; "пострадавших и погибших нет" stays negated (one clause), as does a match that is hedged or to come.
        """
        if not others:
            return None
        negated = [(min(window[0], negation[0]), max(window[1], negation[1]))]
        asserted: list[Span] = []
        for span in others:
            modality, _cue, _why, at = resolve_at(
                self.rules, sent, span, [span], headline=headline, published=published
            )
            if modality == "asserted":
                asserted.append(span)
            elif at is not None:
                negated.append((min(span[0], at[0]), max(span[1], at[1])))
        for span in asserted:
            whys = [clause_apart(sent, span, lo, hi) for lo, hi in negated]
            if all(why is not None for why in whys):
                return span, str(whys[0])
        return None

    def passed_over(
        self, sig: CompiledSignal, sent: Sentence, match: SentenceMatch, *, headline: bool, published: date | None
    ) -> tuple[SentenceMatch | None, str] | None:
        """For rules explain, when `match` is negated and the signal matched elsewhere in the sentence: the signal read
        on another match instead (asserted_apart), with what was passed over and why; or None with why none of the
        others is read. None when there is nothing to say (one match, or not negated)."""
        if not match.others:
            return None
        if not sent.cues_read:
            read_cues(self.rules, sent)
        modality, cue, _why, at = resolve_at(
            self.rules, sent, match.window, match.own, headline=headline, published=published
        )
        if modality != "negated" or at is None:
            return None
        apart = self.asserted_apart(sent, match.window, at, match.others, headline=headline, published=published)
        if apart is not None:
            span, why = apart
            note = (
                f"passed over “{sent.words(*match.window)}”, negated (cue {cue!r}): “{sent.words(*span)}” is asserted"
                f" and stands apart from it: {why}"
            )
            return self.rematch(sig, sent, span, explain=True), note
        # Why each other match is not read: "пострадавших и погибших нет" is one clause.
        said = []
        for span in match.others:
            other, _c, _w, _a = resolve_at(self.rules, sent, span, [span], headline=headline, published=published)
            if other == "asserted":
                said.append(
                    f"“{sent.words(*span)}” is asserted alone, but not in a clause of its own apart from the negation"
                )
            else:
                said.append(f"“{sent.words(*span)}” is {other}")
        return None, "other matches not read: " + "; ".join(said)

    def _facts(self, sent: Sentence) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A sentence's entities and places, as its signals carry them. The signal's id is
        stable_id(document id, signal name, sentence index), spelled out in `extract` (the same hash)."""
        if not sent.entities:
            return (), ()
        kinds = self.rules.entity_kinds
        places = tuple(sorted({eid for _s, _e, eid in sent.mentions if kinds.get(eid) == "place"}))
        return tuple(sorted(sent.entities)), places

    def _story(self, doc: Document, sent: Sentence) -> str:
        """The document's story signature (stories.py), once per document (its text is the key: ids are
        not unique across streams, texts are what the signature is of)."""
        text = doc.text
        if self._story_of[0] != text:
            self._story_of = (text, story_signature(tokens(strip_html(text))))
        return self._story_of[1]

    def modality(
        self, sent: Sentence, match: SentenceMatch, *, headline: bool, published: date | None = None
    ) -> tuple[str, str | None, ModalityReason]:
        """The modality of a match, with the reason (for explanations); `published`: the document's date."""
        if not sent.cues_read:
            read_cues(self.rules, sent)
        modality, cue, why = resolve(
            self.rules, sent, match.window, match.own, headline=headline, explain=True, published=published
        )
        assert why is not None
        return modality, cue, why


def headline_sentences(doc: Document) -> int:
    """How many of the document's first sentences are its title's (0 with no title)."""
    return _title_end(doc.title, doc.language)[0] if doc.title else 0


def _title_end(title: str, language: str | None) -> tuple[int, str]:
    """How many sentences a title is read as, and its text as a sentence's (markup removed, spaces as one)."""
    if "<" in title or "&" in title:
        title = strip_html(title)
    return len(split_sentences(title, language)), clean_sentence(title)


def quoted(text: str, index: int, title_end: tuple[int, str]) -> str:
    """A sentence's text as a signal quotes it: the title's last sentence without the full stop joined_text gave
    it (the source's headline has none), every other sentence as read. Only the quote: the sentence read, and the
    ids (of the document, signal name and index), are the same either way."""
    sentences, title = title_end
    if index < sentences and text.endswith(".") and title.endswith(text[:-1]):
        return text[:-1]
    return text


def _simple_window(atoms: tuple[str, ...], present: dict[str, list[Span]]) -> Span:
    """The window `evaluate` picks for "any of these atoms": the alternative whose narrowest match is
    the narrowest (the first on a tie), and that match."""
    best: Span | None = None
    width = 1 << 30
    for a in atoms:
        spans = present.get(a)
        if spans:
            sp = spans[0] if len(spans) == 1 else min(spans, key=_width)
            if sp[1] - sp[0] < width:
                best, width = sp, sp[1] - sp[0]
    assert best is not None
    return best


def _width(sp: Span) -> int:
    return sp[1] - sp[0]


def _other_matches(comps: list[list[Span]], window: Span, near: int | None = None) -> tuple[Span, ...]:
    """The spans of a one-part match's phrases other than the window read, in text order (within `near`)."""
    spans = {sp for sp in comps[0] if sp != window and (near is None or sp[1] - sp[0] + 1 <= near)}
    return tuple(sorted(spans)) if spans else ()


def signal_maker() -> Callable[[dict[str, Any]], Signal]:
    """Signals are built from trusted values without model_construct's per-field loop (a third of
    extraction's cost per signal); see watchfloor.schemas.fast."""
    probe: dict[str, Any] = {
        "id": "i",
        "name": "n",
        "document_id": "d",
        "source": "s",
        "feed": None,
        "url": None,
        "published_at": _EPOCH,
        "sentence": "t",
        "sentence_index": 0,
        "modality": "asserted",
        "cue": None,
        "entities": ("E",),
        "places": (),
        "captures": {"c": "E"},
        "story": None,
        "first_seen": False,
    }
    return trusted_maker(Signal, probe)


# Up to this many viable signals, signals() asks each sentence for them rather than for its phrases' signals.
_NARROW = 16
_EVERY = 0xFFFFFFFF  # the word screen's sentence mask when every sentence may hold a match


def _reads_document(sig: CompiledSignal) -> bool:
    """Whether a signal has conditions on the whole document (context), or a capture that falls back to another
    sentence: read from every sentence's matches."""
    return bool(
        sig.context_any
        or sig.context_all
        or sig.context_none
        or sig.context_words is not None
        or sig.capture_fallbacks  # its capture may be named in another sentence
    )


def _found_in(trigger: Any, toks: list[list[str]], starts: list[int], where: int) -> list[Match]:
    """find_matches over only the sentences whose bit `where` has (bit k: sentence k; bit 31: the 32nd and
    later), in the document's word indices (sentence k's words toks[k] begin at starts[k]). The same matches as
    over all the words, in those sentences: a match that runs across a sentence break is dropped either way
    (_place_matches)."""
    out: list[Match] = []
    for k, sub in enumerate(toks):
        if not (where >> (k if k < 31 else 31)) & 1:
            continue
        shift = starts[k]
        for entry, first, last in find_matches(trigger, " " + " ".join(sub) + " ", sub):
            out.append((entry, first + shift, last + shift))
    return out


def _viable_signals(
    rules: CompiledRules, present: set[str], norm: str, words: list[str], vocabulary: set[str]
) -> set[str]:
    """Signals that can possibly match somewhere in the document, from the phrases and entity names
    found in all its words (`norm` is " " + " ".join(words) + " "). Sentence boundaries and
    overlapping entity names are ignored, so this finds every atom the per-sentence reading finds,
    and maybe more: it never drops a document that matches. Empty for most news. `present` holds at
    least every trigger atom of the viability index that occurs: all atoms found by the full automaton,
    or, from the screen, only the triggers, and then an atom of another clause is looked up with its
    probe (rules.probes), once per document; `vocabulary` is then set(words)."""
    viable: set[str] = set()
    index = rules.viability
    probes = rules.probes if rules.screen is not None else None
    looked: dict[str, bool] = {}
    for atom in present:
        got = index.get(atom)
        if got is None:
            continue
        alone, by_partner, general = got
        if alone:
            viable.update(alone)
        for partner, names in by_partner:
            if partner in present or (probes is not None and _holds(partner, probes, looked, norm, words, vocabulary)):
                viable.update(names)
        for sname, others in general:
            for clause in others:
                if not clause.isdisjoint(present):
                    continue
                if probes is None:
                    break
                for other in clause:
                    if _holds(other, probes, looked, norm, words, vocabulary):
                        break
                else:
                    break  # no atom of the clause occurs
            else:
                viable.add(sname)
    return viable


def _holds(
    atom: str, probes: dict[str, Probe], looked: dict[str, bool], norm: str, words: list[str], vocabulary: set[str]
) -> bool:
    """Whether the atom occurs in the words, by its probe (once per document)."""
    got = looked.get(atom)
    if got is None:
        probe = probes.get(atom)
        got = looked[atom] = probe is not None and holds(probe, norm, words, vocabulary)
    return got


def _place_matches(scan: Scan, elided: ElidedAliases) -> None:
    """Put each match into its sentence (one that runs into the next sentence is dropped): phrases as atoms;
    entity names as mentions, leftmost-longest first, so "South Korea" is never read as "Korea". Adjectives
    coordinated before a Russian alias name their own entities, first ("над Брянской и Курской областями": @BRY,
    then @KUR; phrases.elided_before), each a one-word mention."""
    scan_starts, starts, ends, objs = scan.scan_starts, scan.starts, scan.ends, scan.objs
    one = len(scan_starts) == 1  # (then every match is in sentence 0, which starts at word 0)
    entity_hits: list[tuple[int, int, str, Sentence]] = []
    nouns: dict[tuple[int, str], str] = {}  # (first token, key) of an alias hit -> its last word, where it can elide
    for entry, first, last in scan.matches_:
        # Scan indices (words of the scan) to token indices (document-wide, one '|' between sentences).
        k = 0 if one else bisect_right(scan_starts, first) - 1
        shift = starts[k] - scan_starts[k]
        last += shift
        if last >= ends[k]:
            continue  # runs into the next sentence
        first += shift
        sent = objs[k] or scan.sentence(k)
        if entry.kind == "phrase":
            if entry.capitals and not _in_capitals(sent, first, entry.capitals):
                continue  # "sanctions by @USA" is not "sanctions by us"
            spans = sent.atoms.get(entry.key)
            if spans is None:
                sent.atoms[entry.key] = [(first, last)]
            else:
                spans.append((first, last))
        elif not entry.capitals or _in_capitals(sent, first, entry.capitals):
            entity_hits.append((first, last, entry.key, sent))
            if elided and entry.verify is not None and entry.nwords == 2 and entry.verify[1][1] in elided:
                nouns[first, entry.key] = entry.verify[1][1]
    if not entity_hits:
        return
    if len(entity_hits) > 1:
        entity_hits.sort(key=_leftmost_longest)
    taken_until = -1
    for s, e, key, sent in entity_hits:
        if s <= taken_until:
            continue
        if nouns:
            noun = nouns.get((s, key))
            if noun is not None:
                base = sent.start
                for i, other in elided_before(sent.toks, s - base, key, noun, elided):
                    if i + base > taken_until:
                        sent.mentions.append((i + base, i + base, other[1:]))
                        sent.entities.add(other[1:])
                        sent.atoms.setdefault(other, []).append((i + base, i + base))
        taken_until = e
        eid = key[1:]
        sent.mentions.append((s, e, eid))
        sent.entities.add(eid)
        sent.atoms.setdefault(key, []).append((s, e))


def _in_capitals(sent: Sentence, first: int, capitals: tuple[int, ...]) -> bool:
    """Whether the words from token `first` are written in capitals as far as an alias in capitals asks
    (AutomatonEntry.capitals): "US" and "U.S." name the United States, "us" and "Us" do not; "МИДа" keeps "МИД".
    When the words as written do not line up with the tokens (a letter lower-cased into two), it holds."""
    cased = cased_tokens(sent.text)
    if len(cased) != len(sent.toks):
        return True
    i = first - sent.start
    words = cased[i : i + len(capitals)]
    return len(words) == len(capitals) and not any(
        c.islower() for word, n in zip(words, capitals, strict=True) for c in word[:n]
    )


def _leftmost_longest(hit: tuple[int, int, str, Sentence]) -> tuple[int, int]:
    return hit[0], hit[0] - hit[1]


def mentions_ok(sig: CompiledSignal, ents: set[str]) -> bool:
    """Whether a signal's `mentions` hold for the entities named."""
    if sig.mention_all and not sig.mention_all <= ents:
        return False
    if sig.mention_any and not (sig.mention_any & ents):
        return False
    return not (sig.mention_none and (sig.mention_none & ents))


class _PartView:
    """One part of a rundown sentence as a 'sentence' for evaluate: the atoms found in it."""

    __slots__ = ("atoms", "text")

    def __init__(self, sent: Sentence, first: int, last: int) -> None:
        self.text = sent.text  # (a regex reads the whole sentence, as it did to let the signal on)
        self.atoms = {
            k: kept
            for k, spans in sent.atoms.items()
            if (kept := [sp for sp in spans if first <= sp[0] and sp[1] < last])
        }


def _in_part(
    sig: CompiledSignal, sent: Sentence, parts: tuple[int, list[tuple[int, int]]], comps: list[list[Span]], window: Span
) -> tuple[list[list[Span]], Span] | None:
    """The components and window of the signal's words in one part of a rundown whose mentions (with its lead's)
    satisfy the signal's `mentions`: first the part the whole sentence's window stands in, when it stands in one,
    then each part in order; else None. A window across a ";" stands in none: its words are of two stories."""
    lead, spans = parts
    topic = {eid for s, _e, eid in sent.mentions if s < lead}

    def named(first: int, last: int) -> set[str]:
        return topic | {eid for s, _e, eid in sent.mentions if first <= s < last}

    lo, hi = window
    if not comps:  # no words of its own (a regex alone): the whole sentence, as before
        if mentions_ok(sig, named(sent.start, sent.end)):
            return comps, window
    else:
        for first, last in spans:
            if first <= lo and hi < last:
                if mentions_ok(sig, named(first, last)):
                    return comps, window
                break
    for first, last, got, win in _part_matches(sig, sent, spans):
        if mentions_ok(sig, named(first, last)):
            return got, win
    return None


def _part_matches(
    sig: CompiledSignal, sent: Sentence, spans: list[tuple[int, int]]
) -> Iterator[tuple[int, int, list[list[Span]], Span]]:
    """The parts [first, last) of a rundown that hold the signal's words within its `near`, in order, with the
    components and window of the words there."""
    for first, last in spans:
        got = evaluate(sig.node, _PartView(sent, first, last), [None])
        if got is None:
            continue
        got = [c for c in got if c]
        win = smallest_window(got)
        if win is None or (sig.near is not None and win[1] - win[0] + 1 > sig.near):
            continue
        yield first, last, got, win


def rundown_miss(sig: CompiledSignal, sent: Sentence) -> str | None:
    """Why a signal whose words (and `mentions`) hold in the whole sentence is refused because the sentence is a
    rundown (rules explain says so): "words" when no part between its ";" holds all the signal's words (within its
    `near`), "mentions" when the parts that do lack its mentions; None when the rundown is not why."""
    parts = rundown(sent)
    if parts is None:
        return None
    comps = evaluate(sig.node, sent, [None])
    if comps is None:
        return None
    comps = [c for c in comps if c]
    window = smallest_window(comps) or (sent.start, max(sent.start, sent.end - 1))
    if _in_part(sig, sent, parts, comps, window) is not None:
        return None
    if comps and next(_part_matches(sig, sent, parts[1]), None) is None:
        return "words"
    return "mentions"


def context_ok(sig: CompiledSignal, doc_entities: set[str]) -> bool:
    if sig.context_all and not sig.context_all <= doc_entities:
        return False
    if sig.context_any and not (sig.context_any & doc_entities):
        return False
    return not (sig.context_none and (sig.context_none & doc_entities))
