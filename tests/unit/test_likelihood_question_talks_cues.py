"""Cues of likelihood, questions, nested goals and talks (outside trial 61, a Black Sea grain-deal pack): "Russia is
unlikely to quit the grain deal" read a decided future and "Grain deal renewal unlikely" an asserted renewal (H1);
"Will Russia quit the grain deal?" read future on the question's own "will" (H5); "had not responded to a last-minute
attempt to renew" negated the renewal (H3); "Officials Discuss Extending Grain Deal", "Talks on grain deal extension
end without agreement" read the extension done (H4); "were told to shelter after cruise missiles were launched"
read the strike future (M2). The trial's real sentences and variants written for these
tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_DEAL = ["grain deal", "grain initiative", "Black Sea Grain Initiative", "grain-export deal", "grain export deal"]
_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "trial61-cues",
        "language": "en",
        "signals": {
            "extended": {
                "match": {"all": [{"any": ["extend", "renew", "extension", "renewal", "prolong"]}, {"any": _DEAL}]},
                "near": 10,
            },
            "ended": {"match": {"all": [{"any": ["quit", "exit", "withdraw"]}, {"any": _DEAL}]}, "near": 10},
            "passed": {"match": {"all": ["deal", "pass"]}, "near": 5},
            "coup": {"match": {"any": ["coup"]}},
            "strike": {"match": {"all": [{"any": ["Odessa", "Odesa"]}, {"any": ["missiles", "missile"]}]}, "near": 10},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


def _title(signal: str, title: str) -> tuple[str, str | None]:
    return reading(_ENGINE, signal, body="Grain.", title=title)


def _body(signal: str, body: str) -> tuple[str, str | None]:
    return reading(_ENGINE, signal, body=body)


@pytest.mark.parametrize(
    ("signal", "title", "want"),
    [
        # H1: "(un)likely to VERB" hedges the verb; a headline's "to" after it is no future
        ("ended", "Russia is unlikely to quit the grain deal", ("hedged", "unlikely to")),
        ("ended", "Russia unlikely to quit the grain deal", ("hedged", "unlikely to")),
        ("ended", "Russia likely to quit the grain deal", ("hedged", "likely")),
        ("passed", "Deal likely to pass", ("hedged", "likely")),
        # H1: a predicate adjective after the event noun
        ("extended", "Grain deal renewal unlikely, Kremlin says", ("hedged", "unlikely")),
        ("extended", "Grain deal extension possible, Kremlin says", ("hedged", "possible")),
        ("extended", "Grain deal extension still in doubt", ("hedged", "still in doubt")),
        ("extended", "Grain deal extension is unlikely", ("hedged", "is unlikely")),
        # ... which a negation does not cancel: not likely is still a likelihood
        ("extended", "Grain deal extension not likely, Kremlin says", ("hedged", "likely")),
        ("extended", "Grain deal renewal is not possible", ("hedged", "is not possible")),
        # H5: a yes/no question opened by a modal asks; it does not say what will be
        ("ended", "Will Russia quit the grain deal?", ("hedged", "will …?")),
        ("ended", "Could Russia quit the grain deal?", ("hedged", "could")),
        ("ended", "Would Russia quit the grain deal?", ("hedged", "would …?")),
        ("extended", "Will the grain deal be extended?", ("hedged", "will …?")),
        ("ended", "Analysis: Will Russia quit the grain deal?", ("hedged", "will …?")),
        # H4: an act that is the topic of talks or discussion is still to come
        ("extended", "U.N. and Russian Officials Discuss Extending Grain Deal in Ukraine", ("future", "discuss")),
        ("extended", "Talks on grain deal extension end without agreement", ("future", "talks on")),
        ("extended", "Turkey hosts talks on extending the grain deal", ("future", "talks on")),
        ("extended", "Russia, UN set for grain deal renewal talks", ("future", "renewal talks")),
        ("extended", "Russia, UN set for grain deal renewal", ("future", "set for")),
        ("extended", "Officials discuss grain deal renewal", ("future", "discuss")),
    ],
)
def test_headline_readings(signal: str, title: str, want: tuple[str, str]) -> None:
    assert _title(signal, title) == want


@pytest.mark.parametrize(
    ("signal", "title", "want"),
    [
        # the stronger class still wins, and a statement is no question
        ("ended", "Russia will quit the grain deal", ("future", "will")),
        ("ended", "Russia to quit the grain deal", ("future", "to quit")),
        ("ended", "Will Russia, after the strikes, quit the grain deal?", ("future", "will")),
        # a verb that makes its object what the adjective says: the words are its object
        ("extended", "Turkey makes grain deal extension possible", ("asserted", None)),
        # "not in doubt" is sure
        ("extended", "Grain deal renewal not in doubt", ("asserted", None)),
        # "unlikely" before a noun says what kind, not whether
        ("extended", "Grain deal renewal takes an unlikely turn", ("asserted", None)),
        # an event noun discussed has happened
        ("coup", "Leaders meet to discuss the coup", ("asserted", None)),
        ("coup", "Leaders discuss the coup", ("asserted", None)),
    ],
)
def test_headline_readings_kept(signal: str, title: str, want: tuple[str, str | None]) -> None:
    assert _title(signal, title) == want


@pytest.mark.parametrize(
    ("signal", "body", "want"),
    [
        # H3: the negation governs "responded"; the attempt hedges the renewal
        (
            "extended",
            "As of Saturday, Russia had not responded to a last-minute attempt to renew the Black Sea Grain "
            "Initiative.",
            ("hedged", "attempt to"),
        ),
        ("extended", "Russia has not yet backed UN efforts to extend the grain deal.", ("hedged", "efforts to")),
        # ... but a negation of the attempt itself, or of making one, negates it
        ("extended", "Russia did not attempt to renew the grain deal.", ("negated", "not")),
        ("extended", "Russia made no attempt to renew the grain deal.", ("negated", "no")),
        ("extended", "Moscow did not urge Kyiv to renew the grain deal.", ("negated", "not")),
        ("extended", "Russia did not renew the grain deal.", ("negated", "not")),
        # ... nor a denial verb, a clause joined by "and", or a verb past an adverb that is the goal's own
        ("extended", "Russia rejects new bid to renew the grain deal.", ("negated", "rejects")),
        (
            "extended",
            "Russia did not answer the letter and asked Turkey to renew the grain deal.",
            ("negated", "not"),
        ),
        ("extended", "Russia may not necessarily want to renew the grain deal.", ("negated", "not")),
        # H4: the trial's real body sentence
        (
            "extended",
            "The latest talks on extending Ukraine's grain-export deal ended without a definitive agreement, with "
            "Russia reiterating its threat to withdraw from the pact in one week.",
            ("future", "talks on"),
        ),
        ("extended", "Officials discussed extending the grain deal on Monday.", ("future", "discussed")),
        ("coup", "The ministers met on Monday to discuss the coup.", ("asserted", None)),
        # M2: a goal inside the signal's words that governs another verb decides nothing of them
        (
            "strike",
            "Residents in Odessa were told to shelter after cruise missiles were launched, as Russia continued to "
            "retaliate against the Crimean Bridge attack.",
            ("asserted", None),
        ),
        ("strike", "Residents of Odesa were told to expect missiles overnight.", ("future", "told to")),
        # H1 in a body sentence
        ("ended", "Russia is unlikely to quit the grain deal, officials said.", ("hedged", "unlikely to")),
    ],
)
def test_body_readings(signal: str, body: str, want: tuple[str, str | None]) -> None:
    assert _body(signal, body) == want
