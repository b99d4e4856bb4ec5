"""Morphology: Snowball stems (PyStemmer) so phrases match inflected forms, and a few Russian grammar tests.

Phrases and aliases of a `version: 2` pack match by stem: a phrase word matches a token when both
have the same Snowball stem in the phrase's language ("ratified" ~ "ratifies", "Россией" ~ "России").
The stemmer of a word follows its script: a Cyrillic word of an English pack is stemmed as Russian, a
Latin word of a Russian pack as English, so a pack can name "NATO" and "НАТО" side by side.

Stems are computed per distinct token and remembered (a bounded memo), and only for tokens where an
automaton hit says a stemmed word could be: see `gate_prefix`.

Russian grammar (pymorphy3, a dictionary-based analyser; loaded on first use): whether a verb form is
future (the perfective non-past: "направит", "обменяются"), a passive participle ("ратифицирован"),
and a noun's case (the instrumental agent "Россией", the nominative subject)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import Stemmer

# ISO 639-1 code -> Snowball algorithm name, for every algorithm PyStemmer ships.
_SNOWBALL_NAMES = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "eo": "esperanto",
    "et": "estonian",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "ga": "irish",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
SNOWBALL: dict[str, str] = {code: name for code, name in _SNOWBALL_NAMES.items() if name in Stemmer.algorithms()}

# Languages whose stems are (nearly) prefixes of their words, measured on real news (BENCHMARKS.md,
# "Morphology"): the raw-text gates can then look for a prefix of the stem. Other languages match by
# stem too, but without a raw gate.
GATED = frozenset({"en", "ru"})

_MEMO_LIMIT = 400_000  # distinct tokens remembered per language before the memo starts over


class _Stems:
    """Stemmer per language, with a memo of the stems of tokens already seen."""

    __slots__ = ("memo", "stemmer")

    def __init__(self, language: str) -> None:
        self.stemmer = Stemmer.Stemmer(SNOWBALL[language])
        self.memo: dict[str, str] = {}

    def stem(self, word: str) -> str:
        got = self.memo.get(word)
        if got is None:
            if len(self.memo) >= _MEMO_LIMIT:
                self.memo.clear()
            got = self.memo[word] = self.stemmer.stemWord(word)
        return got


_STEMS: dict[str, _Stems] = {}


def stems_for(language: str) -> _Stems:
    got = _STEMS.get(language)
    if got is None:
        got = _STEMS[language] = _Stems(language)
    return got


def base_language(language: str | None) -> str:
    """'en-GB' -> 'en'; None -> 'en'."""
    return (language or "en").split("-", 1)[0].split("_", 1)[0].lower()


def script_of(word: str) -> str:
    """'cyrillic', 'latin' or 'other', from the word's first letter."""
    for ch in word:
        if ch.isalpha():
            if "\u0400" <= ch <= "\u04ff":
                return "cyrillic"
            if ch.isascii() or "\u00c0" <= ch <= "\u024f":
                return "latin"
            return "other"
    return "other"


_SCRIPT_DEFAULT = {"cyrillic": "ru", "latin": "en"}
_LANGUAGE_SCRIPT = {"ru": "cyrillic", "uk": "cyrillic", "bg": "cyrillic", "sr": "cyrillic"}


def language_script(language: str) -> str:
    return _LANGUAGE_SCRIPT.get(language, "latin" if language in _SNOWBALL_NAMES else "other")


def word_language(word: str, languages: tuple[str, ...]) -> str | None:
    """The language a phrase word is stemmed in, or None (no stems: the word matches as written): the
    first of the phrase's languages written in the word's script, else that script's usual language.
    Only languages whose stems the raw-text gates can rely on are stemmed (GATED: English, Russian)."""
    script = script_of(word)
    lang = next((x for x in languages if language_script(x) == script), None)
    if lang is None:
        lang = _SCRIPT_DEFAULT.get(script)
    return lang if lang in GATED else None


def stem(language: str, word: str) -> str:
    return stems_for(language).stem(word)


def _common_prefix(words: list[str]) -> str:
    if not words:
        return ""
    lo, hi = min(words), max(words)
    i = 0
    while i < len(lo) and lo[i] == hi[i]:
        i += 1
    return lo[:i]


def word_stems(language: str, word: str) -> tuple[frozenset[str], str]:
    """The stems a phrase word accepts, and a prefix every token with one of them starts with.

    A stemmer gives one stem, but a word's forms can have several: Russian verbs change their stem
    ("ратифицировал" ~ "ратифицир-ует", "подписал" ~ "подпиш-ет"), English irregular verbs too ("send" ~
    "sent"). So the word's whole paradigm is stemmed: for Russian its lexeme in pymorphy3's dictionary
    (words it does not know keep their one stem), for English a table of irregular verbs. Stems much
    shorter than the word's own (a 3-letter "кор" from "корей") are left out: they would match other
    words."""
    own = stem(language, word)
    forms: set[str] = set()
    if language == "ru" and script_of(word) == "cyrillic":
        parses = [p for p in _analyzer().parse(word) if p.is_known]
        if parses:
            forms = {f.word.replace("ё", "е") for f in parses[0].lexeme}
    elif language == "en":
        forms = set(_EN_PARADIGMS.get(_EN_BASE.get(word, word), ()))
    stems = {own} | {stem(language, f) for f in forms if f.isalpha()}
    stems = {x for x in stems if len(x) >= min(4, len(own))}
    own_gate = gate_prefix(language, own) or ""
    gate = _common_prefix([gate_prefix(language, x) or "" for x in stems])
    if len(gate) < min(3, len(own_gate)):
        return frozenset({own}), own_gate  # forms too unlike each other: the word's own stem only
    return frozenset(stems), gate


# English irregular verbs common in news: base -> forms. Forms that are also common other words are
# left out ("left", "found", "wound", "saw", "lay", "fell"), so a rule's "wounded" never means "wind".
_EN_IRREGULAR = """
arise arose arisen|become became|begin began begun|bind bound|bring brought|build built|buy bought|
catch caught|choose chose chosen|come came|deal dealt|do did done|draw drew drawn|drive drove driven|
eat ate eaten|fight fought|flee fled|fly flew flown|forbid forbade forbidden|forgive forgave forgiven|
freeze froze frozen|get got gotten|give gave given|go went gone|grow grew grown|hear heard|hide hid hidden|
hold held|keep kept|know knew known|lead led|lend lent|lose lost|make made|mean meant|meet met|pay paid|
ride rode ridden|rise rose risen|run ran|say said|seek sought|sell sold|send sent|shake shook shaken|
shoot shot|sink sank sunk|speak spoke spoken|spend spent|stand stood|steal stole stolen|strike struck|
swear swore sworn|take took taken|teach taught|tell told|think thought|throw threw thrown|
understand understood|undertake undertook undertaken|uphold upheld|withdraw withdrew withdrawn|
withhold withheld|write wrote written|break broke broken|choose chose chosen|oversee oversaw overseen|
overtake overtook overtaken|overthrow overthrew overthrown|shut|hit|cut|put|set|spread|cost|beat beaten
"""
_EN_PARADIGMS: dict[str, tuple[str, ...]] = {}
_EN_BASE: dict[str, str] = {}
for _entry in _EN_IRREGULAR.replace("\n", "").split("|"):
    _forms = _entry.split()
    if not _forms:
        continue
    _base = _forms[0]
    _all = (*_forms, _base + "s" if not _base.endswith(("s", "sh", "ch", "o")) else _base + "es")
    _EN_PARADIGMS[_base] = _all
    for _f in _all:
        _EN_BASE.setdefault(_f, _base)


# English stems that are not prefixes of all their words: Porter2's y -> i ("daily" -> "daili"), the
# e it adds back ("moving" -> "move") and "-bility" -> "-bl" ("instability" -> "instabl") change the
# last letter; four exceptional words change two.
_EN_EXCEPTIONS = {"die": "d", "lie": "l", "tie": "t", "vie": "v"}


def gate_prefix(language: str, stem_: str) -> str | None:
    """A prefix that every word with this stem starts with (after tokens()' lower-casing and ё -> е),
    or None when the language gives no such guarantee. Checked against every word of the 2023 English
    and 2024 Russian corpora (tests/functional/test_morphology_real_data.py)."""
    if language == "ru":
        return stem_
    if language == "en":
        if stem_ in _EN_EXCEPTIONS:
            return _EN_EXCEPTIONS[stem_]
        if stem_.endswith(("i", "e", "y", "bl")) and len(stem_) > 1:
            return stem_[:-1]
        return stem_
    return None


# -- Russian grammar ----------------------------------------------------------------------------------
# Endings of Russian finite non-past verb forms (with the reflexive -ся/-сь): only tokens with one of
# them are asked about the future, so most words never reach the analyser.
_NON_PAST_ENDINGS = ("ит", "ят", "ет", "ут", "ют", "ат", "ем", "им", "ешь", "ишь", "ете", "ите", "ся", "сь")
_PREPOSITIONS_RU = frozenset(
    "с со в во на для между к ко от о об обо по при у из изо за над под перед через про без после до около "
    "против вокруг среди".split()
)


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    import pymorphy3  # dictionary-based; ~0.1 s to load, so only when a Russian text needs it

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=100_000)
def _tags(word: str) -> tuple[str, ...]:
    """The analyser's tags of a word, most likely first."""
    return tuple(str(p.tag) for p in _analyzer().parse(word))


def is_future_verb_ru(word: str) -> bool:
    """A Russian verb form that speaks of the future: the perfective non-past ("направит",
    "подпишут", "обменяются"), or "будет"/"будут". The most likely reading decides (a biaspectual
    "ратифицирует" reads as future: news writes a done ratification in the past)."""
    if not word.endswith(_NON_PAST_ENDINGS) or script_of(word) != "cyrillic":
        return False
    tags = _tags(word)
    return bool(tags) and tags[0].startswith("VERB") and "futr" in tags[0]


def is_passive_participle_ru(word: str) -> bool:
    """A Russian passive participle, short ("ратифицирован") or full ("ратифицированный")."""
    if script_of(word) != "cyrillic":
        return False
    tags = _tags(word)
    return bool(tags) and (tags[0].startswith("PRTS") or (tags[0].startswith("PRTF") and "pssv" in tags[0]))


def may_be_case_ru(word: str, case: str) -> bool:
    """Whether a Russian word can be read in this case ('ablt' instrumental, 'nomn' nominative).
    Words the analyser does not know (foreign names, abbreviations) can be any case."""
    if script_of(word) != "cyrillic":
        return True
    tags = _tags(word)
    if not tags or all("UNKN" in t or "Abbr" in t or "Fixd" in t for t in tags[:1]):
        return True
    return any(case in t for t in tags)


def is_preposition_ru(word: str) -> bool:
    return word in _PREPOSITIONS_RU
