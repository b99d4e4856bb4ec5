"""A deal that is close, or talks aimed at one, is not a deal made (research-analyst audit, LOW-7): "close to
agreeing", "aimed at extending", "on the verge of signing" read as asserted and raised false alerts. "close to"
and "aimed at" are future cues before an -ing verb only ("close to the border", "strikes aimed at Hamas" are
places and targets). Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "nearing-cues",
        "signals": {
            "truce": {
                "match": {"all": [{"any": ["agree", "reach", "extend", "sign"]}, {"any": ["truce", "deal"]}]},
                "near": 6,
            },
            "troops": {"match": {"all": [{"any": ["=deployed", "=massed"]}, "troops"]}, "near": 4},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


@pytest.mark.parametrize(
    ("body", "cue"),
    [
        ("Israel and Hamas are close to agreeing a truce, officials said.", "close to"),
        ("Hamas chief says the group is close to reaching a truce deal.", "close to"),
        ("The shooting overshadowed negotiations aimed at extending the truce.", "aimed at"),
        ("Mediators are on the verge of signing a deal.", "on the verge of"),
    ],
)
def test_a_deal_that_is_near_is_not_yet_made(body: str, cue: str) -> None:
    assert reading(_ENGINE, "truce", body=body) == ("future", cue)


@pytest.mark.parametrize(
    "body",
    [
        "Russia deployed troops close to the border.",
        "Close to the border, Russia deployed troops overnight.",
        "Strikes aimed at the depot came before Russia massed troops nearby.",
        "Israel and Hamas agreed a truce after talks aimed at the hostages' release.",
    ],
)
def test_a_place_or_a_target_is_no_cue(body: str) -> None:
    signal = "truce" if "truce" in body else "troops"
    assert reading(_ENGINE, signal, body=body) == ("asserted", None)


@pytest.mark.parametrize(
    "body",
    [
        # Re-check of the analyst audit (N7): the cue governs the word it leads to, not a verb beyond it.
        "A truce aimed at freeing hostages began on Friday.",
        "On the brink of collapse, the truce was extended for two days.",
    ],
)
def test_the_signals_verb_beyond_the_cue_keeps_its_reading(body: str) -> None:
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "n7",
            "signals": {"truce": {"match": {"all": ["truce", {"any": ["=began", "=extended"]}]}, "near": 8}},
        }
    )
    assert reading(Engine(compile_packs([pack])), "truce", body=body) == ("asserted", None)


def test_a_deal_on_the_verge_governs_the_noun_it_leads_to() -> None:
    pack = RulePack.model_validate(
        {"version": 2, "name": "n7b", "signals": {"deal": {"match": {"any": ["truce deal"]}}}}
    )
    assert reading(Engine(compile_packs([pack])), "deal", body="Mediators are on the verge of a truce deal.") == (
        "future",
        "on the verge of",
    )


def test_a_signal_wholly_in_the_phrase_the_cue_opens_is_governed() -> None:
    pack = RulePack.model_validate(
        {"version": 2, "name": "n7c", "signals": {"pause": {"match": {"any": ["humanitarian pauses"]}}}}
    )
    body = "EU leaders are moving closer to calling for humanitarian pauses in the war."
    assert reading(Engine(compile_packs([pack])), "pause", body=body) == ("future", "closer to")


@pytest.mark.parametrize(
    ("title", "cue"),
    [
        # Headlines drop the article (outside trial 21, H4; the first two as in the trial, the rest written so).
        ("Mediators on brink of signing truce deal", "on brink of"),
        ("Mediators on verge of signing truce deal", "on verge of"),
        ("Israel and Hamas on verge of agreeing truce, Qatar says", "on verge of"),
        # ... and with it, as documented.
        ("Mediators on the brink of signing truce deal", "on the brink of"),
        ("Mediators on the verge of signing truce deal", "on the verge of"),
    ],
)
def test_a_headline_on_the_brink_with_or_without_the_article_is_a_future(title: str, cue: str) -> None:
    assert reading(_ENGINE, "truce", body="Gaza hostages.", title=title) == ("future", cue)


def test_on_brink_of_collapse_leaves_a_later_verb_asserted() -> None:
    assert reading(_ENGINE, "truce", body="On brink of collapse, the truce deal was signed on Friday.") == (
        "asserted",
        None,
    )
