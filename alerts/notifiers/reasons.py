"""The withdrawal and revision reasons watchfloor writes itself, worded in a Slack channel's language.

The engine and the dispatcher write these reasons in English into the events and the ledger (the same text live,
on replay and in every channel): a correction by the publisher (stream_processors/engine/corrections.py
`correction_reason`, `restatement_reason`), a late report's default (correlate.Correlator.changes), a composed
rule's withdrawn input (engine/compose.py `_feed`), and a withdrawal of an alert a throttle summary listed
(alerts/compose.py). Their shapes are fixed, so a language other than English reads them back into their parts
and words them in its own table, the time as the date token the other message times use. A reason of any other
shape (one a person wrote: `alerts retract --reason`) is someone else's text and stays as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from .wording import ENGLISH, Wording

_UTC_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)? UTC"
CORRECTED = re.compile(
    rf"corrected by the publisher: (?P<source>.+?) edited item (?P<item>.+?) at (?P<at>{_UTC_TIME}), and the new "
    r"text (?:no longer reports what this alert rested on|reports what this alert rested on as (?P<now>[a-z]+), "
    r"no longer (?P<before>[a-z]+))"
)
LATE = re.compile(
    # (the time as the alert text shows it; an ISO time in a store written before)
    rf"a late report \((?P<doc>.+), (?P<at>{_UTC_TIME}|\d{{4}}-\d\d-\d\dT[0-9:.+-]+)\) changed the history of "
    r"this group: this alert would not have been raised"
)
INPUT_WITHDRAWN = re.compile(r"its input alert (?P<id>\S+) \((?P<rule>[^()]+)\) was withdrawn: (?P<reason>.*)")
THROTTLE_LISTED = " (it was listed in this channel's throttle summary)"
CHANGED_DEFAULT = "a later report changed this alert"  # alerts/compose.py's, for a withdrawal that gave no reason

# A modality as the restated reason names it, in Russian (schemas.events.Modality)
RU_MODALITIES = {
    "asserted": "утверждение",
    "hedged": "предположение",
    "future": "планы на будущее",
    "conditional": "условие",
    "negated": "отрицание",
    "recap": "напоминание о прошлом",
}


def _parse_time(text: str) -> datetime | None:
    """A reason's time: `2026-12-06 23:58:22 UTC` (or to the minute), or an ISO time; None when unreadable."""
    try:
        if text.endswith(" UTC"):
            fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
            return datetime.strptime(text[: -len(" UTC")], fmt).replace(tzinfo=UTC)
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def worded_reason(
    reason: str, words: Wording, when: Callable[[datetime], str], quote: Callable[[str], str]
) -> str | None:
    """`reason`, one watchfloor wrote, in `words`' language: the quoted parts (an outlet, an item, a document, an
    alert id, a rule) through `quote`, its time through `when` (a date token in mrkdwn). None in English (the reason
    as it is) and for a reason of no known shape (someone else's, shown as written)."""
    if words.language == ENGLISH.language:
        return None
    if reason.endswith(THROTTLE_LISTED):
        inner = reason[: -len(THROTTLE_LISTED)]
        said = worded_reason(inner, words, when, quote)
        return words.text("reason_throttle_listed", reason=said if said is not None else quote(inner))
    if reason == CHANGED_DEFAULT:
        return words.text("changed_default")
    if m := INPUT_WITHDRAWN.fullmatch(reason):
        inner = m["reason"]
        said = worded_reason(inner, words, when, quote)
        return words.text(
            "reason_input_withdrawn",
            id=quote(m["id"]),
            rule=quote(m["rule"]),
            reason=said if said is not None else quote(inner),
        )
    if (m := CORRECTED.fullmatch(reason)) and (at := _parse_time(m["at"])) is not None:
        parts = {"source": quote(m["source"]), "item": quote(m["item"]), "when": when(at)}
        if m["now"] is None:
            return words.text("reason_corrected", **parts)
        now, before = (RU_MODALITIES.get(x, x) for x in (m["now"], m["before"]))
        return words.text("reason_restated", now=quote(now), before=quote(before), **parts)
    if (m := LATE.fullmatch(reason)) and (at := _parse_time(m["at"])) is not None:
        return words.text("reason_late", doc=quote(m["doc"]), when=when(at))
    return None
