"""One document's words, the automaton's matches in them, and its sentences (made when first needed)."""

from __future__ import annotations

from typing import Any

from .compiled import PREFIX, AutomatonEntry, Probe, WordTest
from .text import abbreviations_for, clean_sentence, sentence_spans, split_sentences, tokens

Span = tuple[int, int]  # first and last token index (inclusive), document-wide
Match = tuple[AutomatonEntry, int, int]  # entry, first and last word index in the scanned words


def _verify(tests: tuple[WordTest, ...], words: list[str], first: int) -> bool:
    """Whether words[first:] meet a phrase's word tests (an exact form, a prefix, one of its forms)."""
    for j, (mode, text, forms) in enumerate(tests):
        tok = words[first + j]
        if mode == PREFIX:
            if not tok.startswith(text):
                return False
        elif tok not in forms:
            return False
    return True


def find_matches(automaton: Any, norm: str, words: list[str]) -> list[Match]:
    """Whole-word matches of the automaton's patterns in `norm` (" " + " ".join(words) + " "), as
    (entry, first word, last word) indices into `words`. The automaton reports only hits that end
    where a word does (or inside one, after a '*' prefix: automata.bounded_key). Phrases anchored on
    one word are checked on the words around the hit: those indexed by a neighbour's token first
    (automata._bucket)."""
    out: list[Match] = []
    spaces = 0
    prev = 0
    count = norm.count
    nwords = len(words)
    for end_char, (plain, indexed, others) in automaton.iter(norm):
        # iter() reports matches by their end, left to right: count the words passed since the last.
        # A key padded with the space after its word ends on that space, which is not counted here.
        spaces += count(" ", prev, end_char)
        prev = end_char
        w = spaces - 1  # the word holding (or ended by) end_char
        for entry in plain:
            out.append((entry, w - entry.nwords + 1, w))
        if indexed:
            for (anchor, n, nb), table in indexed:
                first = w - anchor
                if first < 0 or first + n > nwords:
                    continue
                got = table.get(words[first + nb])
                if got is not None:
                    for entry in got:
                        if n == 2 or _verify(entry.verify, words, first):
                            out.append((entry, first, first + n - 1))
        if not others:
            continue
        for entry in others:
            first = w - entry.anchor
            last = first + entry.nwords - 1
            if first >= 0 and last < nwords and _verify(entry.verify, words, first):
                out.append((entry, first, last))
    return out


def screen_atoms(screen: Any, norm: str, words: list[str]) -> set[str]:
    """The trigger atoms that occur in the words (automata.screen): whole phrases where the automaton
    finds them, anchored phrases where the words around a hit meet their tests."""
    present: set[str] = set()
    nwords = len(words)
    for end_char, (atoms, around) in screen.iter(norm):
        if atoms:
            present.update(atoms)
        if around is None:
            continue
        # The word holding (or ended by) end_char: a padded key ends on the space after its word.
        w = norm.count(" ", 0, end_char) - 1
        _plain, indexed, others = around
        for (anchor, n, nb), table in indexed:
            first = w - anchor
            if first < 0 or first + n > nwords:
                continue
            got = table.get(words[first + nb])
            if got is not None:
                for entry in got:
                    if entry.key not in present and (n == 2 or _verify(entry.verify, words, first)):
                        present.add(entry.key)
        if not others:
            continue
        for entry in others:
            first = w - entry.anchor
            if first >= 0 and first + entry.nwords <= nwords and _verify(entry.verify, words, first):
                present.add(entry.key)
    return present


def holds(probe: Probe, norm: str, words: list[str], vocabulary: set[str]) -> bool:
    """Whether an atom occurs in the words, as find_matches would find it (automata.screen's probes).
    `vocabulary` is set(words): most atoms looked up are not there, and one set test says so."""
    for need in probe.words:
        if need.isdisjoint(vocabulary):
            return False
    if probe.exact:
        return True
    for needle in probe.needles:
        if needle in norm:
            return True
    nwords = len(words)
    for entry in probe.anchored:
        tests = entry.verify
        assert tests is not None
        mode, text, forms = tests[entry.anchor]
        for needle in (" " + text,) if mode == PREFIX else [" " + f + " " for f in forms]:
            at = norm.find(needle)
            while at >= 0:
                first = norm.count(" ", 0, at) - entry.anchor  # the needle starts at the space before its word
                if first >= 0 and first + entry.nwords <= nwords and _verify(tests, words, first):
                    return True
                at = norm.find(needle, at + 1)
    return False


class Sentence:
    """One sentence: its text, tokens, and what was found in it."""

    __slots__ = (
        "atoms",
        "breaks",
        "cues",
        "cues_hidden",
        "cues_read",
        "cyrillic",
        "end",
        "entities",
        "facts",
        "index",
        "mentions",
        "next_disclaimer",
        "next_toks",
        "plain",
        "start",
        "text",
        "toks",
        "word_sets",
    )

    def __init__(self, index: int, text: str, toks: list[str], start: int, next_toks: list[str] | None = None) -> None:
        self.index = index
        self.text = text
        self.toks = toks  # tokens(text)
        self.start = start  # first token index (document-wide, counting one '|' between sentences)
        self.end = start + len(toks)  # one past the last token index
        self.atoms: dict[str, list[Span]] = {}
        # Modality cues: (class, first, last, words, direction), in text order; see modality.read_cues.
        self.cues: list[tuple[str, int, int, str, str]] = []
        self.cues_read = False
        # Cues a longer overlapping one hid, each with the cues that hid it; see modality.read_cues.
        self.cues_hidden: list[tuple[tuple[str, int, int, str, str], tuple[tuple[str, int, int, str, str], ...]]] = []
        self.mentions: list[tuple[int, int, str]] = []  # resolved entity mentions (start, end, id)
        self.entities: set[str] = set()
        self.breaks: list[int] | None = None  # clause breaks, document-wide token indices; see modality
        self.facts: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # (entities, places), for signals
        self.plain: bool | None = None  # no cue and no verb form can change a modality here; see modality
        self.cyrillic: bool | None = None  # whether the text holds a Cyrillic letter (modality, once)
        self.next_toks = next_toks  # the next sentence's tokens (None for the last): a disclaimer opening it
        self.next_disclaimer: str | None = None  # that disclaimer's words, "" for none; see modality
        self.word_sets = -1  # which readings its words allow (modality._word_sets), -1 until asked

    def words(self, s: int, e: int) -> str:
        return " ".join(self.toks[s - self.start : e - self.start + 1])


class Scan:
    """The automata's view of one document: `words` (its words, and a '|' between sentences when they
    were tokenised apart), the phrase and entity matches in them, and its sentences: the words of
    sentence k are toks[k], the first of them is word scan_starts[k] of `words` and word starts[k]
    document-wide (where one '|' counts between sentences). Sentence objects are made when needed."""

    __slots__ = ("ends", "matches_", "objs", "scan_starts", "spans", "starts", "text", "texts", "toks")

    def __init__(
        self,
        text: str,
        found: list[Match],
        toks: list[list[str]],
        scan_starts: list[int],
        spans: list[tuple[int, int]] | None,
        texts: list[str] | None,
    ) -> None:
        self.text = text
        self.matches_ = found
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
        self.objs: list[Sentence | None] = [None] * len(toks)

    def sentence(self, k: int) -> Sentence:
        sent = self.objs[k]
        if sent is None:
            if self.texts is not None:
                text = self.texts[k]
            else:
                assert self.spans is not None
                start, end = self.spans[k]
                text = clean_sentence(self.text[start:end])
            nxt = self.toks[k + 1] if k + 1 < len(self.toks) else None
            sent = self.objs[k] = Sentence(k, text, self.toks[k], self.starts[k], nxt)
        return sent

    def sentences(self, every: bool) -> list[Sentence]:
        """The sentences made so far (those with a match), or every sentence."""
        if every:
            return [self.sentence(k) for k in range(len(self.objs))]
        return [s for s in self.objs if s is not None]


Sentences = tuple[list[list[str]], list[tuple[int, int]], list[int]]  # words, text spans, first word indices


def aligned_sentences(text: str, view: str, words: list[str], language: str | None) -> Sentences | None:
    """The sentences of a document whose word view is aligned with its text: each sentence's words (a slice
    of the view), its span in the text, and the index in `words` of its first word; None when no sentence
    has a word. `words` is view.split(): the sentences' words in order, since no word straddles a boundary
    (a sentence ends on a mark or line break, which the view reads as a space), so the longest sentence's
    words are the ones the others leave, taken from `words` rather than split again (the body of a title +
    body)."""
    spans = sentence_spans(text, abbreviations_for(language))
    longest = 0
    if len(spans) > 1:
        widest = -1
        for k, (start, end) in enumerate(spans):
            if end - start > widest:
                widest, longest = end - start, k
    pieces: list[list[str] | None] = []  # each sentence's words; None for the longest (from `words`, below)
    others = 0
    for k, (start, end) in enumerate(spans):
        if k == longest:
            pieces.append(None)
        else:
            piece = view[start + 1 : end + 1].split()
            pieces.append(piece)
            others += len(piece)
    toks: list[list[str]] = []
    kept: list[tuple[int, int]] = []
    scan_starts: list[int] = []
    nwords = 0  # index in the document's words
    for span, got in zip(spans, pieces, strict=True):
        if got is None:
            got = words[nwords : nwords + len(words) - others]
        if got:  # a sentence of punctuation only has no words to match
            toks.append(got)
            kept.append(span)
            scan_starts.append(nwords)
            nwords += len(got)
    if not toks:
        return None
    return toks, kept, scan_starts


def aligned_scan(
    text: str, view: str, words: list[str], found: list[Match], language: str | None, sentences: Sentences | None = None
) -> Scan | None:
    """Sentences of a document whose word view is aligned with its text (aligned_sentences, or `sentences`
    when made already): the matches over all the words are reused (those across a boundary drop)."""
    got = sentences if sentences is not None else aligned_sentences(text, view, words, language)
    if got is None:
        return None
    toks, kept, scan_starts = got
    return Scan(text, found, toks, scan_starts, kept, None)


def tokenised_sentences(
    text: str, language: str | None
) -> tuple[list[list[str]], list[str], list[int], list[str]] | None:
    """Sentences of any document, tokenised one by one: their words, their texts, and where each begins in the
    words of all of them joined with a '|' token between them (no phrase contains one, so none matches across a
    boundary), and those words; None when no sentence has a word."""
    texts: list[str] = []
    toks: list[list[str]] = []
    for st in split_sentences(text, language):
        words = tokens(st)
        if words:  # a sentence of punctuation only would break the token arithmetic
            texts.append(st)
            toks.append(words)
    if not toks:
        return None
    all_words: list[str] = []
    scan_starts: list[int] = []
    for t in toks:
        scan_starts.append(len(all_words))
        all_words.extend(t)
        all_words.append("|")
    all_words.pop()
    return toks, texts, scan_starts, all_words


def rescanned(trigger: Any | None, text: str, language: str | None) -> Scan | None:
    """Sentences of any document (tokenised_sentences), matched again."""
    got = tokenised_sentences(text, language)
    if got is None:
        return None
    toks, texts, scan_starts, all_words = got
    norm = " " + " ".join(all_words) + " "
    found = find_matches(trigger, norm, all_words) if trigger is not None else []
    return Scan(text, found, toks, scan_starts, None, texts)
