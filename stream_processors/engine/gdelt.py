"""Whether a GDELT event's coded fields (a document's `metadata.gdelt`) meet a signal's `gdelt:` conditions."""

from __future__ import annotations

from typing import Any

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
    return code or "none"


def gdelt_miss(test: GdeltTest, metadata: dict[str, Any]) -> str | None:
    """None when the document's coded fields meet every condition of `test`; else the first they miss, as `rules
    explain` says it. A document without `metadata.gdelt` (no GDELT event) meets none."""
    coded = metadata.get("gdelt")
    if not isinstance(coded, dict):
        return "the document is no GDELT event (it has no metadata.gdelt)"
    if test.event_codes:
        code = _text(coded.get("event_code"))
        if not code or not code.startswith(test.event_codes):
            return f"event code {_or_none(code)} starts with none of {', '.join(test.event_codes)}"
    if test.quad_classes:
        quad = _number(coded.get("quad_class"))
        if quad is None or int(quad) not in test.quad_classes:
            said = "none" if quad is None else f"{quad:g}"
            return f"quad class {said} is not {' or '.join(str(q) for q in test.quad_classes)}"
    if test.goldstein_at_least is not None or test.goldstein_at_most is not None:
        score = _number(coded.get("goldstein"))
        if score is None:
            return "the event has no Goldstein scale"
        if test.goldstein_at_least is not None and score < test.goldstein_at_least:
            return f"Goldstein scale {score:g} is below at_least {test.goldstein_at_least:g}"
        if test.goldstein_at_most is not None and score > test.goldstein_at_most:
            return f"Goldstein scale {score:g} is above at_most {test.goldstein_at_most:g}"
    if test.min_mentions is not None:
        mentions = _number(coded.get("mentions"))
        if mentions is None or mentions < test.min_mentions:
            said = "no" if mentions is None else f"{mentions:g}"
            return f"{said} mentions, fewer than min_mentions {test.min_mentions}"
    actor1, actor2 = _country(coded, "actor1"), _country(coded, "actor2")
    if test.countries and actor1 not in test.countries and actor2 not in test.countries:
        return f"actor countries {_or_none(actor1)} and {_or_none(actor2)}: neither is {' or '.join(test.countries)}"
    if test.actor1_countries and actor1 not in test.actor1_countries:
        return f"Actor1's country {_or_none(actor1)} is not {' or '.join(test.actor1_countries)}"
    if test.actor2_countries and actor2 not in test.actor2_countries:
        return f"Actor2's country {_or_none(actor2)} is not {' or '.join(test.actor2_countries)}"
    if test.action_countries:
        place = _country(coded, "action_geo")
        if place not in test.action_countries:
            return f"the action's country {_or_none(place)} is not {' or '.join(test.action_countries)}"
    return None


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
