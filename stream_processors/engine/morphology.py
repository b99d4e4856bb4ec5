"""Morphology: the inflected forms a phrase word stands for, and a few Russian grammar tests.

A phrase word of a `version: 2` pack (morphology: stem) matches every inflected form of the word's
lemma(s): "ratified" reads "ratify", "ratifies", "ratifying"; "sent" reads "send", "sends", "sending";
"ратифицировал" reads "ратифицируют", "ратифицирован"; "Пхеньян" reads "Пхеньяна", "Пхеньяном". The forms
come from lemmatisers' dictionaries when the rules compile (English: lemminflect; Russian: pymorphy3's
OpenCorpora dictionary, and its guesses for names it does not know), so matching a document is exact
word matching, as fast as version 1's. An entity's alias words are names in their dictionary form and
take that lemma's forms (name_forms: "Песков" reads "Пескова", not "песок"). Forms are inflections,
never derivations: "presidency" does not read "president", "nationals" not "nation" (a Snowball stemmer
conflates both: BENCHMARKS.md, "Morphology", measured both). Languages without a lemmatiser here match
words as written.

A word's language follows its script: a Cyrillic word of an English pack is Russian, a Latin word of a
Russian pack English, so a pack can name "NATO" and "НАТО" side by side.

Russian grammar (pymorphy3; loaded on first use): whether a verb form is future (the perfective
non-past: "направит", "обменяются"), a passive participle ("ратифицирован"), and a noun's case (the
instrumental agent "Россией", the nominative subject)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

# Languages whose words are expanded to their inflected forms.
INFLECTED = frozenset({"en", "ru"})
_SCRIPT_DEFAULT = {"cyrillic": "ru", "latin": "en"}
_LANGUAGE_SCRIPT = {"ru": "cyrillic", "uk": "cyrillic", "bg": "cyrillic", "sr": "cyrillic", "be": "cyrillic"}
_CASELESS_SCRIPTS = {"zh", "ja", "ko", "ar", "he", "hi", "th", "fa", "ur"}


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


def language_script(language: str) -> str:
    if language in _LANGUAGE_SCRIPT:
        return _LANGUAGE_SCRIPT[language]
    return "other" if language in _CASELESS_SCRIPTS else "latin"


def word_language(word: str, languages: tuple[str, ...]) -> str | None:
    """The language whose forms a phrase word stands for, or None (the word matches as written): the
    first of the phrase's languages written in the word's script, else that script's usual language."""
    script = script_of(word)
    lang = next((x for x in languages if language_script(x) == script), None)
    if lang is None:
        lang = _SCRIPT_DEFAULT.get(script)
    return lang if lang in INFLECTED else None


def load() -> None:
    """Load every dictionary a reading can ask for: the English forms table (or lemminflect's tables) and the
    Russian analyser. The compile calls it, so that processing a document opens no file, whatever the packs'
    languages (a sentence in another script can still match an entity's alias): the engine is pure (outside
    review 49, H1). Each loads once per process."""
    if _en_loaded_table() is None:
        _en_tables()
    _analyzer()


def word_forms(language: str, word: str) -> frozenset[str]:
    """Every inflected form of the word's lemma(s), the word included (lower case, "ё" as "е")."""
    if language == "ru":
        return _ru_forms(word)
    if language == "en":
        return _en_forms(word)
    return frozenset({word})


def name_forms(language: str, word: str) -> frozenset[str]:
    """The forms of a word of an entity's alias: a name, written in its dictionary form ("Песков" reads
    "Пескова", not "песка"; "Ын" reads "Ына"). Other languages: as word_forms."""
    if language == "ru":
        return _ru_name_forms(word)
    return word_forms(language, word)


def is_dictionary_form(language: str, word: str, forms: frozenset[str]) -> bool:
    """Whether `word` is written as its lemma, one of whose `forms` (word_forms) it is: Russian, the dictionary's
    normal form of its likeliest reading ("отрицать", "фейк"; not "одобрит"); English, the shortest of its forms and
    no other as short ("hint", "deny", "say"; not "hints", nor "ran" beside "run")."""
    if language == "ru":
        parses = _analyzer().parse(word)
        return bool(parses) and parses[0].normal_form.replace("ё", "е") == word
    return all(len(f) > len(word) for f in forms if f != word)


# -- English ---------------------------------------------------------------------------------------------
# Lemmas whose forms are function words: a phrase word "being" must not read "is", "was", "had".
_EN_SKIP_LEMMAS = frozenset({"be", "have", "do"})
_EN_POS = ("NOUN", "VERB", "ADJ", "ADV", "PROPN")


@lru_cache(maxsize=1)
def _en_tables() -> tuple[Any, Any, Any, Any, Any]:
    """lemminflect's dictionaries, read directly: its public functions deep-copy every answer, which
    made compiling a big pack several times slower (we only read them)."""
    from lemminflect.core.Inflections import Inflections
    from lemminflect.core.Lemmatizer import Lemmatizer
    from lemminflect.core.LexicalUtils import uposToTags

    lem, infl = Lemmatizer(), Inflections()
    return lem._getLemmaDict(), lem._getOverridesDict(), infl._getInflDict(), infl._getOverridesDict(), uposToTags


@cache
def _en_lemma_forms(lemma: str, pos: str) -> frozenset[str]:
    _ld, _lo, infl, infl_over, upos_tags = _en_tables()
    tags = set(upos_tags(pos))
    forms = {lemma}
    for table in (infl.get(lemma), infl_over.get(lemma)):
        for tag, spelled in (table or {}).items():
            if tag in tags:
                forms.update(f.lower() for f in spelled)
    return frozenset(forms)


# Every word of lemminflect's lemma dictionary and its forms: (distinct form sets, word -> index of its
# set). Read through a source set by use_en_table (stream_processors.forms_cache: computed once per
# machine and kept in the user's cache), loading lemminflect's own tables, with its import, costs half
# a second of every `rules check`; without a source the forms are computed from those tables.
EnTable = tuple[list[tuple[str, ...]], dict[str, int]]
EN_FORMS_VERSION = 1  # of the rules below: a table built under another version is built again
_en_table_source: list[Callable[[], EnTable | None]] = []


def use_en_table(source: Callable[[], EnTable | None]) -> None:
    """Read English forms from the table `source` returns (called once, when a pack first needs one;
    None: compute them). The table must be what en_table() computes (forms_cache's tests check it)."""
    _en_table_source[:] = [source]
    _en_loaded_table.cache_clear()
    _en_forms.cache_clear()


@lru_cache(maxsize=1)
def _en_loaded_table() -> EnTable | None:
    return _en_table_source[0]() if _en_table_source else None


def en_table() -> EnTable:
    """The forms of every word of the dictionary, as _en_forms_of computes them (~1 s)."""
    lemma_dict, lemma_over, _i, _io, _t = _en_tables()
    sets: list[tuple[str, ...]] = []
    index: dict[str, int] = {}
    known: dict[tuple[str, ...], int] = {}
    for word in sorted({*lemma_dict, *lemma_over}):
        forms = tuple(sorted(_en_forms_of(word)))
        index[word] = known.setdefault(forms, len(known))
        if index[word] == len(sets):
            sets.append(forms)
    return sets, index


@lru_cache(maxsize=200_000)
def _en_forms(word: str) -> frozenset[str]:
    table = _en_loaded_table()
    return _en_forms_of(word) if table is None else en_forms_in(table, word)


def en_forms_in(table: EnTable, word: str) -> frozenset[str]:
    at = table[1].get(word)
    return _en_unknown(word) if at is None else frozenset(table[0][at])


def _en_forms_of(word: str) -> frozenset[str]:
    lemma_dict, lemma_over, _i, _io, _t = _en_tables()
    lemmas = {**lemma_dict.get(word, {}), **lemma_over.get(word, {})}
    if not lemmas:
        return _en_unknown(word)
    forms = {word}
    for pos, lemma_list in lemmas.items():
        if pos not in _EN_POS:
            continue
        for lemma in lemma_list:
            lemma = lemma.lower()
            if lemma in _EN_SKIP_LEMMAS and word != lemma:
                continue
            forms |= _en_lemma_forms(lemma, pos)
    return frozenset(f for f in forms if f.isalnum())


def en_in_dictionary(word: str) -> bool:
    """Whether the English dictionary knows the word (its forms are then its lemmas' forms, not a guessed plural)."""
    table = _en_loaded_table()
    if table is not None:
        return word in table[1]
    lemma_dict, lemma_over, _i, _io, _t = _en_tables()
    return word in lemma_dict or word in lemma_over


def _en_unknown(word: str) -> frozenset[str]:
    """A word not in the dictionary (mostly names): itself and a regular plural ("Pyongyang" -> "pyongyangs")."""
    return frozenset({word, _en_plural(word)})


def _en_plural(word: str) -> str:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


# -- Russian ---------------------------------------------------------------------------------------------
# How likely, against a noun read first, a verb reading of the same word must be for its forms to count too.
_RU_VERB_SHARE = 0.6
_NAME_TAGS = ("Name", "Surn", "Patr", "Geox", "Orgn")


@lru_cache(maxsize=200_000)
def _ru_forms(word: str) -> frozenset[str]:
    """The forms of the word's most likely lemma in pymorphy3's dictionary; for a word it does not know,
    its guess when it reads it as a name ("Зюдмарк" -> "Зюдмарка"), else the word itself ("Чхве")."""
    if script_of(word) != "cyrillic":
        return frozenset({word})
    parses = _analyzer().parse(word)
    if not parses:
        return frozenset({word})
    p = parses[0]
    tag = str(p.tag)
    if not p.is_known and not (tag.startswith(("NOUN", "ADJF")) and any(g in tag for g in _NAME_TAGS)):
        return frozenset({word})  # a guess is only trusted for what it reads as a name ("Зюдмарк")
    forms = {f.word.replace("ё", "е") for f in p.lexeme}
    if tag.startswith("NOUN"):
        # A verb form the dictionary reads first as a noun, about as likely a verb ("прибыли": profit's, or arrived):
        # a phrase of events means the verb, so its forms count too ("прибыл", "прибыла", "прибудут"). Not a rare
        # reading ("день" as an imperative of "деть", "начала" of "начать", "село" of "сесть": 0.01-0.33 of the
        # noun's score), which would bring a verb's forms to a common noun.
        for q in parses[1:]:
            if (
                q.is_known
                and str(q.tag).startswith(("VERB", "INFN"))
                and q.normal_form != p.normal_form
                and q.score >= _RU_VERB_SHARE * p.score
            ):
                forms |= {f.word.replace("ё", "е") for f in q.lexeme}
    return frozenset({word} | {f for f in forms if f.isalpha()})


# An alias is written in its dictionary form, so the readings that take it for a lemma are the ones it
# means: "Песков" is the surname, not "песок"'s genitive plural (pymorphy3's first reading), "Лавров" not
# "Лавр"'s, so "песок" and "Лавра" are not mentions. A word the dictionary does not know takes the guessed
# paradigms that read it as a nominative noun or adjective ("Совфед" -> "Совфеда", "Зеленский" ->
# "Зеленского"). A word nothing is guessed for (pymorphy3 guesses from known endings; "Ын" has none)
# declines as a masculine noun when it ends in a hard consonant after a vowel, as foreign names do in
# Russian ("Ким Чен Ын" -> "Ына", "Ыну", "Ыном", "Ыне"); words ending in a vowel ("Чхве", "Шойгу") and
# letter abbreviations ("ЛНР") stay as written.
_HARD_CONSONANTS = frozenset("бвгдзклмнпрстфх")
_RU_VOWELS = frozenset("аеиоуыэюяё")
# The masculine noun's endings by case (the genitive's is also an animate accusative's).
_MASCULINE_CASE_ENDINGS = {"gent": "а", "datv": "у", "ablt": "ом", "loct": "е"}
_MASCULINE_ENDINGS = tuple(_MASCULINE_CASE_ENDINGS.values())


def declines_as_foreign_noun_ru(word: str) -> bool:
    """A name word the analyser guesses nothing for that ends in a hard consonant after a vowel ("Ын", "Сен"): it
    declines as a masculine noun ("Ким Чен Ына"), in alias matching and in titles alike."""
    low = word.lower()
    if len(low) < 2 or low[-1] not in _HARD_CONSONANTS or low[-2] not in _RU_VOWELS:
        return False
    parses = _analyzer().parse(word)
    return bool(parses) and all(str(p.tag) == "UNKN" for p in parses)


@lru_cache(maxsize=50_000)
def _ru_name_forms(word: str) -> frozenset[str]:
    if script_of(word) != "cyrillic" or not word.isalpha():
        return frozenset({word})
    plain = word.replace("ё", "е")
    parses = _analyzer().parse(word)
    lemma_reads = [p for p in parses if p.normal_form.replace("ё", "е") == plain]
    known = [p for p in lemma_reads if p.is_known]
    chosen = known or [p for p in lemma_reads if str(p.tag).startswith(("NOUN", "ADJF")) and "nomn" in str(p.tag)]
    if chosen:
        forms = {f.word.replace("ё", "е") for p in chosen for f in p.lexeme}
        return frozenset({word} | {f for f in forms if f.isalpha()})
    if declines_as_foreign_noun_ru(word):
        return frozenset({word} | {word + e for e in _MASCULINE_ENDINGS})
    return _ru_forms(word)


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
def tags_ru(word: str) -> tuple[str, ...]:
    """The Russian analyser's tags of a word (pymorphy3), most likely first."""
    return tuple(str(p.tag) for p in _analyzer().parse(word))


# Biaspectual verbs whose non-past news means the future: a done ratification or denunciation is written in the past,
# "Госдума ратифицирует договор" is still to come.
_BIASPECTUAL_FUTURE_RU = ("ратифиц", "денонсир")


def is_future_verb_ru(word: str) -> bool:
    """A Russian verb form that speaks of the future: the perfective non-past ("направит",
    "подпишут", "обменяются"), or "будет"/"будут". The most likely reading decides; but a biaspectual verb, which the
    dictionary also reads as an imperfective present, is the present ("МЧС эвакуирует жителей", "ВСУ атакуют", "Киев
    использует"; outside trial 41, M2), except "ратифицирует", "денонсирует" (_BIASPECTUAL_FUTURE_RU: news writes a
    done ratification in the past)."""
    if not word.endswith(_NON_PAST_ENDINGS) or script_of(word) != "cyrillic":
        return False
    tags = tags_ru(word)
    if not (tags and tags[0].startswith("VERB") and "futr" in tags[0]):
        return False
    return word.startswith(_BIASPECTUAL_FUTURE_RU) or not any("impf" in t and "pres" in t for t in tags[1:])


def is_transitive_future_verb_ru(word: str) -> bool:
    """A perfective future in the third person that takes a direct object ("рассмотрит", "одобрят", "внесёт"; not
    "вступит", nor "напомним"), and no present form of an imperfective verb: "наносят (удары)" is the present of
    "наносить" as well as the future of its perfective homonym, and news means the present."""
    if not is_future_verb_ru(word):
        return False
    tags = tags_ru(word)
    return "tran" in tags[0] and "3per" in tags[0] and not any("impf" in t and "pres" in t for t in tags)


def finite_verb_tense_ru(word: str) -> str | None:
    """The tense of a Russian finite verb or short participle in its most likely reading: "past" ("ратифицировала",
    "был", "ратифицирован"), "pres" ("вводит"), "futr" ("ратифицирует", "будет"); None for any other word."""
    if script_of(word) != "cyrillic":
        return None
    tags = tags_ru(word)
    if not tags or not tags[0].startswith(("VERB", "PRTS")):
        return None
    for tense in ("past", "pres", "futr"):
        if tense in tags[0]:
            return tense
    return None


_INFINITIVE_ENDINGS = ("ть", "ти", "чь", "ться", "тись", "чься")


def is_infinitive_ru(word: str) -> bool:
    """A Russian infinitive in its most likely reading ("подписать", "ратифицировать", "согласиться"; not
    "часть", "власть", "безопасность")."""
    if not word.endswith(_INFINITIVE_ENDINGS) or script_of(word) != "cyrillic":
        return False
    tags = tags_ru(word)
    return bool(tags) and tags[0].startswith("INFN")


def is_passive_participle_ru(word: str) -> bool:
    """A Russian passive participle, short ("ратифицирован") or full ("ратифицированный")."""
    if script_of(word) != "cyrillic":
        return False
    tags = tags_ru(word)
    return bool(tags) and (tags[0].startswith("PRTS") or (tags[0].startswith("PRTF") and "pssv" in tags[0]))


def may_be_case_ru(word: str, case: str) -> bool:
    """Whether a Russian word can be read in this case ('ablt' instrumental, 'nomn' nominative).
    Words the analyser does not know (foreign names, abbreviations) can be any case."""
    if script_of(word) != "cyrillic":
        return True
    tags = tags_ru(word)
    if not tags or all("UNKN" in t or "Abbr" in t or "Fixd" in t for t in tags[:1]):
        return True
    return any(case in t for t in tags)


def is_adjective_ru(word: str) -> bool:
    """A full Russian adjective in its most likely reading ("астраханской", "воронежской"; not "границы")."""
    if script_of(word) != "cyrillic":
        return False
    tags = tags_ru(word)
    return bool(tags) and tags[0].startswith("ADJF")


def is_preposition_ru(word: str) -> bool:
    return word in _PREPOSITIONS_RU


# -- Title cases ---------------------------------------------------------------------------------------
# A title placeholder's case (`{place:dative}`): Russian governs a name's case by the word before it («Удар по
# Белгородской области», not «по Белгородская область»: outside trial 57, LOW-1). The English names of the cases.
TITLE_CASES: dict[str, str] = {
    "nominative": "nomn",
    "genitive": "gent",
    "dative": "datv",
    "accusative": "accs",
    "instrumental": "ablt",
    "prepositional": "loct",
}
_PERSON_TAGS = ("Name", "Surn", "Patr")
_NOMINAL = ("NOUN", "ADJF", "PRTF")


def _nominative_reading(word: str, place: bool = False) -> Any | None:
    """The dictionary's reading of `word` as a nominative noun, adjective or participle (a name is written in its
    nominative), or None. `place`: a place's name, read as a place name (Geox) where the dictionary has one: «Орёл»
    the city, inanimate, not the bird."""
    readings = [p for p in _analyzer().parse(word) if p.is_known and p.tag.POS in _NOMINAL and p.tag.case == "nomn"]
    if place:
        geo = next((p for p in readings if "Geox" in p.tag), None)
        if geo is not None:
            return geo
    return readings[0] if readings else None


def _has_locative(reading: Any) -> bool:
    """Whether a place name has a second prepositional (loc2: «в Крыму», «на Дону»), the form after «в»/«на»."""
    return "Geox" in reading.tag and any("loc2" in f.tag for f in reading.lexeme)


# A surname the dictionary does not know, after a first name it knows, declines by its ending ("Владимир Зеленский" ->
# "Владимиру Зеленскому"): the adjectival -ский/-цкий/-ской and the possessive -ов/-ев/-ин/-ын, masculine or
# feminine as the first name is. (ending, gender) -> the ending's replacement by case; the accusative of a person is
# the genitive in the masculine.
_ADJ_MASC = {"gent": "ого", "datv": "ому", "accs": "ого", "ablt": "им", "loct": "ом"}
_SURNAME_ENDINGS: tuple[tuple[str, str, int, dict[str, str]], ...] = (
    ("ский", "masc", 2, _ADJ_MASC),
    ("цкий", "masc", 2, _ADJ_MASC),
    ("ской", "masc", 2, _ADJ_MASC),
    ("цкой", "masc", 2, _ADJ_MASC),
    ("ская", "femn", 2, {"gent": "ой", "datv": "ой", "accs": "ую", "ablt": "ой", "loct": "ой"}),
    ("цкая", "femn", 2, {"gent": "ой", "datv": "ой", "accs": "ую", "ablt": "ой", "loct": "ой"}),
    *(
        (end, "masc", 0, {"gent": "а", "datv": "у", "accs": "а", "ablt": "ым", "loct": "е"})
        for end in ("ов", "ев", "ёв", "ин", "ын")
    ),
    *(
        (end, "femn", 1, {"gent": "ой", "datv": "ой", "accs": "у", "ablt": "ой", "loct": "ой"})
        for end in ("ова", "ева", "ёва", "ина", "ына")
    ),
)


def _surname_by_ending(word: str, gender: str | None, grammeme: str) -> str | None:
    """An unknown surname in `grammeme`, by its ending, for a person of `gender`; None for another ending."""
    for end, end_gender, cut, endings in _SURNAME_ENDINGS:
        if word.lower().endswith(end) and len(word) > len(end) + 1 and end_gender == gender:
            return word[: len(word) - cut] + endings[grammeme]
    return None


def _is_name_word(word: str) -> bool:
    """A Cyrillic word, or a hyphenated one ("Ростов-на-Дону")."""
    return all(part.isalpha() and script_of(part) == "cyrillic" for part in word.split("-"))


def _is_capitals(word: str) -> bool:
    return word.isupper() and len(word) > 1


def _known(word: str) -> bool:
    return any(p.is_known for p in _analyzer().parse(word))


def _as_written(form: str, word: str) -> str:
    """`form` with the capitals of `word`, part by part of a hyphenated one («Ростову-на-Дону»)."""
    parts, written = form.split("-"), word.split("-")
    if len(parts) == len(written) and len(parts) > 1:
        return "-".join(_as_written(f, w) for f, w in zip(parts, written, strict=True))
    if word.isupper() and len(word) > 1:
        return form.upper()
    return form[:1].upper() + form[1:] if word[:1].isupper() else form


# How a name takes a title's case (title_form_ru): from the dictionary; kept as written because it does not decline
# (or is in the nominative already); a surname guessed by its ending; a foreign name's last word declined as a
# man's (_foreign_form); kept because a word is unknown to the dictionary.
DECLINED, KEPT, GUESSED, FOREIGN, UNKNOWN = "declined", "kept", "guessed", "foreign", "unknown"


def inflect_name_ru(name: str, case: str, person: bool = False, place: bool = False) -> str:
    """A Russian name (an entity's `name`, written in the nominative) in `case` (a TITLE_CASES key): title_form_ru's
    form."""
    return title_form_ru(name, case, person, place)[0]


def title_form_ru(name: str, case: str, person: bool = False, place: bool = False) -> tuple[str, str]:
    """A Russian name (an entity's `name`, written in the nominative; `person`: an entity of kind person; `place`:
    of kind place) in `case` (a TITLE_CASES key), and how it got it (DECLINED, KEPT, GUESSED, FOREIGN, UNKNOWN).

    A place is inanimate: its name is read as the dictionary's place name where it has one, and its masculine or
    plural accusative is its nominative («атака на Орёл», not the bird's «на Орла»). The prepositional is the form
    after «в»/«на», which a title writes it after: a place name with a second prepositional takes it («в Крыму», «на
    Дону»; «в Краснодарском крае», whose «край» is not a place name, keeps the first).

    Its leading adjectives and its head noun agree ("Белгородская область" -> "Белгородской области", "Совет
    Федерации" -> "Совету Федерации": the words after the head stay as they are); a person's names decline together
    ("Владимир Путин" -> "Владимиру Путину"; a surname the dictionary does not know, by its ending: "Владимиру
    Зеленскому"); a hyphenated name whole ("Ростову-на-Дону"); a declinable abbreviation takes a lower-case ending
    ("МИДу России"); a foreign name whose last word nothing is guessed for declines that word as alias matching does
    ("Ким Чен Ыном": declines_as_foreign_noun_ru). A name not in Cyrillic, an indeclinable one ("КНДР", "ООН",
    "Шойгу"), a word in capitals the dictionary does not call a declinable abbreviation ("ВСУ", "ХАМАС") and any
    other name with a word the dictionary does not know ("Чхве Сон Хи") stay as written: better than half declined."""
    grammeme = TITLE_CASES[case]
    words = name.split(" ")
    if grammeme == "nomn" or not all(_is_name_word(w) for w in words):
        return name, KEPT
    foreign = _foreign_form(words, grammeme, person)
    if foreign is not None:
        return foreign, FOREIGN
    readings: list[Any] = [_nominative_reading(w, place) for w in words]
    if person and len(words) == 1 and readings[0] is None:
        surname = next((p for p in _analyzer().parse(name) if {"Surn", "nomn"} <= p.tag.grammemes), None)
        form = _surname_by_ending(name, surname.tag.gender, grammeme) if surname is not None else None
        if form is not None:  # a surname alone, read by the analyser's guess ("Зеленский")
            return form, GUESSED
    first_name = readings[0] is not None and "Name" in readings[0].tag
    guessed = {
        i
        for i, w in enumerate(words)
        if i and first_name and not _known(w) and _surname_by_ending(w, readings[0].tag.gender, grammeme)
    }  # "Владимир Зеленский": the surname by its ending
    # A word in capitals the dictionary does not know is a letter abbreviation, which does not decline («ВСУ»).
    unknown = [w for i, w in enumerate(words) if i not in guessed and not _known(w) and not _is_capitals(w)]
    if unknown:
        return name, UNKNOWN
    if readings[0] is None:
        return name, KEPT
    head = next((i for i, r in enumerate(readings) if r is not None and r.tag.POS == "NOUN"), None)
    if head is None and all(r is not None and any(t in r.tag for t in _PERSON_TAGS) for r in readings):
        head = len(words) - 1  # a surname declined as an adjective ("Зеленский" -> "Зеленскому")
    if head is None or any(r is None for r in readings[:head]):
        return name, KEPT
    last = head
    if any(t in readings[head].tag for t in _PERSON_TAGS):  # "Владимир Путин": the person's names together
        while last + 1 < len(words) and (
            last + 1 in guessed
            or (
                readings[last + 1] is not None
                and readings[last + 1].tag.POS == "NOUN"
                and any(t in readings[last + 1].tag for t in _PERSON_TAGS)
            )
        ):
            last += 1
    noun = readings[head]
    if place and grammeme == "accs" and "anim" in noun.tag and ("masc" in noun.tag or "plur" in noun.tag):
        return name, KEPT  # a place is inanimate: its accusative is its nominative, whatever the dictionary's animacy
    out = list(words)
    for i in range(last + 1):
        if i in guessed:
            out[i] = _surname_by_ending(words[i], noun.tag.gender, grammeme) or words[i]
            continue
        r = readings[i]
        if "Fixd" in r.tag:
            continue  # an indeclinable word («АЭС», «Шойгу»): as written
        if _is_capitals(words[i]) and "Abbr" not in r.tag:
            continue  # capitals the dictionary does not call an abbreviation that declines («ХАМАС»): as written
        grammemes = {grammeme, r.tag.number} if r.tag.number else {grammeme}
        if grammeme == "loct" and i == head and _has_locative(r):
            grammemes = {"loc2", *grammemes - {"loct"}}
        if r.tag.POS != "NOUN" and r.tag.number == "sing" and r.tag.gender:
            grammemes.add(r.tag.gender)  # an adjective keeps its noun's gender ("Белгородскую область")
        if r.tag.POS != "NOUN" and grammeme == "accs" and noun.tag.animacy and "femn" not in grammemes:
            grammemes.add(noun.tag.animacy)  # its accusative follows the noun's ("Верховного главнокомандующего")
        form = r.inflect(grammemes)
        if form is None:
            return name, KEPT  # a form the dictionary does not give: as written, not half declined
        if _is_capitals(words[i]):
            # An abbreviation keeps its capitals and takes its ending in lower case («МИДу», «МИДом»).
            if not form.word.startswith(words[i].lower()):
                return name, KEPT
            out[i] = words[i] + form.word[len(words[i]) :]
        else:
            out[i] = _as_written(form.word, words[i])
    form_text = " ".join(out)
    if guessed and form_text != name:
        return form_text, GUESSED
    return form_text, (DECLINED if form_text != name else KEPT)


def _foreign_form(words: list[str], grammeme: str, person: bool) -> str | None:
    """A foreign name whose last word nothing is guessed for ("Ким Чен Ын", "Ким Ир Сен") in `grammeme`: that word
    declined as a masculine noun, the others as written (Russian declines only the last part of such a name: "Ким
    Чен Ына"); None for any other name, and for one that starts with a first name the dictionary declines ("Владимир
    Ын" would be half declined). A person's accusative is its genitive; another's its nominative."""
    if not declines_as_foreign_noun_ru(words[-1]) or not all(w[:1].isupper() for w in words):
        return None
    if _is_capitals(words[-1]):
        return None  # a letter abbreviation («ШОС», «ГУР»): it does not decline
    first = _nominative_reading(words[0]) if len(words) > 1 else None
    if first is not None and "Name" in first.tag and "Fixd" not in first.tag:
        return None  # («Ли», a first name to the dictionary, does not decline: «Ли Чжэ Мёну» is whole)
    if grammeme == "accs":
        ending = _MASCULINE_CASE_ENDINGS["gent"] if person else ""
    else:
        ending = _MASCULINE_CASE_ENDINGS[grammeme]
    return " ".join([*words[:-1], words[-1] + ending])
