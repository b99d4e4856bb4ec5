"""Launch reports (outside trial 29, F3): built-in cues misread the common missile-launch headline.

- A hedge adjective before the object of the signal's verb ("fires **suspected** ballistic missile", "launches
  **possible** ICBM") says what was fired, not whether it was: the launch is asserted. It still hedges the event
  ("a suspected launch", "suspected of launching", "possibly fired", "may have fired") and a name ("suspected North
  Korean soldiers").
- A cue before the words does not reach into a phrase after a comma and "after", "amid", … ("vows to expand its
  arsenal, **after** launch of new missile": the launch happened), unless a second comma closes that phrase before
  the words ("will, after months of delay, ratify").
- A headline's "to" is a future only before a word that can be a verb and not after a verb of going ("travels to
  missile launch site" is a place; "Moscow and Pyongyang to exchange instruments" stays future).

Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_SPEC = {
    "version": 2,
    "name": "launch-cues",
    "language": "en",
    "entities": {
        "PRK": {"name": "North Korea", "kind": "country", "aliases": ["North Korea", "North Korean", "Pyongyang"]}
    },
    "signals": {
        "launch": {
            "match": {
                "all": [
                    {"any": ["launch", "fire", "test-fire"]},
                    {"any": ["missile", "ICBM", "ballistic missile", "drone", "spy satellite", "rocket"]},
                ]
            },
            "near": 8,
        },
        "troops": {"match": {"all": [{"any": ["capture", "send"]}, {"any": ["soldiers", "troops"]}]}, "near": 6},
        "exchange": {"match": {"all": ["exchange", "instruments"]}, "near": 4},
        "ratified": {"match": {"all": ["ratify", "treaty"]}, "near": 5},
        "jets": {"match": {"all": ["send", "jets"]}, "near": 4},
    },
}
_ENGINE = Engine(compile_packs([RulePack.model_validate(_SPEC)]))


def _read(signal: str, *, title: str = "", body: str = "Seoul, Korea.") -> tuple[str, str | None]:
    return reading(_ENGINE, signal, body=body, title=title)


# --- 1. a hedge adjective of the object ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "Pyongyang fires suspected ballistic missile towards the sea",
        "North Korea launches possible ICBM, Japan's coast guard says",
        "Pyongyang launches apparent drone over the border",
        "North Korea test-fired a suspected rocket on Sunday",
        "North Korea fires two suspected ballistic missiles into the sea",
        # the shortest window leaves "fires" out: the hedge stands before the words, after the verb
        "Pyongyang fires suspected long-range missile into the sea in first launch this year",
    ],
)
def test_a_hedge_adjective_of_what_was_launched_leaves_the_launch_asserted(title: str) -> None:
    assert _read("launch", title=title) == ("asserted", None)


def test_an_alleged_object_added_by_a_pack_is_read_alike() -> None:
    engine = Engine(compile_packs([RulePack.model_validate({**_SPEC, "modality": {"hedged": ["alleged"]}})]))
    assert reading(engine, "launch", body="x.", title="Pyongyang launches alleged spy satellite") == ("asserted", None)
    assert reading(engine, "launch", body="x.", title="Alleged missile launch by Pyongyang") == ("hedged", "alleged")


@pytest.mark.parametrize(
    ("title", "cue"),
    [
        ("Seoul reports a suspected missile launch by Pyongyang", "suspected"),
        ("Pyongyang suspected of launching a missile at dawn", "suspected"),
        ("North Korea possibly fired a missile, Tokyo says", "possibly"),
        ("North Korea allegedly launched a missile on Friday", "allegedly"),
        ("North Korea may have fired a missile, Seoul says", "may"),
        ("Possible missile launch detected near Pyongyang", "possible"),
        ("Seoul detects suspected missile launch near Pyongyang", "suspected"),
    ],
)
def test_a_hedge_of_the_event_still_hedges(title: str, cue: str) -> None:
    assert _read("launch", title=title) == ("hedged", cue)


def test_a_hedge_before_a_name_still_hedges_who() -> None:
    assert _read("troops", title="Ukraine captures suspected North Korean soldiers in Kursk") == (
        "hedged",
        "suspected",
    )


# --- 2. a cue does not reach into a phrase after ", after" ------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "Kim says his arsenal will grow, after launch of new ballistic missile",
        "Pyongyang vows to expand its arsenal, after launch of a new missile",
        "Seoul says it could strike back, after Pyongyang fired a ballistic missile",
        "Tokyo plans to raise its defence budget, amid launch of missiles by Pyongyang",
        "Japan is expected to protest — after North Korea fired a missile overnight",
    ],
)
def test_a_cue_does_not_reach_past_a_comma_and_after(title: str) -> None:
    assert _read("launch", title=title) == ("asserted", None)


@pytest.mark.parametrize(
    ("signal", "title", "want"),
    [
        ("launch", "Pyongyang vows to launch a new missile", ("future", "vows to")),
        ("launch", "Pyongyang vows to launch more missiles after the drills", ("future", "vows to")),
        ("ratified", "Russia will, after months of delay, ratify the treaty", ("future", "will")),
        ("launch", "If talks fail, after all, Pyongyang could fire a missile", ("conditional", "if")),
        ("launch", "North Korea may fire a missile, after warning Seoul", ("hedged", "may")),
    ],
)
def test_a_cue_in_the_words_own_clause_still_governs(signal: str, title: str, want: tuple[str, str]) -> None:
    assert _read(signal, title=title) == want


# --- 3. a headline's "to" + a word that can be a verb -----------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "Kim Jong Un's sister travels to missile launch site",
        "Kim heads to rocket launch pad on the coast",
        "Envoy flies back to launch site of new ICBM",
        "Reporters' trip to missile launch facility cut short",
    ],
)
def test_a_headline_to_before_a_noun_or_a_place_is_no_future(title: str) -> None:
    assert _read("launch", title=title) == ("asserted", None)


@pytest.mark.parametrize(
    ("signal", "title", "cue"),
    [
        ("exchange", "Moscow and Pyongyang to exchange instruments of ratification", "to exchange"),
        ("launch", "North Korea to launch spy satellite in June", "to launch"),
        ("launch", "North Korea to fire more missiles, state media says", "to fire"),
        ("launch", "North Korea heads to Russia to launch joint missile project", "to launch"),
        ("launch", "Kim travels to Wonsan to fire a new missile", "to fire"),
        ("ratified", "Senators on their way to ratify the treaty", "to ratify"),
    ],
)
def test_a_headline_to_before_a_verb_is_still_future(signal: str, title: str, cue: str) -> None:
    assert _read(signal, title=title) == ("future", cue)


def test_open_to_before_an_ing_verb_is_a_future() -> None:
    assert _read("jets", title="France open to sending fighter jets to Kyiv") == ("future", "open to")
    assert _read("jets", title="Paris open to talks after it sent jets to Kyiv") == ("asserted", None)


# --- 4. what a pack can do about a built-in cue that misreads its domain (docs/rules.md, "Modality") ---------------


@pytest.mark.parametrize(
    "modality",
    [
        {"neutral": ["suspected missile launch"]},  # a neutral phrase cancels the cue it covers
        None,  # or the words as one of the signal's phrases (below): a cue inside them is part of them
    ],
)
def test_a_pack_keeps_a_built_in_cue_off_its_own_words(modality: dict[str, list[str]] | None) -> None:
    title = "Suspected missile launch reported off Pyongyang"
    assert _read("launch", title=title) == ("hedged", "suspected")
    spec = {**_SPEC, "modality": modality} if modality else _with_phrase("suspected missile launch")
    engine = Engine(compile_packs([RulePack.model_validate(spec)]))
    assert reading(engine, "launch", body="x.", title=title) == ("asserted", None)


def _with_phrase(phrase: str) -> dict[str, object]:
    signals = dict(_SPEC["signals"])  # type: ignore[call-overload]
    signals["launch"] = {"match": {"any": [phrase]}}
    return {**_SPEC, "signals": signals}


def test_shortly_after_is_then_not_later() -> None:
    assert _read("launch", title="Pyongyang fired two missiles shortly after the drills ended") == ("asserted", None)
    assert _read("launch", body="Pyongyang will fire a missile shortly.")[0] == "future"


_RU = Engine(
    compile_packs(
        [
            RulePack.model_validate(
                {
                    "version": 2,
                    "name": "launch-cues-ru",
                    "language": "ru",
                    "signals": {
                        "launch": {
                            "match": {"all": [{"any": ["запуск*", "запустил*"]}, {"any": ["ракет*"]}]},
                            "near": 6,
                        }
                    },
                }
            )
        ]
    )
)


@pytest.mark.parametrize(
    ("title", "modality"),
    [
        # the Russian ", после …": the launch is in a phrase of its own, past the hedge before the comma
        ("Сеул заявил, что это может быть ракета, после того как КНДР запустила ракету.", "asserted"),
        ("КНДР пообещала нарастить арсенал, после запуска новой ракеты.", "asserted"),
        ("КНДР, возможно, запустила ракету.", "hedged"),  # a hedge of the launch itself stays
    ],
)
def test_a_russian_cue_does_not_reach_into_a_phrase_after_a_comma_and_posle(title: str, modality: str) -> None:
    assert reading(_RU, "launch", title=title, body="Сеул.")[0] == modality


@pytest.mark.parametrize(
    ("signal", "title", "want"),
    [
        # Review 25, H1: a clause that points forward keeps the cue's future ("before", "ahead of")
        ("ratified", "Parliament is expected to meet Monday, before it ratifies the treaty", ("future", "expected to")),
        ("launch", "Pyongyang will hold drills this week, ahead of a missile launch", ("future", "will")),
        # Review 25, H2: after a verb of going, a verb with no place noun after it is a purpose
        ("launch", "Kim heads to launch missile", ("future", "to launch")),
        ("launch", "Kim goes to fire missiles at sea", ("future", "to fire")),
        # Review 25, L3: after an event noun and "of", the launch itself may be awaited or unconfirmed
        ("launch", "Japan braces for launch of possible ICBM by Pyongyang", ("hedged", "possible")),
        ("launch", "The launch of a suspected ballistic missile was not confirmed", ("hedged", "suspected")),
    ],
)
def test_what_the_launch_report_fixes_leave_to_the_cues(signal: str, title: str, want: tuple[str, str]) -> None:
    assert _read(signal, title=title) == want


def test_as_quickly_as_possible_is_a_manner_not_a_hedge() -> None:
    title = "Kyiv urges allies to send arms as quickly as possible, as Pyongyang fires missiles at the sea"
    assert _read("launch", title=title) == ("asserted", None)
    assert _read("launch", title="Pyongyang possibly fired a missile")[0] == "hedged"
