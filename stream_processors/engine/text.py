"""Text normalisation shared by rule compilation and extraction: sentences (any script), tokens, phrase words."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

# Words: runs of letters or digits. Apostrophes and hyphens split words ("Russia's" -> russia s,
# "Jong-un" -> jong un), so aliases match however a desk spells them.
_TOKEN = re.compile(r"[^\W_]+")
_NON_WORD = re.compile(r"[\W_]")
_NEGATION_CLITIC = re.compile(r"n['’]t\b")
_TAG = re.compile(r"<[^>]{0,2000}>")
_SPACES = re.compile(r"[ \t\r\f\v]+")

# Sentence ends. Every boundary starts at one of these characters (or a line break):
# - "。！？" (CJK full-width) end a sentence where they stand;
# - ". ! ? … ؟ ।" end one when whitespace follows (after closing quotes or brackets) and the next
#   word starts with a capital, a digit, or a letter of a script without case (Arabic, Devanagari…):
#   a lower-case word after them continues the sentence ("5 млн. рублей", "e.g. the");
# - ". ! ? …" (and "...") with no space after them (after closing quotes) end one too when the next word starts
#   with a capital and the mark closes a lower-case word of two or more letters that is not an abbreviation
#   ("…военные.В Минобороны", "the truce…Hamas"): feeds glue sentences so. Not in initials ("В.В.Путин",
#   "U.S.Navy"), abbreviations ("им.Кирова", "г.Москва"), numbers ("3.5"), domains and web addresses
#   ("1tv.ru", "…/page?CMP=x"), dotted names ("Binance.US", "«Дом.РФ»"), nor after a capitalised word
#   ("Jr.Smith", a headline's "Be Afraid…Denver"): _glued_end. "!" and "?" end no abbreviation or initial,
#   so they end one after a capitalised word too ("…прибыли в Россию!Так считают", "in Kursk?The").
_SENTENCE_END_AT = re.compile(
    # (A mark not followed by spaces and then something other than a line break ends nothing: such marks — the
    # title's period before its line break, the text's last one, "U.S." — are skipped here, not in Python,
    # unless two letters come before it and a letter that is not a lower-case Latin or Cyrillic one after it.)
    r"[.!?…؟।。！？\n](?:(?<=[。！？\n])|(?=[!?.…]*[\"'”’»)\]]*[ \t\r\f\v\u00a0]+[^\n])"
    r"|(?<=[^\W\d_][^\W\d_][.!?…])(?=[!?.…]*[\"'”’»)\]]*[\"'“‘«„(\[]*[^\W\d_a-zа-яё]))"
)
_CLOSERS = "\"'”’»)]"
_OPENERS = "\"'“‘«„([—–-"
_FULL_WIDTH_ENDS = "。！？"
_NEEDS_SPACES = ("  ", "\t", "\r", "\f", "\v")

# Abbreviations whose period does not end a sentence, per language (a single letter never ends
# one either: initials "V. Putin", "В. В. Путин"). Which lists apply: the document's language when
# it says one, else all of them (an abbreviation of one language is rarely a sentence's last word
# in another).
ABBREVIATIONS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "mr mrs ms dr prof gen lt col maj sgt capt adm gov sen rep st jr sr vs no nos fig inc ltd co corp dept "
        "jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.u a.m p.m etc approx est".split()
    ),
    "ru": frozenset(
        "им ул пр просп пер обл р-н руб коп тыс млн млрд трлн долл гг вв др см ср стр ст гос ген проф акад "
        "доц зам нач ред изд англ рус лат нем франц кв корп мин сек т.е т.д т.п т.к т.н и.о "
        "янв фев февр мар апр авг сен сент окт нояб дек".split()
    ),
}
_ALL_ABBREVIATIONS = frozenset().union(*ABBREVIATIONS.values())
# Abbreviations that close a list ("etc.", "и т. д.", "и т. п.", "и др."): a capitalised word after them starts a
# new sentence ("… ракеты и т. д. Военные КНДР прибыли …"), as no name follows them (outside trial 17, L1). Spaced
# "т. д." and "т. п." are read as their last letter after "т. ".
LIST_END_ABBREVIATIONS = frozenset("etc т.д т.п др".split())
_LIST_END_LETTERS = frozenset("дп")
# "обл." and "р-н." after the adjective of a place name close it ("в Курскую обл.", "Суджанский р-н."): a capitalised
# word after them starts a new sentence ("… вторжение в Курскую обл. Войска ВСУ прорвались …"; outside trial 41, L1).
# Not before a name they head ("р-н Марьино", "обл. центр" is lower-case anyway).
PLACE_HEAD_ABBREVIATIONS = frozenset({"обл", "р-н"})
_RU_ADJECTIVE_ENDINGS = ("ая", "ой", "ую", "ий", "ый", "ом", "ей", "ое", "ые", "их", "ых")


def abbreviations_for(language: str | None) -> frozenset[str]:
    """The abbreviation list for a document's language: its own when known, else every list."""
    if language:
        got = ABBREVIATIONS.get(language.split("-", 1)[0].lower())
        if got is not None:
            return got
    return _ALL_ABBREVIATIONS


def strip_html(text: str) -> str:
    """Feed descriptions are often HTML: drop tags, unescape entities."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def _starts_sentence(text: str, i: int) -> bool:
    """Whether the text from i (after whitespace) looks like a sentence start: optional opening
    quotes, brackets or dashes, then a capital, a digit, or a letter of a caseless script."""
    n = len(text)
    while i < n and (text[i] in _OPENERS or text[i] == " "):
        i += 1
    if i >= n:
        return False
    c = text[i]
    return c.isupper() or c.isdigit() or (c.isalpha() and not c.islower())


def _is_initials(word: str) -> bool:
    """Whether a word (lower-cased, without its last period) is one letter or letters each followed by a
    period: "в", "в.в", "j.d"."""
    n = len(word)
    if n == 1:
        return word.isalpha()
    return word[1:2] == "." and n % 2 == 1 and word[1::2] == "." * (n // 2) and word[::2].isalpha()


# Words that start a sentence and are never a surname: after them a period that could close initials ends the
# sentence instead ("Washington, D.C. The talks resumed", "Plan B. It failed"; "J.D. Vance" and "В.В. Путин" keep).
SENTENCE_STARTERS = frozenset(
    "the a an it its this that these those he she they we i in on at but and or if when while after before "
    "his her their there here as so yet for from by with according however meanwhile also "
    "в на это но а и он она они мы по с за однако также при после до как".split()
)


def _next_word(text: str, k: int) -> str:
    """The word that starts at k (after opening quotes and brackets), lower-cased."""
    n = len(text)
    while k < n and (text[k] in _OPENERS or text[k] == " "):
        k += 1
    e = k
    while e < n and text[e].isalpha():
        e += 1
    if e - k == 1 and e < n and text[e] == ".":
        return ""  # another initial ("В. В. Петров"), not the preposition "в"
    return text[k:e].lower()


_URL_MARKS = frozenset("/@=\\")


def _glued_end(text: str, start: int, i: int, j: int, abbreviations: frozenset[str]) -> bool:
    """Whether the mark at i, with no space before the next word (at j, after the marks and closing quotes),
    ends a sentence: it closes a lower-case word of two or more letters (not an abbreviation, not a part of a
    dotted name or a web address), or any word for '!' and '?' (no abbreviation or initial ends
    in them: "…в Россию!Так …"), and the next word starts with a capital and is no upper-case name
    ("Binance.US", "Дом.РФ") nor the start of a domain ("chat.Gpt.com")."""
    if text[i] not in ".!?…":
        return False
    w = i
    while w > start and text[w - 1].isalpha():
        w -= 1
    word = text[w:i]
    if text[i] not in "!?" and (len(word) < 2 or not word.islower() or word in abbreviations):
        return False
    b = w
    while b > start and not text[b - 1].isspace():
        b -= 1
    if (w > b and text[w - 1] in ".:_#%&") or any(ch in _URL_MARKS for ch in text[b:w]):
        return False  # "site.news.The", "t.me/channel.The", "…/newsletters?CMP=…"
    n = len(text)
    k = j
    while k < n and text[k] in "\"'“‘«„([":
        k += 1
    if k >= n or not text[k].isupper():
        return False
    e = k + 1
    while e < n and text[e].isalpha():
        e += 1
    if e - k > 1 and text[k:e].isupper():
        return False  # an upper-case word: a dotted name's part ("Character.AI"), rarely a sentence's start
    return not (e + 1 < n and text[e] in "._/@=" and text[e + 1].isalnum())


def sentence_spans(text: str, abbreviations: frozenset[str] = _ALL_ABBREVIATIONS) -> list[tuple[int, int]]:
    """Where the sentences of `text` lie: (start, end) character offsets of each raw piece between
    sentence boundaries, before clean_sentence(); a piece may clean to nothing."""
    spans: list[tuple[int, int]] = []
    start = 0
    pos = 0
    n = len(text)
    find = _SENTENCE_END_AT.search
    while True:
        at = find(text, pos)
        if at is None:
            break
        i = at.start()
        c = text[i]
        if c == "\n":
            j = i + 1
            while j < n and text[j] == "\n":
                j += 1
            spans.append((start, i))
            start = pos = j
            continue
        j = i + 1
        if c in _FULL_WIDTH_ENDS:
            while j < n and text[j] in _CLOSERS:
                j += 1
            spans.append((start, j))
            start = pos = j
            continue
        while j < n and text[j] in "!?.…":  # "?!", "...": one boundary at the last of them
            j += 1
        end = j
        while j < n and text[j] in _CLOSERS:
            j += 1
        k = j
        while k < n and text[k] in " \t\r\f\v\u00a0":
            k += 1
        if k == j and k < n and _glued_end(text, start, i, j, abbreviations):
            spans.append((start, j))  # "…военные.В Минобороны …": no space after the mark
            start = pos = j
            continue
        if k == j or k >= n or text[k] == "\n":
            pos = max(j, i + 1)  # no whitespace after it, or a line break (handled as one) follows
            continue
        if not _starts_sentence(text, k):
            pos = k
            continue
        if c == "." and end == i + 1:
            # A period after a known abbreviation or initials ("V.", "В.В.", "J.D.") ends nothing;
            # a letter after a numeral and a hyphen ("80-е.", "5-й.") is a word ending, not an initial.
            w = i
            while w > start and not text[w - 1].isspace() and text[w - 1] not in _OPENERS:
                w -= 1
            last = text[w:i].lower().rstrip(".")
            if _closes_list(text, start, w, last):
                spans.append((start, j))  # "… ракеты и т. д. Военные …", "missiles, etc. North Korean troops …"
                start = pos = k
                continue
            # ("р-н": the word above stops at its hyphen, as at an opening dash)
            head = w - 2 if last == "н" and w - 2 >= start and text[w - 2 : w].lower() == "р-" else w
            if text[head:i].lower() in PLACE_HEAD_ABBREVIATIONS and _after_adjective_ru(text, start, head):
                spans.append((start, j))  # "… в Курскую обл. Войска ВСУ …"
                start = pos = k
                continue
            initials = last.isalpha() if len(last) == 1 else last[1:2] == "." and _is_initials(last)
            if last in abbreviations or (
                initials
                and not (w - 2 >= start and text[w - 1] in "-–" and text[w - 2].isdigit())
                and _next_word(text, k) not in SENTENCE_STARTERS
            ):
                pos = k
                continue
        spans.append((start, j))
        start = pos = k
    spans.append((start, n))
    return spans


def _after_adjective_ru(text: str, start: int, w: int) -> bool:
    """Whether the word before text[w] (within the sentence from `start`) is a lower-case Russian adjective, the
    place name "обл." or "р-н" closes ("Курскую обл.", "Суджанский р-н."; PLACE_HEAD_ABBREVIATIONS)."""
    e = w
    while e > start and text[e - 1].isspace():
        e -= 1
    b = e
    while b > start and text[b - 1].isalpha():
        b -= 1
    word = text[b:e]
    return len(word) > 3 and word.endswith(_RU_ADJECTIVE_ENDINGS)


def _closes_list(text: str, start: int, w: int, last: str) -> bool:
    """Whether the word `last` (lower-cased, before its period, at text[w]) is an abbreviation that closes a list
    (LIST_END_ABBREVIATIONS), or the "д"/"п" of a spaced "т. д." / "т. п."."""
    if last in LIST_END_ABBREVIATIONS:
        return True
    return (
        last in _LIST_END_LETTERS
        and text[w].islower()  # (not the initial of "т. Д. Иванов")
        and w - 3 >= start
        and text[w - 3 : w].lower() in ("т. ", "т.\u00a0")
        and (w - 3 == start or not text[w - 4].isalpha())
    )


def clean_sentence(piece: str) -> str:
    """One sentence's text: runs of spaces and tabs as one space, no surrounding whitespace."""
    for ws in _NEEDS_SPACES:
        if ws in piece:
            piece = _SPACES.sub(" ", piece)
            break
    return piece.strip()


def split_sentences(text: str, language: str | None = None) -> list[str]:
    """Split text into sentences, keeping abbreviations such as 'U.S.', 'Nov. 9', 'им.' intact."""
    out = []
    for start, end in sentence_spans(text, abbreviations_for(language)):
        p = clean_sentence(text[start:end])
        if p:
            out.append(p)
    return out


# ASCII characters that are not word characters, as spaces; and non-ASCII ones common in news.
_ASCII_WORDS = str.maketrans({chr(c): chr(c) if chr(c).isalnum() else " " for c in range(128)})
_COMMON_NON_WORD = ("’", "‘", "“", "”", "—", "–", "…", "\u00a0", "«", "»", "„")


def word_view(text: str) -> str:
    """The words of `text` separated by one or more spaces, with a space before the first and after
    the last: `.split()` of it gives tokens(text). Words are runs of letters or digits (`_TOKEN`),
    lower-cased, with "ё" read as "е" (Russian writes both)."""
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
            if "ё" in lowered:
                lowered = lowered.replace("ё", "е")
            # One space per non-word character keeps the view aligned (Cyrillic, accents, ...),
            # unless lower-casing changed the length (a few letters lower to two characters).
            view = " " + _NON_WORD.sub(" ", lowered) + " "
            if len(lowered) == len(text):
                return view, True
            return view, False
    # Character for character, unless a clitic became " not" (one character longer).
    return " " + lowered.translate(_ASCII_WORDS) + " ", len(lowered) == len(text)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; "n't" becomes the word "not" so negation cues see it."""
    return word_view(text).split()


_ANY_CASE_CLITIC = re.compile(r"n['’]t\b", re.IGNORECASE)


def cased_tokens(text: str) -> list[str]:
    """The words of `text` as written (not lower-cased): tokens(text) but for case, one for one, unless lower-casing
    changed a word's letters apart (the caller compares the counts)."""
    if "'" in text or "’" in text:
        text = _ANY_CASE_CLITIC.sub(" not", text)
    return _TOKEN.findall(text)


# Words of an alias in capitals up to this long must be written in capitals ("US", "UN", "WHO", "США"): they
# spell common words in lower or title case ("us", "un", "who"); longer ones only start with a capital, as
# British style writes "Nato", "Ecowas", "Opec".
_SHORT_ACRONYM = 3


def alias_capitals(alias: str) -> tuple[int, ...]:
    """For an alias written in capitals (two letters or more, none lower-case: "US", "U.S.", "EU", "КНДР", "=US"),
    per word the letters that must be capitals where it matches: all of a word of up to _SHORT_ACRONYM letters ("US",
    not the pronoun "us" or "Us"), the first of a longer one ("NATO" reads "Nato", not "nato"); else () (any case:
    "Russia", "N. Korea", "G7")."""
    letters = [c for c in alias if c.isalpha()]
    if len(letters) < 2 or not all(c.isupper() for c in letters):
        return ()
    return tuple(len(w) if len(w) <= _SHORT_ACRONYM else 1 for w in _TOKEN.findall(alias.replace("*", " ")))


# A word of an acronym alias as written without dots ("US", "=EU") or with a dot after each letter ("U.S.", "E.U."):
# news style differs by outlet (NYT and WSJ write "U.S.", "E.U.", "U.N."), so each spelling also reads the other.
_BARE_ACRONYM = re.compile(r"(=?)([^\W\d_]{2,3})")
_DOTTED_ACRONYM = re.compile(r"(=?)((?:[^\W\d_]\.){2,3})")


def acronym_twin(alias: str) -> str | None:
    """The other spelling of an alias in capitals whose acronym words are written bare or dotted: "US" -> "U.S.",
    "U.S." -> "US", "US Army" -> "U.S. Army"; None when it has none (not in capitals, or no such word). Only words of
    two or three capitals are spelled again, as alias_capitals holds exactly those to capitals."""
    if not alias_capitals(alias):
        return None
    out: list[str] = []
    changed = False
    for word in alias.split(" "):
        bare = _BARE_ACRONYM.fullmatch(word)
        dotted = _DOTTED_ACRONYM.fullmatch(word)
        if bare and bare.group(2).isupper():
            out.append(bare.group(1) + "".join(c + "." for c in bare.group(2)))
            changed = True
        elif dotted and dotted.group(2).isupper():
            out.append(dotted.group(1) + dotted.group(2).replace(".", ""))
            changed = True
        else:
            out.append(word)
    return " ".join(out) if changed else None


def with_acronym_twins(aliases: Sequence[str]) -> list[str]:
    """`aliases` with each one's acronym_twin after it, unless the list already holds that spelling."""
    seen = set(aliases)
    out: list[str] = []
    for alias in aliases:
        out.append(alias)
        twin = acronym_twin(alias)
        if twin is not None and twin not in seen:
            seen.add(twin)
            out.append(twin)
    return out


_PLAIN_PHRASE = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")


def phrase_words(phrase: str) -> list[str]:
    """The words of a rule phrase, keeping a trailing '*' (prefix) and a leading '=' (exact form) on a
    word: "Северн* Коре*" -> ["северн*", "коре*"], "=May 9" -> ["=may", "9"]."""
    if _PLAIN_PHRASE.fullmatch(phrase):  # most phrases: plain words, one space apart
        return phrase.lower().split()
    words: list[str] = []
    for raw in phrase.split():
        exact = raw.startswith("=") and len(raw) > 1
        if exact:
            raw = raw[1:]
        stem = raw.endswith("*")
        toks = tokens(raw[:-1] if stem else raw)
        if not toks:
            continue
        if stem:
            toks[-1] += "*"
        if exact:
            toks = ["=" + t if not t.endswith("*") else t for t in toks]
        words.extend(toks)
    return words
