"""Directives and first steps (outside trial 28, F3): "Baku ordered residents to leave", "officials told Armenians to
leave", "is advising residents to leave" read as a done exodus, and "has paved the way for ratifying the statute" as
a done ratification. A directive is a goal now, as "urged X to" is (future: the verb after "to" is what was asked
for); "paved / cleared the way for" is future, as "on the verge of" is (the word it leads to, or a goal after "X to").
Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "directive-cues",
        "language": "en",
        "signals": {
            "leave": {"match": {"all": [{"any": ["leave", "flee", "evacuate"]}, {"any": ["villagers", "town"]}]}},
            "ratify": {"match": {"all": ["ratif*", "convention"]}, "near": 6},
            "join": {"match": {"all": ["join", "alliance"]}, "near": 3},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


def _read(signal: str, body: str, title: str = "") -> tuple[str, str | None]:
    return reading(_ENGINE, signal, body=body, title=title)


@pytest.mark.parametrize(
    ("body", "cue"),
    [
        ("The governor ordered villagers to leave the valley.", "ordered villagers to"),
        ("Police told villagers to leave before dusk.", "told villagers to"),
        ("The army is advising villagers to leave the area.", "advising villagers to"),
        ("Rescuers instructed villagers to evacuate the town.", "instructed villagers to"),
        ("The mayor directed villagers to leave their homes.", "directed villagers to"),
        ("Forecasters warned villagers to flee the coast.", "warned villagers to"),
        ("Villagers were ordered to leave the town.", "ordered to"),
        ("Villagers were told to evacuate the town on Sunday.", "told to"),
    ],
)
def test_a_directive_makes_its_goal_future(body: str, cue: str) -> None:
    assert _read("leave", body) == ("future", cue)


def test_a_directive_in_a_headline_is_a_goal() -> None:
    assert _read("leave", "Valley news.", title="Governor orders villagers to leave") == (
        "future",
        "orders villagers to",
    )


@pytest.mark.parametrize(
    "body",
    [
        # Done: the villagers left; the order came after.
        "Villagers left the town after officials ordered a curfew.",
        # "warned X of / against": a warning about something, not a directive.
        "Officials warned villagers of the danger as they began to leave the town.",
        # The goal's phrase ends at "after": the leaving happened.
        "Soldiers were ordered to return after villagers fled the town.",
        # No "to VERB": no directive.
        "The governor told reporters that villagers fled the town.",
    ],
)
def test_what_a_directive_does_not_govern_stays_asserted(body: str) -> None:
    assert _read("leave", body) == ("asserted", None)


@pytest.mark.parametrize(
    ("signal", "body", "cue"),
    [
        ("ratify", "The court has paved the way for ratifying the convention.", "paved the way for"),
        ("ratify", "The ruling clears the way for ratification of the convention.", "clears the way for"),
        ("ratify", "A court ruling is paving the way for the ratification of the convention.", "paving the way for"),
        # A goal after "X to": the verb after "to".
        ("join", "The vote cleared the way for Finland to join the alliance.", "cleared the way for finland to"),
    ],
)
def test_paving_the_way_is_not_yet_done(signal: str, body: str, cue: str) -> None:
    assert _read(signal, body) == ("future", cue)


def test_paving_the_way_governs_what_it_leads_to_only() -> None:
    body = "The ruling paved the way for new talks, and parliament ratified the convention on Friday."
    assert _read("ratify", body) == ("asserted", None)
