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
# an opening capital, digit or quote; or at a blank line / line break.
_SENTENCE_END = re.compile(r"""(?<=[.!?])["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])|\n+""")
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


def split_sentences(text: str) -> list[str]:
    """Split text into sentences, keeping abbreviations such as 'U.S.' and 'Nov. 9' intact."""
    parts: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.start()
        piece = text[start:end]
        if "\n" not in m.group(0):
            # Period-based boundary: refuse it after a known abbreviation or a single initial.
            stripped = piece.rstrip("\"'”’)]")
            if stripped.endswith("."):
                last = stripped[:-1].rsplit(None, 1)[-1].lower() if stripped[:-1].split() else ""
                if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
                    continue
        parts.append(piece)
        start = m.end()
    parts.append(text[start:])
    out = []
    for p in parts:
        p = _SPACES.sub(" ", p).strip()
        if p:
            out.append(p)
    return out


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; "n't" becomes the word "not" so negation cues see it."""
    lowered = text.lower()
    if "'" in lowered or "’" in lowered:
        lowered = _NEGATION_CLITIC.sub(" not", lowered)
    return _TOKEN.findall(lowered)


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
