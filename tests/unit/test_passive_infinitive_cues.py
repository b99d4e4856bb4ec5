"""Things still to be done are not done (research-analyst audit, LOW-7, left open twice): "hostage deal to be
approved", "the treaty has yet to be ratified" read as asserted and could raise an alert for an event that had
not happened. A passive infinitive after a noun ("to be" + a past participle) is a future, "yet to" a negation,
"was to" a future like "is to"; "the first to be hit", "said to be", "happy to be elected" keep their reading.
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
        "name": "passive-infinitive",
        "signals": {
            "deal": {"match": {"all": [{"any": ["deal", "truce"]}, {"any": ["approv*", "=signed"]}]}, "near": 5},
            "ratified": {"match": {"any": ["=ratified"]}},
            "troops": {"match": {"all": ["troops", {"any": ["=deployed", "=sent", "=hit"]}]}, "near": 5},
            "ready": {"match": {"all": ["troops", "=ready"]}, "near": 5},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


@pytest.mark.parametrize(
    ("signal", "body", "title"),
    [
        ("deal", "Signs emerged of a hostage deal to be approved by the cabinet.", ""),
        ("deal", "", "Cabinet meets as hostage deal to be approved"),  # (the headline future read it already)
        ("deal", "Officials said the truce to be formally signed on Monday would free 50 hostages.", ""),
        ("troops", "The Kremlin ordered more troops to be deployed near the border.", ""),
        ("ratified", "Lawmakers debated the treaty, to be ratified in a later session.", ""),
        ("deal", "The cabinet met overnight; the hostage deal was to be approved by morning.", ""),
    ],
)
def test_a_thing_still_to_be_done_is_future(signal: str, body: str, title: str) -> None:
    assert reading(_ENGINE, signal, body=body, title=title)[0] == "future"


@pytest.mark.parametrize(
    "body",
    [
        "The defence treaty has yet to be ratified by the upper house.",
        "The pact, which is yet to be ratified, was signed in June.",
    ],
)
def test_yet_to_be_done_has_not_happened(body: str) -> None:
    assert reading(_ENGINE, "ratified", body=body) == ("negated", "yet to")


@pytest.mark.parametrize(
    ("signal", "body"),
    [
        ("troops", "The town was the first to be hit by the troops."),
        ("troops", "It was the largest force of troops to be deployed since 1945."),
        ("troops", "He said the troops, known to be deployed there since May, had moved."),
        ("deal", "The envoy was happy to be signed up for the truce."),
        ("ratified", "The treaty began to be ratified clause by clause, and was ratified on Friday."),
        # an adjective after "to be" (even one that is a verb's bare form: "to ready") is no participle
        ("ready", "Commanders said their troops to be ready were at the border."),
    ],
)
def test_a_rank_a_report_or_a_complement_is_no_cue(signal: str, body: str) -> None:
    assert reading(_ENGINE, signal, body=body) == ("asserted", None)
