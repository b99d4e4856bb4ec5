"""Trial 56, M4 (the Niger coup of 2023 on the 2023 RSS corpus): a negation before a passive participle negated the
agent after "by" ("Benin says Niger oil pipeline not impacted by regional sanctions over coup" read the sanctions
and the coup negated). The negation governs the participle, not its agent, which exists. The sentences are in my own
words, shaped like the corpus's headlines; the counter-cases are readings that must stay negated."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "passive-agent",
        "signals": {
            "sanctions": {"match": {"any": ["sanctions"]}},
            "coup": {"match": {"any": ["coup"]}},
            "strike": {"match": {"any": ["air strike", "airstrike"]}},
            "sanctions_imposed": {"match": {"any": ["imposed sanctions", "sanctions imposed", "imposed by"]}},
            "ceasefire": {"match": {"any": ["ceasefire"]}},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


@pytest.mark.parametrize(
    ("title", "body", "signal"),
    [
        ("Benin says oil pipeline not impacted by regional sanctions over coup", "", "sanctions"),
        ("Benin says oil pipeline not impacted by regional sanctions over coup", "", "coup"),
        ("Exporter says its cargoes were not hit by sanctions on Moscow", "", "sanctions"),
        ("", "The ministry said the port had not been directly affected by the air strike.", "strike"),
        ("", "Officials insist the mine is not covered by the new sanctions.", "sanctions"),
    ],
)
def test_a_negated_participle_does_not_reach_its_agent(title: str, body: str, signal: str) -> None:
    assert reading(_ENGINE, signal, body=body, title=title) == ("asserted", None)


@pytest.mark.parametrize(
    ("title", "body", "signal"),
    [
        # the signal's words are the participle itself: what is negated
        ("", "The EU has not imposed sanctions on the junta.", "sanctions_imposed"),
        ("", "New measures were not imposed by the bloc, diplomats said.", "sanctions_imposed"),
        # after "by" of what would come after or with: that is what did not happen
        ("", "The talks were not followed by a ceasefire.", "ceasefire"),
        # a cause denied: "Prigozhin crash not caused by surface-to-air missile, says US" (a reading of the corpus)
        ("Plane crash not caused by air strike, says ministry", "", "strike"),
        # no participle, no "by": the negation reaches the words
        ("", "The bloc will not impose sanctions on the junta.", "sanctions"),
        ("", "There was no air strike on the port, the army said.", "strike"),
    ],
)
def test_a_negation_still_reaches_the_participle_and_what_did_not_follow(title: str, body: str, signal: str) -> None:
    assert reading(_ENGINE, signal, body=body, title=title)[0] == "negated"
