"""Text normalisation shared by rule compilation and extraction: sentences, tokens, phrase keys."""

from __future__ import annotations

import html
import re

# Words: runs of letters or digits. Apostrophes and hyphens split words ("Russia's" -> russia s,
# "Jong-un" -> jong un), so aliases match however a desk spells them.
_TOKEN = re.compile(r"[^\W_]+")
_NEGATION_CLITIC = re.compile(r"n['’]t\b")
_TAG = re.compile(r"<[^>]{0,2000}>")
_SPACES = re.compile(r"[ \t\r\f\v]+")

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace and
# an opening capital, digit or quote; or at a blank line / line break. The . ! ? is part of the match
# (not a lookbehind): the sentence ends one character after such a match's start. Every match starts
# at one of . ! ? or a line break, so only those places are tried (_SENTENCE_END_AT).
_AFTER_STOP = r"""["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])"""
_SENTENCE_END = re.compile(rf"\.{_AFTER_STOP}|!{_AFTER_STOP}|\?{_AFTER_STOP}|\n+")
_SENTENCE_END_AT = re.compile(r"[.!?\n]")
_NEEDS_SPACES = ("  ", "\t", "\r", "\f", "\v")
# Abbreviations whose period does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof gen lt col maj sgt capt adm gov sen rep st jr sr vs no nos fig inc ltd co corp dept "
    "jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.u n a.m p.m".split()
)


def strip_html(text: str) -> str:
    """Feed descriptions are often HTML: drop tags, unescape entities."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where the sentences of `text` lie: (start, end) character offsets of each raw piece between
    sentence boundaries, before clean_sentence(); a piece may clean to nothing."""
    spans: list[tuple[int, int]] = []
    start = 0
    pos = 0
    find = _SENTENCE_END_AT.search
    match = _SENTENCE_END.match
    while True:  # _SENTENCE_END.finditer(text), trying only where a match can start
        at = find(text, pos)
        if at is None:
            break
        m = match(text, at.start())
        if m is None:
            pos = at.start() + 1
            continue
        pos = m.end()
        sep = m.group(0)
        end = m.start() if sep[0] == "\n" else m.start() + 1
        if "\n" not in sep:
            # Period-based boundary: refuse it after a known abbreviation or a single initial.
            stripped = text[start:end].rstrip("\"'”’)]")
            if stripped.endswith("."):
                words = stripped[:-1].rsplit(None, 1)
                last = words[-1].lower() if words else ""
                if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
                    continue
        spans.append((start, end))
        start = m.end()
    spans.append((start, len(text)))
    return spans


def clean_sentence(piece: str) -> str:
    """One sentence's text: runs of spaces and tabs as one space, no surrounding whitespace."""
    for ws in _NEEDS_SPACES:
        if ws in piece:
            piece = _SPACES.sub(" ", piece)
            break
    return piece.strip()


def split_sentences(text: str) -> list[str]:
    """Split text into sentences, keeping abbreviations such as 'U.S.' and 'Nov. 9' intact."""
    out = []
    for start, end in sentence_spans(text):
        p = clean_sentence(text[start:end])
        if p:
            out.append(p)
    return out


# ASCII characters that are not word characters, as spaces; and non-ASCII ones common in news.
_ASCII_WORDS = str.maketrans({chr(c): chr(c) if chr(c).isalnum() else " " for c in range(128)})
_COMMON_NON_WORD = ("’", "‘", "“", "”", "—", "–", "…", "\u00a0")


def word_view(text: str) -> str:
    """The words of `text` separated by one or more spaces, with a space before the first and after
    the last: `.split()` of it gives tokens(text). Words are runs of letters or digits (`_TOKEN`);
    for (near-)ASCII text, mapping every other character to a space finds the same words faster
    than the regex."""
    return aligned_word_view(text)[0]


def aligned_word_view(text: str) -> tuple[str, bool]:
    """word_view(text), and whether it is aligned with `text`: character i of the text is character
    i + 1 of the view (so the words of text[a:b] are view[a + 1 : b + 1].split())."""
    lowered = text.lower()
    if "'" in lowered or "’" in lowered:
        lowered = _NEGATION_CLITIC.sub(" not", lowered)
    if not lowered.isascii():
        for ch in _COMMON_NON_WORD:  # none of them is a word character or part of a clitic now
            if ch in lowered:
                lowered = lowered.replace(ch, " ")
        if not lowered.isascii():
            return " " + " ".join(_TOKEN.findall(lowered)) + " ", False
    # Character for character, unless a clitic became " not" (one character longer).
    return " " + lowered.translate(_ASCII_WORDS) + " ", len(lowered) == len(text)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; "n't" becomes the word "not" so negation cues see it."""
    return word_view(text).split()


def phrase_words(phrase: str) -> list[str]:
    """The words of a rule phrase, keeping a trailing '*' (stem) on a word."""
    words: list[str] = []
    for raw in phrase.split():
        stem = raw.endswith("*")
        toks = tokens(raw[:-1] if stem else raw)
        if not toks:
            continue
        if stem:
            toks[-1] += "*"
        words.extend(toks)
    return words
