"""A cue that leads on to a word ("calls off", "postponed", "to be") wholly inside one of the signal's own phrases is
that phrase's words, as docs/rules.md says of every cue (trial 34, H1: a stand-down signal whose phrase was "calls off",
near "uprising", was read negated by the built-in cue "calls off", so its detection never fired, while `rules check`
said such a cue never applies). Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "cue-inside-phrase",
        "language": "en",
        "signals": {
            # the act tracked is the calling off itself: its verb is one of the signal's phrases
            "stand_down": {
                "match": {
                    "all": [{"any": ["calls off", "called off", "calling off"]}, {"any": ["uprising", "revolt"]}]
                },
                "near": 6,
            },
            "revolt": {"match": {"any": ["uprising", "revolt"]}},
            "vote_held": {"match": {"any": ["vote to be held"]}},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


@pytest.mark.parametrize(
    "title",
    [
        "Militia leader calls off uprising",
        "Fighters leave the city after their commander called off the revolt",
        "Calling off the uprising, the commander ordered his men back to base",
    ],
)
def test_a_call_off_cue_that_is_the_signals_own_phrase_does_not_negate_it(title: str) -> None:
    assert reading(_ENGINE, "stand_down", body="", title=title)[0] == "asserted", title


def test_the_cue_still_negates_what_it_calls_off_when_that_is_another_signals_phrase() -> None:
    # (for the signal of the uprising itself, "calls off" is no phrase of its: it governs "uprising", as before)
    assert reading(_ENGINE, "revolt", body="", title="Militia leader calls off uprising")[0] == "negated"


def test_a_future_marker_written_into_a_phrase_is_part_of_it() -> None:
    # "to be" is a cue (a passive infinitive, a thing still to be done); a pack that writes it into its phrase takes
    # the words as they stand, the documented way to keep a cue from applying.
    assert reading(_ENGINE, "vote_held", body="", title="Regional vote to be held in March")[0] == "asserted"


def test_the_check_names_a_signal_once() -> None:
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "neutral-own",
            "language": "en",
            "modality": {"neutral": ["calls off"]},
            "signals": {
                "stand_down": {
                    "match": {"all": [{"any": ["calls off", "called off"]}, {"any": ["uprising", "revolt"]}]},
                    "near": 6,
                }
            },
        }
    )
    said = [w.message for w in compile_packs([pack]).warnings]
    assert any("is itself a phrase of signal stand_down:" in m for m in said), said
