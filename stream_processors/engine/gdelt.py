"""Whether a GDELT event's coded fields (a document's `metadata.gdelt`) meet a signal's `gdelt:` conditions."""

from __future__ import annotations

from datetime import date
from typing import Any

from watchfloor.schemas.gdelt_codes import (
    QUAD_CLASSES,
    UNKNOWN_COUNTRY,
    actor_name,
    cameo_countries,
    cameo_events,
    cameo_types,
    event_text,
    fips_countries,
)

from .compiled import GdeltTest


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Any) -> float | None:
    # JSON's true is no number of GDELT's (bool is an int to Python).
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _country(coded: dict[str, Any], part: str, key: str = "country") -> str:
    block = coded.get(part)
    return _text(block.get(key)) if isinstance(block, dict) else ""


def _or_none(code: str) -> str:
    # (an empty field is said as the rules write it, `unknown`: "none" read as a code's name, outside trial 85, F4)
    return code or "unknown"


def gdelt_miss(test: GdeltTest, metadata: dict[str, Any]) -> str | None:
    """None when the document's coded fields meet every condition of `test`; else every one they miss, as `rules
    explain` says them ("; " between: outside trial 70, L3, only the first was said). A document without
    `metadata.gdelt` (no GDELT event) meets none."""
    coded = metadata.get("gdelt")
    if not isinstance(coded, dict):
        return "the document is no GDELT event (it has no metadata.gdelt)"
    missed: list[str] = []
    if test.event_codes:
        code = _text(coded.get("event_code"))
        if not code or not code.startswith(test.event_codes):
            missed.append(f"event code {_or_none(code)} starts with none of {', '.join(test.event_codes)}")
    if test.quad_classes:
        quad = _number(coded.get("quad_class"))
        if quad is None or int(quad) not in test.quad_classes:
            said = "unknown" if quad is None else f"{quad:g}"
            missed.append(f"quad class {said} is not {' or '.join(str(q) for q in test.quad_classes)}")
    if test.goldstein_at_least is not None or test.goldstein_at_most is not None:
        score = _number(coded.get("goldstein"))
        if score is None:
            missed.append("the event has no Goldstein scale")
        elif test.goldstein_at_least is not None and score < test.goldstein_at_least:
            missed.append(f"Goldstein scale {score:g} is below at_least {test.goldstein_at_least:g}")
        elif test.goldstein_at_most is not None and score > test.goldstein_at_most:
            missed.append(f"Goldstein scale {score:g} is above at_most {test.goldstein_at_most:g}")
    if test.min_mentions is not None:
        _count_missed(coded, "mentions", "mention", test.min_mentions, missed)
    actor1, actor2 = _country(coded, "actor1"), _country(coded, "actor2")
    if test.countries and actor1 not in test.countries and actor2 not in test.countries:
        missed.append(
            f"actor countries {_or_none(actor1)} and {_or_none(actor2)}: neither is {_listed(test.countries, ' or ')}"
        )
    if test.actor1_countries:
        _one_of("Actor1's country", actor1, test.actor1_countries, missed)
    if test.actor2_countries:
        _one_of("Actor2's country", actor2, test.actor2_countries, missed)
    if test.action_countries:
        _one_of("the action's country", _country(coded, "action_geo"), test.action_countries, missed)
    if test.more:
        _more_missed(test, coded, actor1, actor2, missed)
    if test.max_event_age_days is not None:
        # (outside trial 70, M4: an event of 2006 GDELT coded again from a 2024 article raised two HIGH alerts)
        age = _age_days(_text(coded.get("sql_date")), _text(coded.get("date_added")))
        if age is None:
            missed.append("the event's date or the date GDELT added it is not coded: its age is not known")
        elif age > test.max_event_age_days:
            missed.append(f"the event is {age} days older than GDELT's adding of it, more than max_event_age")
    return "; ".join(missed) or None


def _listed(codes: tuple[str, ...], joint: str) -> str:
    """Codes as a rule writes them: the empty field is `unknown`."""
    return joint.join(code or UNKNOWN_COUNTRY for code in codes)


def _count_missed(coded: dict[str, Any], key: str, noun: str, least: int | None, missed: list[str]) -> None:
    """The miss of a min_mentions, min_sources or min_articles. A count GDELT left empty (None) is not coded, as an
    empty AvgTone is, not 0: said so, and left out by any least above 0, as the 0 it was read as was (outside trial
    82); a least of 0 asks nothing."""
    if not least:
        return
    count = _number(coded.get(key))
    if count is None:
        missed.append(f"the event has no number of {noun}s")
    elif count < least:
        missed.append(f"{count:g} {noun if count == 1 else noun + 's'}, fewer than min_{noun}s {least}")


def _one_of(label: str, code: str, codes: tuple[str, ...], missed: list[str]) -> None:
    """The miss of a country condition's `any` (a list): the field is none of `codes`."""
    if code not in codes:
        missed.append(f"{label} {_or_none(code)} is not {_listed(codes, ' or ')}")


def _left_out(label: str, code: str, codes: tuple[str, ...], key: str, missed: list[str], hit: bool = False) -> None:
    """The miss of a condition's `none`: the field is one of `codes` (`hit`: the caller has found it so, as a prefix
    of an event code or a quad class is found)."""
    if codes and (hit or code in codes):
        missed.append(f"{label} {code or UNKNOWN_COUNTRY} is left out by {key}: {{none: [{_listed(codes, ', ')}]}}")


def _more_missed(test: GdeltTest, coded: dict[str, Any], actor1: str, actor2: str, missed: list[str]) -> None:
    """The conditions on the counts, the tone and the countries left out (GdeltTest.more), as gdelt_miss says
    them."""
    _count_missed(coded, "sources", "source", test.min_sources, missed)
    _count_missed(coded, "articles", "article", test.min_articles, missed)
    if test.tone_at_least is not None or test.tone_at_most is not None:
        tone = _number(coded.get("avg_tone"))
        if tone is None:
            missed.append("the event has no average tone")
        elif test.tone_at_least is not None and tone < test.tone_at_least:
            missed.append(f"average tone {tone:g} is below at_least {test.tone_at_least:g}")
        elif test.tone_at_most is not None and tone > test.tone_at_most:
            missed.append(f"average tone {tone:g} is above at_most {test.tone_at_most:g}")
    if test.not_event_codes:
        code = _text(coded.get("event_code"))
        # (a prefix, as event_codes' are: none: ["19"] leaves out 190 to 196; an event with no code is of none)
        found = bool(code) and code.startswith(test.not_event_codes)
        _left_out("event code", code, test.not_event_codes, "event_codes", missed, found)
    if test.not_quad_classes:
        quad = _number(coded.get("quad_class"))
        found = quad is not None and int(quad) in test.not_quad_classes
        said = "" if quad is None else f"{quad:g}"
        _left_out("quad class", said, tuple(str(q) for q in test.not_quad_classes), "quad_classes", missed, found)
    # (either actor's country left out by `countries` leaves the event out: neither actor may be one of them)
    _left_out("Actor1's country", actor1, test.not_countries, "countries", missed)
    if not (test.not_countries and actor1 in test.not_countries and actor2 == actor1):
        _left_out("Actor2's country", actor2, test.not_countries, "countries", missed)
    _left_out("Actor1's country", actor1, test.not_actor1_countries, "actor1_countries", missed)
    _left_out("Actor2's country", actor2, test.not_actor2_countries, "actor2_countries", missed)
    if test.not_action_countries:
        place = _country(coded, "action_geo")
        _left_out("the action's country", place, test.not_action_countries, "action_countries", missed)


def _age_days(event: str, added: str) -> int | None:
    """Days from the event's SQLDATE to its DATEADDED (YYYYMMDD, or YYYYMMDDHHMMSS), by calendar day; None when either
    is not a date."""
    if len(event) < 8 or len(added) < 8 or not (event[:8].isdigit() and added[:8].isdigit()):
        return None
    try:
        return (date.fromisoformat(_iso(added)) - date.fromisoformat(_iso(event))).days
    except ValueError:
        return None


def _iso(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}"


def gdelt_captures(fields: tuple[tuple[str, str], ...], metadata: dict[str, Any]) -> dict[str, str]:
    """The values of a signal's `gdelt` captures (capture name, coded field) in a document's `metadata.gdelt`: the
    code as GDELT writes it (RUS, UP, 190, 19, 4); a field the event leaves empty, or a document that is no GDELT
    event, gives none (so the signal takes no part in a detection grouped by it)."""
    coded = metadata.get("gdelt")
    if not isinstance(coded, dict):
        return {}
    out: dict[str, str] = {}
    for name, field in fields:
        if field == "actor1_country":
            value = _country(coded, "actor1")
        elif field == "actor2_country":
            value = _country(coded, "actor2")
        elif field == "action_country":
            value = _country(coded, "action_geo")
        elif field == "quad_class":
            quad = _number(coded.get("quad_class"))
            value = "" if quad is None else str(int(quad))
        else:  # event_code, root_code
            value = _text(coded.get(field))
        if value:
            out[name] = value
    return out


FACT_KEYS = ("cameo_event", "goldstein", "mentions", "actors", "action_geo", "event_date")
"""The captures every signal of a GDELT event carries (gdelt_facts), so that its alert shows them as attributes."""


def _actor(coded: dict[str, Any], part: str) -> str:
    """ "Barack Obama (USA, United States)", "North Korea (PRK)", "" (no actor coded)."""
    block = coded.get(part)
    if not isinstance(block, dict):
        return ""
    name, country = actor_name(_text(block.get("name"))), _text(block.get("country"))
    known = cameo_countries().get(country, "") if country else ""
    if not name:
        name = known or _text(block.get("code"))
        known = ""
    # Its type ("Police forces", "Civilian"), which tells two actors of one country apart: "United States →
    # United States" read as nothing (outside trial 70, L5: the US police against the public).
    kind = cameo_types().get(_text(block.get("type")), "")
    tail = f", {kind.lower()}" if kind and kind.casefold() not in name.casefold() else ""
    if not country:
        return f"{name}{tail}"
    said = f"{country}, {known}" if known and known.casefold() != name.casefold() else country
    return (f"{name} ({said})" if name else said) + tail


def _day(text: str) -> str:
    """GDELT's YYYYMMDD[HHMMSS] as 2024-10-28 (10:15 UTC); "" when it is not one."""
    if not (text.isdigit() and len(text) in (8, 14)):
        return ""
    day = f"{text[:4]}-{text[4:6]}-{text[6:8]}"
    return f"{day} {text[8:10]}:{text[10:12]} UTC" if len(text) == 14 else day


def gdelt_facts(metadata: dict[str, Any]) -> dict[str, str]:
    """What an analyst triages a GDELT event on, as a signal's captures (FACT_KEYS; outside trial 65, MED-3): the
    CAMEO code and its description, the Goldstein scale, the mentions, the actors with their countries, the action's
    place and the EVENT's date (SQLDATE) beside the time GDELT added it (DATEADDED, the alert's time). Empty for a
    document that is no GDELT event."""
    coded = metadata.get("gdelt")
    if not isinstance(coded, dict):
        return {}
    out: dict[str, str] = {}
    code = _text(coded.get("event_code"))
    if code:
        known = cameo_events().get(code)
        root = _text(coded.get("root_code"))
        quad = _number(coded.get("quad_class"))
        quad_text = QUAD_CLASSES.get(str(int(quad)), "") if quad is not None else ""
        about = ", ".join(x for x in (f"root {root}" if root else "", quad_text) if x)
        out["cameo_event"] = f"{code} {event_text(known)}" if known else code
        if about:
            out["cameo_event"] += f" ({about})"
    score = _number(coded.get("goldstein"))
    if score is not None:
        out["goldstein"] = f"{score:g}"
    mentions = _number(coded.get("mentions"))
    if mentions is not None:
        sources, articles = _number(coded.get("sources")), _number(coded.get("articles"))
        said = f"{mentions:g}"
        if sources is not None:
            said += f" in {sources:g} source{'' if sources == 1 else 's'}"
        if articles is not None:
            said += f", {articles:g} article{'' if articles == 1 else 's'}"
        out["mentions"] = said
    actor1, actor2 = _actor(coded, "actor1"), _actor(coded, "actor2")
    if actor1 or actor2:
        out["actors"] = f"{actor1 or 'no Actor1'} → {actor2}" if actor2 else actor1
    geo = coded.get("action_geo")
    if isinstance(geo, dict):
        country = _text(geo.get("country"))
        place = " ".join(_text(geo.get("name")).split()) or fips_countries().get(country, "")
        if place or country:
            out["action_geo"] = f"{place} ({country})" if place and country else place or country
    event_day = _day(_text(coded.get("sql_date")))
    if event_day:
        added = _day(_text(coded.get("date_added")))
        out["event_date"] = f"{event_day} (added by GDELT {added})" if added else event_day
    return out
