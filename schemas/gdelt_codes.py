"""GDELT's code tables a config or a rule pack is checked against: CAMEO event codes, CAMEO and FIPS countries."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

QUAD_CLASSES = {
    "1": "verbal cooperation",
    "2": "material cooperation",
    "3": "verbal conflict",
    "4": "material conflict",
}
"""GDELT's QuadClass codes -> what the text calls them."""


# Short names GDELT writes in capitals that are acronyms, and stay so when a name is cased ("THE US" -> "The US", not
# "The Us"; outside trial 72, LOW-1): countries as news text abbreviates them, and the bodies and forces in the news.
# Not every word of two or three letters (GDELT's names hold THE, NEW, SAN, AL, JOE), nor the CAMEO country codes
# (AND, CAN, BEN and PER are also words and names).
ACRONYMS = frozenset(
    "US USA UK UAE EU UN DPRK ROK PRC DRC ROC PM MP MPS NATO IMF ICC ICJ IAEA OPEC OSCE ASEAN BRICS FBI CIA NSA KGB "
    "FSB GRU SVR IDF IRGC PKK PLO ANC ISIS ISIL NGO NGOS CEO GOP UNSC UNHCR UNICEF WTO WFP G7 G8 G20".split()
)
# An acronym that is also part of personal names: Kim Jong Un's "UN". An acronym only where a name part cannot be:
# as the first word ("UN SECURITY COUNCIL") or after an article or preposition ("THE UN", "CHIEF OF THE UN").
NAME_PARTS = frozenset({"UN"})
_BEFORE_ACRONYM = frozenset({"THE", "A", "AN", "OF", "AND", "FOR", "TO", "IN", "AT", "BY", "WITH", "FROM", "ON"})


def actor_name(text: str) -> str:
    """A GDELT actor's name as a name reads: "KIM JONG UN" -> "Kim Jong Un", "THE US" -> "The US" (ACRONYMS keep
    their capitals); a word of mixed case, as the source wrote it, is kept."""
    words = text.split()
    out: list[str] = []
    for i, word in enumerate(words):
        upper = word.upper()
        if not (word.isupper() or word.islower()):
            out.append(word)
        elif upper in ACRONYMS and (upper not in NAME_PARTS or i == 0 or words[i - 1].upper() in _BEFORE_ACRONYM):
            out.append(upper)
        else:
            out.append(word.capitalize())
    return " ".join(out)


@functools.cache
@functools.cache
def _table(name: str) -> dict[str, str]:
    """One table of producers/gdelt_lookups.json (read as package data: schemas import nothing of the producers, and
    the engine that loads rule packs no pathlib); empty if absent. Read once per process (the engine asks for a
    table per GDELT event it alerts on): callers must not change it."""
    try:
        text = resources.files("watchfloor").joinpath("producers", "gdelt_lookups.json").read_text(encoding="utf-8")
        table = json.loads(text)[name]
    except (OSError, ValueError, KeyError):
        return {}
    return {str(k): str(v) for k, v in table.items()}


def cameo_countries() -> dict[str, str]:
    """The CAMEO country codes GDELT's actors carry (PRK, RUS) -> their names: the table the GDELT reader names
    them by."""
    return _table("countries")


def cameo_types() -> dict[str, str]:
    """The CAMEO actor type codes (COP, GOV, MIL, CVL) -> their names ("Police forces", "Government")."""
    return _table("types")


def fips_countries() -> dict[str, str]:
    """The FIPS 10-4 country codes of GDELT's geography fields (RS, KN, UP) -> their names."""
    return _table("fips")


def cameo_events() -> dict[str, str]:
    """The CAMEO event codes (190, 19) -> the codebook's descriptions, as written there."""
    return _table("events")


_UNSPECIFIED = (", not specified below", " not specified below", ", not spec below")


def event_text(text: str) -> str:
    """A codebook description as watchfloor writes it: "Threaten to use military force", with the codebook's "not
    specified below" left out (its "not" would read as a negation) and a root code's capitals made a sentence."""
    for tail in _UNSPECIFIED:
        if text.endswith(tail):
            text = text[: -len(tail)]
            break
    text = text.rstrip(" ,")
    if text.isupper():  # the root codes' names are in capitals ("MAKE PUBLIC STATEMENT")
        text = text.capitalize()
    return text


def country_hint(code: str, known: dict[str, str], example: str = "PRK, RUS, UKR, USA") -> str:
    """ " (did you mean 'RUS' (Russia)?)": codes of the same letters (RSU), else one letter off (NKR -> UKR)."""
    same = [k for k in known if sorted(k) == sorted(code)]
    near = [k for k in known if len(k) == len(code) and sum(a != b for a, b in zip(k, code, strict=True)) == 1]
    close = (same + [k for k in near if k not in same])[:3]
    if not close:
        return f" (the codes are GDELT's table: {example}, …)"
    return f" (did you mean {' or '.join(f'{k!r} ({known[k]})' for k in close)}?)"


def check_event_code(code: Any) -> Any:
    """One CAMEO EventCode prefix as written: a string of 1 to 4 digits ("19", "057") that a code of the codebook
    starts with. Checked one by one, so that every bad code of a list is said, each at its own line and column
    (outside trial 82: `["999", 19]` said the first alone)."""
    if not isinstance(code, str):
        # YAML reads 057 as the number 57 (or 47, octal): the leading zero is part of a CAMEO code.
        raise ValueError(f'write each CAMEO code in quotes ("057", "19"), not {code!r}')
    if not (code.isascii() and code.isdigit() and 1 <= len(code) <= 4):
        raise ValueError(f'{code!r} is not a CAMEO event code or prefix (1 to 4 digits: "19", "057")')
    known = cameo_events()
    # A prefix no code of the codebook starts with keeps no row, and a desk reads that as a quiet week
    # (outside trial 70, M3: "999", "21", "1900" passed `rules check`).
    if known and not any(k.startswith(code) for k in known):
        roots = "01 to 20"
        raise ValueError(
            f'{code!r} is no CAMEO event code nor the start of one (root codes are {roots}: "19" is fighting, '
            f'"190" {event_text(known.get("190", "conventional military force")).lower()})'
        )
    return code


def check_event_codes(value: Any) -> Any:
    """CAMEO EventCode prefixes as written (check_event_code, each); the first bad one is raised."""
    if isinstance(value, list):
        for code in value:
            check_event_code(code)
    return value


UNKNOWN_COUNTRY = "unknown"
"""What a signal's country condition writes for an actor (or action place) GDELT coded no country for: the field
GDELT leaves empty (outside trial 70, M4: a desk could not ask for, nor leave out, the actors GDELT did not place)."""


def _is_unknown(code: object) -> bool:
    return isinstance(code, str) and code.strip().lower() == UNKNOWN_COUNTRY


def _unknown_hint(code: object) -> str:
    """ " (did you mean 'unknown' …?)" for a misspelling of the word (`unkown`), else ""."""
    from difflib import get_close_matches

    if isinstance(code, str) and len(code) > 3 and get_close_matches(code.lower(), [UNKNOWN_COUNTRY], cutoff=0.7):
        return f" (did you mean {UNKNOWN_COUNTRY!r}, an actor GDELT coded no country for?)"
    return ""


def check_cameo_country(code: Any) -> Any:
    """One code of a signal's actor country condition: a CAMEO country code (check_cameo_countries), upper-cased,
    or `unknown` (UNKNOWN_COUNTRY). Checked one by one, so a bad one is placed at its own line and column."""
    if _is_unknown(code):
        return UNKNOWN_COUNTRY
    hint = _unknown_hint(code)
    if hint:
        raise ValueError(f"{code!r} is not a CAMEO country code{hint}")
    return check_cameo_countries([code])[0]


def check_fips_country(code: Any) -> Any:
    """One code of a signal's `action_countries`: a FIPS 10-4 country code (check_fips_countries), upper-cased, or
    `unknown` (an action GDELT placed in no country)."""
    if _is_unknown(code):
        return UNKNOWN_COUNTRY
    hint = _unknown_hint(code)
    if hint:
        raise ValueError(f"{code!r} is not a FIPS 10-4 country code{hint}")
    return check_fips_countries([code])[0]


def check_cameo_countries(value: Any) -> Any:
    """CAMEO country codes (three letters, in GDELT's table), upper-cased, or `unknown` (UNKNOWN_COUNTRY); a misspelt
    one is refused with the nearest codes (outside trial 65, MED-5: `countries: [RSU]` kept no row, with no word)."""
    if not isinstance(value, list):
        return value
    out = []
    for code in value:
        if _is_unknown(code):
            # (as in a rule: the actor GDELT coded no country for; poller.gdelt_options compares it as the empty field)
            out.append(UNKNOWN_COUNTRY)
            continue
        if not isinstance(code, str) or not (code.isascii() and code.isalpha() and len(code) == 3):
            raise ValueError(
                f"{code!r} is not a CAMEO country code (three letters: PRK, RUS){_other_table(code, True)}"
            )
        known = cameo_countries()
        if known and code.upper() not in known:
            raise ValueError(f"{code!r} is not a CAMEO country code{country_hint(code.upper(), known)}")
        out.append(code.upper())
    return out


def check_fips_countries(value: Any) -> Any:
    """FIPS 10-4 country codes (two letters: RS is Russia, UP Ukraine, KN North Korea), upper-cased; an unknown one
    is refused with the nearest codes."""
    if not isinstance(value, list):
        return value
    out = []
    for code in value:
        if not isinstance(code, str) or not (code.isascii() and code.isalpha() and len(code) == 2):
            raise ValueError(
                f"{code!r} is not a FIPS 10-4 country code (two letters, as GDELT's ActionGeo_CountryCode: RS is "
                f"Russia, UP Ukraine, KN North Korea){_other_table(code, False)}"
            )
        known = fips_countries()
        if known and code.upper() not in known:
            hint = country_hint(code.upper(), known, "RS (Russia), UP (Ukraine), KN (North Korea)")
            raise ValueError(f"{code!r} is not a FIPS 10-4 country code{hint}")
        out.append(code.upper())
    return out


def _other_table(code: object, want_cameo: bool) -> str:
    """ "; 'RS' is FIPS 10-4 for Russia, whose CAMEO code is 'RUS'": a code of the other table GDELT uses (actors are
    CAMEO, ActionGeo FIPS 10-4), with the one to write (outside trial 70, L2: the mix-up was refused unexplained)."""
    if not isinstance(code, str):
        return ""
    here, there = (fips_countries(), cameo_countries()) if want_cameo else (cameo_countries(), fips_countries())
    name = here.get(code.upper())
    if name is None:
        return ""
    other = next((k for k, v in there.items() if v == name), None)
    table = "FIPS 10-4" if want_cameo else "CAMEO"
    fix = f", whose {'CAMEO' if want_cameo else 'FIPS 10-4'} code is {other!r}" if other else ""
    return f"; {code.upper()!r} is {table} for {name}{fix}"


CODED_FORMS: dict[str, tuple[str, str]] = {
    "actor1_country": ("[A-Z]{3}", "a CAMEO country code: three capital letters, as RUS"),
    "actor2_country": ("[A-Z]{3}", "a CAMEO country code: three capital letters, as RUS"),
    "action_country": ("[A-Z]{2}", "a FIPS 10-4 country code: two capital letters, as RS"),
    "event_code": ("[0-9]{2,4}", "a CAMEO event code: 2 to 4 digits, as 190"),
    "root_code": ("0[1-9]|1[0-9]|20", "a CAMEO root code: two digits, 01 to 20"),
    "quad_class": ("[1-4]", "a QuadClass: 1 to 4"),
}
"""What a GDELT-coded capture (`{gdelt: FIELD}`) can hold, as a regular expression of the whole value and in words:
the code as GDELT writes it (a row whose code has another form is a dead letter; an empty field captures nothing).
What a `where` on such a capture, or on a detection grouped by it, can name (outside trial 85, F6)."""


def coded_can_hold(field: str, value: str) -> bool:
    """Whether a GDELT-coded capture of `field` can hold `value` (CODED_FORMS)."""
    import re

    form = CODED_FORMS.get(field)
    return form is None or re.fullmatch(form[0], value) is not None
