"""Persuasion and request (outside audit, follow-up): in "urged Hamas to accept the deal", "is trying to persuade
Israel to approve the truce", "called on Pyongyang to ratify" the verb after "to" is a goal, not a fact: the
signal is future, like "wants to" and "seeks to" (detections take asserted signals). "agreed to", "decided to",
"voted to", "began to" keep their reading, and "urged restraint" (no "to VERB") is no cue. Russian: "призвал
Пхеньян ратифицировать", "убедить Киев подписать". Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "goal-cues",
        "language": ["en", "ru"],
        "signals": {
            "truce": {
                "match": {"all": [{"any": ["agree", "accept", "approve", "sign"]}, {"any": ["truce", "deal"]}]},
                "near": 6,
            },
            "ratified": {"match": {"all": [{"any": ["ratify", "=ratified"]}, "treaty"]}, "near": 6},
            "treaty_ru": {
                "match": {
                    "all": [
                        {"any": ["подписать", "ратифицировать", "подписали", "ратифицировали"]},
                        {"any": ["договор", "соглашение"]},
                    ]
                },
                "near": 5,
            },
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


def _read(signal: str, *, title: str = "", body: str = "Gaza hostages.") -> tuple[str, str | None]:
    return reading(_ENGINE, signal, body=body, title=title)


@pytest.mark.parametrize(
    ("signal", "body", "cue"),
    [
        ("truce", "The U.S. is trying to persuade Israel to approve the truce.", "persuade israel to"),
        ("truce", "Washington urged Hamas to accept the deal.", "urged hamas to"),
        ("ratified", "The EU pressed Moscow to ratify the treaty.", "pressed moscow to"),
        ("ratified", "The UN called on Pyongyang to ratify the treaty.", "called on pyongyang to"),
        ("truce", "Berlin asked Kyiv to agree the truce.", "asked kyiv to"),
        (
            "truce",
            "Qatar is pressing the Israeli war cabinet to quickly approve the truce.",
            "pressing the israeli war cabinet to",
        ),
        ("truce", "Mediators encouraged both sides to sign the deal.", "encouraged both sides to"),
        ("truce", "Egypt appealed to Hamas to accept the truce.", "appealed to hamas to"),
        ("ratified", "Diplomats lobbied senators to ratify the treaty.", "lobbied senators to"),
        ("truce", "Israel was urged to accept the truce.", "urged to"),
        ("truce", "Washington wants Israel to approve the truce.", "wants israel to"),
    ],
)
def test_the_verb_after_a_request_is_a_goal(signal: str, body: str, cue: str) -> None:
    assert _read(signal, body=body) == ("future", cue)


@pytest.mark.parametrize(
    ("title", "cue"),
    [
        ("US urges Israel to approve truce", "urges israel to"),
        ("Blinken presses Netanyahu to accept truce deal", "presses netanyahu to"),
        ("Pope calls on Hamas to accept truce", "calls on hamas to"),
    ],
)
def test_a_request_in_a_headline_is_a_goal(title: str, cue: str) -> None:
    assert _read("truce", title=title) == ("future", cue)


@pytest.mark.parametrize(
    ("signal", "body", "want"),
    [
        # Other "VERB to" keep their reading.
        ("truce", "Israel agreed to accept the truce.", ("future", "agreed to")),
        ("truce", "Israel decided to accept the truce.", ("asserted", None)),
        ("truce", "The Knesset voted to approve the truce.", ("asserted", None)),
        ("truce", "The cabinet moved to approve the truce.", ("asserted", None)),
        ("truce", "Hamas began to accept the deal.", ("asserted", None)),
        # A request without "to VERB" is no cue.
        ("ratified", "Washington urged restraint after Russia ratified the treaty.", ("asserted", None)),
        ("ratified", "Russia ratified the treaty and urged calm.", ("asserted", None)),
        # Nor is a "to" of another clause or a preposition.
        ("truce", "Washington urged restraint, and Israel decided to accept the truce.", ("asserted", None)),
        ("ratified", "Asked to comment, the ministry said Russia ratified the treaty.", ("asserted", None)),
        ("ratified", "Russia ratified the treaty, the state press said.", ("asserted", None)),
        ("ratified", "He pushed the bill to the floor after Russia ratified the treaty.", ("asserted", None)),
        # The request's object is not the goal: "the states that ratified the treaty" did ratify it.
        ("ratified", "Kyiv urged the states that ratified the treaty to act.", ("asserted", None)),
    ],
)
def test_other_verbs_and_requests_without_a_goal_are_unchanged(
    signal: str, body: str, want: tuple[str, str | None]
) -> None:
    assert _read(signal, body=body) == want


@pytest.mark.parametrize(
    ("body", "cue"),
    [
        ("Путин призвал Пхеньян ратифицировать договор.", "призвал пхеньян"),
        ("Вашингтон пытается убедить Киев подписать соглашение.", "убедить киев"),
        ("Москва уговорила Минск подписать соглашение.", "уговорила минск"),
        ("Москва потребовала от Киева подписать соглашение.", "потребовала от киева"),
        ("Лавров попросил стороны подписать договор.", "попросил стороны"),
        ("Генсек ООН призывает все страны ратифицировать договор.", "призывает все страны"),
    ],
)
def test_a_russian_request_makes_the_infinitive_a_goal(body: str, cue: str) -> None:
    assert _read("treaty_ru", body=body) == ("future", cue)


@pytest.mark.parametrize(
    "body",
    [
        "Стороны подписали соглашение, а Путин призвал к миру.",
        "Стороны подписали договор, о чем попросил Пхеньян.",
    ],
)
def test_a_russian_request_without_an_infinitive_is_no_cue(body: str) -> None:
    assert _read("treaty_ru", body=body) == ("asserted", None)


@pytest.mark.parametrize(
    ("body", "cue"),
    [
        # «чтобы» and a past form is a wish or demand, not a fact (rule-author audit leftover).
        ("Путин потребовал, чтобы парламент ратифицировал договор.", "чтобы"),
        ("Москва хочет, чтобы Пхеньян подписал соглашение.", "чтобы"),
        ("Вашингтон добивается того, чтобы стороны подписали соглашение.", "чтобы"),
        ("Лавров настаивал на том, чтобы договор ратифицировали до конца года.", "чтобы"),
    ],
)
def test_a_clause_after_chtoby_is_a_goal(body: str, cue: str) -> None:
    assert _read("treaty_ru", body=body) == ("future", cue)


@pytest.mark.parametrize(
    "body",
    [
        # What came before «чтобы» happened; only its own clause is a goal.
        "Стороны подписали соглашение, чтобы укрепить союз.",
        "Россия ратифицировала договор, чтобы он вступил в силу.",
    ],
)
def test_chtoby_governs_only_what_follows_it(body: str) -> None:
    assert _read("treaty_ru", body=body) == ("asserted", None)
